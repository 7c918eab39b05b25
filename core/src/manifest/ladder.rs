//! Reducing a presentation to the ladder the ABR rules decide over.

use super::model::{MediaType, Presentation, Rendition, SegmentIndex, Track};
use crate::ladder::{Ladder, LadderError};

/// Median of positive, finite values (`None` when there are none).
fn median(mut values: Vec<f64>) -> Option<f64> {
    values.retain(|v| v.is_finite() && *v > 0.0);
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

/// Bits per second a rendition is ranked by: its declared bandwidth, else what its
/// byte ranges measure.
fn rendition_bps(r: &Rendition) -> Option<f64> {
    if let Some(b) = r.ranking_bandwidth().filter(|b| *b > 0) {
        return Some(b as f64);
    }
    let segs = r.segments()?;
    let mut bits = 0.0;
    let mut secs = 0.0;
    for s in segs {
        bits += s.byte_range?.length as f64 * 8.0;
        secs += s.duration_s;
    }
    (secs > 0.0 && bits > 0.0).then_some(bits / secs)
}

impl Presentation {
    /// The main track: in the longest period, the video track (not trick play) with the
    /// most renditions; an audio track for audio-only presentations.
    pub fn main_track(&self) -> Option<&Track> {
        let period = self.periods.iter().enumerate().max_by(|(ia, a), (ib, b)| {
            let la = a.duration_s.unwrap_or(0.0);
            let lb = b.duration_s.unwrap_or(0.0);
            // Equal lengths: prefer the earlier period.
            la.total_cmp(&lb).then(ib.cmp(ia))
        })?;
        let pick = |ty: MediaType| {
            period
                .1
                .tracks
                .iter()
                .filter(|t| t.media_type == ty && !t.trick_play && !t.renditions.is_empty())
                .enumerate()
                .max_by(|(ia, a), (ib, b)| {
                    a.renditions.len().cmp(&b.renditions.len()).then(ib.cmp(ia))
                })
                .map(|(_, t)| t)
        };
        pick(MediaType::Video).or_else(|| pick(MediaType::Audio))
    }

    /// The ladder of the main video track ([`Presentation::main_track`]).
    ///
    /// - Renditions: those of the initial pathway (steering default, else the first)
    ///   when the presentation has pathways, so that copies on other CDNs do not
    ///   count twice. Bitrates are `BANDWIDTH`/`@bandwidth` in kbit/s (measured from
    ///   byte ranges when a rendition declares none), sorted ascending; renditions
    ///   with the same bandwidth are **deduplicated**, keeping the first in document
    ///   order (a ladder rung is a bitrate, and ABR rules need strictly ascending ones).
    /// - Segment duration: the median segment duration (the typical one; the last
    ///   segment is often short).
    /// - Segment sizes: from byte ranges when known, else bandwidth × the segment's
    ///   duration; one row per segment of the longest loaded rendition.
    ///
    /// Errors when no rendition has a bandwidth, or when no segment duration can be
    /// known (HLS media playlists not loaded, DASH SegmentBase whose boundaries live in
    /// the `sidx` box).
    pub fn to_ladder(&self) -> Result<Ladder, LadderError> {
        let track = self.main_track().ok_or(LadderError::Empty)?;
        // The initial pathway: the steering default when this track has it, else the
        // first pathway the track uses.
        let in_track =
            |id: &String| track.renditions.iter().any(|r| r.pathway_id.as_ref() == Some(id));
        let pathway = self
            .steering
            .as_ref()
            .and_then(|s| s.default_pathways.first())
            .filter(|p| in_track(p))
            .or_else(|| self.pathways.iter().map(|p| &p.id).find(|p| in_track(p)));
        let mut rungs: Vec<(f64, &Rendition)> = track
            .renditions
            .iter()
            .filter(|r| match (pathway, &r.pathway_id) {
                (Some(p), Some(rp)) => rp == p,
                _ => true,
            })
            .filter_map(|r| rendition_bps(r).map(|b| (b, r)))
            .collect();
        // Stable sort: among equal bandwidths the first in document order stays first.
        rungs.sort_by(|a, b| a.0.total_cmp(&b.0));
        rungs.dedup_by(|later, earlier| later.0 == earlier.0);
        if rungs.is_empty() {
            return Err(LadderError::Empty);
        }

        let durations: Vec<f64> = rungs
            .iter()
            .find_map(|(_, r)| r.segments().filter(|s| !s.is_empty()))
            .map(|segs| segs.iter().map(|s| s.duration_s).collect())
            .unwrap_or_default();
        let segment_duration_s = match median(durations) {
            Some(d) => d,
            None => {
                let template = rungs.iter().find_map(|(_, r)| match &r.index {
                    SegmentIndex::LiveTemplate(t) => Some(t.segment_duration_s()),
                    _ => None,
                });
                match template {
                    Some(d) => d,
                    None => return Err(LadderError::Manifest(self.why_no_segments(&rungs))),
                }
            }
        };

        let count =
            rungs.iter().filter_map(|(_, r)| r.segments().map(<[_]>::len)).max().unwrap_or(0);
        let sizes = (0..count)
            .map(|i| {
                rungs
                    .iter()
                    .map(|(bps, r)| match r.segments().and_then(|s| s.get(i)) {
                        Some(seg) => match seg.byte_range {
                            Some(br) => br.length as f64 * 8.0,
                            None => bps * seg.duration_s,
                        },
                        None => bps * segment_duration_s,
                    })
                    .collect()
            })
            .collect();
        let kbps = rungs.iter().map(|(b, _)| b / 1000.0).collect();
        Ladder::new(kbps, segment_duration_s, sizes)
    }

    fn why_no_segments(&self, rungs: &[(f64, &Rendition)]) -> String {
        match rungs.first().map(|(_, r)| &r.index) {
            Some(SegmentIndex::Base(_)) => {
                "DASH SegmentBase: segment boundaries are in the sidx box, not in the manifest".into()
            }
            Some(SegmentIndex::Unresolved) => {
                "no segment durations: load the HLS media playlists first (Presentation::apply_media_playlist)".into()
            }
            _ => "no segment durations in the manifest".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_ignores_non_positive() {
        assert_eq!(median(vec![2.0, 2.0, 1.2]), Some(2.0));
        assert_eq!(median(vec![4.0, 0.0, 2.0, 6.0, 8.0]), Some(5.0));
        assert_eq!(median(vec![f64::NAN, 0.0]), None);
    }
}
