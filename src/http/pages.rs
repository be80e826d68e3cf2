//! The buyer and operator pages, embedded in the binary at build time (see `build.rs`), so
//! a binary serves them from any working directory. Each file is served with its type, a
//! strong `ETag` (a `304` for `If-None-Match`), `Cache-Control: no-cache` (the browser
//! keeps a copy and asks whether it is still current, so a new release is picked up at the
//! next load) and, to a client that accepts it, gzipped once at first use. `static_dir`
//! overrides them with pages from disk.

use std::collections::HashMap;
use std::io::Write;
use std::sync::OnceLock;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

include!(concat!(env!("OUT_DIR"), "/pages.rs"));

/// One embedded file, ready to serve.
struct Page {
    body: Bytes,
    /// Gzipped, when that is smaller.
    gzip: Option<Bytes>,
    etag: HeaderValue,
    mime: &'static str,
}

fn mime(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn compressible(mime: &str) -> bool {
    mime.starts_with("text/") || mime == "application/json" || mime == "image/svg+xml"
}

fn gzip(bytes: &[u8]) -> Option<Bytes> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).ok()?;
    let out = enc.finish().ok()?;
    (out.len() < bytes.len()).then(|| Bytes::from(out))
}

fn pages() -> &'static HashMap<&'static str, Page> {
    static PAGES: OnceLock<HashMap<&'static str, Page>> = OnceLock::new();
    PAGES.get_or_init(|| {
        EMBEDDED
            .iter()
            .map(|(path, bytes)| {
                let mime = mime(path);
                let hash = hex::encode(&Sha256::digest(bytes)[..16]);
                let etag = HeaderValue::from_str(&format!("\"{hash}\""))
                    .unwrap_or(HeaderValue::from_static("\"0\""));
                let gzip = if compressible(mime) {
                    gzip(bytes)
                } else {
                    None
                };
                let page = Page {
                    body: Bytes::from_static(bytes),
                    gzip,
                    etag,
                    mime,
                };
                (*path, page)
            })
            .collect()
    })
}

/// The embedded files' paths (relative to `static/`).
pub fn embedded_paths() -> impl Iterator<Item = &'static str> {
    EMBEDDED.iter().map(|(path, _)| *path)
}

/// Serves one embedded file, or a 404.
pub fn serve(path: &str, headers: &HeaderMap) -> Response {
    let Some(page) = pages().get(path) else {
        return (StatusCode::NOT_FOUND, "no such page").into_response();
    };
    let mut h = HeaderMap::new();
    h.insert(header::ETAG, page.etag.clone());
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(page.mime));
    let fresh = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == page.etag || tag.trim() == "*");
    if fresh {
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    let gzip_ok = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|enc| {
            let mut parts = enc.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            name.eq_ignore_ascii_case("gzip") && !refused
        });
    match (&page.gzip, gzip_ok) {
        (Some(gz), true) => {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            (StatusCode::OK, h, gz.clone()).into_response()
        }
        _ => (StatusCode::OK, h, page.body.clone()).into_response(),
    }
}

/// `GET /static/{*path}` from the embedded files.
pub async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve(&path, &headers)
}

/// A page route (`/`, `/events/{id}`, …) answered with one embedded HTML file.
fn page(name: &'static str) -> impl Fn(HeaderMap) -> std::future::Ready<Response> + Clone {
    move |headers: HeaderMap| std::future::ready(serve(name, &headers))
}

/// The routes of the embedded pages (the same paths as with `static_dir`).
pub fn routes<S: Clone + Send + Sync + 'static>() -> axum::Router<S> {
    use axum::routing::get;
    axum::Router::new()
        .route("/", get(page("index.html")))
        .route("/events/{id}", get(page("queue.html")))
        .route("/events/{id}/seats", get(page("seats.html")))
        .route("/operator", get(page("operator.html")))
        .route("/static/{*path}", get(asset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_the_router_names_is_embedded() {
        for name in [
            "index.html",
            "queue.html",
            "seats.html",
            "operator.html",
            "app.css",
        ] {
            assert!(pages().contains_key(name), "{name}");
        }
        assert!(embedded_paths().any(|p| p == "js/seats.js"));
    }

    #[test]
    fn a_page_is_gzipped_for_a_client_that_accepts_it_and_304_when_unchanged() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br;q=1, gzip;q=0.8"),
        );
        let r = serve("js/seats.js", &h);
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
        let etag = r.headers()[header::ETAG].clone();
        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, etag);
        assert_eq!(
            serve("js/seats.js", &again).status(),
            StatusCode::NOT_MODIFIED
        );
        let mut refused = HeaderMap::new();
        refused.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0"),
        );
        let plain = serve("js/seats.js", &refused);
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(
            serve("../Cargo.toml", &HeaderMap::new()).status(),
            StatusCode::NOT_FOUND
        );
    }
}
