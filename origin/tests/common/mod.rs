//! Helpers shared by the origin's integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;
use streamsteer_origin::store::ContentStore;

/// The committed miniature CMAF ladder.
pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/cmaf")
}

/// The fixture, loaded.
pub fn fixture() -> ContentStore {
    ContentStore::open(&fixture_dir()).expect("fixture loads")
}

/// A fresh scratch folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("streamsteer-origin-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A client with timeouts, so that no test can hang.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .connect_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// GET `url` and read the body chunk by chunk: status, content length, the bytes
/// that arrived, and whether the body ended in an error.
pub async fn get_all(client: &reqwest::Client, url: &str) -> (u16, Option<u64>, Vec<u8>, bool) {
    let mut resp = client.get(url).send().await.unwrap();
    let status = resp.status().as_u16();
    let len = resp.content_length();
    let mut bytes = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => bytes.extend_from_slice(&c),
            Ok(None) => return (status, len, bytes, false),
            Err(_) => return (status, len, bytes, true),
        }
    }
}

/// Raw HTTP/1.1 GET over TCP: the head, the body bytes that arrived, and how the
/// connection ended (`Ok(())` clean EOF, `Err(kind)` an error such as a reset).
pub async fn raw_get(addr: &str, path: &str) -> (String, Vec<u8>, Result<(), std::io::ErrorKind>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = addr.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut all = Vec::new();
    let mut buf = [0u8; 8192];
    let end = loop {
        match tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await {
            Ok(Ok(0)) => break Ok(()),
            Ok(Ok(n)) => all.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => break Err(e.kind()),
            Err(_) => break Err(std::io::ErrorKind::TimedOut),
        }
    };
    let split = all.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4).unwrap_or(all.len());
    let head = String::from_utf8_lossy(&all[..split]).into_owned();
    (head, all[split..].to_vec(), end)
}

/// The `Content-Length` of a raw response head.
pub fn content_length(head: &str) -> Option<usize> {
    head.lines()
        .find_map(|l| {
            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string())
        })
        .and_then(|v| v.parse().ok())
}
