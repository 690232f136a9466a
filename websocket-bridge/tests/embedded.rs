//! The page built into the binary: `popwire-bridge --demo` without `--www`, started in an empty
//! folder (no checkout around it), serves `www/` byte for byte as it is on disk, with the
//! headers `--www www` gives the same files; `--www DIR` still overrides it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;
mod spawn;

use std::path::Path;

use common::{http, HttpResponse};
use spawn::{www, Bridge};

const DEMO: &[&str] = &[
    "--demo",
    "--demo-pop3",
    "127.0.0.1:0",
    "--demo-pop3s",
    "127.0.0.1:0",
];

const GZIP: &[(&str, &str)] = &[("Accept-Encoding", "gzip")];

/// A request path, the file under www/ its body must equal, the request headers, a part of the
/// content type, the content encoding.
type Check<'a> = (
    &'a str,
    &'a str,
    &'a [(&'a str, &'a str)],
    &'a str,
    Option<&'a str>,
);

/// Every file under `dir`, as `/`-separated paths relative to it.
fn files_under(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type().unwrap().is_dir() {
            files_under(&entry.path(), &format!("{name}/"), out);
        } else {
            out.push(name);
        }
    }
}

fn assert_security_headers(r: &HttpResponse, what: &str) {
    assert_eq!(
        r.header("content-security-policy"),
        Some(
            "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; \
             style-src 'self' 'unsafe-inline'; script-src 'self' 'wasm-unsafe-eval'; \
             frame-src 'self' blob: data:; object-src 'none'; base-uri 'none'"
        ),
        "{what}"
    );
    assert_eq!(
        r.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
}

#[tokio::test]
async fn the_binary_serves_the_page_built_into_it_without_www() {
    let www = www();
    let dir = tempfile::tempdir().unwrap();
    let built_in = Bridge::start(dir.path(), "built-in", DEMO);
    if !www.join("pkg/popwire.js").is_file() {
        let log = built_in.log_with("built without the page");
        // A fresh clone before scripts/build-pkg.sh: the binary has no page to embed, and `/`
        // says how to build it instead of serving a page that cannot start.
        eprintln!("www/pkg/ is not built: checking the binary's how-to-build page instead");
        let r = http(built_in.http, "GET", "/", &[], b"").await;
        assert_eq!(r.status, 200);
        let text = String::from_utf8(r.body.clone()).unwrap();
        assert!(text.contains("scripts/build-pkg.sh"), "{text}");
        assert!(text.contains("--www DIR"), "{text}");
        assert_security_headers(&r, "/");
        let r = http(built_in.http, "GET", "/pkg/popwire.js", &[], b"").await;
        assert_eq!(r.status, 404);
        let r = http(built_in.http, "GET", "/index.html", &[], b"").await;
        assert!(String::from_utf8_lossy(&r.body).contains("build-pkg.sh"));
        assert!(log.contains("built without the page"), "{log}");
        return;
    }

    let log = built_in.log_with("serving the page built into the binary");
    assert!(
        log.contains("serving the page built into the binary"),
        "{log}"
    );
    let from_disk = Bridge::start(
        dir.path(),
        "from-disk",
        &[DEMO, &["--www", www.to_str().unwrap()]].concat(),
    );

    // The named files, plain and (where a .gz is beside them) precompressed.
    let checks: &[Check] = &[
        ("/", "index.html", &[], "text/html", None),
        ("/index.html", "index.html", &[], "text/html", None),
        ("/pkg/popwire.js", "pkg/popwire.js", &[], "javascript", None),
        (
            "/pkg/popwire.js",
            "pkg/popwire.js.gz",
            GZIP,
            "javascript",
            Some("gzip"),
        ),
        (
            "/pkg/popwire_bg.wasm",
            "pkg/popwire_bg.wasm.gz",
            GZIP,
            "application/wasm",
            Some("gzip"),
        ),
        (
            "/i18n/en.json",
            "i18n/en.json",
            &[],
            "application/json",
            None,
        ),
        (
            "/i18n/fa.json",
            "i18n/fa.json",
            &[],
            "application/json",
            None,
        ),
        ("/style.css", "style.css", &[], "text/css", None),
    ];
    for (path, file, headers, content_type, encoding) in checks {
        let what = format!("{path} {headers:?}");
        let r = http(built_in.http, "GET", path, headers, b"").await;
        assert_eq!(r.status, 200, "{what}");
        let disk = std::fs::read(www.join(file)).unwrap();
        assert!(r.body == disk, "{what}: the bytes of www/{file}");
        assert!(
            r.header("content-type").unwrap().contains(content_type),
            "{what}: {:?}",
            r.header("content-type")
        );
        assert_eq!(r.header("content-encoding"), *encoding, "{what}");
        assert_security_headers(&r, &what);

        // The same headers as --www gives the same file.
        let d = http(from_disk.http, "GET", path, headers, b"").await;
        assert_eq!(d.status, 200, "{what} from disk");
        assert!(d.body == r.body, "{what}: --www serves the same bytes");
        for name in [
            "content-type",
            "content-encoding",
            "content-security-policy",
            "x-content-type-options",
        ] {
            assert_eq!(r.header(name), d.header(name), "{what}: {name}");
        }
    }

    // All of www/pkg, not a fixed list (a module added later is embedded too); each file
    // plain, without Accept-Encoding.
    let mut pkg = Vec::new();
    files_under(&www.join("pkg"), "pkg/", &mut pkg);
    assert!(pkg.len() >= 8, "{pkg:?}");
    for file in &pkg {
        let r = http(built_in.http, "GET", &format!("/{file}"), &[], b"").await;
        assert_eq!(r.status, 200, "/{file}");
        assert!(
            r.body == std::fs::read(www.join(file)).unwrap(),
            "/{file}: the bytes on disk"
        );
    }

    // A browser revalidates: the ETag comes back as 304, with no body.
    let r = http(built_in.http, "GET", "/pkg/popwire_bg.wasm", &[], b"").await;
    let etag = r.header("etag").unwrap().to_owned();
    let again = http(
        built_in.http,
        "GET",
        "/pkg/popwire_bg.wasm",
        &[("If-None-Match", &etag)],
        b"",
    )
    .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(
        http(built_in.http, "GET", "/nope.js", &[], b"")
            .await
            .status,
        404
    );
    assert_eq!(
        http(built_in.http, "GET", "/../Cargo.toml", &[], b"")
            .await
            .status,
        404
    );

    // --www DIR still overrides the built-in page (developing the page).
    let dev = dir.path().join("dev");
    std::fs::create_dir(&dev).unwrap();
    std::fs::write(dev.join("index.html"), "<h1>the page in development</h1>").unwrap();
    let overridden = Bridge::start(
        dir.path(),
        "override",
        &[DEMO, &["--www", dev.to_str().unwrap()]].concat(),
    );
    let r = http(overridden.http, "GET", "/", &[], b"").await;
    assert_eq!(r.body, b"<h1>the page in development</h1>");
    assert_eq!(
        http(overridden.http, "GET", "/pkg/popwire.js", &[], b"")
            .await
            .status,
        404,
        "nothing of the built-in page behind --www"
    );
}
