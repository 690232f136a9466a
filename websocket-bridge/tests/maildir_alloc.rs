//! A RETR from a Maildir allocates the message once: the buffer the server streams from (its
//! own test binary, because dhat counts every thread's allocations).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::HashMap;
use std::fs;

use popwire::server::Mailstore;
use popwire_bridge::demo::maildir::MaildirStore;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

#[test]
fn a_retr_allocates_the_message_once() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("u");
    for sub in ["cur", "new", "tmp"] {
        fs::create_dir_all(dir.join(sub)).unwrap();
    }
    // 1 MiB of short lines: LF (converted), CRLF (as it is), and LF without the last one.
    let lf: Vec<u8> = b"0123456789abcde\n".repeat(64 * 1024);
    let crlf: Vec<u8> = b"0123456789abcd\r\n".repeat(64 * 1024);
    fs::write(dir.join("cur/lf:2,"), &lf).unwrap();
    fs::write(dir.join("cur/crlf:2,"), &crlf).unwrap();
    fs::write(dir.join("cur/open:2,"), &lf[..lf.len() - 1]).unwrap();
    let store = MaildirStore::open(root.path(), HashMap::new(), "pw".into()).unwrap();
    let infos = store.lock("u").unwrap();
    assert_eq!(infos.len(), 3);

    let _profiler = dhat::Profiler::builder().testing().build();
    for info in &infos {
        let before = dhat::HeapStats::get();
        let data = store.read("u", &info.uid).unwrap();
        let after = dhat::HeapStats::get();
        assert_eq!(data.len() as u64, info.size);
        let allocated = after.total_bytes - before.total_bytes;
        let peak = after.max_bytes.max(before.curr_bytes) - before.curr_bytes;
        println!(
            "{}: {} octets as sent, {allocated} bytes allocated, peak {peak}",
            info.uid,
            data.len()
        );
        // The message itself (with the Arc's counters) plus a little for paths and the file.
        assert!(
            allocated < data.len() as u64 + 4096,
            "{}: {allocated} bytes allocated for a {}-byte message",
            info.uid,
            data.len()
        );
    }
}
