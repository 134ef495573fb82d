//! The relay's web side over real HTTP on 127.0.0.1: the client's files with the right
//! types and security headers, nothing outside them, health and metrics.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vibemesh_relay::{Relay, RelayOptions, TlsSource, acme::AcmeSettings};

async fn get(relay: &Relay, path: &str) -> String {
    get_with(relay, path, "").await
}

/// `GET path` with `headers` (each line ending in CRLF); the response as text (lossy).
async fn get_with(relay: &Relay, path: &str, headers: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(relay.addr()).await.unwrap();
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: t\r\n{headers}Connection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of header `name` (lower case) in response `resp`.
fn header<'a>(resp: &'a str, name: &str) -> Option<&'a str> {
    resp.split("\r\n\r\n").next()?.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[tokio::test]
async fn serves_the_client_health_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<title>VibeMesh</title>").unwrap();
    std::fs::create_dir(dir.path().join("pkg")).unwrap();
    std::fs::write(dir.path().join("pkg/x.wasm"), b"\0asm").unwrap();
    let relay = Relay::spawn(RelayOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        quic: None,
        tls: None,
        web_dir: Some(dir.path().to_path_buf()),
    })
    .await
    .unwrap();

    let index = get(&relay, "/").await;
    assert!(index.starts_with("HTTP/1.1 200"), "{index}");
    assert!(index.contains("text/html") && index.contains("<title>VibeMesh</title>"));
    // The page's security headers (the browser test runs the client under this policy).
    let lower = index.to_ascii_lowercase();
    let csp = lower
        .lines()
        .find_map(|l| l.strip_prefix("content-security-policy: "))
        .unwrap_or_else(|| panic!("no CSP: {index}"));
    for part in [
        "default-src 'self'",
        "connect-src 'self';",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{part} missing from {csp}");
    }
    // No inline script and no eval: the scripts directive holds exactly these.
    let scripts = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src "));
    assert_eq!(
        scripts,
        Some("script-src 'self' 'wasm-unsafe-eval'"),
        "{csp}"
    );
    assert!(
        lower.contains("\r\nx-content-type-options: nosniff\r\n"),
        "{index}"
    );
    assert!(
        lower.contains("\r\nreferrer-policy: no-referrer\r\n"),
        "{index}"
    );
    let wasm = get(&relay, "/pkg/x.wasm").await;
    assert!(wasm.contains("application/wasm"), "{wasm}");
    for outside in ["/../Cargo.toml", "/%2e%2e/Cargo.toml", "/nope.js"] {
        assert!(
            get(&relay, outside).await.starts_with("HTTP/1.1 404"),
            "{outside}"
        );
    }
    let health = get(&relay, "/health").await;
    assert!(
        health.contains("\"status\":\"ok\"") && health.contains("\"web_files\":2"),
        "{health}"
    );
    let metrics = get(&relay, "/metrics").await;
    assert!(
        metrics.starts_with("HTTP/1.1 200") && metrics.contains("# EOF"),
        "{metrics}"
    );
    relay.shutdown().await;
}

/// The build's compressed twins are served to browsers that accept them; content-hashed
/// files under `/a/` are cached for good, the page is revalidated by ETag (a 304 with no
/// body when the browser holds it).
#[tokio::test]
async fn serves_compressed_cached_and_revalidated() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<title>VibeMesh</title>").unwrap();
    std::fs::write(dir.path().join("index.html.br"), "BROTLI").unwrap();
    std::fs::write(dir.path().join("index.html.gz"), "GZIP").unwrap();
    std::fs::create_dir(dir.path().join("a")).unwrap();
    std::fs::write(dir.path().join("a/0123.wasm"), b"\0asm").unwrap();
    let relay = Relay::spawn(RelayOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        quic: None,
        tls: None,
        web_dir: Some(dir.path().to_path_buf()),
    })
    .await
    .unwrap();

    let br = get_with(&relay, "/", "Accept-Encoding: gzip, deflate, br\r\n").await;
    assert_eq!(header(&br, "content-encoding"), Some("br"), "{br}");
    assert!(br.ends_with("BROTLI"), "{br}");
    assert_eq!(header(&br, "vary"), Some("accept-encoding"), "{br}");
    let gz = get_with(&relay, "/", "Accept-Encoding: gzip\r\n").await;
    assert!(gz.ends_with("GZIP") && header(&gz, "content-encoding") == Some("gzip"));
    let plain = get(&relay, "/").await;
    assert!(plain.ends_with("<title>VibeMesh</title>"), "{plain}");
    assert_eq!(header(&plain, "content-encoding"), None);
    // The twins are not files of their own.
    assert!(
        get(&relay, "/index.html.br")
            .await
            .starts_with("HTTP/1.1 404")
    );

    assert_eq!(header(&plain, "cache-control"), Some("no-cache"));
    let etag = header(&plain, "etag").expect("an ETag").to_string();
    let again = get_with(&relay, "/", &format!("If-None-Match: {etag}\r\n")).await;
    assert!(again.starts_with("HTTP/1.1 304"), "{again}");
    assert!(again.ends_with("\r\n\r\n"), "a 304 has no body: {again}");
    let other = get_with(&relay, "/", "If-None-Match: \"old\"\r\n").await;
    assert!(other.starts_with("HTTP/1.1 200"), "{other}");

    let wasm = get(&relay, "/a/0123.wasm").await;
    assert_eq!(
        header(&wasm, "cache-control"),
        Some("public, max-age=31536000, immutable"),
        "{wasm}"
    );
    relay.shutdown().await;
}

#[tokio::test]
async fn quic_address_discovery_needs_a_certificate() {
    let err = Relay::spawn(RelayOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        quic: Some("127.0.0.1:0".parse().unwrap()),
        tls: None,
        web_dir: None,
    })
    .await
    .unwrap_err();
    assert!(err.to_string().contains("needs TLS"), "{err}");
}

#[tokio::test]
async fn acme_needs_a_name_and_serves_https_while_the_ca_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let acme = |domains: Vec<String>| {
        Some(TlsSource::Acme(AcmeSettings {
            domains,
            contact: vec!["ops@example.org".into()],
            cache_dir: dir.path().join("acme"),
            // Nothing listens there: the client keeps retrying in the background.
            directory: Some("http://127.0.0.1:9/directory".into()),
        }))
    };
    let opts = |tls| RelayOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        quic: None,
        tls,
        web_dir: None,
    };
    let err = Relay::spawn(opts(acme(vec![]))).await.unwrap_err();
    assert!(err.to_string().contains("--acme-domain"), "{err}");
    let relay = Relay::spawn(opts(acme(vec!["relay.example.org".into()])))
        .await
        .expect("starts before it has a certificate");
    assert!(relay.url().starts_with("https://"), "{}", relay.url());
    relay.shutdown().await;
}
