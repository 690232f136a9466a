//! popwire-bridge binary: placeholder while the crate is being written.
fn main() {}
