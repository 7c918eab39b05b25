//! The segment index box (`sidx`, ISO/IEC 14496-12 §8.16.3): how a DASH on-demand
//! resource (`SegmentBase@indexRange`) says where each of its subsegments lies and how
//! long it plays.
//!
//! Only a flat index is read: every reference must point at media. A hierarchical
//! index (a reference of type 1, pointing at another `sidx`) is refused with
//! [`SidxError::Hierarchical`] rather than followed, since following it would take
//! more range requests whose position only the first index reveals, and packagers of
//! the on-demand profile (MP4Box, Shaka Packager, Bento4, ffmpeg) write flat ones.

use super::boxes::Boxes;
use super::error::Fmp4Error;

/// Why an index range does not hold a usable `sidx`. Offsets are in bytes from the
/// start of the buffer given to [`SegmentIndexBox::parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SidxError {
    /// A box header or field runs short, or a box is malformed.
    #[error(transparent)]
    Box(#[from] Fmp4Error),
    /// The buffer holds no `sidx` box at its top level.
    #[error("no `sidx` box in the {length} bytes of the index range")]
    Missing {
        /// Bytes searched.
        length: u64,
    },
    /// A version other than 0 (32-bit times) or 1 (64-bit times).
    #[error("`sidx` at byte {offset}: version {version} is not 0 or 1")]
    Version {
        /// Where the box starts.
        offset: u64,
        /// The version found.
        version: u8,
    },
    /// A timescale of 0: no time could be expressed in it.
    #[error("`sidx` at byte {offset}: timescale is 0")]
    ZeroTimescale {
        /// Where the box starts.
        offset: u64,
    },
    /// An index of no subsegment.
    #[error("`sidx` at byte {offset} lists no reference")]
    Empty {
        /// Where the box starts.
        offset: u64,
    },
    /// A reference points at another `sidx` (a hierarchical or daisy-chained index),
    /// which is not followed.
    #[error(
        "`sidx` at byte {offset}: reference {reference} points at another `sidx` (a hierarchical index), which is not supported"
    )]
    Hierarchical {
        /// Where the box starts.
        offset: u64,
        /// Index of the reference, from 0.
        reference: usize,
    },
    /// The byte offsets or times of the references add up past 2^64.
    #[error("`sidx` at byte {offset}: reference {reference} ends past 2^64 ({what})")]
    Overflow {
        /// Where the box starts.
        offset: u64,
        /// Index of the reference, from 0.
        reference: usize,
        /// `bytes` or `time`.
        what: &'static str,
    },
}

/// What a `sidx` reference points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceType {
    /// Media: a subsegment (`moof` + `mdat` pairs).
    Media,
    /// Another `sidx` box (hierarchical index).
    Index,
}

/// One reference of a `sidx` box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SidxReference {
    /// What it points at.
    pub reference_type: ReferenceType,
    /// Its size in bytes.
    pub referenced_size: u32,
    /// Its duration in the box's timescale.
    pub subsegment_duration: u32,
    /// Whether it starts with a stream access point.
    pub starts_with_sap: bool,
    /// The SAP type (0 to 7).
    pub sap_type: u8,
    /// Time of the SAP after the start, in the box's timescale.
    pub sap_delta_time: u32,
}

/// A parsed `sidx` box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentIndexBox {
    /// Where the box starts in the buffer parsed.
    pub offset: u64,
    /// Where the byte after the box is in the buffer parsed: `first_offset` counts
    /// from there.
    pub end: u64,
    /// The track (stream) the index is about.
    pub reference_id: u32,
    /// Ticks per second of the times below.
    pub timescale: u32,
    /// Presentation time of the first subsegment, in `timescale` ticks.
    pub earliest_presentation_time: u64,
    /// Bytes from the end of the box to the first subsegment.
    pub first_offset: u64,
    /// The references, in order.
    pub references: Vec<SidxReference>,
}

/// A subsegment of a flat index, located in the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subsegment {
    /// Offset of its first byte in the resource.
    pub offset: u64,
    /// Its size in bytes.
    pub size: u64,
    /// Presentation time of its start, in the index's timescale.
    pub time: u64,
    /// Its duration, in the index's timescale.
    pub duration: u64,
}

/// Bytes of one reference: type/size, duration, SAP fields.
const REFERENCE_BYTES: usize = 12;

impl SegmentIndexBox {
    /// The first `sidx` box at the top level of `data` (boxes before it, such as a
    /// `styp`, are skipped).
    pub fn parse(data: &[u8]) -> Result<Self, SidxError> {
        for b in Boxes::new(data, 0) {
            let b = b?;
            if b.kind != *b"sidx" {
                continue;
            }
            let mut r = b.reader();
            let (version, _flags) = r.full_box()?;
            if version > 1 {
                return Err(SidxError::Version { offset: b.offset, version });
            }
            let reference_id = r.u32()?;
            let timescale = r.u32()?;
            if timescale == 0 {
                return Err(SidxError::ZeroTimescale { offset: b.offset });
            }
            let earliest_presentation_time = r.u32_or_u64(version)?;
            let first_offset = r.u32_or_u64(version)?;
            r.skip(2)?;
            let count = usize::from(r.u16()?);
            // Checked before allocating: a count the body cannot hold is a truncation.
            if count.saturating_mul(REFERENCE_BYTES) > r.remaining() {
                r.skip(count.saturating_mul(REFERENCE_BYTES))?;
            }
            let mut references = Vec::with_capacity(count);
            for _ in 0..count {
                let size = r.u32()?;
                let subsegment_duration = r.u32()?;
                let sap = r.u32()?;
                references.push(SidxReference {
                    reference_type: if size >> 31 == 1 {
                        ReferenceType::Index
                    } else {
                        ReferenceType::Media
                    },
                    referenced_size: size & 0x7fff_ffff,
                    subsegment_duration,
                    starts_with_sap: sap >> 31 == 1,
                    sap_type: ((sap >> 28) & 0x7) as u8,
                    sap_delta_time: sap & 0x0fff_ffff,
                });
            }
            let end = b.body_offset + b.body.len() as u64;
            return Ok(SegmentIndexBox {
                offset: b.offset,
                end,
                reference_id,
                timescale,
                earliest_presentation_time,
                first_offset,
                references,
            });
        }
        Err(SidxError::Missing { length: data.len() as u64 })
    }

    /// The subsegments of a flat index: where each lies in the resource and when it
    /// plays. `buffer_offset` is where the buffer given to [`parse`](Self::parse)
    /// starts in the resource (the first byte of `SegmentBase@indexRange`).
    pub fn subsegments(&self, buffer_offset: u64) -> Result<Vec<Subsegment>, SidxError> {
        if self.references.is_empty() {
            return Err(SidxError::Empty { offset: self.offset });
        }
        let overflow =
            |reference, what| SidxError::Overflow { offset: self.offset, reference, what };
        // `first_offset` counts from the end of this box, wherever it sits in the
        // resource.
        let box_end = buffer_offset.checked_add(self.end).ok_or(overflow(0, "bytes"))?;
        let mut offset = box_end.checked_add(self.first_offset).ok_or(overflow(0, "bytes"))?;
        let mut time = self.earliest_presentation_time;
        let mut out = Vec::with_capacity(self.references.len());
        for (i, r) in self.references.iter().enumerate() {
            if r.reference_type == ReferenceType::Index {
                return Err(SidxError::Hierarchical { offset: self.offset, reference: i });
            }
            let size = u64::from(r.referenced_size);
            let duration = u64::from(r.subsegment_duration);
            out.push(Subsegment { offset, size, time, duration });
            offset = offset.checked_add(size).ok_or(overflow(i, "bytes"))?;
            time = time.checked_add(duration).ok_or(overflow(i, "time"))?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::FourCc;

    /// A `sidx` box of `version` with `refs` as `(type bit, size, duration)`.
    fn sidx(version: u8, ts: u32, ept: u64, first: u64, refs: &[(u32, u32, u32)]) -> Vec<u8> {
        let mut body = vec![version, 0, 0, 0];
        body.extend(1u32.to_be_bytes());
        body.extend(ts.to_be_bytes());
        if version == 0 {
            body.extend((ept as u32).to_be_bytes());
            body.extend((first as u32).to_be_bytes());
        } else {
            body.extend(ept.to_be_bytes());
            body.extend(first.to_be_bytes());
        }
        body.extend([0, 0]);
        body.extend((refs.len() as u16).to_be_bytes());
        for (ty, size, dur) in refs {
            body.extend(((ty << 31) | size).to_be_bytes());
            body.extend(dur.to_be_bytes());
            body.extend((0x9000_0000u32 | 7).to_be_bytes());
        }
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend(b"sidx");
        out.extend(body);
        out
    }

    #[test]
    fn version_0_locates_subsegments_after_the_box() {
        let data = sidx(0, 1000, 500, 10, &[(0, 100, 2000), (0, 150, 2000), (0, 90, 1500)]);
        let b = SegmentIndexBox::parse(&data).unwrap();
        assert_eq!((b.timescale, b.earliest_presentation_time, b.first_offset), (1000, 500, 10));
        assert_eq!(b.end, data.len() as u64);
        let r = b.references[0];
        assert!(r.starts_with_sap && r.sap_type == 1 && r.sap_delta_time == 7);
        // The range (the box) starts at byte 800 of the resource: media starts 10 bytes
        // after the box.
        let subs = b.subsegments(800).unwrap();
        let start = 800 + data.len() as u64 + 10;
        assert_eq!(subs[0], Subsegment { offset: start, size: 100, time: 500, duration: 2000 });
        assert_eq!(subs[1].offset, start + 100);
        assert_eq!(
            subs[2],
            Subsegment { offset: start + 250, size: 90, time: 4500, duration: 1500 }
        );
    }

    #[test]
    fn version_1_reads_64_bit_times_and_offsets() {
        let ept = 5_000_000_000u64;
        let data = sidx(1, 90_000, ept, 0, &[(0, 1, 3)]);
        let b = SegmentIndexBox::parse(&data).unwrap();
        assert_eq!(b.earliest_presentation_time, ept);
        assert_eq!(b.subsegments(0).unwrap()[0].time, ept);
    }

    #[test]
    fn boxes_before_the_index_are_skipped() {
        let mut data = vec![0, 0, 0, 16];
        data.extend(b"styp");
        data.extend(b"msdhmsdh");
        let index = sidx(0, 1, 0, 0, &[(0, 5, 1)]);
        data.extend(&index);
        let b = SegmentIndexBox::parse(&data).unwrap();
        assert_eq!((b.offset, b.end), (16, 16 + index.len() as u64));
        // Offsets count from the end of the box, wherever it sits in the buffer.
        assert_eq!(b.subsegments(100).unwrap()[0].offset, 100 + 16 + index.len() as u64);
    }

    #[test]
    fn malformed_indexes_are_typed_errors_with_offsets() {
        assert_eq!(SegmentIndexBox::parse(&[]), Err(SidxError::Missing { length: 0 }));
        let mut bad = sidx(2, 1, 0, 0, &[(0, 5, 1)]);
        assert_eq!(SegmentIndexBox::parse(&bad), Err(SidxError::Version { offset: 0, version: 2 }));
        bad = sidx(0, 0, 0, 0, &[(0, 5, 1)]);
        assert_eq!(SegmentIndexBox::parse(&bad), Err(SidxError::ZeroTimescale { offset: 0 }));
        let empty = SegmentIndexBox::parse(&sidx(0, 1, 0, 0, &[])).unwrap();
        assert_eq!(empty.subsegments(0), Err(SidxError::Empty { offset: 0 }));
        let nested = SegmentIndexBox::parse(&sidx(0, 1, 0, 0, &[(0, 5, 1), (1, 60, 1)])).unwrap();
        assert_eq!(nested.subsegments(0), Err(SidxError::Hierarchical { offset: 0, reference: 1 }));
        // A count of references the body does not hold: truncated, at the references.
        let mut short = sidx(0, 1, 0, 0, &[(0, 5, 1), (0, 5, 1)]);
        short.truncate(short.len() - 12);
        short[3] -= 12;
        match SegmentIndexBox::parse(&short) {
            Err(SidxError::Box(Fmp4Error::Truncated { box_type, offset, needed, available })) => {
                assert_eq!((box_type, offset, needed, available), (FourCc(*b"sidx"), 32, 24, 12));
            }
            other => panic!("{other:?}"),
        }
        // A box whose header says more than there is.
        let cut = sidx(0, 1, 0, 0, &[(0, 5, 1)]);
        assert!(matches!(
            SegmentIndexBox::parse(&cut[..cut.len() - 1]),
            Err(SidxError::Box(Fmp4Error::Truncated { offset: 0, .. }))
        ));
    }

    #[test]
    fn sums_past_2_64_are_errors() {
        let b =
            SegmentIndexBox::parse(&sidx(1, 1, u64::MAX - 1, 0, &[(0, 5, 1), (0, 5, 1)])).unwrap();
        assert_eq!(
            b.subsegments(0),
            Err(SidxError::Overflow { offset: 0, reference: 1, what: "time" })
        );
        let b = SegmentIndexBox::parse(&sidx(1, 1, 0, u64::MAX - 10, &[(0, 5, 1)])).unwrap();
        assert!(matches!(b.subsegments(0), Err(SidxError::Overflow { what: "bytes", .. })));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn any_bytes_parse_or_fail_without_panicking(
                data in proptest::collection::vec(any::<u8>(), 0..400),
                at in any::<u64>(),
            ) {
                if let Ok(b) = SegmentIndexBox::parse(&data) {
                    prop_assert!(b.end <= data.len() as u64);
                    let _ = b.subsegments(at);
                }
            }

            #[test]
            fn corrupted_indexes_stay_consistent(
                refs in proptest::collection::vec((0u32..2, any::<u32>(), any::<u32>()), 0..20),
                version in 0u8..3,
                ept in any::<u64>(),
                first in any::<u64>(),
                flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
                at in any::<u64>(),
            ) {
                let refs: Vec<(u32, u32, u32)> =
                    refs.into_iter().map(|(t, s, d)| (t, s & 0x7fff_ffff, d)).collect();
                let mut data = sidx(version.min(1), 1000, ept, first, &refs);
                if version == 2 {
                    data[8] = 2;
                }
                for (i, b) in flips {
                    let i = i.index(data.len());
                    data[i] ^= b;
                }
                let Ok(b) = SegmentIndexBox::parse(&data) else { return Ok(()) };
                let Ok(subs) = b.subsegments(at) else { return Ok(()) };
                // A flat index that is accepted lays its subsegments end to end.
                let mut offset = at + b.end + b.first_offset;
                let mut time = b.earliest_presentation_time;
                prop_assert_eq!(subs.len(), b.references.len());
                for (s, r) in subs.iter().zip(&b.references) {
                    prop_assert_eq!(r.reference_type, ReferenceType::Media);
                    prop_assert_eq!((s.offset, s.time), (offset, time));
                    offset += s.size;
                    time += s.duration;
                }
            }
        }
    }
}
