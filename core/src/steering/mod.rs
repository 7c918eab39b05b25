//! Content steering for HLS (rfc8216bis §7) and DASH (ETSI TS 103 998) in one engine.
//!
//! - [`SteeringManifest`]: parsing and validation of the steering manifest (VERSION 1,
//!   TTL > 0, RELOAD-URI resolution, PATHWAY-PRIORITY, PATHWAY-CLONES); hostile input
//!   gives a [`SteeringError`], never a panic.
//! - [`Steering`]: the state machine shared by both protocols ([`Protocol`] switches the
//!   query parameters and per-ID clone URIs): TTL scheduling, 410/429/error handling,
//!   clones, per-pathway [`PathwayHealth`] (penalties, throughput) and the pathway
//!   selection with a [`CostPreference`].
//! - Responses that point at hosts outside the session's
//!   [`HostAllowlist`](crate::allowlist::HostAllowlist) are refused whole.
//!
//! Deliberate choices where players differ (see `reference/specs.md` §1–2): a clone
//! ID, once defined, keeps its first definition for the session (hls.js); a 429
//! without Retry-After waits the last TTL; a 429 never ends steering (hls.js's does, a
//! spec deviation); a penalty starts at `first_penalty_s` and doubles while the
//! pathway keeps failing, up to `penalty_s` and never past the TTL, for both
//! protocols; the steering server's order is left for a faster pathway only as the
//! [`OverflowPolicy`] says (by default, only to avoid a stall).

mod clone;
mod controller;
mod cost;
mod error;
mod manifest;
mod pathway;
pub mod uri;

pub use clone::{PathwayClone, StableId, UriReplacement};
pub use controller::{
    MAX_CLONES, PathwaySelection, PollState, Protocol, SelectionReason, Steering, SteeringConfig,
    SteeringRequest, SteeringUpdate,
};
pub use cost::{CostPreference, CostReason, OverflowPolicy};
pub use error::SteeringError;
pub use manifest::{MAX_ENTRIES, MAX_MANIFEST_BYTES, SteeringManifest, is_legal_pathway_id};
pub use pathway::PathwayHealth;
