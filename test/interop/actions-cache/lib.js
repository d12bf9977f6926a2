// Shared by the stand-in's restore and save steps: the runner's way of
// passing inputs (INPUT_<NAME>) and outputs (GITHUB_OUTPUT).
import {appendFileSync} from 'node:fs'
import {randomUUID} from 'node:crypto'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

export function input(name) {
  return (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] || '').trim()
}

export function lines(name) {
  return input(name).split('\n').map(s => s.trim()).filter(s => s !== '')
}

export function flag(name) {
  return input(name).toLowerCase() === 'true'
}

export function output(name, value) {
  const delimiter = `ghadelimiter_${randomUUID()}`
  appendFileSync(process.env.GITHUB_OUTPUT, `${name}<<${delimiter}\n${value}\n${delimiter}\n`)
}

// The client, from the interop tests' node_modules: act runs a copy of this
// folder, so the tests name that directory in ACTIONS_CACHE_STANDIN_MODULES.
// It needs a token; the runner gives JavaScript actions one, act does not,
// and act's cache server takes any.
export async function client() {
  process.env.ACTIONS_RUNTIME_TOKEN ||= 'act'
  const modules = process.env.ACTIONS_CACHE_STANDIN_MODULES ||
    join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules')
  return await import(pathToFileURL(join(modules, '@actions', 'cache', 'lib', 'cache.js')).href)
}
