//! Helpers of the end-to-end tests (failover, steering, faults): a player configuration
//! with short timeouts, a sink that records what reaches the player, an event recorder
//! whose waits are bounded, and queries over the origin's request log.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use streamsteer::session::{FetchKind, MediaTiming, PlayerEvent, TrackKind};
use streamsteer_net::{
    Event, MediaSink, PlayerConfig, RequestTiming, SinkError, Status, TimingSink,
};
use streamsteer_origin::{OriginHandle, RequestKind, RequestLogEntry};
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

/// The small committed ladder (4 s, 1 s segments, two video rungs and one audio).
pub fn fixture_dir() -> PathBuf {
    streamsteer_tests::repo_dir().join("tests").join("fixtures").join("cmaf")
}

/// Player settings for loopback tests: timeouts of a few seconds instead of the
/// defaults' 5 to 20 (a stalled or dead request is given up quickly, so a fault
/// case ends in seconds), and quick, bounded retries.
pub fn quick_config() -> PlayerConfig {
    let mut c = PlayerConfig::default();
    c.session.retry_base_s = 0.2;
    c.session.retry_max_s = 0.5;
    for p in [&mut c.net.manifest, &mut c.net.init, &mut c.net.media, &mut c.net.steering] {
        p.ttfb_timeout_s = 2.0;
        p.idle_timeout_s = 1.5;
        p.total_timeout_s = 8.0;
        p.retry.base_delay_s = 0.1;
        p.retry.max_delay_s = 0.3;
    }
    c.net.connect_timeout_s = 2.0;
    c.status_interval_s = 0.25;
    c
}

/// One media segment handed to the sink.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Appended {
    /// Track.
    pub track: TrackKind,
    /// Rung.
    pub rendition: usize,
    /// Segment index.
    pub segment: Option<usize>,
    /// Where the session placed it.
    pub timing: Option<MediaTiming>,
}

/// A [`TimingSink`] that also records every media segment appended, so that a test
/// can check what the player actually received (not what was requested).
pub struct RecordingSink {
    inner: TimingSink,
    appended: Arc<Mutex<Vec<Appended>>>,
}

impl RecordingSink {
    /// The sink and the shared record of its appends.
    pub fn new() -> (Self, Arc<Mutex<Vec<Appended>>>) {
        let appended = Arc::new(Mutex::new(Vec::new()));
        (Self { inner: TimingSink::default(), appended: Arc::clone(&appended) }, appended)
    }
}

impl MediaSink for RecordingSink {
    fn check(
        &self,
        track: TrackKind,
        init: bool,
        rendition: usize,
        data: &[u8],
    ) -> Result<(), SinkError> {
        self.inner.check(track, init, rendition, data)
    }

    fn append_init(
        &mut self,
        now: Instant,
        track: TrackKind,
        rendition: usize,
        data: &[u8],
    ) -> Result<(), SinkError> {
        self.inner.append_init(now, track, rendition, data)
    }

    fn append_media(
        &mut self,
        now: Instant,
        track: TrackKind,
        rendition: usize,
        segment: Option<usize>,
        timing: Option<MediaTiming>,
        data: &[u8],
    ) -> Result<(), SinkError> {
        self.appended.lock().unwrap().push(Appended { track, rendition, segment, timing });
        self.inner.append_media(now, track, rendition, segment, timing, data)
    }

    fn play(&mut self, now: Instant) {
        self.inner.play(now)
    }

    fn pause(&mut self, now: Instant) {
        self.inner.pause(now)
    }

    fn stall(&mut self, now: Instant) {
        self.inner.stall(now)
    }

    fn seek(&mut self, now: Instant, position_s: f64) {
        self.inner.seek(now, position_s)
    }

    fn position_s(&mut self, now: Instant) -> Option<f64> {
        self.inner.position_s(now)
    }
}

/// Segment indices of `track` appended more than once, and how often.
pub fn appended_twice(appended: &[Appended], track: TrackKind) -> Vec<(usize, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for a in appended.iter().filter(|a| a.track == track) {
        if let Some(s) = a.segment {
            *counts.entry(s).or_insert(0usize) += 1;
        }
    }
    counts.into_iter().filter(|(_, n)| *n > 1).collect()
}

/// Segment indices of `track` appended, sorted, without repeats.
pub fn appended_segments(appended: &[Appended], track: TrackKind) -> Vec<usize> {
    let mut v: Vec<usize> =
        appended.iter().filter(|a| a.track == track).filter_map(|a| a.segment).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// An event as received, stamped with the origin's clock (seconds since it started),
/// so that it can be set against the origin's request log.
#[derive(Debug, Clone)]
pub struct Stamped {
    /// Seconds since the origin started.
    pub t_s: f64,
    /// The event.
    pub event: Event,
}

/// Records a player's events as they come, and lets a test wait for one.
#[derive(Clone)]
pub struct Recorder {
    events: Arc<Mutex<Vec<Stamped>>>,
    count: watch::Receiver<usize>,
    origin_zero: Instant,
}

impl Recorder {
    /// Starts recording `rx`; times are seconds since `origin` started.
    pub fn start(mut rx: broadcast::Receiver<Event>, origin: &OriginHandle) -> Recorder {
        let origin_zero = Instant::now() - Duration::from_secs_f64(origin.elapsed_s());
        let events = Arc::new(Mutex::new(Vec::new()));
        let (tx, count) = watch::channel(0usize);
        let sink = Arc::clone(&events);
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(event) => {
                        let t_s = origin_zero.elapsed().as_secs_f64();
                        let n = {
                            let mut v = sink.lock().unwrap();
                            v.push(Stamped { t_s, event });
                            v.len()
                        };
                        tx.send_replace(n);
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        panic!("the event recorder fell {n} events behind")
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        Recorder { events, count, origin_zero }
    }

    /// Seconds since the origin started, now.
    pub fn now_s(&self) -> f64 {
        self.origin_zero.elapsed().as_secs_f64()
    }

    /// Every event so far.
    pub fn all(&self) -> Vec<Stamped> {
        self.events.lock().unwrap().clone()
    }

    /// The engine's events so far, stamped.
    pub fn player_events(&self) -> Vec<(f64, PlayerEvent)> {
        self.all()
            .into_iter()
            .filter_map(|s| match s.event {
                Event::Player { event } => Some((s.t_s, event)),
                _ => None,
            })
            .collect()
    }

    /// Per-request timings so far, stamped.
    pub fn requests(&self) -> Vec<(f64, RequestTiming)> {
        self.all()
            .into_iter()
            .filter_map(|s| match s.event {
                Event::Request(r) => Some((s.t_s, r)),
                _ => None,
            })
            .collect()
    }

    /// Status snapshots so far, stamped.
    pub fn statuses(&self) -> Vec<(f64, Status)> {
        self.all()
            .into_iter()
            .filter_map(|s| match s.event {
                Event::Status(st) => Some((s.t_s, st)),
                _ => None,
            })
            .collect()
    }

    /// Waits (at most `limit`) for the first event at or after index `from` that
    /// `pred` accepts; returns it and its index. Panics with `what` on timeout, so a
    /// missing behaviour fails the test instead of hanging it.
    pub async fn wait_for(
        &self,
        what: &str,
        from: usize,
        limit: Duration,
        mut pred: impl FnMut(&Stamped) -> bool,
    ) -> (usize, Stamped) {
        let mut count = self.count.clone();
        let mut seen = from;
        let deadline = Instant::now() + limit;
        loop {
            {
                let v = self.events.lock().unwrap();
                if let Some(i) = (seen..v.len()).find(|&i| pred(&v[i])) {
                    return (i, v[i].clone());
                }
                seen = v.len().max(seen);
            }
            match tokio::time::timeout_at(deadline, count.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => {
                    // The recorder ended (the player is gone): one last look.
                    let v = self.events.lock().unwrap();
                    if let Some(i) = (seen..v.len()).find(|&i| pred(&v[i])) {
                        return (i, v[i].clone());
                    }
                    panic!("{what}: the player's events ended first");
                }
                Err(_) => panic!("{what}: not seen within {limit:?}"),
            }
        }
    }

    /// The number of events so far (an index for [`wait_for`](Self::wait_for)).
    pub fn len(&self) -> usize {
        self.events.lock().unwrap().len()
    }
}

/// True if the event is the engine's event accepted by `pred`.
pub fn is_player(s: &Stamped, pred: impl Fn(&PlayerEvent) -> bool) -> bool {
    matches!(&s.event, Event::Player { event } if pred(event))
}

/// True if the event is a request timing accepted by `pred`.
pub fn is_request(s: &Stamped, pred: impl Fn(&RequestTiming) -> bool) -> bool {
    matches!(&s.event, Event::Request(r) if pred(r))
}

/// A successful media-segment request on `pathway`.
pub fn media_ok_on(r: &RequestTiming, pathway: &str) -> bool {
    r.kind == FetchKind::Media && r.error.is_none() && r.pathway.as_deref() == Some(pathway)
}

/// Media-segment requests the origin logged on listener `pathway`.
pub fn media_log(origin: &OriginHandle, pathway: &str) -> Vec<RequestLogEntry> {
    origin
        .requests()
        .into_iter()
        .filter(|e| e.pathway == pathway && e.kind == Some(RequestKind::Media))
        .collect()
}

/// Steering-manifest requests the origin logged (any listener).
pub fn steering_log(origin: &OriginHandle) -> Vec<RequestLogEntry> {
    origin.requests().into_iter().filter(|e| e.kind == Some(RequestKind::Steering)).collect()
}

/// Polls the origin's request log (every 20 ms, at most `limit`) until `pred` holds
/// for some entry; returns that entry. Panics with `what` on timeout.
pub async fn wait_for_log(
    origin: &OriginHandle,
    what: &str,
    limit: Duration,
    mut pred: impl FnMut(&RequestLogEntry) -> bool,
) -> RequestLogEntry {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(e) = origin.requests().into_iter().find(|e| pred(e)) {
            return e;
        }
        if Instant::now() >= deadline {
            panic!("{what}: not in the origin's log within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
