//! Makes cargo rebuild `popwire-bridge` when the page's built modules change. The binary embeds
//! `www/` (src/main.rs, rust-embed); the compiler tracks every file it embedded, so an edit of
//! `www/app.js` recompiles only the binary, but it cannot see a file that was not there:
//! `www/pkg/` appearing (`scripts/build-pkg.sh` after a first `cargo build`) or gaining a module.
//! Cargo watches a folder recursively, so this watches `www/pkg/` when it exists, else `www/`.

use std::path::Path;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if Path::new("../www/pkg").is_dir() {
        println!("cargo::rerun-if-changed=../www/pkg");
    } else if Path::new("../www").is_dir() {
        println!("cargo::rerun-if-changed=../www");
    }
}
