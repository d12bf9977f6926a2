import {client, flag, input, lines, output} from '../lib.js'

const key = input('key')
output('cache-primary-key', key)
try {
  const cache = await client()
  if (!cache.isFeatureAvailable()) {
    // As the real action: a warning, cache-hit false, the step succeeds.
    console.log('::warning::An internal error has occurred in cache backend.')
    output('cache-hit', 'false')
    process.exit(0)
  }
  const matched = await cache.restoreCache(lines('path'), key, lines('restore-keys'),
    {lookupOnly: flag('lookup-only')}, flag('enableCrossOsArchive'))
  if (!matched) {
    if (flag('fail-on-cache-miss')) throw new Error(`Failed to restore cache entry. Input key: ${key}`)
    console.log(`Cache not found for input keys: ${[key, ...lines('restore-keys')].join(', ')}`)
  } else {
    output('cache-matched-key', matched)
    output('cache-hit', String(matched === key))
    console.log(`Cache restored from key: ${matched}`)
  }
} catch (err) {
  console.log(`::error::${err.message}`)
  process.exitCode = 1
}
