//! The encoding ladder an ABR rule decides over.
//!
//! A ladder is what every rule needs from a presentation: the nominal bitrate of each
//! rung (ascending), the segment duration and, where known, the size of every segment
//! at every rung. It is built from a parsed manifest, a Sabre movie file or Pensieve's
//! `video_size_N` files, so that the same rules run on all of them.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why a ladder could not be built.
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum LadderError {
    /// The ladder has no rungs.
    #[error("ladder has no renditions")]
    Empty,
    /// Bitrates must be finite, positive and strictly ascending.
    #[error("rendition {index}: bitrate {kbps} kbps is not positive and ascending")]
    BadBitrate {
        /// Rung index.
        index: usize,
        /// The offending bitrate.
        kbps: f64,
    },
    /// The segment duration must be finite and positive.
    #[error("segment duration {0} s is not positive")]
    BadSegmentDuration(f64),
    /// A segment lists sizes for a different number of rungs.
    #[error("segment {segment}: {found} sizes for {expected} renditions")]
    SizeCount {
        /// Segment index.
        segment: usize,
        /// Sizes found.
        found: usize,
        /// Rungs in the ladder.
        expected: usize,
    },
    /// A segment size is negative or not finite.
    #[error("segment {segment}, rendition {rendition}: size {bits} bits is not valid")]
    BadSize {
        /// Segment index.
        segment: usize,
        /// Rung index.
        rendition: usize,
        /// The offending size.
        bits: f64,
    },
    /// A manifest does not say what a ladder needs (e.g. an HLS multivariant playlist
    /// whose media playlists are not loaded yet).
    #[error("manifest cannot give a ladder: {0}")]
    Manifest(String),
}

/// An encoding ladder with per-segment sizes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ladder {
    bitrates_kbps: Vec<f64>,
    segment_duration_s: f64,
    /// `segment_sizes_bits[segment][rendition]`.
    segment_sizes_bits: Vec<Vec<f64>>,
}

impl Ladder {
    /// Builds a ladder, validating every number.
    pub fn new(
        bitrates_kbps: Vec<f64>,
        segment_duration_s: f64,
        segment_sizes_bits: Vec<Vec<f64>>,
    ) -> Result<Self, LadderError> {
        if bitrates_kbps.is_empty() {
            return Err(LadderError::Empty);
        }
        let mut prev = 0.0;
        for (index, &kbps) in bitrates_kbps.iter().enumerate() {
            if !(kbps.is_finite() && kbps > prev) {
                return Err(LadderError::BadBitrate { index, kbps });
            }
            prev = kbps;
        }
        if !(segment_duration_s.is_finite() && segment_duration_s > 0.0) {
            return Err(LadderError::BadSegmentDuration(segment_duration_s));
        }
        for (segment, sizes) in segment_sizes_bits.iter().enumerate() {
            if sizes.len() != bitrates_kbps.len() {
                return Err(LadderError::SizeCount {
                    segment,
                    found: sizes.len(),
                    expected: bitrates_kbps.len(),
                });
            }
            for (rendition, &bits) in sizes.iter().enumerate() {
                if !(bits.is_finite() && bits >= 0.0) {
                    return Err(LadderError::BadSize { segment, rendition, bits });
                }
            }
        }
        Ok(Self { bitrates_kbps, segment_duration_s, segment_sizes_bits })
    }

    /// A constant-bitrate ladder: every segment is exactly `bitrate × duration` bits.
    pub fn constant_bitrate(
        bitrates_kbps: Vec<f64>,
        segment_duration_s: f64,
        segments: usize,
    ) -> Result<Self, LadderError> {
        let sizes = (0..segments)
            .map(|_| bitrates_kbps.iter().map(|b| b * 1000.0 * segment_duration_s).collect())
            .collect();
        Self::new(bitrates_kbps, segment_duration_s, sizes)
    }

    /// Nominal bitrates, ascending, in kbit/s.
    pub fn bitrates_kbps(&self) -> &[f64] {
        &self.bitrates_kbps
    }

    /// Number of rungs.
    pub fn len(&self) -> usize {
        self.bitrates_kbps.len()
    }

    /// Always false: a ladder has at least one rung.
    pub fn is_empty(&self) -> bool {
        self.bitrates_kbps.is_empty()
    }

    /// Segment duration in seconds.
    pub fn segment_duration_s(&self) -> f64 {
        self.segment_duration_s
    }

    /// Number of segments in the presentation.
    pub fn segment_count(&self) -> usize {
        self.segment_sizes_bits.len()
    }

    /// Size in bits of `segment` at `rendition`; falls back to the nominal bitrate
    /// times the duration when the segment is beyond the known list.
    pub fn segment_size_bits(&self, segment: usize, rendition: usize) -> f64 {
        let r = rendition.min(self.len() - 1);
        match self.segment_sizes_bits.get(segment) {
            Some(sizes) => sizes[r],
            None => self.bitrates_kbps[r] * 1000.0 * self.segment_duration_s,
        }
    }

    /// All sizes of one segment (one per rung), if the segment exists.
    pub fn segment_sizes_bits(&self, segment: usize) -> Option<&[f64]> {
        self.segment_sizes_bits.get(segment).map(Vec::as_slice)
    }

    /// The same ladder truncated or repeated (cyclically) to `segments` segments.
    pub fn with_segment_count(&self, segments: usize) -> Self {
        let n = self.segment_sizes_bits.len();
        let sizes = if n == 0 {
            Vec::new()
        } else {
            (0..segments).map(|i| self.segment_sizes_bits[i % n].clone()).collect()
        };
        Self { segment_sizes_bits: sizes, ..self.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_descending_bitrates() {
        assert_eq!(
            Ladder::new(vec![300.0, 200.0], 4.0, vec![]),
            Err(LadderError::BadBitrate { index: 1, kbps: 200.0 })
        );
    }

    #[test]
    fn rejects_ragged_sizes() {
        assert!(matches!(
            Ladder::new(vec![300.0, 700.0], 4.0, vec![vec![1.0]]),
            Err(LadderError::SizeCount { segment: 0, found: 1, expected: 2 })
        ));
    }

    #[test]
    fn repeats_segments_cyclically() {
        let l = Ladder::new(vec![100.0], 2.0, vec![vec![1.0], vec![2.0]]).unwrap();
        let r = l.with_segment_count(5);
        let got: Vec<f64> = (0..5).map(|i| r.segment_size_bits(i, 0)).collect();
        assert_eq!(got, vec![1.0, 2.0, 1.0, 2.0, 1.0]);
    }
}
