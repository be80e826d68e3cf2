//! The pages are built into the binary: served from any working directory, with their
//! type, an ETag (304 when unchanged), `Cache-Control: no-cache`, and gzipped for clients
//! that accept it. `static_dir` replaces them with a folder of custom pages. Hostile paths
//! (`..`, encoded slashes, NUL) get a 404 and nothing outside the pages.

use usher_testkit::{Engine, World};

async fn get(url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let client = reqwest::Client::builder().no_gzip().build().unwrap();
    let mut req = client.get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn the_built_in_pages_are_served_compressed_with_cache_headers_from_anywhere() {
    let server = World::new(Engine::Memory).await.start().await;
    let base = server.http();
    for (path, kind) in [
        ("/", "text/html"),
        ("/events/1", "text/html"),
        ("/events/1/seats", "text/html"),
        ("/operator", "text/html"),
        ("/static/app.css", "text/css"),
        ("/static/js/seats.js", "text/javascript"),
    ] {
        let res = get(&format!("{base}{path}"), &[("accept-encoding", "gzip")]).await;
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let h = res.headers().clone();
        assert!(
            h["content-type"].to_str().unwrap().starts_with(kind),
            "{path}"
        );
        assert_eq!(h["content-encoding"], "gzip", "{path}");
        assert_eq!(h["cache-control"], "no-cache", "{path}");
        let etag = h["etag"].to_str().unwrap().to_owned();
        let again = get(&format!("{base}{path}"), &[("if-none-match", &etag)]).await;
        assert_eq!(again.status().as_u16(), 304, "{path}");
        // Without gzip: the plain bytes, bigger than the gzipped ones.
        let plain = get(&format!("{base}{path}"), &[]).await;
        assert!(plain.headers().get("content-encoding").is_none(), "{path}");
        let gz = get(&format!("{base}{path}"), &[("accept-encoding", "gzip")]).await;
        let (plain, gz) = (plain.bytes().await.unwrap(), gz.bytes().await.unwrap());
        assert!(
            gz.len() < plain.len(),
            "{path}: {} vs {}",
            gz.len(),
            plain.len()
        );
    }
    for bad in [
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/js%2f..%2f..%2fCargo.toml",
        "/static/nope.js",
        "/static/js/seats.js%00",
        "/static/",
    ] {
        let res = get(&format!("{base}{bad}"), &[]).await;
        assert_eq!(res.status().as_u16(), 404, "{bad}");
    }
    server.stop().await;
}

#[tokio::test]
async fn static_dir_replaces_the_built_in_pages_with_custom_ones() {
    let dir = std::env::temp_dir().join(format!("usher-pages-{}", rand::random::<u64>()));
    std::fs::create_dir_all(dir.join("js")).unwrap();
    std::fs::write(dir.join("index.html"), "<p>our own front page</p>").unwrap();
    std::fs::write(dir.join("js/x.js"), "export const x = 1;").unwrap();
    let path = dir.to_string_lossy().into_owned();
    let server = World::new(Engine::Memory)
        .await
        .start_with(move |s| s.static_dir = path)
        .await;
    let front = get(&format!("{}/", server.http()), &[]).await;
    assert_eq!(front.text().await.unwrap(), "<p>our own front page</p>");
    let js = get(&format!("{}/static/js/x.js", server.http()), &[]).await;
    assert_eq!(js.status().as_u16(), 200);
    let missing = get(&format!("{}/static/js/seats.js", server.http()), &[]).await;
    assert_eq!(
        missing.status().as_u16(),
        404,
        "only the custom folder is served"
    );
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}
