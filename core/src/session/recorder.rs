//! The recorder: the QoE event log, the per-segment records of the main track, the
//! per-pathway usage and the rebuffering accounting the QoE report is made of.

use super::action::PlayerEvent;
use super::history::{History, HistoryConfig};
use crate::qoe::{PathwayUsage, QoeAccumulator, QoeReport, QoeWeights, SegmentRecord};
use crate::time::Instant;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One entry of the QoE event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// When, seconds on the session clock.
    pub t_s: f64,
    /// What.
    pub event: PlayerEvent,
}

/// What the QoE report and the logs are made of.
#[derive(Debug)]
pub(super) struct Recorder {
    /// Up to when rebuffering has been charged to a segment.
    rebuffer_mark: Instant,
    /// Rebuffering of closed stalls not yet charged to a segment, seconds.
    pending_rebuffer_s: f64,
    /// Stalls closed.
    rebuffer_count: usize,
    /// Their time, seconds.
    rebuffer_s: f64,
    /// From the first event to the first `Play`, seconds.
    startup_delay_s: Option<f64>,
    records: History<SegmentRecord>,
    /// The QoE report over every segment, whatever `records` keeps.
    qoe: QoeAccumulator,
    usage: BTreeMap<String, PathwayUsage>,
    log: History<LogEntry>,
}

impl Recorder {
    pub fn new(history: HistoryConfig, weights: QoeWeights) -> Self {
        Self {
            rebuffer_mark: Instant::ZERO,
            pending_rebuffer_s: 0.0,
            rebuffer_count: 0,
            rebuffer_s: 0.0,
            startup_delay_s: None,
            records: History::new(history.segment_records),
            qoe: QoeAccumulator::new(weights),
            usage: BTreeMap::new(),
            log: History::new(history.event_log),
        }
    }

    /// The session's first event.
    pub fn start(&mut self, now: Instant) {
        self.rebuffer_mark = now;
    }

    pub fn log(&self) -> &History<LogEntry> {
        &self.log
    }

    pub fn records(&self) -> &History<SegmentRecord> {
        &self.records
    }

    /// Logs `event`, which happened at `at`.
    pub fn log_event(&mut self, at: Instant, event: &PlayerEvent) {
        self.log.push(LogEntry { t_s: at.as_secs_f64(), event: event.clone() });
    }

    /// Playback starts for the first time: the startup delay is known.
    pub fn startup_done(&mut self, now: Instant, started_at: Instant) {
        if self.startup_delay_s.is_none() {
            self.startup_delay_s = Some(now.saturating_since(started_at).as_secs_f64());
        }
    }

    /// A stall begun at `started` ended at `now`: accounts it, returns its length.
    pub fn stall_closed(&mut self, now: Instant, started: Instant) -> f64 {
        let stall = now.saturating_since(started).as_secs_f64();
        self.pending_rebuffer_s +=
            now.saturating_since(started.max(self.rebuffer_mark)).as_secs_f64();
        self.rebuffer_mark = now;
        self.rebuffer_count += 1;
        self.rebuffer_s += stall;
        stall
    }

    /// The rebuffering to charge to a main segment arriving at `now`: since the
    /// previous one, the ongoing stall (begun at `stall`) included.
    pub fn charge_rebuffer(&mut self, now: Instant, stall: Option<Instant>) -> f64 {
        let mut rebuffer = std::mem::take(&mut self.pending_rebuffer_s);
        if let Some(s) = stall {
            rebuffer += now.saturating_since(s.max(self.rebuffer_mark)).as_secs_f64();
        }
        self.rebuffer_mark = now;
        rebuffer
    }

    /// Accounts a played main segment in the QoE report and keeps its record;
    /// `rungs` are the main track's bitrates (QoE_log's candidate minima).
    pub fn record(&mut self, rungs: impl Iterator<Item = f64>, record: SegmentRecord) {
        if self.qoe.segments() == 0 {
            self.qoe.add_log_bases(rungs.chain([0.0]));
        }
        self.qoe.push(&record);
        self.records.push(record);
    }

    /// Accounts `bytes` received from `pathway` in `seconds` (a whole main segment
    /// when `segment`).
    pub fn account(&mut self, pathway: &str, bytes: u64, seconds: f64, segment: bool) {
        let u = self.usage.entry(pathway.to_string()).or_default();
        u.bytes = u.bytes.saturating_add(bytes);
        u.seconds += seconds;
        if segment {
            u.segments += 1;
        }
    }

    /// The report at `now` of a session started at `started_at`, with the ongoing
    /// stall (begun at `stall`) counted.
    pub fn report(&self, now: Instant, started_at: Instant, stall: Option<Instant>) -> QoeReport {
        let startup =
            self.startup_delay_s.unwrap_or_else(|| now.saturating_since(started_at).as_secs_f64());
        let mut report = self.qoe.report(startup);
        let ongoing = stall.map_or(0.0, |s| now.saturating_since(s).as_secs_f64());
        report.rebuffer_count = self.rebuffer_count + usize::from(stall.is_some());
        report.rebuffer_s = self.rebuffer_s + ongoing;
        report.pathways = self.usage.clone();
        report
    }
}
