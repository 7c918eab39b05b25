//! Loading: the media playlists an HLS presentation (and the segment indexes a DASH
//! on-demand one) needs before anything plays, and the plan (tracks, rungs,
//! timelines) built once every one has arrived.

use super::action::{ErrorKind, PlayerState};
use super::machine::Core;
use super::plan;
use super::requests::Pending;
use super::scheduler::Tracks;
use crate::abr::build_rule;
use crate::uri::Url;

impl Core<'_> {
    /// Requests every media playlist and DASH segment index the tracks to play need;
    /// with none to load, builds the plan at once.
    pub(super) fn load_playlists(&mut self) {
        let playlists = plan::unresolved(&self.presentation, true);
        let indexes = match plan::unindexed(&self.presentation, true) {
            Ok(i) => i,
            Err(e) => return self.fail(super::segment_index::error_kind(&e), e.to_string()),
        };
        if playlists.is_empty() && indexes.is_empty() {
            self.build_plan();
            return;
        }
        for (rendition, url) in playlists {
            self.request_playlist(Pending::Playlist { rendition, url, attempt: 1 });
        }
        for (period, rendition) in indexes {
            self.request_index(period, rendition, 1);
        }
    }

    /// Merges an HLS media playlist into the presentation.
    pub(super) fn apply_playlist(
        &mut self,
        rid: &str,
        text: &str,
        url: &Url,
    ) -> Result<(), String> {
        #[cfg(feature = "hls")]
        {
            self.presentation
                .apply_media_playlist(rid, text, url)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        #[cfg(not(feature = "hls"))]
        {
            let _ = (rid, text, url);
            Err("media playlists need the `hls` feature".into())
        }
    }

    /// Builds the plan of every track, the main track's ladder and the ABR rule, and
    /// starts buffering (at the live edge for a live presentation).
    pub(super) fn build_plan(&mut self) {
        if self.waiting_for_clock() {
            return;
        }
        if !self.templates.is_empty() {
            // Live templates list what the wall clock says exists: wait (woken by the
            // drive loop) until the first segment does.
            if let Some(unix_s) = self.clock.unix_at(self.now) {
                self.templates.expand(&mut self.presentation, unix_s);
            }
            let listed = self.presentation.main_track().is_some_and(|t| {
                t.renditions.iter().any(|r| r.segments().is_some_and(|s| !s.is_empty()))
            });
            if !listed {
                if self.templates.next_unix_s().is_none() {
                    // Ended, and its window slid past the last segment: none will come.
                    return self.fail(
                        ErrorKind::Live,
                        "the live stream has ended: no segment is left in its time-shift window"
                            .into(),
                    );
                }
                return;
            }
        }
        let plans = match plan::build(&self.presentation, true) {
            Ok(p) => p,
            Err((kind, message)) => return self.fail(kind, message),
        };
        let Some(main) = plans.first() else {
            return self.fail(ErrorKind::Manifest, "nothing to play".into());
        };
        let ladder = match main.ladder(&self.presentation) {
            Ok(l) => l,
            Err(e) => return self.fail(ErrorKind::Manifest, format!("ladder: {e}")),
        };
        if self.rule.is_none() {
            match build_rule(&self.config.abr_rule, &self.config.abr, &ladder) {
                Ok(r) => self.rule = Some(r),
                Err(e) => return self.fail(ErrorKind::Unsupported, e.to_string()),
            }
        }
        self.ladder = Some(ladder);
        self.tracks = Tracks::from_plans(plans);
        let Some(main) = self.tracks.main() else { return };
        self.playback.position_s = main.plan.timeline.first().map_or(0.0, |t| t.0);
        if main.plan.open {
            self.join_live_edge();
            self.schedule_refresh(true);
        }
        self.set_state(PlayerState::Buffering);
    }
}
