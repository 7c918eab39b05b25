//! Live: joining the live edge, reloading the window (HLS media playlists or the MPD)
//! every target duration, extending the plan with what a reload brings, and rejoining
//! a window that slid past the next segment.

use super::action::{ErrorKind, PlayerEvent};
use super::event::TrackKind;
use super::machine::{Core, EPS};
use super::requests::{Pending, RefreshTarget};
use crate::Ladder;
use crate::manifest::ManifestKind;
#[cfg(feature = "dash-lite")]
use crate::manifest::SegmentIndex;
use crate::time::{Duration, Instant};
use crate::uri::Url;

/// When the live window is reloaded next.
#[derive(Debug, Default)]
pub(super) struct LiveRefresh {
    at: Option<Instant>,
}

impl LiveRefresh {
    /// The next reload, if one is scheduled.
    pub fn next_at(&self) -> Option<Instant> {
        self.at
    }

    /// Whether a reload is due at `now`.
    pub fn due(&self, now: Instant) -> bool {
        self.at.is_some_and(|t| t <= now)
    }
}

impl Core<'_> {
    /// Moves every track to `live_delay_segments` behind the newest main segment.
    /// A live template presentation joins by the wall clock instead (see
    /// `live_template`).
    pub(super) fn join_live_edge(&mut self) {
        let by_clock = if self.templates.is_empty() { None } else { self.template_join_index() };
        let Some(main) = self.tracks.main() else { return };
        let timeline = &main.plan.timeline;
        let idx = by_clock.unwrap_or_else(|| {
            timeline.len().saturating_sub(self.config.live_delay_segments.max(1))
        });
        let Some(&(start, _)) = timeline.get(idx) else { return };
        for t in self.tracks.iter_mut() {
            let i = t.plan.timeline.index_at(start, EPS);
            t.next_segment = i;
            t.buffered_end_s = t.plan.timeline.get(i).map_or(start, |s| s.0);
        }
        self.playback.position_s = start;
    }

    /// When the window slid past track `kind`'s next segment (a long stall or pause),
    /// skips to the first segment still listed.
    pub(super) fn rejoin_live_window(&mut self, kind: TrackKind) {
        let Some(t) = self.tracks.get(kind) else { return };
        if !t.plan.open {
            return;
        }
        let Some(first) = t.plan.first_available(&self.presentation) else { return };
        if t.next_segment >= first {
            return;
        }
        let skipped = first - t.next_segment;
        self.emit(PlayerEvent::Error {
            kind: ErrorKind::Live,
            message: format!("fell behind the live window: skipping {skipped} segment(s)"),
            fatal: false,
        });
        let Some(t) = self.tracks.get_mut(kind) else { return };
        t.next_segment = first;
        t.buffered_end_s = t.plan.timeline.get(first).map_or(t.buffered_end_s, |s| s.0);
        t.deferred = None;
        if t.is_main() {
            self.playback.position_s = self.playback.position_s.max(t.buffered_end_s);
        }
    }

    /// Applies a live refresh (a media playlist, or the MPD) and extends the plans.
    pub(super) fn on_refresh(&mut self, target: &RefreshTarget, text: &str, url: &Url) {
        let applied = match target {
            RefreshTarget::Mpd => self.apply_mpd(text, url),
            RefreshTarget::Playlist(rid) => self.apply_playlist(rid, text, url),
        };
        if let Err(e) = applied {
            // The window is still playable; the next refresh may bring a good copy.
            self.emit(PlayerEvent::Error {
                kind: ErrorKind::Manifest,
                message: format!("live refresh of {}: {e}", target.label()),
                fatal: false,
            });
        }
        let added = self.extend_plans();
        if !self.requests.refresh_out() {
            self.schedule_refresh(added > 0);
        }
    }

    /// Extends every track's plan with the segments the presentation lists past it,
    /// and forgets those the window slid past; returns how many were added.
    pub(super) fn extend_plans(&mut self) -> usize {
        let mut added = 0;
        for t in self.tracks.iter_mut() {
            added += t.plan.extend_live(&self.presentation);
            // What the window slid past and the track no longer needs (it is neither
            // next nor in flight) will not be fetched again: forget it, so that the
            // plan does not grow with the length of a live session.
            if let Some(first) = t.plan.first_available(&self.presentation) {
                let job = t.job.as_ref().map_or(usize::MAX, |j| j.segment);
                t.plan.trim_before(first.min(t.next_segment).min(job));
            }
        }
        added
    }

    /// Takes in a reloaded MPD: each period's segment lists replace those of the same
    /// period (by `Period@id`, else start), periods it adds after the last are
    /// appended, and periods gone from its front (slid out of the window) list nothing
    /// more. Period indices never change, so the plan's references stay valid.
    fn apply_mpd(&mut self, text: &str, url: &Url) -> Result<(), String> {
        #[cfg(feature = "dash-lite")]
        {
            let fresh =
                crate::manifest::parse_dash_at(text, url, None).map_err(|e| e.to_string())?;
            let live = fresh.is_live();
            let period_of = super::mpd_reload::match_periods(&self.presentation, &fresh);
            self.reload_templates(&fresh, &period_of);
            let added = super::mpd_reload::merge(&mut self.presentation, fresh, &period_of);
            for pi in added {
                self.templates.take_period(&mut self.presentation, pi);
            }
            if !live {
                // The MPD became static: the presentation ended.
                for r in self.presentation.periods.iter_mut().flat_map(|p| p.tracks.iter_mut()) {
                    for x in &mut r.renditions {
                        if let SegmentIndex::Segments(l) = &mut x.index {
                            l.ended = true;
                        }
                    }
                }
            }
            Ok(())
        }
        #[cfg(not(feature = "dash-lite"))]
        {
            let _ = (text, url);
            Err("MPDs need the `dash` feature".into())
        }
    }

    /// The interval between live refreshes: the target duration (HLS) or the MPD's
    /// minimum update period, halved when the last refresh brought nothing new (the
    /// HLS specification's rule for an unchanged playlist).
    pub(super) fn schedule_refresh(&mut self, changed: bool) {
        if !self.tracks.iter().any(|t| t.plan.open) {
            self.live.at = None;
            return;
        }
        let live = self.presentation.live.clone().unwrap_or_default();
        if self.presentation.kind == ManifestKind::Dash
            && live.minimum_update_period_s.is_none()
            && !self.templates.is_empty()
        {
            // Without @minimumUpdatePeriod the MPD does not change: the templates
            // grow by the wall clock alone.
            self.live.at = None;
            return;
        }
        let seg = self.ladder.as_ref().map_or(2.0, Ladder::segment_duration_s);
        let base = live
            .minimum_update_period_s
            .filter(|_| self.presentation.kind == ManifestKind::Dash)
            .or(live.target_duration_s)
            .unwrap_or(seg)
            .clamp(0.1, 60.0);
        // Live templates grow by the clock, not by reloads: an unchanged MPD is the norm.
        let every = if changed || !self.templates.is_empty() { base } else { base / 2.0 };
        self.live.at = Some(self.now + Duration::from_secs_f64(every));
    }

    /// Reloads the playlists of every track's rungs on the current pathway (or the MPD).
    pub(super) fn refresh_live(&mut self) {
        self.live.at = None;
        let targets: Vec<(RefreshTarget, Url)> = if self.presentation.kind == ManifestKind::Dash {
            vec![(RefreshTarget::Mpd, self.presentation.url.clone())]
        } else {
            let root = self.steering.root_pathway(self.steering.current()).to_string();
            let mut all: Vec<(String, Url)> = Vec::new();
            for t in self.tracks.iter().filter(|t| t.plan.open) {
                for target in t.plan.refresh_targets(&self.presentation, &root) {
                    if !all.contains(&target) {
                        all.push(target);
                    }
                }
            }
            all.into_iter().map(|(rid, url)| (RefreshTarget::Playlist(rid), url)).collect()
        };
        for (target, url) in targets {
            self.request_playlist(Pending::Refresh { target, url });
        }
    }
}
