//! Bounded histories: the session's event log and segment records keep the newest
//! entries only (unless told to keep everything), so that a long live session runs in
//! flat memory.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::collections::vec_deque;

/// How much of a history to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Retention {
    /// The newest `n` entries (older ones are dropped as new ones arrive; 0 keeps none).
    Last(usize),
    /// Every entry: memory grows with the length of the session. For bounded (VOD)
    /// sessions whose whole history is wanted, as the simulator's per-session outputs.
    All,
}

/// What a session keeps of its history (serde; every field defaults).
///
/// The QoE report does not depend on it: the session accumulates the report as it
/// goes (see [`QoeAccumulator`](crate::qoe::QoeAccumulator)) and counts every segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct HistoryConfig {
    /// The event log ([`Session::event_log`](super::Session::event_log)); default the
    /// last [`DEFAULT_EVENT_LOG`] entries.
    pub event_log: Retention,
    /// The video track's segment records
    /// ([`Session::segment_records`](super::Session::segment_records)); default the
    /// last [`DEFAULT_SEGMENT_RECORDS`].
    pub segment_records: Retention,
}

impl HistoryConfig {
    /// What to keep of the event log and of the segment records.
    pub fn new(event_log: Retention, segment_records: Retention) -> Self {
        Self { event_log, segment_records }
    }
}

/// Default event-log capacity. A session logs about one entry per segment per track
/// (the rung decision) plus the rarer state, rendition and pathway changes: 10 000
/// entries hold the whole log of a two-hour programme of 2 s segments with audio
/// (about 7 200 decisions), so ordinary VOD sessions lose nothing, while a 24-hour
/// live session keeps its last few hours. An entry is 64 bytes (plus the text of an
/// error message or a priority list when it carries one): about 0.7 MB when full.
pub const DEFAULT_EVENT_LOG: usize = 10_000;

/// Default segment-record capacity: 10 000 records are 5.5 h of 2 s segments (11 h
/// of 4 s ones, 16.7 h of 6 s ones), longer than almost any VOD programme, for about
/// 1.2 MB when full (a record is 112 bytes plus its pathway name). Together with the
/// event log: about 1.6 MB measured over a 24-hour live session
/// (`core/tests/session_long.rs`).
pub const DEFAULT_SEGMENT_RECORDS: usize = 10_000;

impl Default for HistoryConfig {
    fn default() -> Self {
        Self {
            event_log: Retention::Last(DEFAULT_EVENT_LOG),
            segment_records: Retention::Last(DEFAULT_SEGMENT_RECORDS),
        }
    }
}

/// A history kept under a [`Retention`]: the newest entries, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct History<T> {
    items: VecDeque<T>,
    retention: Retention,
    dropped: u64,
}

impl<T> History<T> {
    pub(crate) fn new(retention: Retention) -> Self {
        Self { items: VecDeque::new(), retention, dropped: 0 }
    }

    /// Appends `item`, dropping the oldest entry when full. The buffer grows as the
    /// history does (doubling) but never past the capacity, so that a short session
    /// does not pay for a long one's history.
    pub(crate) fn push(&mut self, item: T) {
        let Retention::Last(cap) = self.retention else {
            self.items.push_back(item);
            return;
        };
        if cap == 0 {
            self.dropped += 1;
            return;
        }
        if self.items.len() >= cap {
            self.items.pop_front();
            self.dropped += 1;
        } else if self.items.len() == self.items.capacity() {
            let len = self.items.len();
            self.items.reserve_exact(len.max(8).min(cap - len));
        }
        self.items.push_back(item);
    }

    /// The retention in force.
    pub fn retention(&self) -> Retention {
        self.retention
    }

    /// Entries kept.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether no entry is kept.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Entries dropped to stay within the capacity (the oldest ones).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Entries ever added: kept plus dropped.
    pub fn total(&self) -> u64 {
        self.dropped + self.items.len() as u64
    }

    /// The kept entries, oldest first.
    pub fn iter(&self) -> vec_deque::Iter<'_, T> {
        self.items.iter()
    }

    /// The `i`-th kept entry (0 is the oldest kept).
    pub fn get(&self, i: usize) -> Option<&T> {
        self.items.get(i)
    }

    /// The oldest kept entry.
    pub fn first(&self) -> Option<&T> {
        self.items.front()
    }

    /// The newest entry.
    pub fn last(&self) -> Option<&T> {
        self.items.back()
    }

    /// The kept entries as two slices, oldest first (see [`VecDeque::as_slices`]).
    pub fn as_slices(&self) -> (&[T], &[T]) {
        self.items.as_slices()
    }

    /// The kept entries, oldest first, in a vector.
    pub fn to_vec(&self) -> Vec<T>
    where
        T: Clone,
    {
        self.items.iter().cloned().collect()
    }
}

impl<'a, T> IntoIterator for &'a History<T> {
    type Item = &'a T;
    type IntoIter = vec_deque::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_and_counts_the_dropped() {
        let mut h = History::new(Retention::Last(3));
        for i in 0..10 {
            h.push(i);
        }
        assert_eq!(h.to_vec(), vec![7, 8, 9]);
        assert_eq!((h.len(), h.dropped(), h.total()), (3, 7, 10));
        assert_eq!((h.first(), h.last(), h.get(1)), (Some(&7), Some(&9), Some(&8)));
        assert!(h.items.capacity() < 16, "grown to {}", h.items.capacity());
        let (a, b) = h.as_slices();
        assert_eq!([a, b].concat(), vec![7, 8, 9]);
    }

    #[test]
    fn capacity_stays_at_the_bound() {
        let mut h = History::new(Retention::Last(1000));
        for i in 0..5000u32 {
            h.push(i);
        }
        assert_eq!(h.len(), 1000);
        // Doubling up to 512, then exactly to the bound (not to 1024).
        assert!(h.items.capacity() < 1024, "capacity {}", h.items.capacity());
        assert_eq!(h.iter().copied().next(), Some(4000));
    }

    #[test]
    fn all_keeps_everything_and_zero_keeps_nothing() {
        let mut all = History::new(Retention::All);
        let mut none = History::new(Retention::Last(0));
        for i in 0..100 {
            all.push(i);
            none.push(i);
        }
        assert_eq!((all.len(), all.dropped()), (100, 0));
        assert_eq!((none.len(), none.dropped(), none.total()), (0, 100, 100));
        assert!(none.is_empty() && none.last().is_none());
    }

    #[test]
    fn config_defaults_and_serde() {
        let c: HistoryConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(c, HistoryConfig::default());
        assert_eq!(c.event_log, Retention::Last(DEFAULT_EVENT_LOG));
        let c: HistoryConfig =
            serde_json::from_str(r#"{"segment_records":"all","event_log":{"last":5}}"#).unwrap();
        assert_eq!(c.segment_records, Retention::All);
        assert_eq!(c.event_log, Retention::Last(5));
    }
}
