//! The browser client's files as the relay serves them: read once at start into memory
//! (the client is a few megabytes), so a request can never reach outside the folder and
//! serving costs no disk access; each with the brotli and gzip forms `web/build.sh`
//! made next to it (`app.js.br`, `app.js.gz`), and an ETag.
//!
//! Caching: `web/build.sh` puts everything but the page itself (and its manifest and
//! service worker, whose addresses must not change) under `/a/`, in content-hashed
//! names; those never change, so browsers keep them for a year without asking. The rest
//! is revalidated on every load by its ETag, which costs a few hundred bytes when
//! nothing changed.

use std::{collections::HashMap, path::Path, sync::Arc};

use axum::http::{HeaderMap, HeaderValue, header};
use bytes::Bytes;

/// Where the build puts the content-hashed files.
pub const IMMUTABLE_PREFIX: &str = "/a/";

/// One file, in each encoding the build made of it.
#[derive(Debug)]
pub struct Asset {
    /// Its `content-type`.
    pub content_type: &'static str,
    /// Its bytes as they are.
    pub identity: Bytes,
    /// Brotli-compressed, when the build made it.
    pub br: Option<Bytes>,
    /// Gzip-compressed, when the build made it.
    pub gzip: Option<Bytes>,
    /// A strong ETag of its content.
    pub etag: HeaderValue,
}

impl Asset {
    /// The smallest form `headers` (`accept-encoding`) allows, with the
    /// `content-encoding` to send it under (`None` for the bytes as they are).
    pub fn negotiate(&self, headers: &HeaderMap) -> (Bytes, Option<&'static str>) {
        let accepts = |name: &str| {
            headers
                .get_all(header::ACCEPT_ENCODING)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .any(|e| {
                    let mut parts = e.split(';');
                    let coding = parts.next().unwrap_or("").trim();
                    // `br;q=0` refuses it.
                    let refused = parts.any(|p| {
                        p.trim()
                            .strip_prefix("q=")
                            .and_then(|q| q.trim().parse::<f32>().ok())
                            == Some(0.0)
                    });
                    coding.eq_ignore_ascii_case(name) && !refused
                })
        };
        match (&self.br, &self.gzip) {
            (Some(b), _) if accepts("br") => (b.clone(), Some("br")),
            (_, Some(g)) if accepts("gzip") => (g.clone(), Some("gzip")),
            _ => (self.identity.clone(), None),
        }
    }

    /// Whether `headers` (`if-none-match`) says the browser holds this version already.
    pub fn not_modified(&self, headers: &HeaderMap) -> bool {
        headers
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == "*" || t.as_bytes() == self.etag.as_bytes())
    }
}

/// The browser client's files, by URL path.
#[derive(Debug, Clone, Default)]
pub struct Files(Arc<HashMap<String, Asset>>);

impl Files {
    /// Reads every file under `dir`; `x.br` and `x.gz` next to `x` are its compressed
    /// forms, not files of their own.
    pub fn load(dir: &Path) -> std::io::Result<Self> {
        let mut raw = HashMap::new();
        let mut todo = vec![dir.to_path_buf()];
        while let Some(d) = todo.pop() {
            for entry in std::fs::read_dir(&d)? {
                let entry = entry?;
                let path = entry.path();
                let kind = entry.file_type()?;
                if kind.is_dir() {
                    todo.push(path);
                } else if kind.is_file() {
                    let rel = path.strip_prefix(dir).unwrap_or(&path);
                    let url = format!("/{}", rel.to_string_lossy().replace('\\', "/"));
                    raw.insert(url, Bytes::from(std::fs::read(&path)?));
                }
            }
        }
        let mut map = HashMap::new();
        for (url, body) in &raw {
            let compressed = [".br", ".gz"]
                .iter()
                .any(|ext| url.strip_suffix(ext).is_some_and(|b| raw.contains_key(b)));
            if compressed {
                continue;
            }
            let asset = Asset {
                content_type: content_type(url),
                identity: body.clone(),
                br: raw.get(&format!("{url}.br")).cloned(),
                gzip: raw.get(&format!("{url}.gz")).cloned(),
                etag: etag(body),
            };
            map.insert(url.clone(), asset);
        }
        if !map.contains_key("/index.html") {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no index.html (build it with web/build.sh)",
            ));
        }
        Ok(Self(Arc::new(map)))
    }

    /// The file at URL path `path`.
    pub fn get(&self, path: &str) -> Option<&Asset> {
        self.0.get(path)
    }

    /// How many files are served.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no web client is served.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A strong ETag from the content: FNV-1a over the bytes and their length. Not a
/// defence against anything (the content is ours); only a version stamp that stays the
/// same across restarts of the relay as long as the file does.
fn etag(body: &[u8]) -> HeaderValue {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in body {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // Hex digits and quotes only: always a valid header value.
    HeaderValue::from_str(&format!("\"{h:016x}-{:x}\"", body.len()))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

fn content_type(url: &str) -> &'static str {
    match url.rsplit_once('.').map_or("", |(_, e)| e) {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset() -> Asset {
        Asset {
            content_type: "text/plain",
            identity: Bytes::from_static(b"plain"),
            br: Some(Bytes::from_static(b"b")),
            gzip: Some(Bytes::from_static(b"g")),
            etag: etag(b"plain"),
        }
    }

    fn headers(name: header::HeaderName, v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_static(v));
        h
    }

    /// Brotli when allowed, else gzip, else the bytes as they are; `q=0` refuses.
    #[test]
    fn picks_the_smallest_allowed_encoding() {
        let a = asset();
        let enc = |v| a.negotiate(&headers(header::ACCEPT_ENCODING, v)).1;
        assert_eq!(enc("gzip, deflate, br, zstd"), Some("br"));
        assert_eq!(enc("gzip, br;q=0"), Some("gzip"));
        assert_eq!(enc("identity"), None);
        assert_eq!(a.negotiate(&HeaderMap::new()).1, None);
    }

    /// A browser that holds this version hears so; another version does not.
    #[test]
    fn etag_matches_only_the_same_content() {
        let a = asset();
        let tag: &'static str = Box::leak(a.etag.to_str().unwrap().to_string().into_boxed_str());
        assert!(a.not_modified(&headers(header::IF_NONE_MATCH, tag)));
        assert!(!a.not_modified(&headers(header::IF_NONE_MATCH, "\"other\"")));
        assert_ne!(etag(b"one"), etag(b"two"));
    }
}
