//! DASH on-demand addressing: a `SegmentBase` rendition is one resource, and its
//! segments are the byte ranges its `sidx` box lists. Once the index range has been
//! fetched, the rendition becomes an explicit segment list like any other, so the
//! session plans, schedules and fails over the same way for every addressing mode.

use super::model::{
    InitSegment, MAX_SEGMENTS_PER_PRESENTATION, Presentation, Segment, SegmentBaseIndex,
    SegmentIndex, SegmentList,
};
use crate::container::{SegmentIndexBox, SidxError};
use std::sync::Arc;

/// Why a `SegmentBase` rendition could not be turned into a segment list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SegmentBaseError {
    /// No `SegmentBase@indexRange`: where the `sidx` is would take fetching and
    /// scanning the start of the resource, which is not done.
    #[error(
        "rendition {rendition}: SegmentBase has no @indexRange (the on-demand profile requires one)"
    )]
    NoIndexRange {
        /// The rendition.
        rendition: String,
    },
    /// No rendition of that id in that period uses `SegmentBase`.
    #[error("period {period} has no SegmentBase rendition {rendition}")]
    UnknownRendition {
        /// Period index.
        period: usize,
        /// The rendition id asked for.
        rendition: String,
    },
    /// The index range does not hold a usable flat `sidx`.
    #[error("rendition {rendition}: segment index at byte {range_offset}: {source}")]
    Index {
        /// The rendition.
        rendition: String,
        /// Where the index range starts in the resource (offsets in `source` count
        /// from there).
        range_offset: u64,
        /// What is wrong with it.
        source: SidxError,
    },
    /// The index lists more segments than a presentation may hold.
    #[error(
        "rendition {rendition}: its index lists {count} segments, more than the presentation may hold ({MAX_SEGMENTS_PER_PRESENTATION} in all)"
    )]
    TooManySegments {
        /// The rendition.
        rendition: String,
        /// Segments the index lists.
        count: usize,
    },
}

impl SegmentBaseIndex {
    /// The segment list of this resource from the bytes of its index range (`index`,
    /// which starts at `index_range.offset` of the resource), for a period starting at
    /// `period_start_s`.
    ///
    /// Each segment is a byte range of the one resource; times are the `sidx` times
    /// less `@presentationTimeOffset`. The init segment is `Initialization` (its
    /// `@range` of this resource, or its own `@sourceURL`), else every byte before the
    /// index: the on-demand profile puts `ftyp` + `moov` there.
    pub fn resolve(&self, index: &[u8], period_start_s: f64) -> Result<SegmentList, SidxError> {
        let range_offset = self.index_range.map_or(0, |r| r.offset);
        let sidx = SegmentIndexBox::parse(index)?;
        let subsegments = sidx.subsegments(range_offset)?;
        let init = match &self.init {
            Some(i) => Some(Arc::new(i.clone())),
            None => (range_offset > 0).then(|| {
                Arc::new(InitSegment {
                    uri: self.uri.clone(),
                    byte_range: Some(super::ByteRange { offset: 0, length: range_offset }),
                })
            }),
        };
        let ts = f64::from(sidx.timescale);
        // `timescale` is never 0: the DASH front end refuses it.
        let pto_s = self.presentation_time_offset as f64 / self.timescale.max(1) as f64;
        let segments: Vec<Segment> = subsegments
            .iter()
            .zip(1u64..)
            .map(|(s, number)| Segment {
                uri: self.uri.clone(),
                start_s: period_start_s + s.time as f64 / ts - pto_s,
                duration_s: s.duration as f64 / ts,
                number,
                time: None,
                byte_range: Some(super::ByteRange { offset: s.offset, length: s.size }),
                init: init.clone(),
                discontinuity: false,
            })
            .collect();
        let target_duration_s = segments.iter().map(|s| s.duration_s).reduce(f64::max);
        Ok(SegmentList { segments, target_duration_s, ended: true })
    }
}

impl Presentation {
    /// Replaces the `SegmentBase` index of rendition `rendition` in period `period`
    /// by the segment list its index range (`index`, the bytes of
    /// `SegmentBase@indexRange`) describes; returns how many segments it lists.
    pub fn apply_segment_index(
        &mut self,
        period: usize,
        rendition: &str,
        index: &[u8],
    ) -> Result<usize, SegmentBaseError> {
        let listed: usize = self.renditions().filter_map(|r| r.segments()).map(<[_]>::len).sum();
        let unknown =
            || SegmentBaseError::UnknownRendition { period, rendition: rendition.to_string() };
        let p = self.periods.get_mut(period).ok_or_else(unknown)?;
        let start_s = p.start_s;
        let r = p
            .tracks
            .iter_mut()
            .flat_map(|t| t.renditions.iter_mut())
            .find(|r| r.id == rendition && matches!(r.index, SegmentIndex::Base(_)))
            .ok_or_else(unknown)?;
        let SegmentIndex::Base(base) = &r.index else { return Err(unknown()) };
        let Some(range) = base.index_range else {
            return Err(SegmentBaseError::NoIndexRange { rendition: rendition.to_string() });
        };
        let list = base.resolve(index, start_s).map_err(|source| SegmentBaseError::Index {
            rendition: rendition.to_string(),
            range_offset: range.offset,
            source,
        })?;
        let count = list.segments.len();
        if listed.saturating_add(count) > MAX_SEGMENTS_PER_PRESENTATION {
            return Err(SegmentBaseError::TooManySegments {
                rendition: rendition.to_string(),
                count,
            });
        }
        r.index = SegmentIndex::Segments(list);
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::ByteRange;
    use crate::uri::Url;

    /// A version-0 `sidx` of media references `(size, duration)` at 1 kHz.
    fn sidx(refs: &[(u32, u32)]) -> Vec<u8> {
        let mut body = vec![0u8; 4];
        body.extend(1u32.to_be_bytes());
        body.extend(1000u32.to_be_bytes());
        body.extend(0u32.to_be_bytes());
        body.extend(0u32.to_be_bytes());
        body.extend([0, 0]);
        body.extend((refs.len() as u16).to_be_bytes());
        for (size, duration) in refs {
            body.extend(size.to_be_bytes());
            body.extend(duration.to_be_bytes());
            body.extend(0x9000_0000u32.to_be_bytes());
        }
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend(b"sidx");
        out.extend(body);
        out
    }

    fn base(init: Option<InitSegment>) -> SegmentBaseIndex {
        SegmentBaseIndex {
            uri: String::new(),
            url: Url::parse("https://cdn.example/v.mp4").unwrap(),
            init,
            index_range: Some(ByteRange { offset: 700, length: 56 }),
            timescale: 90_000,
            presentation_time_offset: 0,
            duration_s: Some(4.0),
        }
    }

    #[test]
    fn without_initialization_the_init_is_every_byte_before_the_index() {
        let list = base(None).resolve(&sidx(&[(10, 2000), (20, 2000)]), 30.0).unwrap();
        let init = list.segments[0].init.as_deref().unwrap();
        assert_eq!(init.byte_range, Some(ByteRange { offset: 0, length: 700 }));
        assert!(list.ended);
        assert_eq!(list.target_duration_s, Some(2.0));
        let s: Vec<(u64, f64, Option<ByteRange>)> =
            list.segments.iter().map(|s| (s.number, s.start_s, s.byte_range)).collect();
        assert_eq!(
            s,
            vec![
                (1, 30.0, Some(ByteRange { offset: 756, length: 10 })),
                (2, 32.0, Some(ByteRange { offset: 766, length: 20 })),
            ]
        );
    }

    #[test]
    fn an_initialization_of_its_own_is_kept() {
        let own = InitSegment { uri: "init.mp4".into(), byte_range: None };
        let list = base(Some(own.clone())).resolve(&sidx(&[(10, 2000)]), 0.0).unwrap();
        assert_eq!(list.segments[0].init.as_deref(), Some(&own));
        assert_eq!(list.segments[0].uri, "");
    }
}
