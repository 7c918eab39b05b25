//! The wall clock that places live DASH template segments in time, without reading
//! one: the driver's clock arrives as [`Event::WallClock`](super::Event::WallClock),
//! the server's from the MPD's `UTCTiming` sources (fetched by the driver on the
//! session's request, or `direct` in the MPD), and the session keeps each as an
//! offset from its monotonic "now".
//!
//! The server's clock wins: segments become available by it, and a client clock a
//! few seconds off would otherwise ask for segments that do not exist yet (404s) or
//! join needlessly far behind. Sources are tried in document order; one that fails
//! or answers nonsense is reported ([`PlayerEvent::ClockSyncFailed`]) and the next is
//! tried, then the driver's clock is used.

use super::action::{Action, ClockSource, ErrorKind, FetchKind, FetchRequest, PlayerEvent};
use super::event::RequestId;
use super::machine::Core;
use super::requests::Pending;
use crate::manifest::{UtcTiming, UtcTimingScheme};
use crate::time::{Duration, Instant};
use crate::uri::Url;
use crate::utc_timing::{UtcTimingError, server_time};
use std::collections::VecDeque;

/// How long a live template presentation waits for the driver's
/// [`Event::WallClock`](super::Event::WallClock) when no `UTCTiming` source answered,
/// before it fails: a driver that never sends one would otherwise leave the player
/// loading for ever, waiting for nothing.
const WAIT_FOR_WALL_CLOCK: Duration = Duration::from_millis(10_000);

/// Wall clocks before 1970 or after 9999 are not clocks.
const MAX_UNIX_S: f64 = crate::http::MAX_HTTP_DATE_UNIX_S as f64;

/// Where the synchronisation with the server stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not asked for yet (only live templates need it).
    Idle,
    /// A `UTCTiming` request is out.
    Fetching,
    /// Every source was tried (or one answered).
    Done,
}

/// The wall clocks known, as offsets: Unix seconds = monotonic seconds + offset.
#[derive(Debug)]
pub(super) struct WallClock {
    driver_offset_s: Option<f64>,
    server_offset_s: Option<f64>,
    sources: VecDeque<UtcTiming>,
    phase: Phase,
    /// When the wait for the driver's clock gives up.
    deadline: Option<Instant>,
}

impl WallClock {
    /// A clock to be synchronised with `sources` (the MPD's `UTCTiming`, in order).
    pub fn new(sources: Vec<UtcTiming>) -> Self {
        Self {
            driver_offset_s: None,
            server_offset_s: None,
            sources: sources.into(),
            phase: Phase::Idle,
            deadline: None,
        }
    }

    /// The wall clock at `now`, Unix seconds: the server's once synchronised, else the
    /// driver's once it gave one.
    pub fn unix_at(&self, now: Instant) -> Option<f64> {
        self.offset_s().map(|o| now.as_secs_f64() + o)
    }

    /// Whether the synchronisation is over and a clock is known.
    pub fn ready(&self) -> bool {
        self.phase == Phase::Done && self.offset_s().is_some()
    }

    /// The monotonic instant at which the wall clock reads `unix_s` (`None` without a
    /// clock; an instant before the origin clamps to it).
    pub fn instant_at(&self, unix_s: f64) -> Option<Instant> {
        self.offset_s().map(|o| Instant::from_secs_f64(unix_s - o))
    }

    /// When the wait for the driver's clock gives up, while the session waits for it.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline.filter(|_| !self.ready())
    }

    fn offset_s(&self) -> Option<f64> {
        self.server_offset_s.or(self.driver_offset_s)
    }
}

impl Core<'_> {
    /// The driver's wall clock at `self.now`; continues a load that waited for it.
    pub(super) fn on_wall_clock(&mut self, unix_s: f64) {
        if !(unix_s.is_finite() && (0.0..=MAX_UNIX_S).contains(&unix_s)) {
            self.emit(PlayerEvent::Error {
                kind: ErrorKind::Live,
                message: format!("wall clock {unix_s} s is not a time: ignored"),
                fatal: false,
            });
            return;
        }
        let first = self.clock.driver_offset_s.is_none();
        self.clock.driver_offset_s = Some(unix_s - self.now.as_secs_f64());
        if first && self.clock.phase == Phase::Done && self.clock.server_offset_s.is_none() {
            self.emit(PlayerEvent::ClockSynced { source: ClockSource::Driver, skew_s: None });
            self.continue_live_load();
        }
    }

    /// Synchronises the wall clock with the next `UTCTiming` source, or settles on the
    /// driver's. True once a clock is known; false while a request is out or (no
    /// source answered, no driver clock yet) until [`Event::WallClock`](super::Event::WallClock).
    pub(super) fn sync_clock(&mut self) -> bool {
        loop {
            match self.clock.phase {
                Phase::Done => return self.clock.ready(),
                Phase::Fetching => return false,
                Phase::Idle => {}
            }
            let Some(source) = self.clock.sources.pop_front() else {
                self.clock.phase = Phase::Done;
                if self.clock.driver_offset_s.is_some() {
                    self.emit(PlayerEvent::ClockSynced {
                        source: ClockSource::Driver,
                        skew_s: None,
                    });
                } else {
                    self.clock.deadline = Some(self.now + WAIT_FOR_WALL_CLOCK);
                }
                return self.clock.ready();
            };
            let scheme = source.scheme;
            if !scheme.needs_fetch() {
                // `direct`: the server's time when it served the MPD, which reached
                // the session at about its first event.
                match server_time(scheme, &source.value, None) {
                    Ok(t) => {
                        self.set_server_time(scheme, t, self.now);
                        return true;
                    }
                    Err(error) => {
                        self.emit(PlayerEvent::ClockSyncFailed { scheme, error });
                        continue;
                    }
                }
            }
            let url = match Url::parse(&source.value) {
                Ok(u) if self.config.allowed_hosts.allows_url(&u) => u,
                Ok(u) => {
                    let reason = format!("{u} is not on an allowed host");
                    let error = UtcTimingError::NotRequested { reason };
                    self.emit(PlayerEvent::ClockSyncFailed { scheme, error });
                    continue;
                }
                Err(e) => {
                    let error = UtcTimingError::NotRequested { reason: e.to_string() };
                    self.emit(PlayerEvent::ClockSyncFailed { scheme, error });
                    continue;
                }
            };
            let id = self.requests.alloc_id();
            self.requests.insert(id, Pending::UtcTiming { scheme, sent_at: self.now });
            let fetch = FetchRequest::document(id, url, FetchKind::UtcTiming { scheme }, None);
            self.act(Action::Fetch(fetch));
            self.clock.phase = Phase::Fetching;
            return false;
        }
    }

    /// Fails the session once the wait for the driver's clock is over.
    pub(super) fn check_clock_deadline(&mut self) {
        if self.clock.deadline().is_some_and(|d| d <= self.now) {
            self.clock.deadline = None;
            self.fail(
                ErrorKind::Live,
                "live DASH SegmentTemplate needs the wall clock: no UTCTiming source answered \
                 and the driver sent no Event::WallClock"
                    .into(),
            );
        }
    }

    /// A `UTCTiming` answer arrived: the server's time, corrected by half the round
    /// trip (the server read its clock about then), or on a bad answer the next
    /// source.
    pub(super) fn on_utc_timing(&mut self, id: RequestId, body: &str, date: Option<&str>) {
        let Some(Pending::UtcTiming { scheme, sent_at }) = self.requests.take_utc_timing(id) else {
            return;
        };
        self.clock.phase = Phase::Idle;
        match server_time(scheme, body, date) {
            Ok(t) => {
                let half_rtt = Duration(self.now.saturating_since(sent_at).0 / 2);
                let read_at = sent_at + half_rtt;
                self.set_server_time(scheme, t, read_at);
            }
            Err(error) => self.emit(PlayerEvent::ClockSyncFailed { scheme, error }),
        }
        self.continue_live_load();
    }

    /// A `UTCTiming` request failed: the next source.
    pub(super) fn on_utc_timing_failed(&mut self, scheme: UtcTimingScheme, status: Option<u16>) {
        self.clock.phase = Phase::Idle;
        let error = UtcTimingError::FetchFailed { status };
        self.emit(PlayerEvent::ClockSyncFailed { scheme, error });
        self.continue_live_load();
    }

    /// The server read `unix_s` on its clock at our `at`.
    fn set_server_time(&mut self, scheme: UtcTimingScheme, unix_s: f64, at: Instant) {
        let offset = unix_s - at.as_secs_f64();
        self.clock.server_offset_s = Some(offset);
        self.clock.phase = Phase::Done;
        let skew_s = self.clock.driver_offset_s.map(|d| offset - d);
        tracing::debug!(?scheme, ?skew_s, "wall clock synchronised with the server");
        self.emit(PlayerEvent::ClockSynced { source: ClockSource::UtcTiming { scheme }, skew_s });
    }
}
