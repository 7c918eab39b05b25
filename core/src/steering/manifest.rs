//! The steering manifest (`application/vnd.apple.steering-list`, also DASH-IF TS 103 998).

use super::clone::{PathwayClone, UriReplacement};
use super::{SteeringError, uri};
use crate::time::Duration;
use crate::uri::Url;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Largest steering manifest accepted, bytes (real ones are a few hundred bytes).
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024;
/// Most entries accepted in PATHWAY-PRIORITY, PATHWAY-CLONES, PARAMS and the per-ID maps.
pub const MAX_ENTRIES: usize = 256;

/// A validated steering manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SteeringManifest {
    /// Time to wait after this load before the next one.
    pub ttl: Duration,
    /// Where to load the next manifest from, resolved to an absolute URL.
    pub reload_uri: Option<Url>,
    /// Pathway IDs in order of preference (non-empty, no duplicates; unknown IDs are
    /// kept here and ignored when the list is applied).
    pub pathway_priority: Vec<String>,
    /// New Pathways cloned from existing ones.
    pub pathway_clones: Vec<PathwayClone>,
}

/// True if `id` is a legal Pathway ID: non-empty, `[A-Za-z0-9._-]` only.
pub fn is_legal_pathway_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 256
        && id.chars().all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
}

fn wrong(field: impl Into<String>, expected: &'static str) -> SteeringError {
    SteeringError::WrongType { field: field.into(), expected }
}

fn string_map(
    obj: &Map<String, Value>,
    key: &str,
    index: usize,
) -> Result<Vec<(String, String)>, SteeringError> {
    let Some(v) = obj.get(key) else { return Ok(Vec::new()) };
    let Value::Object(m) = v else {
        return Err(SteeringError::InvalidClone { index, why: format!("{key} must be an object") });
    };
    if m.len() > MAX_ENTRIES {
        return Err(SteeringError::InvalidClone {
            index,
            why: format!("{key} has too many entries"),
        });
    }
    m.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            _ => Err(SteeringError::InvalidClone {
                index,
                why: format!("{key}.{k} must be a string"),
            }),
        })
        .collect()
}

fn parse_clone(index: usize, v: &Value) -> Result<PathwayClone, SteeringError> {
    let bad = |why: &str| SteeringError::InvalidClone { index, why: why.to_string() };
    let Value::Object(o) = v else { return Err(bad("must be an object")) };
    let base_id = match o.get("BASE-ID") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(bad("BASE-ID must be a string")),
        None => return Err(bad("BASE-ID is missing")),
    };
    let id = match o.get("ID") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(bad("ID must be a string")),
        None => return Err(bad("ID is missing")),
    };
    if !is_legal_pathway_id(&id) {
        return Err(bad(&format!("ID {id:?} is not a legal Pathway ID")));
    }
    let Some(Value::Object(r)) = o.get("URI-REPLACEMENT") else {
        return Err(bad("URI-REPLACEMENT is missing or not an object"));
    };
    let host = match r.get("HOST") {
        None => None,
        Some(Value::String(h)) => {
            uri::check_host(h).map_err(|why| bad(&why))?;
            Some(h.clone())
        }
        Some(_) => return Err(bad("HOST must be a string")),
    };
    let params = string_map(r, "PARAMS", index)?;
    for (k, v) in &params {
        if k.is_empty() || k.contains(['&', '=', '#', ' ']) || v.contains(['&', '#', ' ']) {
            return Err(bad(&format!("PARAMS entry {k:?} is not a single query parameter")));
        }
    }
    let per_id = |key: &str| -> Result<BTreeMap<String, Url>, SteeringError> {
        string_map(r, key, index)?
            .into_iter()
            .map(|(id, u)| {
                let url = Url::parse(&u).map_err(|e| bad(&format!("{key} value: {e}")))?;
                if url.is_local() {
                    return Err(bad(&format!("{key} value {u:?} is not an http(s) URL")));
                }
                Ok((id, url))
            })
            .collect()
    };
    let per_variant_uris = per_id("PER-VARIANT-URIS")?;
    let per_rendition_uris = per_id("PER-RENDITION-URIS")?;
    Ok(PathwayClone {
        base_id,
        id,
        replacement: UriReplacement { host, params, per_variant_uris, per_rendition_uris },
    })
}

impl SteeringManifest {
    /// Parses and validates a steering manifest fetched from `base_uri` (relative
    /// `RELOAD-URI`s resolve against it). Never panics, whatever the body.
    pub fn parse(body: &str, base_uri: &Url) -> Result<Self, SteeringError> {
        if body.len() > MAX_MANIFEST_BYTES {
            return Err(SteeringError::TooLarge { len: body.len(), max: MAX_MANIFEST_BYTES });
        }
        // serde_json bounds nesting depth itself (128), so hostile nesting is an error.
        let value: Value =
            serde_json::from_str(body).map_err(|e| SteeringError::Json(e.to_string()))?;
        let Value::Object(o) = value else { return Err(SteeringError::NotObject) };

        match o.get("VERSION") {
            None => return Err(SteeringError::Missing("VERSION")),
            Some(Value::Number(n)) if n.as_f64() == Some(1.0) => {}
            Some(other) => return Err(SteeringError::UnsupportedVersion(other.to_string())),
        }
        let ttl = match o.get("TTL") {
            None => return Err(SteeringError::Missing("TTL")),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(t) if t.is_finite() && t > 0.0 => Duration::from_secs_f64(t).max(Duration(1)),
                _ => return Err(SteeringError::BadTtl(n.to_string())),
            },
            Some(other) => return Err(SteeringError::BadTtl(other.to_string())),
        };
        let reload_uri = match o.get("RELOAD-URI") {
            None => None,
            Some(Value::String(s)) => Some(base_uri.join(s).map_err(|source| {
                SteeringError::InvalidUri { field: "RELOAD-URI".into(), source }
            })?),
            Some(_) => return Err(wrong("RELOAD-URI", "a string")),
        };
        let pathway_priority = match o.get("PATHWAY-PRIORITY") {
            None => return Err(SteeringError::Missing("PATHWAY-PRIORITY")),
            Some(Value::Array(a)) => {
                if a.is_empty() {
                    return Err(SteeringError::EmptyPriority);
                }
                if a.len() > MAX_ENTRIES {
                    return Err(SteeringError::TooMany {
                        field: "PATHWAY-PRIORITY",
                        max: MAX_ENTRIES,
                    });
                }
                let mut seen = BTreeSet::new();
                let mut ids = Vec::with_capacity(a.len());
                for v in a {
                    let Value::String(id) = v else {
                        return Err(wrong("PATHWAY-PRIORITY", "an array of strings"));
                    };
                    if !is_legal_pathway_id(id) {
                        return Err(SteeringError::InvalidPathwayId(id.clone()));
                    }
                    if !seen.insert(id.as_str()) {
                        return Err(SteeringError::DuplicatePathway(id.clone()));
                    }
                    ids.push(id.clone());
                }
                ids
            }
            Some(_) => return Err(wrong("PATHWAY-PRIORITY", "an array of strings")),
        };
        let pathway_clones = match o.get("PATHWAY-CLONES") {
            None => Vec::new(),
            Some(Value::Array(a)) => {
                if a.len() > MAX_ENTRIES {
                    return Err(SteeringError::TooMany {
                        field: "PATHWAY-CLONES",
                        max: MAX_ENTRIES,
                    });
                }
                a.iter().enumerate().map(|(i, v)| parse_clone(i, v)).collect::<Result<_, _>>()?
            }
            Some(_) => return Err(wrong("PATHWAY-CLONES", "an array of objects")),
        };
        Ok(Self { ttl, reload_uri, pathway_priority, pathway_clones })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE_STR: &str = "https://steer.example/v1/steering.json?video=12";

    fn base() -> Url {
        Url::parse(BASE_STR).unwrap()
    }

    #[test]
    fn parses_a_full_manifest() {
        let m = SteeringManifest::parse(
            r#"{"VERSION":1,"TTL":300,"RELOAD-URI":"next.json?session=9",
                "PATHWAY-PRIORITY":["oca","cloudfront"],
                "PATHWAY-CLONES":[{"BASE-ID":"cloudfront","ID":"cf2",
                  "URI-REPLACEMENT":{"HOST":"cf2.example","PARAMS":{"k":"v"},
                  "PER-VARIANT-URIS":{"v1":"https://cf2.example/v1.m3u8"}}}]}"#,
            &base(),
        )
        .unwrap();
        assert_eq!(m.ttl, Duration::from_secs_f64(300.0));
        assert_eq!(m.reload_uri.as_deref(), Some("https://steer.example/v1/next.json?session=9"));
        assert_eq!(m.pathway_priority, vec!["oca", "cloudfront"]);
        assert_eq!(m.pathway_clones[0].base_id, "cloudfront");
        assert_eq!(m.pathway_clones[0].replacement.host.as_deref(), Some("cf2.example"));
        assert_eq!(
            m.pathway_clones[0].replacement.params,
            vec![("k".to_string(), "v".to_string())]
        );
    }

    #[test]
    fn version_must_be_one() {
        let e =
            SteeringManifest::parse(r#"{"VERSION":2,"TTL":10,"PATHWAY-PRIORITY":["a"]}"#, &base());
        assert_eq!(e, Err(SteeringError::UnsupportedVersion("2".into())));
        let e = SteeringManifest::parse(r#"{"TTL":10,"PATHWAY-PRIORITY":["a"]}"#, &base());
        assert_eq!(e, Err(SteeringError::Missing("VERSION")));
        let e = SteeringManifest::parse(
            r#"{"VERSION":"1","TTL":10,"PATHWAY-PRIORITY":["a"]}"#,
            &base(),
        );
        assert!(matches!(e, Err(SteeringError::UnsupportedVersion(_))));
    }

    #[test]
    fn ttl_must_be_positive() {
        for ttl in ["0", "-5", "\"300\"", "null"] {
            let body = format!(r#"{{"VERSION":1,"TTL":{ttl},"PATHWAY-PRIORITY":["a"]}}"#);
            assert!(
                matches!(SteeringManifest::parse(&body, &base()), Err(SteeringError::BadTtl(_))),
                "{ttl}"
            );
        }
        let m =
            SteeringManifest::parse(r#"{"VERSION":1,"TTL":0.5,"PATHWAY-PRIORITY":["a"]}"#, &base())
                .unwrap();
        assert_eq!(m.ttl, Duration::from_millis(500));
    }

    #[test]
    fn priority_must_be_non_empty_legal_and_unique() {
        let p = |list: &str| {
            SteeringManifest::parse(
                &format!(r#"{{"VERSION":1,"TTL":1,"PATHWAY-PRIORITY":{list}}}"#),
                &base(),
            )
        };
        assert_eq!(p("[]"), Err(SteeringError::EmptyPriority));
        assert_eq!(p(r#"["a","b","a"]"#), Err(SteeringError::DuplicatePathway("a".into())));
        assert_eq!(p(r#"["a b"]"#), Err(SteeringError::InvalidPathwayId("a b".into())));
        assert!(matches!(p(r#"["a",1]"#), Err(SteeringError::WrongType { .. })));
        assert!(matches!(p(r#""a""#), Err(SteeringError::WrongType { .. })));
    }

    #[test]
    fn malformed_clones_are_typed_errors() {
        let c = |clone: &str| {
            SteeringManifest::parse(
                &format!(
                    r#"{{"VERSION":1,"TTL":1,"PATHWAY-PRIORITY":["a"],"PATHWAY-CLONES":[{clone}]}}"#
                ),
                &base(),
            )
        };
        assert!(matches!(
            c(r#"{"ID":"b","URI-REPLACEMENT":{}}"#),
            Err(SteeringError::InvalidClone { index: 0, .. })
        ));
        assert!(matches!(
            c(r#"{"BASE-ID":"a","ID":"b"}"#),
            Err(SteeringError::InvalidClone { .. })
        ));
        assert!(matches!(
            c(r#"{"BASE-ID":"a","ID":"b","URI-REPLACEMENT":{"HOST":"x.example/evil"}}"#),
            Err(SteeringError::InvalidClone { .. })
        ));
        assert!(matches!(
            c(r#"{"BASE-ID":"a","ID":"b","URI-REPLACEMENT":{"PARAMS":{"k":5}}}"#),
            Err(SteeringError::InvalidClone { .. })
        ));
        assert!(matches!(
            c(
                r#"{"BASE-ID":"a","ID":"b","URI-REPLACEMENT":{"PER-VARIANT-URIS":{"v":"rel.m3u8"}}}"#
            ),
            Err(SteeringError::InvalidClone { .. })
        ));
        assert!(
            c(r#"{"BASE-ID":"a","ID":"b","URI-REPLACEMENT":{"HOST":"b.example:8080"}}"#).is_ok()
        );
    }

    #[test]
    fn hostile_bodies_never_panic() {
        let deep = "[".repeat(10_000);
        for body in [
            "",
            "null",
            "[]",
            "{",
            deep.as_str(),
            r#"{"VERSION":1e400}"#,
            r#"{"VERSION":1,"TTL":1e308,"PATHWAY-PRIORITY":["a"],"RELOAD-URI":"http://a b"}"#,
        ] {
            let _ = SteeringManifest::parse(body, &base());
        }
        let big = format!(
            r#"{{"VERSION":1,"TTL":1,"PATHWAY-PRIORITY":["{}"]}}"#,
            "a".repeat(MAX_MANIFEST_BYTES)
        );
        assert!(matches!(
            SteeringManifest::parse(&big, &base()),
            Err(SteeringError::TooLarge { .. })
        ));
    }

    #[test]
    fn relative_reload_uri_against_data_base_is_refused() {
        let e = SteeringManifest::parse(
            r#"{"VERSION":1,"TTL":1,"PATHWAY-PRIORITY":["a"],"RELOAD-URI":"x.json"}"#,
            &base()
                .join_allowing_data("data:application/vnd.apple.steering-list;base64,e30=")
                .unwrap(),
        );
        assert!(matches!(e, Err(SteeringError::InvalidUri { .. })));
    }

    #[test]
    fn reload_uris_the_standard_would_rewrite_are_refused() {
        for reload in
            [r"https://evil.example\\@steer.example/x", "//u@steer.example/x", "file:///etc/passwd"]
        {
            let body = format!(
                r#"{{"VERSION":1,"TTL":1,"PATHWAY-PRIORITY":["a"],"RELOAD-URI":"{reload}"}}"#
            );
            let e = SteeringManifest::parse(&body, &base());
            assert!(matches!(e, Err(SteeringError::InvalidUri { .. })), "{reload}: {e:?}");
        }
    }
}
