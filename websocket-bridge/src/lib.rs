//! popwire-bridge: placeholder while the crate is being written.
