import {client, flag, input, lines} from '../lib.js'

try {
  const cache = await client()
  if (!cache.isFeatureAvailable()) {
    console.log('::warning::An internal error has occurred in cache backend.')
    process.exit(0)
  }
  const id = await cache.saveCache(lines('path'), input('key'), {}, flag('enableCrossOsArchive'))
  if (id !== -1) console.log(`Cache saved with key: ${input('key')}`)
} catch (err) {
  console.log(`::warning::${err.message}`)
}
