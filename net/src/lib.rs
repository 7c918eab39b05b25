//! The native streamsteer driver: the engine's sans-IO session over tokio and
//! reqwest.
//!
//! [`Player::load`] fetches a manifest (HLS or DASH, detected), builds a
//! [`Session`](streamsteer::session::Session) and spawns the driver task, which runs
//! the session's loop on tokio time and real sockets: fetches (with TTFB, idle and
//! total timeouts, retries with seeded jitter, byte ranges, HTTP/1.1 and HTTP/2 on one
//! shared connection pool), cancellations, timers, CMCD, and a media sink.
//! [`Player::events`] streams typed [`Event`]s: the engine's (state, rendition and
//! pathway changes, stalls, errors, the QoE report) plus per-request timing and a
//! periodic [`Status`].
//!
//! Modules: [`config`] (serde settings with documented defaults), [`fetch`] (one
//! request), [`sink`] (the [`MediaSink`] trait and the fMP4-timing [`TimingSink`]),
//! [`event`], and the driver loop behind [`Player`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
mod driver;
mod error;
pub mod event;
pub mod fetch;
mod player;
mod retry;
pub mod sink;

pub use config::{NetConfig, PlayerConfig, RequestPolicy, RetryPolicy};
pub use driver::Outcome;
pub use error::{FatalError, PlayerError};
pub use event::{Event, MediaError, RequestTiming, Status};
pub use fetch::{FailureKind, FetchError};
pub use player::{Player, build_client};
pub use sink::{MediaSink, SinkError, TimingSink, TimingSinkConfig};
pub use streamsteer::cmcd::{CmcdConfig, CmcdMode};
