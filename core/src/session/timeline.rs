//! A track's segment timeline, addressed by plan index, whose oldest entries a live
//! session drops once the window has slid past them (so that a long live session does
//! not keep one entry per segment it ever played).

use std::collections::VecDeque;

/// `(start_s, duration_s)` per segment, for plan indices `offset..len()`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Timeline {
    entries: VecDeque<(f64, f64)>,
    /// Plan index of `entries[0]`: how many entries were dropped from the front.
    offset: usize,
}

impl FromIterator<(f64, f64)> for Timeline {
    fn from_iter<I: IntoIterator<Item = (f64, f64)>>(iter: I) -> Self {
        Self { entries: iter.into_iter().collect(), offset: 0 }
    }
}

impl Timeline {
    /// One past the last plan index (dropped entries included).
    pub fn len(&self) -> usize {
        self.offset + self.entries.len()
    }

    /// Segment `i` (by plan index); `None` past the end or once dropped.
    pub fn get(&self, i: usize) -> Option<&(f64, f64)> {
        self.entries.get(i.checked_sub(self.offset)?)
    }

    /// The oldest segment kept.
    pub fn first(&self) -> Option<&(f64, f64)> {
        self.entries.front()
    }

    /// The newest segment.
    pub fn last(&self) -> Option<&(f64, f64)> {
        self.entries.back()
    }

    /// Appends the next segment.
    pub fn push(&mut self, entry: (f64, f64)) {
        self.entries.push_back(entry);
    }

    /// The kept segments, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &(f64, f64)> + ExactSizeIterator {
        self.entries.iter()
    }

    /// Plan index of the last kept segment starting at or before `t_s` (with `eps` of
    /// slack), else of the oldest kept one.
    pub fn index_at(&self, t_s: f64, eps: f64) -> usize {
        self.offset + self.entries.iter().rposition(|(s, _)| *s <= t_s + eps).unwrap_or(0)
    }

    /// Drops the segments before plan index `keep_from` (indices stay as they were),
    /// always keeping the newest (the end of the timeline stays known).
    pub fn trim_before(&mut self, keep_from: usize) {
        let n = keep_from.saturating_sub(self.offset).min(self.entries.len().saturating_sub(1));
        if n > 0 {
            self.entries.drain(..n);
            self.offset += n;
            // Amortised: give memory back once most of the buffer is unused.
            if self.entries.capacity() > 64 && self.entries.len() < self.entries.capacity() / 4 {
                self.entries.shrink_to(self.entries.len() * 2);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_survive_trimming() {
        let mut t: Timeline = (0..10).map(|i| (i as f64 * 2.0, 2.0)).collect();
        t.trim_before(4);
        assert_eq!(t.len(), 10);
        assert_eq!(t.get(3), None);
        assert_eq!(t.get(4), Some(&(8.0, 2.0)));
        assert_eq!(t.first(), Some(&(8.0, 2.0)));
        assert_eq!(t.index_at(13.0, 1e-7), 6);
        // Before the oldest kept: the oldest kept, as an untrimmed timeline gives 0.
        assert_eq!(t.index_at(1.0, 1e-7), 4);
        t.push((20.0, 2.0));
        assert_eq!((t.len(), t.get(10)), (11, Some(&(20.0, 2.0))));
        t.trim_before(2);
        assert_eq!(t.len(), 11, "trimming backwards is a no-op");
        t.trim_before(50);
        assert_eq!((t.len(), t.iter().count(), t.last()), (11, 1, Some(&(20.0, 2.0))));
        assert_eq!((t.get(10), t.index_at(0.0, 1e-7)), (Some(&(20.0, 2.0)), 10));
    }
}
