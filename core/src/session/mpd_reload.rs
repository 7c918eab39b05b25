//! A reloaded live MPD, merged into the presentation being played.
//!
//! The plan refers to renditions by period index, so periods are never removed or
//! reordered: a period of the reloaded MPD updates the same period (by `Period@id`,
//! else by start), a period it adds after the last known is appended (the plan moves
//! on to it once its timeline gets there), and a period gone from its front (slid out
//! of the time-shift window) keeps its place but lists nothing more, so that its
//! segments, gone from the server, are never asked for and their memory is given
//! back.

use crate::manifest::{Period, Presentation, SegmentIndex};

/// Periods closer than this in start (seconds) are the same when they have no id.
const SAME_START_S: f64 = 1e-3;

/// Whether `a` and `b` are the same period of two versions of an MPD.
fn same_period(a: &Period, b: &Period) -> bool {
    match (&a.id, &b.id) {
        (Some(x), Some(y)) => x == y,
        _ => (a.start_s - b.start_s).abs() < SAME_START_S,
    }
}

/// For each period of `mine`, the period of `fresh` that is the same, if any. One
/// period on each side is the same period whatever its id or start say (a
/// single-period MPD whose packager renumbers it is still one stream).
pub(super) fn match_periods(mine: &Presentation, fresh: &Presentation) -> Vec<Option<usize>> {
    if mine.periods.len() == 1 && fresh.periods.len() == 1 {
        return vec![Some(0)];
    }
    mine.periods.iter().map(|m| fresh.periods.iter().position(|f| same_period(m, f))).collect()
}

/// Merges `fresh` into `mine` (`period_of` from [`match_periods`]); returns the
/// indices of the periods appended.
pub(super) fn merge(
    mine: &mut Presentation,
    fresh: Presentation,
    period_of: &[Option<usize>],
) -> Vec<usize> {
    let mut fresh_periods: Vec<Option<Period>> = fresh.periods.into_iter().map(Some).collect();
    let first_fresh_start = fresh_periods.iter().flatten().map(|p| p.start_s).next();
    for (pi, period) in mine.periods.iter_mut().enumerate() {
        match period_of.get(pi).copied().flatten() {
            Some(fi) => {
                let Some(fp) = fresh_periods.get_mut(fi).and_then(Option::take) else {
                    continue;
                };
                update(period, fp);
            }
            None if first_fresh_start.is_some_and(|s| period.start_s < s) => forget(period),
            None => {}
        }
    }
    let mut added = Vec::new();
    // What is left of `fresh` is new; only what follows the last known period is
    // taken (a period inserted before it would shift what the plan has played).
    for fp in fresh_periods.into_iter().flatten() {
        if mine.periods.last().is_none_or(|l| fp.start_s > l.start_s + SAME_START_S) {
            added.push(mine.periods.len());
            mine.periods.push(fp);
        }
    }
    added
}

/// Moves each rendition's segment list of `fresh` into the same rendition (by id) of
/// `period` (moved, not copied: a reload must not hold two copies of every list).
fn update(period: &mut Period, fresh: Period) {
    for r in fresh.tracks.into_iter().flat_map(|t| t.renditions) {
        if let SegmentIndex::Segments(_) = r.index
            && let Some(mine) = period
                .tracks
                .iter_mut()
                .flat_map(|t| t.renditions.iter_mut())
                .find(|m| m.id == r.id)
        {
            mine.index = r.index;
        }
    }
}

/// A period that left the MPD: nothing of it is listed any more, and its tracks are
/// dropped (the plan finds no rendition there). Only the shell (id, start) stays, so
/// that a server adding a period at every reload grows the presentation by a few
/// dozen bytes per period, not by its renditions.
fn forget(period: &mut Period) {
    period.tracks = Vec::new();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse_dash;
    use crate::uri::Url;

    /// A dynamic MPD of periods `(id, start s)`, each with one 2 s segment per second
    /// of `len`, numbered from `first`.
    fn mpd(periods: &[(&str, u32, u32, u32)]) -> Presentation {
        let mut text = String::from(
            r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" minimumUpdatePeriod="PT2S" availabilityStartTime="2026-01-01T00:00:00Z">"#,
        );
        for (id, start, first, count) in periods {
            text.push_str(&format!(
                r#"<Period id="{id}" start="PT{start}S"><AdaptationSet mimeType="video/mp4"><SegmentTemplate timescale="1" startNumber="{first}" media="{id}/$Number$.m4s"><SegmentTimeline><S d="2" r="{}"/></SegmentTimeline></SegmentTemplate><Representation id="v" bandwidth="1000000"/></AdaptationSet></Period>"#,
                count - 1
            ));
        }
        text.push_str("</MPD>");
        parse_dash(&text, &Url::parse("https://cdn.example/live.mpd").unwrap()).unwrap()
    }

    fn listed(p: &Presentation) -> Vec<(Option<String>, usize)> {
        p.periods
            .iter()
            .map(|per| {
                let n = per
                    .tracks
                    .first()
                    .and_then(|t| t.renditions.first())
                    .and_then(|r| r.segments())
                    .map_or(0, <[_]>::len);
                (per.id.clone(), n)
            })
            .collect()
    }

    #[test]
    fn periods_update_append_and_are_forgotten_in_place() {
        let mut mine = mpd(&[("a", 0, 1, 3), ("b", 6, 1, 2)]);
        // "a" slid out, "b" grew, "c" is new.
        let fresh = mpd(&[("b", 6, 1, 5), ("c", 16, 1, 1)]);
        let period_of = match_periods(&mine, &fresh);
        assert_eq!(period_of, vec![None, Some(0)]);
        assert_eq!(merge(&mut mine, fresh, &period_of), vec![2]);
        let some = |s: &str| Some(s.to_string());
        assert_eq!(listed(&mine), vec![(some("a"), 0), (some("b"), 5), (some("c"), 1)]);
        // Forgotten periods list nothing more: only their shell is kept.
        assert!(mine.periods[0].tracks.is_empty());
        // A period inserted before the last known one is not taken.
        let fresh = mpd(&[("b", 6, 1, 5), ("x", 10, 1, 1), ("c", 16, 1, 2)]);
        let period_of = match_periods(&mine, &fresh);
        assert_eq!(merge(&mut mine, fresh, &period_of), Vec::<usize>::new());
        assert_eq!(listed(&mine), vec![(some("a"), 0), (some("b"), 5), (some("c"), 2)]);
    }

    #[test]
    fn a_server_adding_a_period_at_every_reload_keeps_only_shells_behind() {
        // 1,000 reloads, each window holding the two newest periods: all but those
        // two are shells with no tracks.
        let mut mine = mpd(&[("p0", 0, 1, 2)]);
        for k in 1..1000u32 {
            let prev = format!("p{}", k - 1);
            let next = format!("p{k}");
            let fresh = mpd(&[(&prev, (k - 1) * 4, 1, 2), (&next, k * 4, 1, 2)]);
            let period_of = match_periods(&mine, &fresh);
            merge(&mut mine, fresh, &period_of);
        }
        assert_eq!(mine.periods.len(), 1000);
        let with_tracks = mine.periods.iter().filter(|p| !p.tracks.is_empty()).count();
        assert_eq!(with_tracks, 2);
    }

    #[test]
    fn one_period_each_side_is_the_same_stream_whatever_its_id() {
        let mut mine = mpd(&[("1", 0, 1, 2)]);
        let fresh = mpd(&[("2", 0, 1, 4)]);
        let period_of = match_periods(&mine, &fresh);
        assert_eq!(period_of, vec![Some(0)]);
        assert!(merge(&mut mine, fresh, &period_of).is_empty());
        assert_eq!(listed(&mine), vec![(Some("1".into()), 4)]);
    }
}
