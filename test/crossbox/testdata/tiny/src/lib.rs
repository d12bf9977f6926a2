//! The smallest crate the crossbox tests build: one cacheable compile.

/// Adds two numbers.
pub fn add(a: u64, b: u64) -> u64 {
    a + b
}
