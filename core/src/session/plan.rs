//! The session's view of a presentation: per track, rungs in ascending bitrate, each
//! with its rendition per pathway and per period, and the segment timeline.
//!
//! Built once every rendition the session may play has an explicit segment list. The
//! scope: every period, played one after another (the rungs of the main period, the
//! longest, are the ladder; each other period's renditions are matched to them by
//! bitrate); live, the periods listed so far, then each one a reload adds; segment lists (HLS media playlists, DASH SegmentList/
//! SegmentTemplate, timelines of dynamic MPDs, DASH SegmentBase once its `sidx` is
//! loaded, and live templates, which the session lists by the wall clock before the
//! plan is built: see `live_template`).
//!
//! Segments are addressed by plan index. Within a part (a period), index `i` is the
//! media sequence number (HLS) or `$Number$` (DASH) `first_number + i - first_index`,
//! which every rendition of the track shares in that period. A live window slides
//! under the plan, so lookups go by number, never by position in a rendition's
//! current list.
//!
//! Media timestamps may restart inside a plan: at each period after the first and at
//! each HLS `EXT-X-DISCONTINUITY`. The plan numbers these media timelines, so that a
//! sink is told when to map a segment by a new timestamp offset (see
//! [`MediaTiming`](super::MediaTiming)).

use super::action::ErrorKind;
use super::event::TrackKind;
use super::timeline::Timeline;
use crate::Ladder;
use crate::manifest::{
    ByteRange, MediaType, Presentation, Rendition, Segment, SegmentBaseError, SegmentIndex, Track,
};
use crate::uri::{Url, UrlError};
use std::collections::{BTreeMap, VecDeque};

/// Where a rendition lives in the presentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RendRef {
    pub period: usize,
    pub track: usize,
    pub rendition: usize,
}

/// A rung's renditions in one period: on the default pathway, and its copies on other
/// pathways (HLS variants with a `PATHWAY-ID`).
#[derive(Debug, Clone)]
pub(crate) struct Copies {
    pub default: RendRef,
    pub per_pathway: BTreeMap<String, RendRef>,
}

impl Copies {
    /// The default rendition, then the other pathways' copies.
    fn all(&self) -> impl Iterator<Item = &RendRef> {
        std::iter::once(&self.default).chain(self.per_pathway.values())
    }
}

/// One rung of a track.
#[derive(Debug, Clone)]
pub(crate) struct Rung {
    /// What ranks the rung: its peak bitrate, or (HLS audio renditions, which declare
    /// none) its place in document order.
    pub bitrate_kbps: f64,
    /// Whether the manifest declared `bitrate_kbps`.
    pub declared: bool,
    /// Mean bitrate when the manifest says (HLS `AVERAGE-BANDWIDTH`): what a pathway
    /// must sustain, where `bitrate_kbps` (the peak) ranks the rungs.
    pub average_kbps: Option<f64>,
    /// The rung's renditions in each part of the plan (`parts[k]` in
    /// [`TrackPlan::parts`]`[k]`).
    pub parts: Vec<Copies>,
}

/// A stretch of the plan played from one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Part {
    /// Plan index of the part's first segment.
    pub first_index: usize,
    /// Number of the part's first segment.
    pub first_number: u64,
}

/// Where media timelines restart in a plan: `(plan index, timeline id)`, ids rising.
/// A live plan forgets the boundaries its timeline has dropped.
#[derive(Debug, Clone, Default)]
pub(crate) struct MediaTimelines {
    boundaries: VecDeque<(usize, u64)>,
    /// Timeline of the segments before the first boundary kept.
    base: u64,
}

impl MediaTimelines {
    /// Segment `index` starts a new media timeline (index 0 starts the first).
    fn restart_at(&mut self, index: usize) {
        if index == 0 || self.boundaries.back().is_some_and(|(i, _)| *i >= index) {
            return;
        }
        let id = self.boundaries.back().map_or(self.base, |(_, id)| *id) + 1;
        self.boundaries.push_back((index, id));
    }

    /// The media timeline segment `index` belongs to.
    pub fn of(&self, index: usize) -> u64 {
        let k = self.boundaries.partition_point(|(i, _)| *i <= index);
        k.checked_sub(1).and_then(|k| self.boundaries.get(k)).map_or(self.base, |(_, id)| *id)
    }

    /// Forgets the boundaries before plan index `keep_from` (ids stay as they were).
    fn trim_before(&mut self, keep_from: usize) {
        while let Some(&(i, id)) = self.boundaries.front() {
            if i > keep_from {
                break;
            }
            self.base = id;
            self.boundaries.pop_front();
        }
    }
}

/// A track the session plays.
#[derive(Debug, Clone)]
pub(crate) struct TrackPlan {
    pub kind: TrackKind,
    /// What the track carries and its language: how it is found again in a period
    /// that a live MPD adds later.
    media_type: MediaType,
    language: Option<String>,
    pub rungs: Vec<Rung>,
    /// The periods played, in order (one for live and single-period presentations).
    pub parts: Vec<Part>,
    /// `(start_s, duration_s)` per segment, from the lowest rung (live: the oldest
    /// are dropped once the window has slid past them).
    pub timeline: Timeline,
    /// Where media timestamps restart.
    pub media_timelines: MediaTimelines,
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

/// The period holding the main track (the longest).
fn main_period(p: &Presentation) -> Option<usize> {
    let main = p.main_track()?;
    p.periods.iter().position(|per| per.tracks.iter().any(|t| std::ptr::eq(t, main)))
}

/// A track to play: its kind and, per period that has it, `(period, track)`.
struct Chosen {
    kind: TrackKind,
    media_type: MediaType,
    language: Option<String>,
    parts: Vec<(usize, usize)>,
}

/// In a period, the track of type `ty` that is the main one: not trick play, the most
/// renditions, the earliest of equals (as [`Presentation::main_track`] picks).
fn main_of(tracks: &[Track], ty: MediaType) -> Option<usize> {
    tracks
        .iter()
        .enumerate()
        .filter(|(_, t)| t.media_type == ty && !t.trick_play && !t.renditions.is_empty())
        .max_by(|(ia, a), (ib, b)| a.renditions.len().cmp(&b.renditions.len()).then(ib.cmp(ia)))
        .map(|(i, _)| i)
}

/// In a period, the audio track to play beside `main`: one the session can fetch, of
/// `main`'s audio groups (HLS), in `language` (that of the audio chosen in the main
/// period) when there is one, else the default, else the first.
fn audio_of(tracks: &[Track], main: &Track, language: Option<&str>) -> Option<usize> {
    let groups: Vec<&str> =
        main.renditions.iter().filter_map(|r| r.audio_group.as_deref()).collect();
    let candidates: Vec<usize> = tracks
        .iter()
        .enumerate()
        .filter(|(_, t)| t.media_type == MediaType::Audio && !t.renditions.is_empty())
        // HLS: only renditions with a URI of their own (others are muxed in).
        .filter(|(_, t)| {
            t.renditions.iter().any(|r| {
                r.playlist_url.is_some()
                    || r.segments().is_some()
                    // On demand: only an index the session can fetch (an audio track it
                    // cannot index is left out, not fatal).
                    || matches!(&r.index, SegmentIndex::Base(b) if b.index_range.is_some())
            })
        })
        .filter(|(_, t)| {
            groups.is_empty()
                || t.renditions
                    .iter()
                    .any(|r| r.group_id.as_deref().is_none_or(|g| groups.contains(&g)))
        })
        .map(|(i, _)| i)
        .collect();
    let pick = |f: &dyn Fn(&Track) -> bool| candidates.iter().copied().find(|i| f(&tracks[*i]));
    language
        .and_then(|l| pick(&|t| t.language.as_deref() == Some(l)))
        .or_else(|| pick(&|t| t.default))
        .or(candidates.first().copied())
}

/// The tracks to play, over every period in order (a period without a track of the
/// main track's type has no part). The audio track is played only over the same
/// periods as the video (a sink cannot play through a stretch of missing audio).
fn chosen(p: &Presentation, audio: bool) -> Vec<Chosen> {
    let mut out = Vec::new();
    let (Some(main), Some(mpi)) = (p.main_track(), main_period(p)) else { return out };
    let mut video = Chosen {
        kind: TrackKind::Video,
        media_type: main.media_type,
        language: main.language.clone(),
        parts: Vec::new(),
    };
    for (pi, period) in p.periods.iter().enumerate() {
        let ti = if pi == mpi {
            period.tracks.iter().position(|t| std::ptr::eq(t, main))
        } else {
            main_of(&period.tracks, main.media_type)
        };
        if let Some(ti) = ti {
            video.parts.push((pi, ti));
        }
    }
    let main_audio = audio
        .then_some(())
        .filter(|_| main.media_type == MediaType::Video)
        .and_then(|_| audio_of(&p.periods[mpi].tracks, main, None));
    if let Some(ati) = main_audio {
        let language = p.periods[mpi].tracks[ati].language.clone();
        let parts: Option<Vec<(usize, usize)>> = video
            .parts
            .iter()
            .map(|&(pi, vi)| {
                let tracks = &p.periods[pi].tracks;
                Some((pi, audio_of(tracks, &tracks[vi], language.as_deref())?))
            })
            .collect();
        match parts {
            Some(parts) => {
                out.push(video);
                let media_type = MediaType::Audio;
                out.push(Chosen { kind: TrackKind::Audio, media_type, language, parts });
                return out;
            }
            None => tracing::warn!("a period has no audio track: playing video only"),
        }
    }
    out.push(video);
    out
}

/// Renditions of the tracks the session will play whose media playlists must be
/// loaded first: `(rendition id, playlist URL)`.
pub(crate) fn unresolved(p: &Presentation, audio: bool) -> Vec<(String, Url)> {
    let mut out = Vec::new();
    for track in chosen_tracks(p, audio) {
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

/// Every track of every part the session will play.
fn chosen_tracks(p: &Presentation, audio: bool) -> impl Iterator<Item = &Track> {
    chosen(p, audio)
        .into_iter()
        .flat_map(|c| c.parts)
        .filter_map(|(pi, ti)| p.periods.get(pi)?.tracks.get(ti))
}

/// Renditions of the tracks the session will play whose DASH segment index must be
/// fetched first: `(period, rendition id)`. A `SegmentBase` without `@indexRange` is
/// refused: finding its `sidx` would take fetching and scanning the resource.
pub(crate) fn unindexed(
    p: &Presentation,
    audio: bool,
) -> Result<Vec<(usize, String)>, SegmentBaseError> {
    let mut out = Vec::new();
    for c in chosen(p, audio) {
        for (pi, ti) in c.parts {
            let Some(track) = p.periods.get(pi).and_then(|per| per.tracks.get(ti)) else {
                continue;
            };
            for r in &track.renditions {
                if let SegmentIndex::Base(b) = &r.index {
                    if b.index_range.is_none() {
                        return Err(SegmentBaseError::NoIndexRange { rendition: r.id.clone() });
                    }
                    if !out.iter().any(|(op, id): &(usize, String)| *op == pi && *id == r.id) {
                        out.push((pi, r.id.clone()));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Why no plan could be built: the kind of failure and a message.
pub(crate) type PlanError = (ErrorKind, String);

/// A rung of one period's track: ranking bandwidth, mean bandwidth, renditions.
type PeriodRung = (u64, Option<u64>, Copies);

/// The rungs of track `ti` of period `pi`, ascending.
fn period_rungs(
    p: &Presentation,
    pi: usize,
    ti: usize,
    initial: Option<&str>,
) -> Result<Vec<PeriodRung>, PlanError> {
    let Some(track) = p.periods.get(pi).and_then(|per| per.tracks.get(ti)) else {
        return Ok(Vec::new());
    };
    let mut by_rate: BTreeMap<u64, PeriodRung> = BTreeMap::new();
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
        let on_initial = match (&r.pathway_id, initial) {
            (Some(rp), Some(ip)) => rp == ip,
            _ => true,
        };
        let (_, _, copies) = by_rate.entry(bps).or_insert_with(|| {
            (bps, r.average_bandwidth, Copies { default: rr, per_pathway: BTreeMap::new() })
        });
        if on_initial && rendition(p, copies.default).is_some_and(|d| d.pathway_id != r.pathway_id)
        {
            // Prefer the initial pathway's copy as the default.
            let old = copies.default;
            copies.default = rr;
            if let Some(op) = rendition(p, old).and_then(|d| d.pathway_id.clone()) {
                copies.per_pathway.entry(op).or_insert(old);
            }
        }
        if let Some(pw) = &r.pathway_id {
            copies.per_pathway.entry(pw.clone()).or_insert(rr);
        }
    }
    Ok(by_rate.into_values().collect())
}

/// Of a period's rungs, the one closest to `bps` in ratio (a ladder that differs from
/// the main period's: a rung missing there plays its nearest neighbour), the lower of
/// two equally close.
fn nearest(rungs: &[PeriodRung], bps: u64) -> Option<&Copies> {
    let distance = |b: u64| ((b.max(1) as f64) / (bps.max(1) as f64)).ln().abs();
    rungs.iter().min_by(|a, b| distance(a.0).total_cmp(&distance(b.0))).map(|(_, _, copies)| copies)
}

/// Builds the plan of every track to play.
///
/// A period with no segment listed for the track has no part: on demand it is
/// skipped; live, the plan ends before it for now (periods that slid out of the
/// window are skipped, and [`TrackPlan::extend_live`] adds later periods as they get
/// segments).
pub(crate) fn build(p: &Presentation, audio: bool) -> Result<Vec<TrackPlan>, PlanError> {
    let manifest = |m: &str| (ErrorKind::Manifest, m.to_string());
    let initial = p
        .steering
        .as_ref()
        .and_then(|s| s.default_pathways.first().cloned())
        .or_else(|| p.pathways.first().map(|x| x.id.clone()));
    let choices = chosen(p, audio);
    if choices.is_empty() {
        return Err(manifest("the presentation has no video or audio track with renditions"));
    }
    let mpi = main_period(p);
    let mut plans = Vec::new();
    let mut video_periods = Vec::new();
    for c in choices {
        let mut parts: Vec<(usize, Vec<PeriodRung>)> = Vec::new();
        for &(pi, ti) in &c.parts {
            let rungs = period_rungs(p, pi, ti, initial.as_deref())?;
            if rungs.is_empty() {
                if p.is_live() && !parts.is_empty() {
                    break;
                }
                continue;
            }
            parts.push((pi, rungs));
        }
        let periods: Vec<usize> = parts.iter().map(|(pi, _)| *pi).collect();
        if c.kind == TrackKind::Audio && periods != video_periods {
            tracing::warn!("the audio is listed over other periods than the video: video only");
            continue;
        }
        // The ladder is the main period's; live, the newest listed when that one is not.
        let main_part = match parts.iter().position(|(pi, _)| Some(*pi) == mpi) {
            Some(k) => Some(k),
            None if p.is_live() => parts.len().checked_sub(1),
            None => None,
        };
        let Some((_, reference)) = main_part.and_then(|k| parts.get(k)) else {
            if c.kind == TrackKind::Audio {
                continue;
            }
            return Err(manifest("no rendition of the main track has a segment list"));
        };
        let rungs: Vec<Rung> = reference
            .iter()
            .map(|(bps, avg, copies)| Rung {
                bitrate_kbps: *bps as f64 / 1000.0,
                declared: rendition(p, copies.default)
                    .and_then(Rendition::ranking_bandwidth)
                    .is_some_and(|b| b > 0),
                average_kbps: avg.map(|b| b as f64 / 1000.0),
                parts: parts.iter().filter_map(|(_, r)| nearest(r, *bps).cloned()).collect(),
            })
            .collect();
        let mut plan = TrackPlan {
            kind: c.kind,
            media_type: c.media_type,
            language: c.language,
            rungs,
            parts: Vec::new(),
            timeline: Timeline::default(),
            media_timelines: MediaTimelines::default(),
            open: p.is_live(),
        };
        for (_, rungs) in &parts {
            let lowest = rungs.first().map(|(_, _, c)| c.default);
            let list = lowest.and_then(|r| rendition(p, r)?.segments()).unwrap_or_default();
            let first_index = plan.start_part(list.first().map_or(0, |s| s.number));
            for (k, s) in list.iter().enumerate() {
                if s.discontinuity {
                    plan.media_timelines.restart_at(first_index + k);
                }
                plan.timeline.push((s.start_s, s.duration_s));
            }
        }
        plan.extend_live(p);
        if c.kind == TrackKind::Video {
            video_periods = periods;
        }
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

    /// The part holding plan index `i` (the last part for an index past the end) and
    /// the number of segment `i` in it.
    fn locate(&self, i: usize) -> Option<(usize, u64)> {
        let k = self.parts.partition_point(|x| x.first_index <= i).checked_sub(1)?;
        let part = self.parts.get(k)?;
        Some((k, part.first_number.saturating_add((i - part.first_index) as u64)))
    }

    /// Number of the segment at index `i`.
    fn number(&self, i: usize) -> u64 {
        self.locate(i).map_or(i as u64, |(_, n)| n)
    }

    /// The media timeline segment `i` belongs to: it changes where media timestamps
    /// restart (a new period, an HLS discontinuity).
    pub fn media_timeline(&self, i: usize) -> u64 {
        self.media_timelines.of(i)
    }

    /// Drops what the plan keeps about segments before plan index `keep_from` (a live
    /// window that slid on).
    pub fn trim_before(&mut self, keep_from: usize) {
        self.timeline.trim_before(keep_from);
        self.media_timelines.trim_before(keep_from);
    }

    /// Segment `i` of `rung`: from the default pathway's list, else (a live list that
    /// was refreshed on another pathway only) from any pathway's copy of the rung.
    fn segment<'p>(&self, p: &'p Presentation, rung: &Rung, i: usize) -> Option<&'p Segment> {
        let (k, number) = self.locate(i)?;
        rung.parts.get(k)?.all().find_map(|r| by_number(rendition(p, *r)?.segments()?, number))
    }

    /// Starts a part (a period) at the end of the timeline, its first segment
    /// numbered `first_number`; returns its first plan index.
    fn start_part(&mut self, first_number: u64) -> usize {
        let first_index = self.timeline.len();
        self.parts.push(Part { first_index, first_number });
        self.media_timelines.restart_at(first_index);
        first_index
    }

    /// Adds the segments that playlist refreshes made known past the end of the
    /// timeline (from whichever rung's list has them), moving on to the next period
    /// of a live MPD once the timeline has reached it and it lists segments, and
    /// closes the plan once every list has ended. Returns how many were added.
    pub fn extend_live(&mut self, p: &Presentation) -> usize {
        if !self.open {
            return 0;
        }
        let mut added = self.extend_last_part(p);
        while let Some((next, rungs)) = self.next_period(p) {
            let Some(first) = rungs.first().and_then(|(_, _, c)| {
                rendition(p, c.default)?.segments()?.first().map(|s| s.number)
            }) else {
                break;
            };
            for r in &mut self.rungs {
                let bps = (r.bitrate_kbps * 1000.0).round() as u64;
                if let Some(c) = nearest(&rungs, bps) {
                    r.parts.push(c.clone());
                }
            }
            self.start_part(first);
            tracing::debug!(?self.kind, period = next, first, "next period");
            added += self.extend_last_part(p);
        }
        let last = self.parts.len().saturating_sub(1);
        let ended = self.rungs.iter().all(|r| {
            r.parts
                .get(last)
                .and_then(|c| rendition(p, c.default))
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

    /// The period after the last part's, with its rungs, once it lists segments and
    /// the timeline has reached its start (the last part is complete).
    fn next_period(&self, p: &Presentation) -> Option<(usize, Vec<PeriodRung>)> {
        let last = self.rungs.first()?.parts.last()?.default.period;
        let pi = last.checked_add(1)?;
        let period = p.periods.get(pi)?;
        let ti = match self.kind {
            TrackKind::Video => main_of(&period.tracks, self.media_type)?,
            TrackKind::Audio => {
                let main = main_of(&period.tracks, MediaType::Video)?;
                audio_of(&period.tracks, &period.tracks[main], self.language.as_deref())?
            }
        };
        let rungs = period_rungs(p, pi, ti, None).ok().filter(|r| !r.is_empty())?;
        let &(start, duration) = self.timeline.last()?;
        let slack = (duration / 2.0).max(0.5);
        (start + duration >= period.start_s - slack).then_some((pi, rungs))
    }

    /// Adds what the last part's lists have past the end of the timeline.
    fn extend_last_part(&mut self, p: &Presentation) -> usize {
        let last = self.parts.len().saturating_sub(1);
        // Only what every rung lists: the rule may pick any of them.
        let newest = self.rungs.iter().map(|r| {
            r.parts
                .get(last)?
                .all()
                .filter_map(|x| rendition(p, *x)?.segments()?.last().map(|s| s.number))
                .max()
        });
        let Some(limit) = newest.min().flatten() else { return 0 };
        let mut added = 0;
        while self.number(self.timeline.len()) <= limit {
            let index = self.timeline.len();
            let number = self.number(index);
            let next = self.rungs.iter().find_map(|r| self.segment(p, r, index));
            let end = self.timeline.last().map(|(s, d)| s + d);
            if let Some(s) = next.filter(|s| s.number == number) {
                // Never before the end of the timeline: a refresh may list different
                // durations for segments already played (a server's slip), and the
                // timeline, which the playhead has followed, must not go back.
                let start = end.map_or(s.start_s, |e| s.start_s.max(e));
                if s.discontinuity {
                    self.media_timelines.restart_at(index);
                }
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
        added
    }

    /// The renditions of every rung in the last part.
    fn last_copies(&self) -> impl Iterator<Item = &Copies> {
        let last = self.parts.len().saturating_sub(1);
        self.rungs.iter().filter_map(move |r| r.parts.get(last))
    }

    /// The first segment numbered above `number` that any rung lists (last part).
    fn first_listed_after<'p>(&self, p: &'p Presentation, number: u64) -> Option<&'p Segment> {
        self.last_copies()
            .flat_map(Copies::all)
            .filter_map(|x| rendition(p, *x)?.segments()?.iter().find(|s| s.number > number))
            .min_by_key(|s| s.number)
    }

    /// The media playlists to reload for a live refresh: every rung's rendition on
    /// `pathway` (its own copy when it has one), `(rendition id, playlist URL)`.
    pub fn refresh_targets(&self, p: &Presentation, pathway: &str) -> Vec<(String, Url)> {
        self.last_copies()
            .filter_map(|c| {
                let rr = c.per_pathway.get(pathway).copied().unwrap_or(c.default);
                let x = rendition(p, rr)?;
                Some((x.id.clone(), x.playlist_url.clone()?))
            })
            .collect()
    }

    /// Index of the first segment still listed by the lowest rung (live windows
    /// slide: earlier ones may be gone from the server), in the earliest part that
    /// lists any.
    pub fn first_available(&self, p: &Presentation) -> Option<usize> {
        let lowest = self.rungs.first()?;
        self.parts.iter().zip(&lowest.parts).find_map(|(part, copies)| {
            let first = copies
                .all()
                .filter_map(|r| rendition(p, *r)?.segments()?.first().map(|s| s.number))
                .max()?;
            let ahead = usize::try_from(first.saturating_sub(part.first_number)).ok()?;
            part.first_index.checked_add(ahead)
        })
    }

    /// The bitrate of rung `rung` as the manifest declares it (`None` for HLS audio
    /// renditions, which declare none).
    pub fn declared_kbps(&self, rung: usize) -> Option<f64> {
        self.rungs.get(rung).filter(|r| r.declared).map(|r| r.bitrate_kbps)
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
        let (k, number) = self.locate(i)?;
        let copies = self.rungs.get(rung)?.parts.get(k)?;
        // The default pathway's copy, or (live, refreshed elsewhere) any that lists it.
        let (default, seg) = copies
            .all()
            .filter_map(|r| rendition(p, *r))
            .find_map(|r| Some((r, by_number(r.segments()?, number)?)))?;
        let own = copies.per_pathway.get(root).and_then(|r| rendition(p, *r));
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
        let (k, _) = self.locate(i)?;
        let base = rendition(p, r.parts.get(k)?.default).and_then(|d| d.base_on(None));
        let at = base.map_or_else(
            || x.uri.clone(),
            |b| b.join(&x.uri).map_or_else(|_| x.uri.clone(), |u| u.to_string()),
        );
        Some(format!("{at}#{:?}", x.byte_range))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_timelines_number_restarts_and_survive_trimming() {
        let mut m = MediaTimelines::default();
        m.restart_at(0);
        m.restart_at(5);
        m.restart_at(5);
        m.restart_at(3);
        m.restart_at(9);
        assert_eq!([m.of(0), m.of(4), m.of(5), m.of(8), m.of(9), m.of(100)], [0, 0, 1, 1, 2, 2]);
        m.trim_before(6);
        assert_eq!([m.of(6), m.of(8), m.of(9)], [1, 1, 2]);
        m.trim_before(20);
        assert_eq!(m.of(20), 2);
        m.restart_at(21);
        assert_eq!(m.of(21), 3);
    }

    #[test]
    fn nearest_rung_goes_by_ratio_and_prefers_the_lower() {
        let c = |n| Copies {
            default: RendRef { period: 0, track: 0, rendition: n },
            per_pathway: BTreeMap::new(),
        };
        let rungs = vec![(400_000, None, c(0)), (1_600_000, None, c(1)), (3_000_000, None, c(2))];
        let pick = |bps| nearest(&rungs, bps).map(|c| c.default.rendition);
        assert_eq!(pick(400_000), Some(0));
        // 800k is half of 1.6M and twice 400k: equally far, the lower wins.
        assert_eq!(pick(800_000), Some(0));
        assert_eq!(pick(900_000), Some(1));
        // In ratio 2.2M is nearer 1.6M (×1.375) than 3M (×1.364)? No: 3M.
        assert_eq!(pick(2_200_000), Some(2));
        assert_eq!(pick(100_000), Some(0));
        assert!(nearest(&[], 1).is_none());
    }
}
