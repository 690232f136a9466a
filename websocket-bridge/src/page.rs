//! The page built into the binary: the files of `www/` as they were when `popwire-bridge` was
//! compiled (the binary fills a [`Page`] from them; `--www DIR` serves a folder instead).
//!
//! Served like `--www` serves a folder: the content type from the file name, a `NAME.gz` beside
//! `NAME` sent as is (`Content-Encoding: gzip`) to a client that accepts gzip, `index.html` for
//! `/`; the router adds the same security headers and on-the-fly compression to both. Each file
//! has a strong `ETag` (its SHA-256), so a browser revalidates with `If-None-Match` and gets
//! `304 Not Modified`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

/// The file that tells a complete page: the page's own wasm module, which `www/` only has once
/// `scripts/build-pkg.sh` ran. Without it the page cannot start, so none of it is served.
pub const REQUIRED_FILE: &str = "pkg/popwire.js";

/// A set of files served as the page: path (relative to `www/`, `/`-separated) → bytes.
#[derive(Clone, Default)]
pub struct Page {
    files: Arc<HashMap<String, PageFile>>,
}

struct PageFile {
    bytes: Bytes,
    etag: HeaderValue,
}

impl fmt::Debug for Page {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Page")
            .field("files", &self.files.len())
            .field("complete", &self.is_complete())
            .finish()
    }
}

impl Page {
    /// A page of these files: `(path, bytes, SHA-256 of bytes)`; the path is relative to the
    /// page's root, with `/` between folders (`index.html`, `pkg/popwire.js`).
    pub fn new(files: impl IntoIterator<Item = (String, Bytes, [u8; 32])>) -> Page {
        let files = files
            .into_iter()
            .map(|(path, bytes, sha256)| {
                let mut tag = String::with_capacity(34);
                tag.push('"');
                for b in sha256.iter().take(16) {
                    tag.push_str(&format!("{b:02x}"));
                }
                tag.push('"');
                let etag = HeaderValue::from_str(&tag)
                    .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
                (path, PageFile { bytes, etag })
            })
            .collect();
        Page {
            files: Arc::new(files),
        }
    }

    /// How many files it has.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether it has no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Whether it is a page that can start: `index.html` and the built module
    /// ([`REQUIRED_FILE`]) are there.
    pub fn is_complete(&self) -> bool {
        self.files.contains_key("index.html") && self.files.contains_key(REQUIRED_FILE)
    }

    /// The response for this request, or `None` when the page has no such file (or is not
    /// complete: then nothing of it is served).
    pub(crate) fn respond(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
    ) -> Option<Response> {
        if !self.is_complete() {
            return None;
        }
        let decoded = percent_encoding::percent_decode_str(uri.path()).decode_utf8_lossy();
        let mut path = decoded.trim_start_matches('/').to_owned();
        if path.is_empty() || path.ends_with('/') {
            path.push_str("index.html");
        } else if !self.files.contains_key(&path)
            && self.files.contains_key(&format!("{path}/index.html"))
        {
            // A folder named without its slash, as ServeDir does: relative links need it.
            let mut location = format!("{}/", uri.path());
            if let Some(query) = uri.query() {
                location.push('?');
                location.push_str(query);
            }
            return Some(
                (
                    StatusCode::TEMPORARY_REDIRECT,
                    [(header::LOCATION, location)],
                )
                    .into_response(),
            );
        }
        let file = self.files.get(&path)?;
        if method != Method::GET && method != Method::HEAD {
            return Some(
                (
                    StatusCode::METHOD_NOT_ALLOWED,
                    [(header::ALLOW, "GET,HEAD")],
                )
                    .into_response(),
            );
        }
        let gz = self.files.get(&format!("{path}.gz"));
        let (chosen, gzipped) = match gz {
            Some(gz) if accepts_gzip(headers) => (gz, true),
            _ => (file, false),
        };
        let content_type = mime_guess::from_path(&path)
            .first_raw()
            .unwrap_or("application/octet-stream");
        let mut response = if if_none_match(headers, &chosen.etag) {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let mut response = if method == Method::HEAD {
                Response::new(Body::empty())
            } else {
                Response::new(Body::from(chosen.bytes.clone()))
            };
            let out = response.headers_mut();
            out.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            out.insert(
                header::CONTENT_LENGTH,
                HeaderValue::from(chosen.bytes.len()),
            );
            if gzipped {
                out.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            response
        };
        let out = response.headers_mut();
        out.insert(header::ETAG, chosen.etag.clone());
        if gz.is_some() {
            // Caches (a reverse proxy) must keep the gzip and the plain answer apart.
            out.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        Some(response)
    }
}

/// Whether `Accept-Encoding` names gzip with a q-value above 0.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or_default().trim();
            if !name.eq_ignore_ascii_case("gzip") {
                return false;
            }
            parts.all(|param| {
                let Some((key, value)) = param.split_once('=') else {
                    return true;
                };
                if !key.trim().eq_ignore_ascii_case("q") {
                    return true;
                }
                value.trim().parse::<f32>().is_ok_and(|q| q > 0.0)
            })
        })
}

/// Whether `If-None-Match` names this `ETag` (or is `*`).
fn if_none_match(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Ok(etag) = etag.to_str() else {
        return false;
    };
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_static(value));
        }
        h
    }

    fn page() -> Page {
        Page::new([
            (
                "index.html".to_owned(),
                Bytes::from_static(b"<p>hi"),
                [1; 32],
            ),
            (REQUIRED_FILE.to_owned(), Bytes::from_static(b"js"), [2; 32]),
            (
                "pkg/popwire.js.gz".to_owned(),
                Bytes::from_static(b"\x1f\x8bjs"),
                [3; 32],
            ),
            (
                "docs/index.html".to_owned(),
                Bytes::from_static(b"docs"),
                [4; 32],
            ),
        ])
    }

    #[test]
    fn gzip_is_negotiated_with_q_values() {
        assert!(accepts_gzip(&headers(&[(
            "accept-encoding",
            "gzip, deflate, br"
        )])));
        assert!(accepts_gzip(&headers(&[(
            "accept-encoding",
            "br;q=1.0, GZIP;q=0.5"
        )])));
        assert!(!accepts_gzip(&headers(&[("accept-encoding", "gzip;q=0")])));
        assert!(!accepts_gzip(&headers(&[(
            "accept-encoding",
            "br, x-gzip2"
        )])));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn files_variants_and_revalidation() {
        let p = page();
        let get = |path: &str, h: &[(&'static str, &'static str)]| {
            p.respond(&Method::GET, &path.parse().unwrap(), &headers(h))
        };
        let r = get("/", &[]).unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/html");
        let r = get("/pkg/popwire.js", &[("accept-encoding", "gzip")]).unwrap();
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(r.headers()[header::VARY], "accept-encoding");
        assert!(r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .contains("javascript"));
        let gz_tag = r.headers()[header::ETAG].clone();
        let r = get("/pkg/popwire.js", &[]).unwrap();
        assert!(r.headers().get(header::CONTENT_ENCODING).is_none());
        assert_ne!(
            r.headers()[header::ETAG],
            gz_tag,
            "each variant its own tag"
        );
        let tag = r.headers()[header::ETAG].to_str().unwrap().to_owned();
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, tag.parse().unwrap());
        let r = p
            .respond(&Method::GET, &"/pkg/popwire.js".parse().unwrap(), &h)
            .unwrap();
        assert_eq!(r.status(), 304);
        let r = get("/docs?x=1", &[]).unwrap();
        assert_eq!(r.status(), 307);
        assert_eq!(r.headers()[header::LOCATION], "/docs/?x=1");
        assert!(get("/nope.js", &[]).is_none());
        assert!(get("/../Cargo.toml", &[]).is_none());
        let r = p
            .respond(&Method::POST, &"/".parse().unwrap(), &HeaderMap::new())
            .unwrap();
        assert_eq!(r.status(), 405);
        let r = p
            .respond(&Method::HEAD, &"/".parse().unwrap(), &HeaderMap::new())
            .unwrap();
        assert_eq!(r.headers()[header::CONTENT_LENGTH], "5");
    }

    #[test]
    fn an_incomplete_page_serves_nothing() {
        let p = Page::new([(
            "index.html".to_owned(),
            Bytes::from_static(b"<p>hi"),
            [1; 32],
        )]);
        assert!(!p.is_complete());
        assert!(p
            .respond(&Method::GET, &"/".parse().unwrap(), &HeaderMap::new())
            .is_none());
    }
}
