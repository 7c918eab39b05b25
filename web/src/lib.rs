//! streamsteer in the browser.
//!
//! The engine ([`streamsteer::session::Session`]) driven by the browser: requests
//! over `fetch` (progress read from the response stream, so the estimators see
//! transfer time as natively), timers for the session's wake-ups, `performance.now()`
//! as its clock, and media into a `<video>` through Media Source Extensions (one
//! `SourceBuffer` per track). The same engine, configuration and events as the native
//! player; manifests are read by the HLS front end and the lite MPD reader, which keep
//! the module small.
//!
//! From JavaScript (see `web/js/` for the npm package wrapping it):
//!
//! ```js
//! const player = new StreamsteerPlayer(JSON.stringify({ session: { abr_rule: "default" } }));
//! player.setListener((json) => console.log(JSON.parse(json)));
//! player.attachMedia(document.querySelector("video"));
//! await player.load("https://example.com/master.m3u8");
//! ```

mod clock;
mod error;
mod fetch;
mod global;
mod mse;
mod player;

pub use error::{WebError, WebErrorKind};
pub use player::{StreamsteerPlayer, WebConfig};
