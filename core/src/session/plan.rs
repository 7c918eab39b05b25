//! The session's view of a presentation: per track, rungs in ascending bitrate, each
//! with its rendition per pathway, and the segment timeline.
//!
//! Built once every rendition the session may play has an explicit segment list. The
//! scope today: the period holding the main track; segment lists (HLS media playlists,
//! DASH SegmentList/SegmentTemplate, timelines of dynamic MPDs, DASH SegmentBase once
//! its `sidx` is loaded, and live templates, which the session lists by the wall clock
//! before the plan is built: see `live_template`).
//!
//! Segments are addressed by their media sequence number (HLS) or `$Number$` (DASH),
//! which every rendition of a track shares: index `i` of the plan is number
//! `first_number + i`. A live window slides under the plan, so lookups go by number,
//! never by position in a rendition's current list.

use super::action::ErrorKind;
use super::event::TrackKind;
use super::timeline::Timeline;
use crate::Ladder;
use crate::manifest::{
    ByteRange, MediaType, Presentation, Rendition, Segment, SegmentBaseError, SegmentIndex,
};
use crate::uri::{Url, UrlError};
use std::collections::BTreeMap;

/// Where a rendition lives in the presentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RendRef {
    pub period: usize,
    pub track: usize,
    pub rendition: usize,
}

/// One rung of a track.
#[derive(Debug, Clone)]
pub(crate) struct Rung {
    pub bitrate_kbps: f64,
    /// Mean bitrate when the manifest says (HLS `AVERAGE-BANDWIDTH`): what a pathway
    /// must sustain, where `bitrate_kbps` (the peak) ranks the rungs.
    pub average_kbps: Option<f64>,
    /// The rendition on the default pathway.
    pub default: RendRef,
    /// The same rung on other pathways (HLS variants with a `PATHWAY-ID`).
    pub per_pathway: BTreeMap<String, RendRef>,
}

/// A track the session plays.
#[derive(Debug, Clone)]
pub(crate) struct TrackPlan {
    pub kind: TrackKind,
    pub rungs: Vec<Rung>,
    /// `(start_s, duration_s)` per segment, from the lowest rung (live: the oldest
    /// are dropped once the window has slid past them).
    pub timeline: Timeline,
    /// Number of the segment at index 0.
    pub first_number: u64,
    /// Live and not ended: segments will be added by playlist refreshes.
    pub open: bool,
}

/// The most segments a live window may have slid past between two refreshes for the
/// plan to follow it (an hour of 2 s segments is 1 800): beyond, the playlist is taken
/// as broken and the plan stops growing.
const MAX_LIVE_GAP: u64 = 100_000;

/// A resolved request target.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Target {
    pub url: Url,
    pub byte_range: Option<ByteRange>,
}

pub(crate) fn rendition(p: &Presentation, r: RendRef) -> Option<&Rendition> {
    p.periods.get(r.period)?.tracks.get(r.track)?.renditions.get(r.rendition)
}

fn main_period(p: &Presentation) -> Option<usize> {
    let main = p.main_track()?;
    p.periods.iter().position(|per| per.tracks.iter().any(|t| std::ptr::eq(t, main)))
}

/// Renditions of the tracks the session will play whose media playlists must be
/// loaded first: `(rendition id, playlist URL)`.
pub(crate) fn unresolved(p: &Presentation, audio: bool) -> Vec<(String, Url)> {
    let mut out = Vec::new();
    for (_, track) in chosen_tracks(p, audio) {
        for r in &track.renditions {
            if let (SegmentIndex::Unresolved, Some(u)) = (&r.index, &r.playlist_url)
                && !out.iter().any(|(id, _): &(String, Url)| *id == r.id)
            {
                out.push((r.id.clone(), u.clone()));
            }
        }
    }
    out
}

/// Renditions of the tracks the session will play whose DASH segment index must be
/// fetched first: `(period, rendition id)`. A `SegmentBase` without `@indexRange` is
/// refused: finding its `sidx` would take fetching and scanning the resource.
pub(crate) fn unindexed(
    p: &Presentation,
    audio: bool,
) -> Result<Vec<(usize, String)>, SegmentBaseError> {
    let Some(pi) = main_period(p) else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for (_, track) in chosen_tracks(p, audio) {
        for r in &track.renditions {
            if let SegmentIndex::Base(b) = &r.index {
                if b.index_range.is_none() {
                    return Err(SegmentBaseError::NoIndexRange { rendition: r.id.clone() });
                }
                if !out.iter().any(|(_, id): &(usize, String)| *id == r.id) {
                    out.push((pi, r.id.clone()));
                }
            }
        }
    }
    Ok(out)
}

fn chosen_tracks(p: &Presentation, audio: bool) -> Vec<(TrackKind, &crate::manifest::Track)> {
    let mut out = Vec::new();
    let Some(main) = p.main_track() else { return out };
    out.push((TrackKind::Video, main));
    if audio
        && main.media_type == MediaType::Video
        && let Some(pi) = main_period(p)
    {
        {
            let groups: Vec<&str> =
                main.renditions.iter().filter_map(|r| r.audio_group.as_deref()).collect();
            let candidates: Vec<&crate::manifest::Track> = p.periods[pi]
                .tracks
                .iter()
                .filter(|t| t.media_type == MediaType::Audio && !t.renditions.is_empty())
                // HLS: only renditions with a URI of their own (others are muxed in).
                .filter(|t| {
                    t.renditions.iter().any(|r| {
                        r.playlist_url.is_some()
                            || r.segments().is_some()
                            // On demand: only an index the session can fetch (an audio
                            // track it cannot index is left out, not fatal).
                            || matches!(&r.index, SegmentIndex::Base(b) if b.index_range.is_some())
                    })
                })
                .filter(|t| {
                    groups.is_empty()
                        || t.renditions
                            .iter()
                            .any(|r| r.group_id.as_deref().is_none_or(|g| groups.contains(&g)))
                })
                .collect();
            if let Some(t) = candidates.iter().find(|t| t.default).or(candidates.first()) {
                out.push((TrackKind::Audio, t));
            }
        }
    }
    out
}

/// Why no plan could be built: the kind of failure and a message.
pub(crate) type PlanError = (ErrorKind, String);

/// Builds the plan of every track to play.
pub(crate) fn build(p: &Presentation, audio: bool) -> Result<Vec<TrackPlan>, PlanError> {
    let manifest = |m: &str| (ErrorKind::Manifest, m.to_string());
    let pi = main_period(p)
        .ok_or_else(|| manifest("the presentation has no video or audio track with renditions"))?;
    let initial = p
        .steering
        .as_ref()
        .and_then(|s| s.default_pathways.first().cloned())
        .or_else(|| p.pathways.first().map(|x| x.id.clone()));
    let mut plans = Vec::new();
    for (kind, track) in chosen_tracks(p, audio) {
        let ti = p.periods[pi]
            .tracks
            .iter()
            .position(|t| std::ptr::eq(t, track))
            .ok_or_else(|| manifest("track not in the main period"))?;
        let mut by_rate: BTreeMap<u64, Rung> = BTreeMap::new();
        for (ri, r) in track.renditions.iter().enumerate() {
            match &r.index {
                SegmentIndex::Segments(list) if !list.segments.is_empty() => {}
                SegmentIndex::Base(_) => {
                    // `unindexed` had it fetched: still a SegmentBase means it was not.
                    return Err((
                        ErrorKind::Manifest,
                        format!("rendition {}: its segment index was not loaded", r.id),
                    ));
                }
                SegmentIndex::LiveTemplate(_) => {
                    return Err((
                        ErrorKind::Live,
                        format!(
                            "rendition {}: live SegmentTemplate not listed by the wall clock",
                            r.id
                        ),
                    ));
                }
                _ => continue,
            }
            let rr = RendRef { period: pi, track: ti, rendition: ri };
            // Audio renditions of HLS carry no bandwidth: rank them by document order
            // within their pathway, so that each pathway's copy of a rendition (HLS
            // steering gives every pathway its own audio group) shares one rung. A
            // bandwidth of 0 (a packager that did not measure it) says as little.
            let bps = r.ranking_bandwidth().filter(|b| *b > 0).unwrap_or_else(|| {
                let before = &track.renditions[..ri];
                before.iter().filter(|o| o.pathway_id == r.pathway_id).count() as u64 + 1
            });
            let key = bps;
            let on_initial = match (&r.pathway_id, &initial) {
                (Some(rp), Some(ip)) => rp == ip,
                _ => true,
            };
            let rung = by_rate.entry(key).or_insert_with(|| Rung {
                bitrate_kbps: bps as f64 / 1000.0,
                average_kbps: r.average_bandwidth.map(|b| b as f64 / 1000.0),
                default: rr,
                per_pathway: BTreeMap::new(),
            });
            if on_initial
                && rendition(p, rung.default).is_some_and(|d| d.pathway_id != r.pathway_id)
            {
                // Prefer the initial pathway's copy as the default.
                let old = rung.default;
                rung.default = rr;
                if let Some(op) = rendition(p, old).and_then(|d| d.pathway_id.clone()) {
                    rung.per_pathway.entry(op).or_insert(old);
                }
            }
            if let Some(pw) = &r.pathway_id {
                rung.per_pathway.entry(pw.clone()).or_insert(rr);
            }
        }
        let rungs: Vec<Rung> = by_rate.into_values().collect();
        let Some(first) = rungs.first() else {
            if kind == TrackKind::Audio {
                continue;
            }
            return Err(manifest("no rendition of the main track has a segment list"));
        };
        let list = rendition(p, first.default).and_then(Rendition::segments).unwrap_or_default();
        let timeline: Timeline = list.iter().map(|s| (s.start_s, s.duration_s)).collect();
        let first_number = list.first().map_or(0, |s| s.number);
        let mut plan = TrackPlan { kind, rungs, timeline, first_number, open: p.is_live() };
        plan.extend_live(p);
        plans.push(plan);
    }
    Ok(plans)
}

/// The segment numbered `number` in a list of consecutive numbers (a gap, which a
/// broken playlist may have, falls back to a search).
fn by_number(list: &[Segment], number: u64) -> Option<&Segment> {
    let first = list.first()?.number;
    let guess = usize::try_from(number.checked_sub(first)?).ok()?;
    match list.get(guess) {
        Some(s) if s.number == number => Some(s),
        _ => list.iter().find(|s| s.number == number),
    }
}

impl TrackPlan {
    /// The ladder the ABR rule decides over. A live ladder lists no segments: its
    /// length is open, so rules plan as if the stream went on (they would otherwise
    /// spend the buffer at the edge of the window as if the video ended there).
    pub fn ladder(&self, p: &Presentation) -> Result<Ladder, crate::LadderError> {
        let mut durations: Vec<f64> =
            self.timeline.iter().map(|(_, d)| *d).filter(|d| *d > 0.0).collect();
        durations.sort_by(f64::total_cmp);
        let seg = durations.get(durations.len() / 2).copied().unwrap_or(0.0);
        let sizes = if self.open {
            Vec::new()
        } else {
            (0..self.timeline.len())
                .map(|i| self.rungs.iter().map(|r| self.size_bits(p, r, i)).collect())
                .collect()
        };
        Ladder::new(self.rungs.iter().map(|r| r.bitrate_kbps).collect(), seg, sizes)
    }

    /// Number of the segment at index `i`.
    pub fn number(&self, i: usize) -> u64 {
        self.first_number.saturating_add(i as u64)
    }

    /// Segment `i` of `rung`: from the default pathway's list, else (a live list that
    /// was refreshed on another pathway only) from any pathway's copy of the rung.
    fn segment<'p>(&self, p: &'p Presentation, rung: &Rung, i: usize) -> Option<&'p Segment> {
        let number = self.number(i);
        std::iter::once(&rung.default)
            .chain(rung.per_pathway.values())
            .find_map(|r| by_number(rendition(p, *r)?.segments()?, number))
    }

    /// Adds the segments that playlist refreshes made known past the end of the
    /// timeline (from whichever rung's list has them), and closes the plan once every
    /// list has ended. Returns how many were added.
    pub fn extend_live(&mut self, p: &Presentation) -> usize {
        if !self.open {
            return 0;
        }
        // Only what every rung lists: the rule may pick any of them.
        let newest = self.rungs.iter().map(|r| {
            std::iter::once(&r.default)
                .chain(r.per_pathway.values())
                .filter_map(|x| rendition(p, *x)?.segments()?.last().map(|s| s.number))
                .max()
        });
        let Some(limit) = newest.min().flatten() else { return 0 };
        let mut added = 0;
        while self.number(self.timeline.len()) <= limit {
            let number = self.number(self.timeline.len());
            let next = self.rungs.iter().find_map(|r| self.segment(p, r, self.timeline.len()));
            let end = self.timeline.last().map(|(s, d)| s + d);
            if let Some(s) = next.filter(|s| s.number == number) {
                // Never before the end of the timeline: a refresh may list different
                // durations for segments already played (a server's slip), and the
                // timeline, which the playhead has followed, must not go back.
                let start = end.map_or(s.start_s, |e| s.start_s.max(e));
                self.timeline.push((start, s.duration_s));
                added += 1;
                continue;
            }
            // The window slid past `number` between two refreshes (an outage longer
            // than the window): the segments in between are gone. Stand-ins keep index
            // `i` ↔ number `first_number + i`; they are never fetched, since the first
            // segment available lies past them and the scheduler skips to it.
            let Some(first) = self.first_listed_after(p, number) else { break };
            let gap = first.number - number;
            if gap > MAX_LIVE_GAP {
                break;
            }
            let from = end.unwrap_or(first.start_s);
            let step = ((first.start_s - from) / gap as f64).max(0.0);
            for k in 0..gap {
                self.timeline.push((from + step * k as f64, step));
                added += 1;
            }
        }
        let ended = self.rungs.iter().all(|r| {
            rendition(p, r.default)
                .and_then(|x| match &x.index {
                    SegmentIndex::Segments(l) => Some(l.ended),
                    _ => None,
                })
                .unwrap_or(false)
        });
        if ended {
            self.open = false;
        }
        added
    }

    /// The first segment numbered above `number` that any rung lists.
    fn first_listed_after<'p>(&self, p: &'p Presentation, number: u64) -> Option<&'p Segment> {
        self.rungs
            .iter()
            .flat_map(|r| std::iter::once(&r.default).chain(r.per_pathway.values()))
            .filter_map(|x| rendition(p, *x)?.segments()?.iter().find(|s| s.number > number))
            .min_by_key(|s| s.number)
    }

    /// The media playlists to reload for a live refresh: every rung's rendition on
    /// `pathway` (its own copy when it has one), `(rendition id, playlist URL)`.
    pub fn refresh_targets(&self, p: &Presentation, pathway: &str) -> Vec<(String, Url)> {
        self.rungs
            .iter()
            .filter_map(|r| {
                let rr = r.per_pathway.get(pathway).copied().unwrap_or(r.default);
                let x = rendition(p, rr)?;
                Some((x.id.clone(), x.playlist_url.clone()?))
            })
            .collect()
    }

    /// Index of the first segment still listed by the lowest rung (live windows
    /// slide: earlier ones may be gone from the server).
    pub fn first_available(&self, p: &Presentation) -> Option<usize> {
        let rung = self.rungs.first()?;
        let first = std::iter::once(&rung.default)
            .chain(rung.per_pathway.values())
            .filter_map(|r| rendition(p, *r)?.segments()?.first().map(|s| s.number))
            .max()?;
        usize::try_from(first.saturating_sub(self.first_number)).ok()
    }

    /// Size of segment `i` at `rung`: its byte range, else bitrate × duration.
    pub fn size_bits(&self, p: &Presentation, rung: &Rung, i: usize) -> f64 {
        let dur = self.timeline.get(i).map_or(0.0, |t| t.1);
        match self.segment(p, rung, i).and_then(|s| s.byte_range) {
            Some(br) => br.length as f64 * 8.0,
            None => rung.bitrate_kbps * 1000.0 * dur,
        }
    }

    /// Where segment `i` (or its init segment) of `rung` is on presentation pathway
    /// `root`, before any clone rewriting: `None` when the plan has no such segment,
    /// an error when its reference does not resolve to an admissible URL.
    pub fn target(
        &self,
        p: &Presentation,
        rung: usize,
        i: usize,
        root: &str,
        init: bool,
    ) -> Option<Result<Target, UrlError>> {
        let rung = self.rungs.get(rung)?;
        let number = self.number(i);
        // The default pathway's copy, or (live, refreshed elsewhere) any that lists it.
        let (default, seg) = std::iter::once(&rung.default)
            .chain(rung.per_pathway.values())
            .filter_map(|r| rendition(p, *r))
            .find_map(|r| Some((r, by_number(r.segments()?, number)?)))?;
        let own = rung.per_pathway.get(root).and_then(|r| rendition(p, *r));
        let (uri, range) = if init {
            let init = seg.init.as_ref()?;
            (&init.uri, init.byte_range)
        } else {
            (&seg.uri, seg.byte_range)
        };
        let url = match own {
            // HLS: the same rung on that pathway, with its own playlist.
            Some(r) if r.pathway_id.is_some() && !std::ptr::eq(r, default) => {
                match r.segments().and_then(|s| by_number(s, number)) {
                    Some(s) if init => match &s.init {
                        Some(x) => r.url_on(&x.uri, None),
                        None => default.url_on(uri, None),
                    },
                    Some(s) => r.url_on(&s.uri, None),
                    // Not loaded: mirrored paths are assumed (the rfc8216bis norm).
                    None => match &r.playlist_url {
                        Some(b) => b.join(uri),
                        None => default.url_on(uri, None),
                    },
                }
            }
            // DASH: one rendition, a base URL per service location.
            _ if default.pathway_id.is_none() => default.url_on(uri, Some(root)),
            _ => default.url_on(uri, None),
        };
        Some(url.map(|url| Target { url, byte_range: range }))
    }

    /// Whether segment `i` of `rung` has an init segment, and which (by URL on the
    /// default pathway, and byte range).
    pub fn init_key(&self, p: &Presentation, rung: usize, i: usize) -> Option<String> {
        let r = self.rungs.get(rung)?;
        let x = self.segment(p, r, i)?.init.as_ref()?;
        let base = rendition(p, r.default).and_then(|d| d.base_on(None));
        let at = base.map_or_else(
            || x.uri.clone(),
            |b| b.join(&x.uri).map_or_else(|_| x.uri.clone(), |u| u.to_string()),
        );
        Some(format!("{at}#{:?}", x.byte_range))
    }
}
