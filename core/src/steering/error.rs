//! Errors of the steering module.

use crate::uri::UrlError;
use thiserror::Error;

/// Why a steering manifest (or a URI it names) was refused.
///
/// Every refusal leaves the steering state as it was: the spec's rule for any failed
/// reload is "keep the previous values and retry after the previous TTL".
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum SteeringError {
    /// The body is larger than any sane steering manifest.
    #[error("steering manifest is {len} bytes, over the {max}-byte limit")]
    TooLarge {
        /// Body length.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// The body is not JSON.
    #[error("steering manifest is not valid JSON: {0}")]
    Json(String),
    /// The top-level JSON value is not an object.
    #[error("steering manifest must be a JSON object")]
    NotObject,
    /// A required key is absent.
    #[error("steering manifest lacks the required key {0}")]
    Missing(&'static str),
    /// A key has the wrong JSON type.
    #[error("steering manifest key {field} must be {expected}")]
    WrongType {
        /// Key (path) name.
        field: String,
        /// The type expected.
        expected: &'static str,
    },
    /// VERSION is not 1.
    #[error("steering manifest VERSION {0} is not supported (only 1)")]
    UnsupportedVersion(String),
    /// TTL is not a positive finite number.
    #[error("steering manifest TTL {0} must be a number greater than 0")]
    BadTtl(String),
    /// PATHWAY-PRIORITY is empty.
    #[error("steering manifest PATHWAY-PRIORITY is empty")]
    EmptyPriority,
    /// A Pathway ID appears twice in PATHWAY-PRIORITY.
    #[error("steering manifest PATHWAY-PRIORITY lists {0:?} twice")]
    DuplicatePathway(String),
    /// A Pathway ID uses characters outside `[A-Za-z0-9._-]` or is empty.
    #[error("{0:?} is not a legal Pathway ID")]
    InvalidPathwayId(String),
    /// An array or object has more entries than the engine accepts.
    #[error("steering manifest {field} has more than {max} entries")]
    TooMany {
        /// Key name.
        field: &'static str,
        /// Limit.
        max: usize,
    },
    /// A PATHWAY-CLONES entry is malformed.
    #[error("PATHWAY-CLONES[{index}]: {why}")]
    InvalidClone {
        /// Position in the array.
        index: usize,
        /// What is wrong.
        why: String,
    },
    /// A URI is refused (see [`crate::uri`]).
    #[error("{field}: {source}")]
    InvalidUri {
        /// Which part of the response or manifest named it.
        field: String,
        /// Why.
        #[source]
        source: UrlError,
    },
    /// A host is outside the configured allowlist.
    #[error("{field} host {host:?} is not in the host allowlist")]
    HostNotAllowed {
        /// Which part of the response named it (RELOAD-URI, clone HOST, SERVER-URI).
        field: String,
        /// The refused host.
        host: String,
    },
}
