//! Clients no one here wrote, against the demo server's TCP ports: curl and Python's poplib.
//! A client that is not installed is skipped with a note (`scripts/setup.sh` installs curl).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::*;
use tokio::process::Command;

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../src/server/samples")
        .join(name)
}

async fn have(program: &str) -> bool {
    let found = Command::new(program)
        .arg("--version")
        .output()
        .await
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("note: {program} is not installed; this test is skipped");
    }
    found
}

async fn run(program: &str, args: &[String]) -> Vec<u8> {
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        Command::new(program).args(args).output(),
    )
    .await
    .expect("the client finishes")
    .unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[tokio::test]
async fn curl_lists_and_retrieves_plain_stls_and_pop3s() {
    if !have("curl").await {
        return;
    }
    let h = start(demo_config()).await;
    let pop3 = h.ready.pop3.unwrap();
    let pop3s = h.ready.pop3s.unwrap();
    let s = |v: &str| v.to_owned();

    let list = run(
        "curl",
        &[
            s("-sS"),
            s("-u"),
            s("curl1:pop3"),
            format!("pop3://{pop3}/"),
        ],
    )
    .await;
    let list = String::from_utf8(list).unwrap();
    assert_eq!(list.lines().count(), SAMPLES.len(), "{list}");
    assert!(
        list.starts_with(&format!("1 {}\r\n", SAMPLES[0].len())),
        "{list}"
    );

    let retr = run(
        "curl",
        &[
            s("-sS"),
            s("-u"),
            s("curl1:pop3"),
            format!("pop3://{pop3}/2"),
        ],
    )
    .await;
    let expected = std::fs::read(sample("02-dot-stuffing.eml")).unwrap();
    assert!(retr == expected, "curl's RETR 2 differs from the sample");

    let stls = run(
        "curl",
        &[
            s("-sS"),
            s("--ssl-reqd"),
            s("-k"),
            s("-u"),
            s("curl2:pop3"),
            format!("pop3://{pop3}/7"),
        ],
    )
    .await;
    assert!(stls == SAMPLES[6], "RETR 7 over STLS differs");

    let implicit = run(
        "curl",
        &[
            s("-sS"),
            s("-k"),
            s("-u"),
            s("curl3:pop3"),
            format!("pop3s://{pop3s}/"),
        ],
    )
    .await;
    assert_eq!(
        String::from_utf8(implicit).unwrap().lines().count(),
        SAMPLES.len()
    );
}

const POPLIB_SCRIPT: &str = r#"
import poplib, ssl, sys
host, port, sample, samples = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
expected = open(sample, "rb").read()

p = poplib.POP3(host, port, timeout=10)
caps = p.capa()
for cap in ("STLS", "UIDL", "TOP", "USER", "SASL", "RESP-CODES"):
    assert cap in caps, caps
p.user("py")
p.pass_("pop3")
count, size = p.stat()
assert count == samples, count
resp, lines, octets = p.retr(2)
assert b"\r\n".join(lines) + b"\r\n" == expected, "RETR 2 differs"
resp, uids, _ = p.uidl()
assert len(uids) == samples, uids
resp, top, _ = p.top(1, 0)
assert top[-1] == b"", top
p.dele(1)
p.quit()

p = poplib.POP3(host, port, timeout=10)
assert p.timestamp.search(p.getwelcome()) is not None
p.apop("py", "pop3")
assert p.stat()[0] == count - 1, "DELE + QUIT removed one"
p.quit()

p = poplib.POP3(host, port, timeout=10)
p.stls(context=ssl._create_unverified_context())
p.user("py2")
p.pass_("pop3")
assert p.stat() == (count, size)
p.quit()

p = poplib.POP3(host, port, timeout=10)
p.user("py3")
try:
    p.pass_("wrong")
    raise SystemExit("a wrong password was accepted")
except poplib.error_proto as e:
    assert b"[AUTH]" in e.args[0], e
print("ok")
"#;

#[tokio::test]
async fn python_poplib_user_apop_capa_top_uidl_retr_dele_stls() {
    if !have("python3").await {
        return;
    }
    let h = start(demo_config()).await;
    let pop3 = h.ready.pop3.unwrap();
    let out = run(
        "python3",
        &[
            "-c".to_owned(),
            POPLIB_SCRIPT.to_owned(),
            pop3.ip().to_string(),
            pop3.port().to_string(),
            sample("02-dot-stuffing.eml").display().to_string(),
            SAMPLES.len().to_string(),
        ],
    )
    .await;
    assert_eq!(String::from_utf8(out).unwrap().trim(), "ok");
}
