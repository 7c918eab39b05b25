//! DASH on-demand indexes: a `SegmentBase` rendition lists no segments until the
//! `sidx` box at its `@indexRange` is fetched. Like HLS media playlists, every one
//! the tracks to play need is fetched before the plan is built; a failed fetch
//! counts against its pathway (so the retry may go to another) and is retried up to
//! the attempts allowed; a malformed index is fatal, as a malformed playlist is.

use super::action::{Action, ErrorKind, FetchKind, FetchRequest, PlayerEvent};
use super::event::RequestId;
use super::machine::Core;
use super::requests::Pending;
use crate::container::SidxError;
use crate::manifest::{ByteRange, SegmentBaseError, SegmentIndex};
use crate::steering::StableId;
use crate::uri::Url;

impl Core<'_> {
    /// Asks for the segment index of rendition `rendition` of period `period`, at its
    /// `attempt`th try, on the pathway steering selects now. A URL the session will
    /// not request fails the attempt at once, without touching the network.
    pub(super) fn request_index(&mut self, period: usize, rendition: String, attempt: u32) {
        let pathway = self.steering.select(self.now, 0.0, 0.0).pathway;
        let id = self.requests.alloc_id();
        let target = self.index_target(period, &rendition, &pathway);
        self.requests.insert(
            id,
            Pending::SegmentIndex {
                period,
                rendition: rendition.clone(),
                pathway: pathway.clone(),
                attempt,
            },
        );
        match target {
            Ok((url, range)) => {
                let mut fetch =
                    FetchRequest::document(id, url, FetchKind::SegmentIndex, Some(pathway));
                fetch.byte_range = Some(range);
                fetch.expected_bytes = Some(range.length);
                self.act(Action::Fetch(fetch));
            }
            Err(why) => {
                let message = format!("segment index of {rendition} on pathway {pathway}: {why}");
                self.emit(PlayerEvent::Error {
                    kind: ErrorKind::NotAllowed,
                    message,
                    fatal: false,
                });
                self.on_failed(id, None, 0);
            }
        }
    }

    /// Where the index of `rendition` is on `pathway`: its URL there and the range.
    fn index_target(
        &self,
        period: usize,
        rendition: &str,
        pathway: &str,
    ) -> Result<(Url, ByteRange), String> {
        let r = self
            .presentation
            .periods
            .get(period)
            .into_iter()
            .flat_map(|p| p.tracks.iter().flat_map(|t| t.renditions.iter()))
            .find(|r| r.id == rendition && matches!(r.index, SegmentIndex::Base(_)))
            .ok_or("the rendition has no SegmentBase")?;
        let SegmentIndex::Base(base) = &r.index else {
            return Err("the rendition has no SegmentBase".into());
        };
        let range = base.index_range.ok_or("SegmentBase has no @indexRange")?;
        let root = self.steering.root_pathway(pathway);
        let url = r.url_on(&base.uri, Some(root)).map_err(|e| e.to_string())?;
        let url =
            self.steering.rewrite_uri(pathway, &url, StableId::None).map_err(|e| e.to_string())?;
        if !self.config.allowed_hosts.allows_url(&url) {
            return Err(format!("{url} is not on an allowed host"));
        }
        Ok((url, range))
    }

    /// A segment index arrived: the rendition becomes a segment list, and the last
    /// document the plan waited for builds it.
    pub(super) fn on_segment_index(&mut self, id: RequestId, data: &[u8]) {
        let Some(Pending::SegmentIndex { period, rendition, .. }) = self.requests.take_index(id)
        else {
            return;
        };
        match self.presentation.apply_segment_index(period, &rendition, data) {
            Ok(count) => tracing::debug!(rendition, count, "segment index applied"),
            Err(e) => return self.fail(error_kind(&e), e.to_string()),
        }
        if !self.requests.loading_playlists() && self.tracks.is_empty() {
            self.build_plan();
        }
    }

    /// A segment index fetch failed: its pathway takes the failure, and the index is
    /// asked again (from whichever pathway steering then selects) until the attempts
    /// run out.
    pub(super) fn on_index_failed(
        &mut self,
        period: usize,
        rendition: String,
        pathway: String,
        attempt: u32,
        status: Option<u16>,
    ) {
        let penalized = self.steering.on_media_failure(self.now, &pathway);
        self.emit(PlayerEvent::FetchFailed { pathway: pathway.clone(), status, penalized });
        if attempt >= self.config.max_attempts_per_segment {
            return self.fail(ErrorKind::Network, format!(
                "segment index of {rendition} failed {attempt} times (last on pathway {pathway}, status {status:?})"
            ));
        }
        self.request_index(period, rendition, attempt + 1);
    }
}

/// The kind of a segment index the session cannot use: a form it does not read
/// (no `@indexRange`, a hierarchical `sidx`) is unsupported, a broken one malformed.
pub(super) fn error_kind(e: &SegmentBaseError) -> ErrorKind {
    match e {
        SegmentBaseError::NoIndexRange { .. }
        | SegmentBaseError::Index { source: SidxError::Hierarchical { .. }, .. } => {
            ErrorKind::Unsupported
        }
        _ => ErrorKind::Manifest,
    }
}
