// Package crossbox is the test bed's stand-in for cross-rs v0.2.5. Instead of
// docker it runs cargo in a bubblewrap sandbox laid out like a cross
// container: a different uid, only the passthrough variables plus what cross
// forwards by itself, the configured volumes at their host paths, the project
// at /project (or at its host path once any volume is configured), the target
// directory at /target, cargo home at /cargo with an empty bin/, the sysroot
// read-only at /rust, a private /tmp, pid and network namespaces. Anything
// that would break in a real cross container should break here; README.md
// lists what is modelled and what is not.
package crossbox
