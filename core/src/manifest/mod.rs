//! Manifests: one presentation model built from HLS and DASH.
//!
//! - [`model`]: the [`Presentation`] every front end produces;
//! - [`parse_any`] detects the format; [`parse_hls`] (feature `hls`, m3u8-rs plus a
//!   strict line validator) and [`parse_dash`] (feature `dash`: dash-mpd-core's serde
//!   reader; feature `dash-lite` alone: a small reader into the same structs, for the
//!   browser build, also reachable as [`parse_dash_lite`]) parse one format;
//! - [`Presentation::apply_segment_index`] turns a DASH `SegmentBase` rendition into
//!   a segment list once its `sidx` is fetched;
//! - [`Presentation::to_ladder`] reduces a presentation to the ABR [`Ladder`](crate::Ladder).
//!
//! The parser crates' types never leave this module, so each front end can be
//! swapped: both MPD readers feed one converter into the same model.

#[cfg(feature = "hls")]
mod attr;
#[cfg(feature = "dash-lite")]
mod dash;
mod error;
#[cfg(feature = "hls")]
mod hls;
#[cfg(feature = "hls")]
mod hls_strict;
mod ladder;
pub mod model;
#[cfg(feature = "dash-lite")]
mod mpd_reader;
mod segment_base;
mod template;
#[cfg(feature = "dash-lite")]
mod xml_pull;
#[cfg(feature = "dash-lite")]
mod xml_scan;
#[cfg(feature = "dash-lite")]
mod xs_value;

use crate::uri::Url;
pub use error::ManifestError;
pub use model::*;
pub use segment_base::SegmentBaseError;
pub use template::MAX_LIVE_SEGMENTS;

#[cfg(feature = "dash-lite")]
pub use dash::{parse_dash, parse_dash_at, parse_dash_lite, parse_dash_lite_at};
#[cfg(feature = "hls")]
pub use hls::parse_hls;
#[cfg(feature = "dash-lite")]
pub use mpd_reader::MAX_DEPTH as MAX_MPD_DEPTH;

/// Which format a manifest text is, judged from its content.
pub fn detect(text: &str) -> Option<ManifestKind> {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with("#EXTM3U") {
        return Some(ManifestKind::Hls);
    }
    if t.starts_with('<') && looks_like_mpd(t) {
        return Some(ManifestKind::Dash);
    }
    // A playlist whose #EXTM3U is missing or not first is still HLS (and the HLS
    // front end reports exactly that), as long as it has HLS tags.
    if t.lines().any(|l| l.trim_start().starts_with("#EXT")) {
        return Some(ManifestKind::Hls);
    }
    None
}

fn looks_like_mpd(t: &str) -> bool {
    // `<MPD` or a prefixed `<dash:MPD`, after any XML declaration and comments.
    t.match_indices('<').any(|(i, _)| {
        let rest = &t[i + 1..];
        let name_end =
            rest.find(|c: char| c.is_whitespace() || c == '>' || c == '/').unwrap_or(rest.len());
        let name = &rest[..name_end];
        name == "MPD" || name.ends_with(":MPD")
    })
}

/// Parses an HLS playlist or a DASH MPD, detected from the content. `url` is where it
/// was loaded from, after redirects (a `file:` URL for a local document): relative
/// references resolve against it.
pub fn parse_any(text: &str, url: &Url) -> Result<Presentation, ManifestError> {
    if text.trim().is_empty() {
        return Err(ManifestError::Empty);
    }
    match detect(text) {
        Some(ManifestKind::Hls) => parse_hls_or_disabled(text, url),
        Some(ManifestKind::Dash) => parse_dash_or_disabled(text, url),
        None => Err(ManifestError::UnknownFormat),
    }
}

#[cfg(feature = "hls")]
fn parse_hls_or_disabled(text: &str, url: &Url) -> Result<Presentation, ManifestError> {
    parse_hls(text, url)
}

#[cfg(not(feature = "hls"))]
fn parse_hls_or_disabled(_text: &str, _url: &Url) -> Result<Presentation, ManifestError> {
    Err(ManifestError::FeatureDisabled("HLS", "hls"))
}

#[cfg(feature = "dash-lite")]
fn parse_dash_or_disabled(text: &str, url: &Url) -> Result<Presentation, ManifestError> {
    parse_dash(text, url)
}

#[cfg(not(feature = "dash-lite"))]
fn parse_dash_or_disabled(_text: &str, _url: &Url) -> Result<Presentation, ManifestError> {
    Err(ManifestError::FeatureDisabled("DASH", "dash"))
}
