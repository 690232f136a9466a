//! The HTTP side: the routes — the page (static files), `/targets`, `/healthz`, `/bridge`
//! (handed to [`crate::bridge`]) and, with `--demo`, `POST /demo/deliver`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::handler::Handler;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde::Serialize;
use serde_json::json;
use tower_http::compression::Compression;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::demo::DeliverError;
use crate::state::{AppState, TargetView};

/// The Content-Security-Policy of every response.
pub(crate) const CSP: &str =
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; \
    style-src 'self' 'unsafe-inline'; script-src 'self' 'wasm-unsafe-eval'; \
    frame-src 'self' blob: data:; object-src 'none'; base-uri 'none'";

/// The routes.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new()
        .route("/targets", get(targets))
        .route("/healthz", get(healthz))
        .route("/bridge", get(crate::bridge::handler));
    if state.demo.is_some() {
        // A little over the cap, so that a message just over it is measured after CRLF
        // normalisation and refused by the store with a readable reason.
        let limit = state.max_delivery.saturating_add(64 * 1024);
        router = router.route(
            "/demo/deliver",
            post(deliver).layer(DefaultBodyLimit::max(limit)),
        );
    }
    // The page's files go out gzipped when the browser accepts it (the wasm module shrinks
    // to about 40% of its size); WebSocket frames are not compressed. `*.gz` next to a file
    // (scripts/build-pkg.sh writes them for the modules) is served as is to browsers that
    // accept gzip; other files are compressed on the fly.
    router = match &state.www {
        Some(www) => {
            tracing::info!(www = %www.display(), "serving the page from a folder (--www)");
            let files = ServeDir::new(www)
                .precompressed_gzip()
                .append_index_html_on_directories(true)
                .fallback(not_found.with_state(Arc::clone(&state)));
            router.fallback_service(Compression::new(files))
        }
        None => {
            if state.page.is_complete() {
                tracing::info!(
                    files = state.page.len(),
                    "serving the page built into the binary"
                );
            } else {
                tracing::warn!(
                    "this binary was built without the page (www/pkg/ did not exist): / says \
                     how to build it; or serve a built page with --www DIR"
                );
            }
            let files = built_in.with_state(Arc::clone(&state));
            router.fallback_service(Compression::new(files))
        }
    };
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .with_state(state)
}

async fn targets(State(state): State<Arc<AppState>>) -> Json<Vec<TargetView>> {
    Json(state.target_views.clone())
}

async fn healthz(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(json!({
        "ok": true,
        "encrypted": state.encrypted,
        "demo": state.demo.is_some(),
        "loopback": state.loopback,
    }))
}

/// The page built into the binary; what it does not have goes to [`not_found`].
async fn built_in(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    match state.page.respond(&method, &uri, &headers) {
        Some(response) => response,
        None => not_found(State(state), uri).await,
    }
}

/// What the static files do not have: the built-in placeholder page for `/` while `www/` has
/// no `index.html`, else 404.
async fn not_found(State(state): State<Arc<AppState>>, uri: Uri) -> Response {
    if uri.path() == "/" || uri.path() == "/index.html" {
        return placeholder(&state).into_response();
    }
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn placeholder(state: &AppState) -> Html<String> {
    let mut items = String::new();
    for t in &state.target_views {
        items.push_str(&format!(
            "<li><code>{}</code> — {} (tls: {}, STLS: {})</li>\n",
            escape_html(&t.name),
            escape_html(&t.description),
            t.tls,
            if t.starttls { "yes" } else { "no" },
        ));
    }
    if items.is_empty() {
        items.push_str("<li>none configured: add <code>--target NAME=HOST:PORT</code> or <code>--demo</code></li>\n");
    }
    let demo = if state.demo.is_some() {
        "<p>The teaching POP3 server is running: any user name, password <code>pop3</code>. \
         <code>POST /demo/deliver?user=NAME</code> delivers new mail.</p>"
    } else {
        ""
    };
    let missing = match &state.www {
        Some(www) => format!(
            "<p><code>{}/index.html</code> does not exist, so this placeholder is shown: \
             point <code>--www</code> at a built page, or leave it out to serve the page built \
             into the binary.</p>",
            escape_html(&www.display().to_string())
        ),
        None => "<p>This binary was built without the page: <code>www/pkg/</code> (the \
                 page's WebAssembly modules) did not exist when it was compiled. In the \
                 checkout, build the page with <code>bash scripts/build-pkg.sh</code> (or \
                 <code>make pkg</code>), then the binary again with <code>cargo build \
                 --release -p popwire-bridge</code>; or serve a built page folder with \
                 <code>--www DIR</code>.</p>"
            .to_owned(),
    };
    Html(format!(
        "<!doctype html>
<html lang=\"en\">
<head>
<meta charset=\"utf-8\">
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">
<title>popwire bridge</title>
<style>body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; }}
code {{ background: #eee; padding: 0 .25em; border-radius: 3px; }}</style>
</head>
<body>
<h1>popwire bridge is running</h1>
{missing}
{demo}
<h2>Targets (<a href=\"/targets\">/targets</a>)</h2>
<ul>
{items}</ul>
<p>WebSocket endpoint: <code>/bridge?target=NAME</code> · health: <a href=\"/healthz\">/healthz</a></p>
</body>
</html>
"
    ))
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

async fn deliver(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    if !state
        .origins
        .allows(headers.get(header::ORIGIN).map(|v| v.as_bytes()))
    {
        return error(
            StatusCode::FORBIDDEN,
            "this page's origin may not deliver demo mail",
        );
    }
    let Some(demo) = &state.demo else {
        return error(StatusCode::NOT_FOUND, "the demo server is not running");
    };
    let Some(store) = &demo.store else {
        return error(
            StatusCode::NOT_IMPLEMENTED,
            "the demo server serves Maildirs (--maildir): deliver with your MTA instead",
        );
    };
    let user = match user_param(query.as_deref()) {
        Ok(user) => user,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let message = if body.is_empty() {
        generated_message(&user)
    } else {
        body.to_vec()
    };
    match store.deliver(&user, &message) {
        Ok(delivered) => {
            tracing::info!(user = %delivered.user, size = delivered.size, "demo mail delivered");
            (StatusCode::CREATED, Json(delivered)).into_response()
        }
        Err(e @ DeliverError::TooLarge { .. }) => {
            error(StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
        }
        Err(e) => error(StatusCode::INSUFFICIENT_STORAGE, e.to_string()),
    }
}

/// The `user` parameter: exactly one, a valid POP3 user name.
fn user_param(query: Option<&str>) -> Result<String, String> {
    const USAGE: &str =
        "use ?user=NAME with NAME 1–64 characters of A-Z a-z 0-9 . _ - @ +, not starting with .";
    let mut user = None;
    for pair in query.unwrap_or_default().split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key != "user" || user.is_some() {
            return Err(USAGE.into());
        }
        // The allowed characters need no escaping except '@' and '+'.
        let value = value
            .replace("%40", "@")
            .replace("%2B", "+")
            .replace("%2b", "+");
        user = Some(value);
    }
    match user {
        Some(user) if crate::names::is_user_name(&user) => Ok(user),
        _ => Err(USAGE.into()),
    }
}

static DELIVERIES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// An RFC 5322 date (`Mon, 02 Jan 2006 15:04:05 +0000`).
fn rfc5322_date(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = crate::tls::civil_from_days(days);
    let weekday = DAYS
        .get(days.rem_euclid(7) as usize)
        .copied()
        .unwrap_or("Thu");
    let month = MONTHS
        .get((m as usize).saturating_sub(1))
        .copied()
        .unwrap_or("Jan");
    format!(
        "{weekday}, {d:02} {month} {y} {:02}:{:02}:{:02} +0000",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The message delivered for an empty body.
fn generated_message(user: &str) -> Vec<u8> {
    let n = DELIVERIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let date = rfc5322_date(now.as_secs() as i64);
    let to = if user.contains('@') {
        user.to_owned()
    } else {
        format!("{user}@popwire.demo")
    };
    format!(
        "From: popwire demo <demo@popwire.demo>\r\n\
         To: <{to}>\r\n\
         Subject: New mail #{n} for {user}\r\n\
         Date: {date}\r\n\
         Message-ID: <{}.{n}.{}@popwire.demo>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Hello {user},\r\n\
         \r\n\
         this message was delivered by POST /demo/deliver at {date}.\r\n\
         It is new since your last session: STAT counts it, LIST shows its size,\r\n\
         and UIDL gives it a unique-id that stays the same in every later session.\r\n",
        now.as_nanos(),
        std::process::id(),
    )
    .into_bytes()
}

/// The bound addresses, as written to `--ready-file`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Ready {
    /// The HTTP (or https) listener.
    pub http: SocketAddr,
    /// The demo server's plain port, if `--demo`.
    pub pop3: Option<SocketAddr>,
    /// The demo server's implicit-TLS port, if `--demo`.
    pub pop3s: Option<SocketAddr>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn user_names() {
        assert!(crate::names::is_user_name("alice"));
        assert!(crate::names::is_user_name("a.b-c_d+e@example.org"));
        assert!(!crate::names::is_user_name(""));
        assert!(!crate::names::is_user_name(&"a".repeat(65)));
        assert!(!crate::names::is_user_name("a b"));
        assert!(!crate::names::is_user_name("../etc"));
        assert!(!crate::names::is_user_name("ä"));
        assert!(
            user_param(Some("user=.hidden")).is_err(),
            "the Maildir rule too"
        );
        assert_eq!(user_param(Some("user=bob%40x")).unwrap(), "bob@x");
        assert!(user_param(Some("user=a&user=b")).is_err());
        assert!(user_param(Some("user=a&x=1")).is_err());
        assert!(user_param(None).is_err());
        assert!(user_param(Some("user=a%2Fb")).is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(
            rfc5322_date(1_700_000_000),
            "Tue, 14 Nov 2023 22:13:20 +0000"
        );
    }

    #[test]
    fn generated_messages_are_crlf_and_name_the_user() {
        let m = String::from_utf8(generated_message("alice")).unwrap();
        assert!(m.contains("To: <alice@popwire.demo>\r\n"));
        assert!(!m.replace("\r\n", "").contains('\n'));
        assert!(m.ends_with("\r\n"));
    }
}
