//! The origin's errors.

use crate::boxes::BoxError;
use crate::content::ContentError;
use crate::shaping::ScheduleError;
use std::path::PathBuf;
use streamsteer_sim::trace::TraceError;
use thiserror::Error;

/// Why the origin could not start.
#[derive(Debug, Error)]
pub enum OriginError {
    /// The content folder could not be loaded or does not match its description.
    #[error(transparent)]
    Content(#[from] ContentError),
    /// A content file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The content is unusable for serving.
    #[error("content: {0}")]
    Invalid(String),
    /// An init or media segment is not the fMP4 the origin needs.
    #[error("{path}: {source}")]
    Mp4 {
        /// The file.
        path: String,
        /// Underlying error.
        source: BoxError,
    },
    /// A pathway's trace could not be loaded.
    #[error("pathway {pathway}: {source}")]
    Trace {
        /// The pathway.
        pathway: String,
        /// Underlying error.
        source: TraceError,
    },
    /// A pathway's trace cannot shape a link.
    #[error("pathway {pathway}: {source}")]
    Schedule {
        /// The pathway.
        pathway: String,
        /// Underlying error.
        source: ScheduleError,
    },
    /// The configuration is inconsistent.
    #[error("configuration: {0}")]
    Config(String),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The request log file could not be opened.
    #[error("request log {path}: {source}")]
    LogFile {
        /// The file.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
}
