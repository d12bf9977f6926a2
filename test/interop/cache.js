// Drives the official @actions/cache client against whatever cache service
// the environment names, so the Go tests can check that our fake services
// (and our client's entries) work with it.
//
//   node cache.js save    <path> <key>
//   node cache.js restore <path> <key> [restore-key...]
//
// v1: ACTIONS_CACHE_URL (ACTIONS_RUNTIME_TOKEN may be anything).
// v2: ACTIONS_RESULTS_URL, ACTIONS_CACHE_SERVICE_V2=true, ACTIONS_RUNTIME_TOKEN.
// Paths are taken relative to GITHUB_WORKSPACE, as in a workflow.
//
// Prints one JSON line: {"saved":bool,"cacheId":n} or
// {"hit":bool,"matchedKey":string|null}. Exits 1 when a save did not happen
// or anything threw; the client's own warnings appear as ::warning:: lines.
import * as cache from '@actions/cache'

const [command, path, key, ...restoreKeys] = process.argv.slice(2)

function usage() {
  console.error('usage: node cache.js save|restore <path> <key> [restore-key...]')
  process.exit(2)
}

if (!path || !key) usage()

try {
  switch (command) {
    case 'save': {
      const id = await cache.saveCache([path], key)
      console.log(JSON.stringify({saved: id !== -1, cacheId: id}))
      process.exit(id === -1 ? 1 : 0)
      break
    }
    case 'restore': {
      const matched = await cache.restoreCache([path], key, restoreKeys)
      console.log(JSON.stringify({hit: matched !== undefined, matchedKey: matched ?? null}))
      break
    }
    default:
      usage()
  }
} catch (err) {
  console.error(err && err.stack ? err.stack : String(err))
  process.exit(1)
}
