//! What goes wrong in the browser, typed: every failure reaches the page as an event
//! (and a rejected promise where a call awaits it), never as an exception thrown from
//! inside the player.

use serde::Serialize;
use thiserror::Error;

/// The class of a failure, as the page sees it in an `error` event's `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WebErrorKind {
    /// A request failed, or the page gave a URL the player will not request.
    Network,
    /// The manifest could not be read.
    Manifest,
    /// The media could not be played (MSE refused a segment or a codec).
    Media,
    /// The steering server misbehaved.
    Steering,
    /// The player was used wrongly (no media element, a call after `destroy`).
    Usage,
}

/// A failure of the web player.
#[derive(Debug, Clone, Error)]
pub enum WebError {
    /// A browser API failed.
    #[error("{what}: {message}")]
    Browser {
        /// Which class of failure.
        kind: WebErrorKind,
        /// What the player was doing.
        what: &'static str,
        /// The browser's message.
        message: String,
    },
    /// The manifest was fetched but not understood.
    #[error("manifest {url}: {message}")]
    Manifest {
        /// The manifest's URL.
        url: String,
        /// The parser's message.
        message: String,
    },
    /// The page's configuration is not usable.
    #[error("configuration: {0}")]
    Config(String),
    /// A call the player cannot take in its state.
    #[error("{0}")]
    Usage(&'static str),
}

impl WebError {
    /// The class of this failure.
    pub fn kind(&self) -> WebErrorKind {
        match self {
            WebError::Browser { kind, .. } => *kind,
            WebError::Manifest { .. } => WebErrorKind::Manifest,
            WebError::Config(_) | WebError::Usage(_) => WebErrorKind::Usage,
        }
    }

    /// A browser API's failure, with its message.
    pub fn browser(kind: WebErrorKind, what: &'static str, value: &wasm_bindgen::JsValue) -> Self {
        WebError::Browser { kind, what, message: describe(value) }
    }
}

/// A thrown JavaScript value as text: an `Error`'s name and message, a string as is.
pub(crate) fn describe(value: &wasm_bindgen::JsValue) -> String {
    use wasm_bindgen::JsCast;
    if let Some(e) = value.dyn_ref::<js_sys::Error>() {
        return format!("{}: {}", String::from(e.name()), String::from(e.message()));
    }
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}
