//! Request bookkeeping: which document request — a media playlist to load, a live
//! refresh, a DASH segment index, a steering manifest — is out under which id, and what its answer (or its
//! failure) means. Segment requests are the scheduler's (each track's job).

use super::action::{Action, ErrorKind, FetchKind, FetchRequest, PlayerEvent};
use super::event::RequestId;
use super::machine::Core;
use crate::manifest::UtcTimingScheme;
use crate::time::{Duration, Instant};
use crate::uri::Url;
use std::collections::BTreeMap;

/// How the event log names the MPD among the playlists a refresh reloads.
const MPD_LABEL: &str = "#mpd";

/// What a live refresh reloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RefreshTarget {
    /// An HLS media playlist, of the rendition with this id.
    Playlist(String),
    /// The DASH MPD.
    Mpd,
}

impl RefreshTarget {
    /// How the event log names it.
    pub fn label(&self) -> &str {
        match self {
            Self::Playlist(rid) => rid,
            Self::Mpd => MPD_LABEL,
        }
    }
}

/// A document request out, by what it is for.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Pending {
    /// A media playlist the plan needs, at its `attempt`th try (from 1).
    Playlist {
        /// The rendition whose playlist it is.
        rendition: String,
        /// The playlist's URL (retries go to it again).
        url: Url,
        /// Attempt number, from 1.
        attempt: u32,
    },
    /// A live refresh: not retried (the next refresh is the retry).
    Refresh {
        /// What is reloaded.
        target: RefreshTarget,
        /// From where.
        url: Url,
    },
    /// The segment index of a DASH on-demand rendition the plan needs, at its
    /// `attempt`th try (from 1).
    SegmentIndex {
        /// The period the rendition is in.
        period: usize,
        /// The rendition.
        rendition: String,
        /// The pathway asked (a failure counts against it).
        pathway: String,
        /// Attempt number, from 1.
        attempt: u32,
    },
    /// A steering manifest.
    Steering,
    /// A `UTCTiming` source (the server's clock), asked for at `sent_at`.
    UtcTiming {
        /// How its answer is read.
        scheme: UtcTimingScheme,
        /// When the request was issued (half the round trip corrects the answer).
        sent_at: Instant,
    },
}

/// The document requests out, and the request ids.
#[derive(Debug)]
pub(super) struct Requests {
    next_id: RequestId,
    out: BTreeMap<RequestId, Pending>,
}

impl Requests {
    pub fn new() -> Self {
        Self { next_id: 1, out: BTreeMap::new() }
    }

    /// A fresh request id.
    pub fn alloc_id(&mut self) -> RequestId {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Takes request `id` off the books, whatever it was for.
    pub fn take(&mut self, id: RequestId) -> Option<Pending> {
        self.out.remove(&id)
    }

    /// Takes request `id` off the books if it is a playlist or a refresh.
    fn take_playlist(&mut self, id: RequestId) -> Option<Pending> {
        match self.out.get(&id)? {
            Pending::Playlist { .. } | Pending::Refresh { .. } => self.out.remove(&id),
            Pending::SegmentIndex { .. } | Pending::Steering | Pending::UtcTiming { .. } => None,
        }
    }

    /// Takes request `id` off the books if it is a `UTCTiming` request.
    pub fn take_utc_timing(&mut self, id: RequestId) -> Option<Pending> {
        match self.out.get(&id)? {
            Pending::UtcTiming { .. } => self.out.remove(&id),
            _ => None,
        }
    }

    /// Takes request `id` off the books if it is the steering request.
    fn take_steering(&mut self, id: RequestId) -> bool {
        if matches!(self.out.get(&id), Some(Pending::Steering)) {
            self.out.remove(&id);
            true
        } else {
            false
        }
    }

    /// Whether request `id` is a playlist or a refresh.
    pub fn is_playlist(&self, id: RequestId) -> bool {
        matches!(self.out.get(&id), Some(Pending::Playlist { .. } | Pending::Refresh { .. }))
    }

    /// Takes request `id` off the books if it is a segment index.
    pub fn take_index(&mut self, id: RequestId) -> Option<Pending> {
        match self.out.get(&id)? {
            Pending::SegmentIndex { .. } => self.out.remove(&id),
            _ => None,
        }
    }

    /// Whether request `id` is a segment index.
    pub fn is_index(&self, id: RequestId) -> bool {
        matches!(self.out.get(&id), Some(Pending::SegmentIndex { .. }))
    }

    /// Records request `id` as out for `what`.
    pub fn insert(&mut self, id: RequestId, what: Pending) {
        self.out.insert(id, what);
    }

    /// Whether request `id` is a `UTCTiming` request.
    pub fn is_utc_timing(&self, id: RequestId) -> bool {
        matches!(self.out.get(&id), Some(Pending::UtcTiming { .. }))
    }

    /// Whether any playlist, refresh or segment index is out: the plan waits for
    /// every one (not for steering or the clock).
    pub fn loading_playlists(&self) -> bool {
        self.out.values().any(|p| {
            matches!(
                p,
                Pending::Playlist { .. } | Pending::Refresh { .. } | Pending::SegmentIndex { .. }
            )
        })
    }

    /// Whether the playlist of rendition `rid` is being fetched (loaded or refreshed).
    pub fn loading(&self, rid: &str) -> bool {
        self.out.values().any(|p| match p {
            Pending::Playlist { rendition, .. } => rendition == rid,
            Pending::Refresh { target: RefreshTarget::Playlist(r), .. } => r == rid,
            _ => false,
        })
    }

    /// Whether a live refresh is out.
    pub fn refresh_out(&self) -> bool {
        self.out.values().any(|p| matches!(p, Pending::Refresh { .. }))
    }

    /// Whether a steering request is out.
    pub fn steering_out(&self) -> bool {
        self.out.values().any(|p| matches!(p, Pending::Steering))
    }
}

impl Core<'_> {
    /// Requests a media playlist: one to load (`Pending::Playlist`) or a live refresh
    /// (`Pending::Refresh`). One on a host that is not allowed is not requested and
    /// fails at once, as its last attempt.
    pub(super) fn request_playlist(&mut self, mut what: Pending) {
        let (rid, url) = match &what {
            Pending::Playlist { rendition, url, .. } => (Some(rendition.as_str()), url),
            Pending::Refresh { target: RefreshTarget::Playlist(rid), url } => {
                (Some(rid.as_str()), url)
            }
            Pending::Refresh { target: RefreshTarget::Mpd, url } => (None, url),
            Pending::SegmentIndex { .. } | Pending::Steering | Pending::UtcTiming { .. } => return,
        };
        let id = self.requests.alloc_id();
        if !self.config.allowed_hosts.allows_url(url) {
            let label = rid.unwrap_or(MPD_LABEL);
            let message = format!("media playlist of {label}: {url} is not on an allowed host");
            self.emit(PlayerEvent::Error { kind: ErrorKind::NotAllowed, message, fatal: false });
            // No retry can help: this counts as the last attempt (a live refresh stays
            // a refresh, whose failure leaves the window playable).
            if let Pending::Playlist { attempt, .. } = &mut what {
                *attempt = self.config.max_attempts_per_segment.max(*attempt);
            }
            self.requests.out.insert(id, what);
            return self.on_failed(id, None, 0);
        }
        // An HLS rendition of one pathway (steering) is fetched from that pathway.
        let own =
            rid.and_then(|r| self.presentation.rendition(r)).and_then(|r| r.pathway_id.clone());
        let pathway = Some(own.unwrap_or_else(|| self.steering.current().to_string()));
        let fetch = FetchRequest::document(id, url.clone(), FetchKind::Manifest, pathway);
        self.act(Action::Fetch(fetch));
        self.requests.out.insert(id, what);
    }

    /// A playlist (or the MPD) arrived: a refresh extends the plans; a playlist to
    /// load joins the presentation, and the last one builds the plan.
    pub(super) fn on_manifest(&mut self, id: RequestId, text: &str, url: &Url) {
        let rid = match self.requests.take_playlist(id) {
            Some(Pending::Playlist { rendition, .. }) => rendition,
            Some(Pending::Refresh { target, .. }) => return self.on_refresh(&target, text, url),
            Some(Pending::SegmentIndex { .. } | Pending::Steering | Pending::UtcTiming { .. })
            | None => return,
        };
        if let Err(e) = self.apply_playlist(&rid, text, url) {
            self.fail(ErrorKind::Manifest, format!("media playlist of {rid}: {e}"));
            return;
        }
        if !self.requests.loading_playlists() && self.tracks.is_empty() {
            self.build_plan();
        }
    }

    /// Asks for the steering manifest when steering says it is time (one request at
    /// a time).
    pub(super) fn poll_steering(&mut self) {
        if self.requests.steering_out() {
            return;
        }
        let fallback = self.estimator.throughput_kbps().map(|k| k * 1000.0);
        if let Some(req) = self.steering.poll(self.now, fallback) {
            if !self.config.allowed_hosts.allows_url(&req.url) {
                // The manifest's steering server is not an allowed host: steering
                // stops for this session, as after 410 Gone; playback goes on.
                self.steering.on_failed(self.now, Some(410), None);
                let message = format!("steering server {} is not on an allowed host", req.url);
                self.emit(PlayerEvent::SteeringError { message });
                return;
            }
            let id = self.requests.alloc_id();
            self.requests.out.insert(id, Pending::Steering);
            let fetch = FetchRequest::document(id, req.url, FetchKind::Steering, None);
            self.act(Action::Fetch(fetch));
        }
    }

    pub(super) fn on_steering_loaded(&mut self, id: RequestId, body: &str) {
        if self.requests.take_steering(id) {
            match self.steering.on_loaded(self.now, body) {
                Ok(up) => self.emit(PlayerEvent::SteeringUpdated { priority: up.priority }),
                Err(e) => self.emit(PlayerEvent::SteeringError { message: e.to_string() }),
            }
        }
    }

    pub(super) fn on_steering_failed(
        &mut self,
        id: RequestId,
        status: Option<u16>,
        retry_after: Option<Duration>,
    ) {
        if self.requests.take_steering(id) {
            self.steering.on_failed(self.now, status, retry_after);
            let message = format!("steering request failed (status {status:?})");
            self.emit(PlayerEvent::SteeringError { message });
        }
    }
}
