//! Live DASH `SegmentTemplate@duration`: segments that exist by the wall clock.
//!
//! At construction the session takes every [`LiveTemplate`] out of the presentation
//! and leaves an empty segment list in its place; once the wall clock is known
//! (see `wallclock`) it lists there the segments available (within
//! `@timeShiftBufferDepth`), and on every pass of the drive loop it appends those the
//! clock has made available since, dropping those the window slid past. The plan, the
//! scheduler and the live refresh then treat the lists as they treat an HLS media
//! playlist or a SegmentTimeline, and a segment is never requested before it exists:
//! it is not listed until then, and the session asks to be woken when it is.

use super::machine::{Core, EPS};
use super::plan::RendRef;
use crate::manifest::{LiveTemplate, Presentation, Rendition, SegmentIndex, SegmentList};
use crate::time::Instant;

/// Deepest window listed, seconds: without `@timeShiftBufferDepth` a template's window
/// reaches back to the period start, which for a stream running for days would list
/// tens of thousands of segments per rendition that a session joining at the live
/// edge never plays.
const MAX_LISTED_S: f64 = 3600.0;

/// Waking exactly when a segment completes can, after the float arithmetic of the
/// wall-clock offset, land a hair before it: wake this much later.
const AVAILABILITY_MARGIN_S: f64 = 0.001;

/// One rendition's template and how much of it is listed.
#[derive(Debug)]
struct Entry {
    at: RendRef,
    /// The rendition id, to find it again in a reloaded MPD (DASH only).
    #[cfg_attr(not(feature = "dash-lite"), allow(dead_code))]
    id: String,
    template: LiveTemplate,
    /// Position (from 0) one past the newest segment listed.
    listed_end: u64,
}

/// The live templates of a presentation.
#[derive(Debug, Default)]
pub(super) struct LiveTemplates {
    entries: Vec<Entry>,
}

fn rendition_at(p: &mut Presentation, at: RendRef) -> Option<&mut Rendition> {
    p.periods.get_mut(at.period)?.tracks.get_mut(at.track)?.renditions.get_mut(at.rendition)
}

impl LiveTemplates {
    /// Takes the live templates out of `p`, leaving empty (open) segment lists.
    pub fn take(p: &mut Presentation) -> Self {
        let mut templates = Self::default();
        for pi in 0..p.periods.len() {
            templates.take_period(p, pi);
        }
        templates
    }

    /// Takes the live templates out of period `pi` of `p` (one a reloaded MPD added).
    pub fn take_period(&mut self, p: &mut Presentation, pi: usize) {
        let Some(period) = p.periods.get_mut(pi) else { return };
        for (ti, track) in period.tracks.iter_mut().enumerate() {
            for (ri, r) in track.renditions.iter_mut().enumerate() {
                let SegmentIndex::LiveTemplate(t) = &r.index else { continue };
                let list = SegmentList {
                    segments: Vec::new(),
                    target_duration_s: Some(t.segment_duration_s()),
                    ended: false,
                };
                let SegmentIndex::LiveTemplate(template) =
                    std::mem::replace(&mut r.index, SegmentIndex::Segments(list))
                else {
                    continue;
                };
                let at = RendRef { period: pi, track: ti, rendition: ri };
                self.entries.push(Entry { at, id: r.id.clone(), template, listed_end: 0 });
            }
        }
    }

    /// Whether the presentation has live templates (and so needs the wall clock).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Lists in each rendition the segments available at `unix_s`; true when a list
    /// changed.
    pub fn expand(&mut self, p: &mut Presentation, unix_s: f64) -> bool {
        let mut changed = false;
        for e in &mut self.entries {
            let t = &e.template;
            let range = t.available(unix_s);
            let seg_s = t.segment_duration_s();
            let depth = (MAX_LISTED_S / seg_s).ceil().clamp(1.0, 1e9) as u64;
            let first = range.start.max(range.end.saturating_sub(depth));
            let Some(r) = rendition_at(p, e.at) else { continue };
            let SegmentIndex::Segments(list) = &mut r.index else { continue };
            let first_number = t.start_number.saturating_add(first);
            // Once the stream has ended its list stays, as an HLS playlist with
            // ENDLIST does: a session still playing it plays it out rather than
            // finding the rest of the stream gone (what was never listed stays unlisted:
            // a session joining after the window slid past the end has nothing to play).
            let over = t.count().is_some_and(|c| range.end >= c);
            let gone = if over {
                0
            } else {
                list.segments.iter().take_while(|s| s.number < first_number).count()
            };
            if gone > 0 {
                list.segments.drain(..gone);
                changed = true;
            }
            let next = list
                .segments
                .last()
                .map_or(first, |s| s.number.saturating_sub(t.start_number).saturating_add(1));
            for k in next.max(first)..range.end {
                list.segments.push(t.segment(k));
                changed = true;
            }
            let ended = t.count().is_some_and(|c| range.end >= c);
            changed |= ended != list.ended;
            list.ended = ended;
            e.listed_end = e.listed_end.max(range.end);
        }
        changed
    }

    /// When (Unix seconds) the next segment not yet listed becomes available, over
    /// every template; `None` once all have ended.
    pub fn next_unix_s(&self) -> Option<f64> {
        self.entries
            .iter()
            .filter(|e| e.template.count().is_none_or(|c| e.listed_end < c))
            .map(|e| e.template.available_at_unix_s(e.listed_end) + AVAILABILITY_MARGIN_S)
            .min_by(f64::total_cmp)
    }

    /// The media time of the live edge at `unix_s`: how far the presentation has got
    /// on the wall clock (segment times count from `availabilityStartTime`).
    pub fn edge_s(&self, unix_s: f64) -> Option<f64> {
        self.entries.first().map(|e| unix_s - e.template.availability_start_unix_s)
    }

    /// Takes in the templates of a reloaded MPD (by period, then rendition id:
    /// `period_of[k]` is the reloaded MPD's period that is this presentation's period
    /// `k`); a rendition whose index is no longer a template (the MPD became static) is
    /// no longer expanded.
    #[cfg_attr(not(feature = "dash-lite"), allow(dead_code))]
    pub fn reload(&mut self, fresh: &Presentation, period_of: &[Option<usize>]) {
        let find = |e: &Entry| {
            let fp = fresh.periods.get((*period_of.get(e.at.period)?)?)?;
            fp.tracks.iter().flat_map(|t| t.renditions.iter()).find(|r| r.id == e.id)
        };
        self.entries.retain_mut(|e| match find(e).map(|r| &r.index) {
            Some(SegmentIndex::LiveTemplate(t)) => {
                e.template = t.clone();
                true
            }
            Some(_) => false,
            // Gone from the MPD: the listed segments play out.
            None => true,
        });
    }
}

impl Core<'_> {
    /// Lists the segments the wall clock has made available and extends the plans;
    /// before the plan exists, builds it once the first segment is.
    pub(super) fn advance_templates(&mut self) {
        if self.templates.is_empty() {
            return;
        }
        if !self.clock.ready() {
            return self.check_clock_deadline();
        }
        let Some(unix_s) = self.clock.unix_at(self.now) else { return };
        let changed = self.templates.expand(&mut self.presentation, unix_s);
        if self.tracks.is_empty() {
            self.build_plan();
        } else if changed {
            self.extend_plans();
        }
    }

    /// When the next template segment becomes available, on the monotonic clock.
    pub(super) fn next_template_segment(&self) -> Option<Instant> {
        if self.templates.is_empty() || !self.clock.ready() {
            return None;
        }
        self.clock.instant_at(self.templates.next_unix_s()?)
    }

    /// Plan index to join a live template presentation at: the segment holding the
    /// live edge less `@suggestedPresentationDelay` (else `live_delay_segments`
    /// segments), never past the newest segment listed.
    pub(super) fn template_join_index(&self) -> Option<usize> {
        let unix_s = self.clock.unix_at(self.now)?;
        let edge = self.templates.edge_s(unix_s)?;
        let timeline = &self.tracks.main()?.plan.timeline;
        let seg_s = timeline.last().map_or(0.0, |s| s.1);
        let delay = self
            .presentation
            .live
            .as_ref()
            .and_then(|l| l.suggested_presentation_delay_s)
            .filter(|d| d.is_finite() && *d >= 0.0)
            .unwrap_or(self.config.live_delay_segments.max(1) as f64 * seg_s);
        let newest = timeline.len().checked_sub(1)?;
        Some(timeline.index_at(edge - delay, EPS).min(newest))
    }

    /// Whether the wall clock is needed and not yet known: the load waits.
    pub(super) fn waiting_for_clock(&mut self) -> bool {
        !self.templates.is_empty() && !self.sync_clock()
    }

    /// Carries on a load that waited for the clock (or its first segment).
    pub(super) fn continue_live_load(&mut self) {
        if self.tracks.is_empty() && !self.requests.loading_playlists() {
            self.build_plan();
        }
    }

    /// Takes in what a reloaded MPD says of the templates (`period_of` as for
    /// [`LiveTemplates::reload`]).
    #[cfg_attr(not(feature = "dash-lite"), allow(dead_code))]
    pub(super) fn reload_templates(&mut self, fresh: &Presentation, period_of: &[Option<usize>]) {
        self.templates.reload(fresh, period_of);
    }
}
