//! The session's view of a presentation: per track, rungs in ascending bitrate, each
//! with its rendition per pathway, and the segment timeline.
//!
//! Built once every rendition the session may play has an explicit segment list. The
//! scope today: on-demand presentations; the period holding the main track; segment
//! lists (HLS media playlists, DASH SegmentList/SegmentTemplate). DASH SegmentBase
//! (sidx) and live templates are refused with a clear error.

use super::event::TrackKind;
use crate::Ladder;
use crate::manifest::{ByteRange, MediaType, Presentation, Rendition, Segment, SegmentIndex};
use crate::uri as url;
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
    /// `(start_s, duration_s)` per segment, from the lowest rung.
    pub timeline: Vec<(f64, f64)>,
}

/// A resolved request target.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Target {
    pub url: String,
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
pub(crate) fn unresolved(p: &Presentation, audio: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (_, track) in chosen_tracks(p, audio) {
        for r in &track.renditions {
            if let (SegmentIndex::Unresolved, Some(u)) = (&r.index, &r.playlist_url)
                && !out.iter().any(|(id, _): &(String, String)| *id == r.id)
            {
                out.push((r.id.clone(), u.clone()));
            }
        }
    }
    out
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
                    t.renditions.iter().any(|r| r.playlist_url.is_some() || r.segments().is_some())
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

/// Builds the plan of every track to play.
pub(crate) fn build(p: &Presentation, audio: bool) -> Result<Vec<TrackPlan>, String> {
    if p.is_live() {
        return Err("live presentations are not supported by the session yet".into());
    }
    let pi =
        main_period(p).ok_or("the presentation has no video or audio track with renditions")?;
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
            .ok_or("track not in the main period")?;
        let mut by_rate: BTreeMap<u64, Rung> = BTreeMap::new();
        for (ri, r) in track.renditions.iter().enumerate() {
            match &r.index {
                SegmentIndex::Segments(list) if !list.segments.is_empty() => {}
                SegmentIndex::Base(_) => {
                    return Err(format!(
                        "rendition {}: DASH SegmentBase (sidx) is not supported yet",
                        r.id
                    ));
                }
                SegmentIndex::LiveTemplate(_) => {
                    return Err(format!(
                        "rendition {}: live SegmentTemplate is not supported yet",
                        r.id
                    ));
                }
                _ => continue,
            }
            let rr = RendRef { period: pi, track: ti, rendition: ri };
            // Audio renditions of HLS carry no bandwidth: rank them by document order.
            let bps = r.ranking_bandwidth().unwrap_or(ri as u64 + 1);
            let key = bps;
            let on_initial = match (&r.pathway_id, &initial) {
                (Some(rp), Some(ip)) => rp == ip,
                _ => true,
            };
            let rung = by_rate.entry(key).or_insert_with(|| Rung {
                bitrate_kbps: bps as f64 / 1000.0,
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
            return Err("no rendition of the main track has a segment list".into());
        };
        let timeline: Vec<(f64, f64)> = rendition(p, first.default)
            .and_then(Rendition::segments)
            .map(|s| s.iter().map(|s| (s.start_s, s.duration_s)).collect())
            .unwrap_or_default();
        plans.push(TrackPlan { kind, rungs, timeline });
    }
    Ok(plans)
}

impl TrackPlan {
    /// The ladder the ABR rule decides over.
    pub fn ladder(&self, p: &Presentation) -> Result<Ladder, crate::LadderError> {
        let mut durations: Vec<f64> =
            self.timeline.iter().map(|(_, d)| *d).filter(|d| *d > 0.0).collect();
        durations.sort_by(f64::total_cmp);
        let seg = durations.get(durations.len() / 2).copied().unwrap_or(0.0);
        let sizes = (0..self.timeline.len())
            .map(|i| self.rungs.iter().map(|r| self.size_bits(p, r, i)).collect())
            .collect();
        Ladder::new(self.rungs.iter().map(|r| r.bitrate_kbps).collect(), seg, sizes)
    }

    fn segment<'p>(&self, p: &'p Presentation, rung: &Rung, i: usize) -> Option<&'p Segment> {
        rendition(p, rung.default)?.segments()?.get(i)
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
    /// `root`, before any clone rewriting.
    pub fn target(
        &self,
        p: &Presentation,
        rung: usize,
        i: usize,
        root: &str,
        init: bool,
    ) -> Option<Target> {
        let rung = self.rungs.get(rung)?;
        let default = rendition(p, rung.default)?;
        let seg = default.segments()?.get(i)?;
        let own = rung.per_pathway.get(root).and_then(|r| rendition(p, *r));
        let (uri, abs, range) = if init {
            let init = seg.init.as_ref()?;
            (&init.uri, &init.url, init.byte_range)
        } else {
            (&seg.uri, &seg.url, seg.byte_range)
        };
        let url = match own {
            // HLS: the same rung on that pathway, with its own playlist.
            Some(r) if r.pathway_id.is_some() && !std::ptr::eq(r, default) => match r
                .segments()
                .and_then(|s| s.get(i))
            {
                Some(s) if init => s.init.as_ref().map_or_else(|| abs.clone(), |x| x.url.clone()),
                Some(s) => s.url.clone(),
                // Not loaded: mirrored paths are assumed (the rfc8216bis norm).
                None => {
                    r.playlist_url.as_deref().map_or_else(|| abs.clone(), |b| url::resolve(b, uri))
                }
            },
            // DASH: one rendition, a base URL per service location.
            _ => match default.bases.iter().find(|b| b.pathway_id.as_deref() == Some(root)) {
                Some(b) if default.pathway_id.is_none() => url::resolve(&b.url, uri),
                _ => abs.clone(),
            },
        };
        Some(Target { url, byte_range: range })
    }

    /// Whether segment `i` of `rung` has an init segment, and which (by URL).
    pub fn init_key(&self, p: &Presentation, rung: usize, i: usize) -> Option<String> {
        let r = self.rungs.get(rung)?;
        self.segment(p, r, i)?.init.as_ref().map(|x| format!("{}#{:?}", x.url, x.byte_range))
    }
}
