//! Failures: a failed segment fetch penalises its pathway and is fetched again from
//! the next usable pathway at once (or, with none, after a backoff), until the
//! attempts run out; a failed media playlist is retried, or left to another pathway's
//! copy; a request whose URL is refused counts as a failure of its pathway without
//! touching the network.

use super::action::{DecisionReason, ErrorKind, PlayerEvent};
use super::event::{RequestId, TrackKind};
use super::machine::Core;
use super::requests::Pending;
use super::scheduler::{Deferred, Job};
use crate::time::Duration;

impl Core<'_> {
    /// A request failed: steering, a playlist, a refresh, a segment index or a
    /// segment.
    pub(super) fn on_failed(&mut self, id: RequestId, status: Option<u16>, bytes: u64) {
        match self.requests.take(id) {
            Some(Pending::Steering) => {
                self.steering.on_failed(self.now, status, None);
                self.emit(PlayerEvent::SteeringError {
                    message: format!("steering request failed (status {status:?})"),
                });
            }
            Some(Pending::Refresh { target, .. }) => {
                // The window already listed still plays; the next refresh is the retry.
                self.emit(PlayerEvent::Error {
                    kind: ErrorKind::Network,
                    message: format!(
                        "live refresh of {} failed (status {status:?})",
                        target.label()
                    ),
                    fatal: false,
                });
                if !self.requests.refresh_out() {
                    self.schedule_refresh(false);
                }
            }
            Some(Pending::UtcTiming { scheme, .. }) => self.on_utc_timing_failed(scheme, status),
            Some(Pending::Playlist { rendition, url, attempt }) => {
                self.on_playlist_failed(rendition, url, attempt, status)
            }
            Some(Pending::SegmentIndex { period, rendition, pathway, attempt }) => {
                self.on_index_failed(period, rendition, pathway, attempt, status)
            }
            None => self.on_segment_failed(id, status, bytes),
        }
    }

    /// A media playlist failed: retried up to the attempts allowed, then fatal unless
    /// another pathway has a copy of it.
    fn on_playlist_failed(
        &mut self,
        rendition: String,
        url: crate::uri::Url,
        attempt: u32,
        status: Option<u16>,
    ) {
        if attempt >= self.config.max_attempts_per_segment {
            if let Some(pathway) = self.other_copy_of(&rendition) {
                // HLS steering gives every pathway its own copy of each playlist: one
                // pathway's failing copy is not fatal while another pathway's has
                // loaded or may still load. The pathway is penalised so that segments
                // come from the others.
                self.steering.on_media_failure(self.now, &pathway);
                self.emit(PlayerEvent::Error {
                    kind: ErrorKind::Network,
                    message: format!(
                        "media playlist of {rendition} on pathway {pathway} failed {attempt} times (last status {status:?}); using the other pathways' copies"
                    ),
                    fatal: false,
                });
                if !self.requests.loading_playlists() && self.tracks.is_empty() {
                    self.build_plan();
                }
                return;
            }
            return self.fail(
                ErrorKind::Network,
                format!(
                    "media playlist of {rendition} failed {attempt} times (last status {status:?})"
                ),
            );
        }
        self.request_playlist(Pending::Playlist { rendition, url, attempt: attempt + 1 });
    }

    /// The pathway of rendition `rid` when another pathway has a copy of it (same
    /// stable ID) whose playlist has loaded or is still being fetched; `None` otherwise.
    fn other_copy_of(&self, rid: &str) -> Option<String> {
        let r = self.presentation.renditions().find(|r| r.id == rid)?;
        let (pathway, stable) = (r.pathway_id.as_ref()?, r.stable_id.as_ref()?);
        self.presentation
            .renditions()
            .any(|o| {
                o.stable_id.as_ref() == Some(stable)
                    && o.pathway_id.as_ref().is_some_and(|p| p != pathway)
                    && (o.segments().is_some_and(|s| !s.is_empty()) || self.requests.loading(&o.id))
            })
            .then(|| pathway.clone())
    }

    /// A segment fetch failed: the pathway is penalised, and the segment is fetched
    /// again — from another usable pathway at once, else after a backoff — until the
    /// attempts run out.
    fn on_segment_failed(&mut self, id: RequestId, status: Option<u16>, bytes: u64) {
        let Some(kind) = self.tracks.with_job(id) else { return };
        let Some(job) = self.tracks.get_mut(kind).and_then(|t| t.job.take()) else { return };
        let secs = self.now.saturating_since(job.issued_at).as_secs_f64();
        self.recorder.account(&job.pathway, bytes, secs, false);
        let Some(t) = self.tracks.get_mut(kind) else { return };
        t.seg_bits += bytes as f64 * 8.0;
        t.attempts += 1;
        let attempts = t.attempts;
        let penalized = self.steering.on_media_failure(self.now, &job.pathway);
        self.emit(PlayerEvent::FetchFailed { pathway: job.pathway.clone(), status, penalized });
        if attempts >= self.config.max_attempts_per_segment {
            return self.fail(
                ErrorKind::Network,
                format!(
                    "segment {} failed {attempts} times (last on pathway {}, status {status:?})",
                    job.segment, job.pathway
                ),
            );
        }
        // Fail over at once if another pathway is usable; otherwise back off.
        let usable = self.steering.priority().iter().any(|p| {
            *p != job.pathway && !self.steering.health(p).is_some_and(|h| h.is_penalized(self.now))
        });
        if usable {
            self.issue(kind, job.rung, job.reason, false);
        } else {
            let backoff = (self.config.retry_base_s
                * 2f64.powi(attempts.saturating_sub(1).min(30) as i32))
            .min(self.config.retry_max_s)
            .max(0.0);
            let at = self.now + Duration::from_secs_f64(backoff).max(Duration(1));
            if let Some(t) = self.tracks.get_mut(kind) {
                t.deferred = Some(Deferred { rung: job.rung, reason: job.reason, at });
            }
        }
    }

    /// A request the session will not make, its URL being refused: it counts as a
    /// failure of `pathway` without touching the network, so the usual failover (or
    /// backoff, and in the end a fatal error) follows.
    pub(super) fn refuse(
        &mut self,
        kind: TrackKind,
        rung: usize,
        reason: DecisionReason,
        pathway: String,
        init: bool,
        why: String,
    ) {
        let Some(segment) = self.tracks.get(kind).map(|t| t.next_segment) else { return };
        self.emit(PlayerEvent::Error {
            kind: ErrorKind::NotAllowed,
            message: format!("segment {segment} on pathway {pathway}: {why}"),
            fatal: false,
        });
        let id = self.requests.alloc_id();
        self.start_job(kind, Job { id, segment, rung, pathway, init, reason, issued_at: self.now });
        self.on_failed(id, None, 0);
    }
}
