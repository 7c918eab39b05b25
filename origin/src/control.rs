//! The origin's runtime controls, over HTTP on the steering listener (the control
//! plane, which a pathway outage does not take down), and the pages it may serve
//! beside them (the browser demo).
//!
//! ```text
//! GET  /control/state                          the pathways (down, slowdown), the priority
//! POST /control/pathway/{name}/down            outage now: connections reset, bodies in flight too
//! POST /control/pathway/{name}/up              back (outage windows of its schedule still apply)
//! POST /control/pathway/{name}/slow?factor=F   its link F times slower, no error (1 restores it)
//! POST /control/priority?order=a,b             steering ranks these first; no `order`: the schedule
//! GET  /web/{path}                             a file under `OriginConfig::web_root`, if set
//! ```
//!
//! Every answer is JSON (`/control`) or the file (`/web`); a bad request is a 4xx with
//! `{"error": ...}`. The same operations are [`OriginHandle`](crate::OriginHandle)'s
//! methods for tests in Rust.

use crate::error::OriginError;
use crate::server::{ListenerState, Shared};
use axum::body::Body;
use bytes::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Response, StatusCode};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// Path prefix of the controls.
const CONTROL: &str = "/control/";
/// Path prefix of the served pages.
const WEB: &str = "/web/";
/// Largest file `/web` serves (the demo's wasm is a few MB at most).
const MAX_WEB_FILE_BYTES: u64 = 64 << 20;

/// What the controls act on.
#[derive(Debug)]
pub struct Controls {
    shared: Arc<Shared>,
    pathways: Vec<Arc<ListenerState>>,
    web_root: Option<PathBuf>,
}

/// One pathway in `/control/state`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathwayState {
    /// Pathway ID.
    pub name: String,
    /// Down now (runtime control or an outage window).
    pub down: bool,
    /// What its link's rate is divided by (1: as configured; `None`: unshaped).
    pub slowdown: Option<f64>,
}

/// `/control/state`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlState {
    /// Seconds since the origin started.
    pub elapsed_s: f64,
    /// The steering priority now.
    pub priority: Vec<String>,
    /// Every pathway, in configuration order.
    pub pathways: Vec<PathwayState>,
}

impl Controls {
    pub(crate) fn new(
        shared: Arc<Shared>,
        pathways: Vec<Arc<ListenerState>>,
        web_root: Option<PathBuf>,
    ) -> Self {
        Controls { shared, pathways, web_root }
    }

    fn pathway(&self, name: &str) -> Result<&Arc<ListenerState>, OriginError> {
        self.pathways
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| OriginError::Config(format!("no pathway called {name:?}")))
    }

    /// Takes pathway `name` down now (`true`) or brings it back (`false`).
    pub fn set_outage(&self, name: &str, down: bool) -> Result<(), OriginError> {
        self.pathway(name)?.force_down(down, self.shared.elapsed_s());
        Ok(())
    }

    /// Makes pathway `name`'s link `factor` times slower (1 restores it); shaped
    /// pathways only.
    pub fn set_slowdown(&self, name: &str, factor: f64) -> Result<(), OriginError> {
        if !(factor.is_finite() && factor >= 1.0) {
            return Err(OriginError::Config(format!("slowdown factor {factor} is not ≥ 1")));
        }
        let link = self.pathway(name)?.link.as_ref().ok_or_else(|| {
            OriginError::Config(format!("pathway {name:?} is not shaped (give it a trace)"))
        })?;
        link.set_slowdown(factor);
        tracing::info!(pathway = name, factor, "pathway slowdown set");
        Ok(())
    }

    /// Overrides the steering priority (`Some`) or returns it to its schedule.
    pub fn set_priority(&self, priority: Option<Vec<String>>) -> Result<(), OriginError> {
        if let Some(p) = &priority
            && let Some(unknown) = p.iter().find(|n| self.pathway(n).is_err())
        {
            return Err(OriginError::Config(format!("no pathway called {unknown:?}")));
        }
        self.shared.steering.set_priority(priority);
        Ok(())
    }

    /// Down now?
    pub fn is_down(&self, name: &str) -> Option<bool> {
        self.pathway(name).ok().map(|p| *p.down.borrow())
    }

    /// The state the controls set, as of now.
    pub fn state(&self) -> ControlState {
        let t = self.shared.elapsed_s();
        ControlState {
            elapsed_s: t,
            priority: self.shared.steering.priority_at(t),
            pathways: self
                .pathways
                .iter()
                .map(|p| PathwayState {
                    name: p.name.clone(),
                    down: *p.down.borrow(),
                    slowdown: p.link.as_ref().map(|l| l.slowdown()),
                })
                .collect(),
        }
    }

    /// True for the paths the steering listener answers here rather than in the
    /// responder.
    pub fn handles(path: &str) -> bool {
        path.starts_with(CONTROL) || path.starts_with(WEB)
    }

    /// Answers a `/control` or `/web` request.
    pub async fn respond(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
    ) -> Response<Body> {
        if let Some(rest) = path.strip_prefix(WEB) {
            if method != Method::GET && method != Method::HEAD {
                return error(StatusCode::METHOD_NOT_ALLOWED, "GET or HEAD only");
            }
            return self.web_file(rest, method == Method::HEAD).await;
        }
        let query: BTreeMap<String, String> = query
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let parts: Vec<&str> = path.trim_start_matches(CONTROL).split('/').collect();
        let post = method == Method::POST;
        let done = match (parts.as_slice(), post) {
            (["state"], false) if method == Method::GET => Ok(()),
            (["pathway", name, "down"], true) => self.set_outage(name, true),
            (["pathway", name, "up"], true) => self.set_outage(name, false),
            (["pathway", name, "slow"], true) => match query.get("factor").map(|f| f.parse()) {
                Some(Ok(f)) => self.set_slowdown(name, f),
                _ => Err(OriginError::Config("slow needs ?factor=F (a number ≥ 1)".into())),
            },
            (["priority"], true) => self.set_priority(
                query.get("order").map(|o| o.split(',').map(str::to_string).collect()),
            ),
            _ => return error(StatusCode::NOT_FOUND, "no such control (see /control/state)"),
        };
        match done {
            Ok(()) => json(StatusCode::OK, &self.state()),
            Err(e) => error(StatusCode::BAD_REQUEST, &e.to_string()),
        }
    }

    async fn web_file(&self, rest: &str, head: bool) -> Response<Body> {
        let Some(root) = &self.web_root else {
            return error(StatusCode::NOT_FOUND, "no web root (streamsteer serve --web DIR)");
        };
        let Some(path) = safe_join(root, rest) else {
            return error(StatusCode::NOT_FOUND, "not found");
        };
        // A symbolic link under the root must not lead out of it.
        let inside =
            match (tokio::fs::canonicalize(root).await, tokio::fs::canonicalize(&path).await) {
                (Ok(r), Ok(p)) => p.starts_with(r),
                _ => false,
            };
        if !inside {
            return error(StatusCode::NOT_FOUND, "not found");
        }
        let meta = match tokio::fs::metadata(&path).await {
            Ok(m) if m.is_file() && m.len() <= MAX_WEB_FILE_BYTES => m,
            _ => return error(StatusCode::NOT_FOUND, "not found"),
        };
        let data = if head {
            Bytes::new()
        } else {
            match tokio::fs::read(&path).await {
                Ok(d) => Bytes::from(d),
                Err(_) => return error(StatusCode::NOT_FOUND, "not found"),
            }
        };
        let mut r = Response::new(Body::from(data));
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&path)));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(meta.len()));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        r
    }
}

/// `root` joined with the request path `rest`, if it names something under `root`:
/// no `..`, no absolute or hidden components, no backslashes.
fn safe_join(root: &Path, rest: &str) -> Option<PathBuf> {
    let rest = if rest.is_empty() || rest.ends_with('/') {
        format!("{rest}index.html")
    } else {
        rest.to_string()
    };
    if rest.contains('\\') || rest.contains('\0') {
        return None;
    }
    let mut path = root.to_path_buf();
    for c in Path::new(&rest).components() {
        match c {
            Component::Normal(part) if !part.to_string_lossy().starts_with('.') => path.push(part),
            _ => return None,
        }
    }
    Some(path)
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

fn json(status: StatusCode, value: &impl Serialize) -> Response<Body> {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    r
}

fn error(status: StatusCode, message: &str) -> Response<Body> {
    json(status, &serde_json::json!({ "error": message }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_paths_stay_under_the_root() {
        let root = Path::new("/srv/web");
        assert_eq!(
            safe_join(root, "demo/index.html"),
            Some(PathBuf::from("/srv/web/demo/index.html"))
        );
        assert_eq!(safe_join(root, "demo/"), Some(PathBuf::from("/srv/web/demo/index.html")));
        assert_eq!(safe_join(root, ""), Some(PathBuf::from("/srv/web/index.html")));
        for bad in ["../etc/passwd", "demo/../../x", "/etc/passwd", ".git/config", "a\\b"] {
            assert_eq!(safe_join(root, bad), None, "{bad}");
        }
    }
}
