//! Pathway cloning: a new Pathway made from an existing one by rewriting its URIs.

use super::{SteeringError, uri};
use crate::uri::Url;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a clone rewrites the URIs of its base Pathway.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UriReplacement {
    /// Replaces the host of every URI (the original port is kept unless this has one).
    pub host: Option<String>,
    /// Query parameters added or replaced, already percent-encoded by the server.
    pub params: Vec<(String, String)>,
    /// HLS only: `STABLE-VARIANT-ID` → absolute URL of the variant's media playlist.
    pub per_variant_uris: BTreeMap<String, Url>,
    /// HLS only: `STABLE-RENDITION-ID` → absolute URL of the rendition's media playlist.
    pub per_rendition_uris: BTreeMap<String, Url>,
}

/// One entry of `PATHWAY-CLONES`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathwayClone {
    /// The Pathway (or earlier clone) the clone copies.
    pub base_id: String,
    /// The new Pathway's ID.
    pub id: String,
    /// How its URIs differ from the base's.
    pub replacement: UriReplacement,
}

/// Which stable identifier, if any, names the URI being rewritten; per-ID URIs
/// supersede HOST and PARAMS (rfc8216bis §7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StableId<'a> {
    /// A segment or other URI with no per-ID override.
    None,
    /// The media playlist of a variant stream with this `STABLE-VARIANT-ID`.
    Variant(&'a str),
    /// The media playlist of a rendition with this `STABLE-RENDITION-ID`.
    Rendition(&'a str),
}

impl UriReplacement {
    /// Rewrites `uri` (absolute, of the base Pathway). `per_id` enables the HLS-only
    /// per-variant/per-rendition maps; DASH clients must ignore them.
    pub fn apply(&self, uri: &Url, id: StableId<'_>, per_id: bool) -> Result<Url, SteeringError> {
        if per_id {
            let hit = match id {
                StableId::Variant(v) => self.per_variant_uris.get(v),
                StableId::Rendition(r) => self.per_rendition_uris.get(r),
                StableId::None => None,
            };
            if let Some(u) = hit {
                return Ok(u.clone());
            }
        }
        let out = match &self.host {
            Some(h) => uri.with_host(h).map_err(|source| SteeringError::InvalidUri {
                field: "PATHWAY-CLONES HOST".into(),
                source,
            })?,
            None => uri.clone(),
        };
        Ok(out.with_query_params(&self.params))
    }

    /// Hosts this replacement may send requests to (for the allowlist).
    pub fn hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = self.host.iter().map(|h| uri::host_without_port(h)).collect();
        for u in self.per_variant_uris.values().chain(self.per_rendition_uris.values()) {
            if let Some(h) = u.host() {
                hosts.push(h.to_string());
            }
        }
        hosts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn rep() -> UriReplacement {
        UriReplacement {
            host: Some("cdn-b.example".into()),
            params: vec![("token".into(), "abc".into())],
            per_variant_uris: [("v1".to_string(), u("https://pv.example/v1.m3u8"))].into(),
            per_rendition_uris: BTreeMap::new(),
        }
    }

    #[test]
    fn host_and_params_rewrite_segment_uris() {
        let out = rep().apply(&u("https://cdn-a.example/v/1.m4s"), StableId::None, true).unwrap();
        assert_eq!(out, "https://cdn-b.example/v/1.m4s?token=abc");
    }

    #[test]
    fn per_variant_uri_supersedes_host_and_params_for_hls_only() {
        let r = rep();
        let playlist = u("https://cdn-a.example/v1.m3u8");
        assert_eq!(
            r.apply(&playlist, StableId::Variant("v1"), true).unwrap(),
            "https://pv.example/v1.m3u8"
        );
        assert_eq!(
            r.apply(&playlist, StableId::Variant("v1"), false).unwrap(),
            "https://cdn-b.example/v1.m3u8?token=abc",
            "DASH ignores PER-VARIANT-URIS"
        );
        assert_eq!(r.hosts(), vec!["cdn-b.example".to_string(), "pv.example".to_string()]);
    }
}
