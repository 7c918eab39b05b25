//! The request log: one JSON object per request, kept in memory (the last `keep`) and
//! optionally appended to a file as JSON lines.

use crate::faults::RequestKind;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;

/// One request, logged when its response ends (completed, cut by a fault, or
/// abandoned by the client).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestLogEntry {
    /// Seconds since the origin started, when the request arrived.
    pub t_s: f64,
    /// Listener: a pathway name, or `steering`.
    pub pathway: String,
    /// HTTP method.
    pub method: String,
    /// Request path, without the query.
    pub path: String,
    /// Query parameters, decoded.
    pub query: BTreeMap<String, String>,
    /// The `Range` header, if any.
    pub range: Option<String>,
    /// What was asked for, when the path named something.
    pub kind: Option<RequestKind>,
    /// Response status.
    pub status: u16,
    /// Body bytes handed to the connection.
    pub bytes_sent: u64,
    /// The `Content-Length` promised.
    pub content_length: u64,
    /// Seconds from the request's arrival to the end of its response.
    pub duration_s: f64,
    /// The fault applied (`status_503`, `reset`, `stall`, `slow_drip`, `truncate`,
    /// `outage`), if any.
    pub fault: Option<String>,
    /// True when the whole body was sent.
    pub complete: bool,
}

impl RequestLogEntry {
    /// A query parameter with surrounding double quotes removed (the steering
    /// `_HLS_pathway` / `_DASH_pathway` values come quoted or not, depending on the
    /// client).
    pub fn param_unquoted(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(|v| v.trim_matches('"'))
    }
}

/// The log itself.
#[derive(Debug)]
pub struct RequestLog {
    keep: usize,
    entries: Mutex<VecDeque<RequestLogEntry>>,
    file: Option<Mutex<BufWriter<File>>>,
}

impl RequestLog {
    /// A log keeping the last `keep` entries, appending to `file` if given.
    pub fn new(keep: usize, file: Option<&Path>) -> std::io::Result<Self> {
        let file = match file {
            Some(p) => Some(Mutex::new(BufWriter::new(
                std::fs::OpenOptions::new().create(true).append(true).open(p)?,
            ))),
            None => None,
        };
        Ok(RequestLog { keep: keep.max(1), entries: Mutex::new(VecDeque::new()), file })
    }

    /// Records one entry.
    pub fn record(&self, entry: RequestLogEntry) {
        tracing::debug!(
            pathway = %entry.pathway,
            path = %entry.path,
            status = entry.status,
            bytes = entry.bytes_sent,
            fault = entry.fault.as_deref().unwrap_or(""),
            "request"
        );
        if let Some(file) = &self.file {
            let mut f = file.lock().unwrap_or_else(|e| e.into_inner());
            // A failing log file must not take the origin down: report and go on.
            let written = serde_json::to_writer(&mut *f, &entry)
                .map_err(std::io::Error::other)
                .and_then(|()| f.write_all(b"\n"))
                .and_then(|()| f.flush());
            if let Err(e) = written {
                tracing::warn!(error = %e, "request log file write failed");
            }
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.keep {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// A copy of the entries kept, oldest first.
    pub fn entries(&self) -> Vec<RequestLogEntry> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: u64) -> RequestLogEntry {
        RequestLogEntry {
            t_s: i as f64,
            pathway: "p".into(),
            method: "GET".into(),
            path: format!("/vod/v0/{i}.m4s"),
            query: BTreeMap::new(),
            range: None,
            kind: Some(RequestKind::Media),
            status: 200,
            bytes_sent: i,
            content_length: i,
            duration_s: 0.0,
            fault: None,
            complete: true,
        }
    }

    #[test]
    fn keeps_the_last_n() {
        let log = RequestLog::new(3, None).unwrap();
        for i in 0..5 {
            log.record(entry(i));
        }
        let e = log.entries();
        assert_eq!(e.iter().map(|e| e.bytes_sent).collect::<Vec<_>>(), vec![2, 3, 4]);
    }
}
