// Package targets carries the part of cargo's target directories that makes
// dependencies fresh for cargo from one job to the next, beside the sccache
// cache in the same entry.
//
// # What cargo needs to find a dependency fresh
//
// Every compilation unit of a profile directory (target/<profile> or
// target/<triple>/<profile>) is named <package>-<hash>, where the hash is the
// unit's metadata hash (package id, features, profile, target, compiler):
// .fingerprint/<package>-<hash>/ holds the fingerprint (a hash file per
// target, such as lib-serde, and its JSON form), build/<package>-<hash>/ the
// build script and its output, and deps/ the artifacts (libserde-<hash>.rlib,
// serde-<hash>.d). Registry and git packages are fingerprinted by package id,
// not by the mtimes of their sources, so these three pieces restored on a new
// runner keep them fresh; path (workspace) packages compare mtimes and rebuild
// after every checkout, so carrying them only costs space.
//
// # What is carried, and what rust-cache carries
//
// Swatinem/rust-cache v2.9.2 (src/cleanup.ts, src/workspace.ts, src/config.ts)
// saves the whole target directory after deleting, in each profile directory,
// everything but build, .fingerprint and deps, and in those the entries whose
// name without its last "-<hash>" is not a package outside the workspace
// root (cargo metadata --all-features) or one of its library targets. Every
// version and every feature set of a package name ever built therefore stays,
// and the entry grows run after run until its key changes.
//
// [Select] keeps less and never more, by following cargo's own graph:
//   - the units of path packages (those without a source in Cargo.lock:
//     workspace members and path dependencies) are the roots and are never
//     carried;
//   - a unit's JSON fingerprint lists, for each dependency, the hash that
//     dependency's hash file holds (little-endian hex), so the units the
//     roots reach are exactly the dependencies the current build used — an old
//     version, a removed package or a feature set no longer built is not
//     reached and is dropped. The graph spans every profile directory of the
//     target directory: with --target (cross), a triple's units depend on
//     build scripts and proc-macros built for the host in target/<profile>;
//   - units written during this job (after [Options.Since]) are kept too, so a
//     build that failed before its workspace crates still saves the
//     dependencies it compiled;
//   - of each kept unit: its .fingerprint and build directories and the deps
//     files carrying its hash. Nothing else: no incremental/, final binaries,
//     examples, docs, workspace artifacts, nor anything of unknown layout.
//
// # Odd trees
//
// Symbolic links are never followed nor carried: a target directory that is
// a symbolic link is refused, and a link inside it is counted in
// [Selection.Skipped]. incremental/ is never read. [Restore] refuses to
// create anything through a symbolic link, leaves existing files alone and
// reports what it could not write (a read-only target directory) instead of
// failing.
package targets
