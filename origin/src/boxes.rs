//! A small ISO-BMFF box walker: just enough to read a track's timescale from an init
//! segment and to shift the decode times of a CMAF media segment, which is how the live
//! stream makes looped segments carry ever-increasing timestamps.

use thiserror::Error;

/// A malformed or unsupported box structure.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum BoxError {
    /// A box header or body runs past the end of its container.
    #[error("box {kind:?} at offset {offset} is truncated")]
    Truncated {
        /// Four-character type (or `????` if the header itself is cut).
        kind: String,
        /// Byte offset of the box in the segment.
        offset: usize,
    },
    /// A shifted time does not fit its field.
    #[error("{kind} time {value} does not fit the box's {bits}-bit field")]
    Overflow {
        /// `tfdt` or `sidx`.
        kind: &'static str,
        /// The shifted value.
        value: u64,
        /// Field width.
        bits: u32,
    },
    /// A required box was not found.
    #[error("no {0} box found")]
    Missing(&'static str),
}

/// One box: its type and where its payload lies in the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BoxRef {
    kind: [u8; 4],
    /// Offset of the payload (after the size/type header).
    body: usize,
    /// Offset one past the box's end.
    end: usize,
}

fn kind_name(kind: &[u8]) -> String {
    String::from_utf8_lossy(kind).into_owned()
}

/// The boxes laid out back to back in `data[start..end]`.
fn children(data: &[u8], start: usize, end: usize) -> Result<Vec<BoxRef>, BoxError> {
    let mut out = Vec::new();
    let mut pos = start;
    while pos < end {
        let truncated = |kind: &[u8]| BoxError::Truncated { kind: kind_name(kind), offset: pos };
        let header = data.get(pos..pos + 8).ok_or_else(|| truncated(b"????"))?;
        let size32 = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let kind = [header[4], header[5], header[6], header[7]];
        let (size, header_len) = match size32 {
            // Size 0: the box runs to the end of its container.
            0 => ((end - pos) as u64, 8),
            1 => {
                let large = data.get(pos + 8..pos + 16).ok_or_else(|| truncated(&kind))?;
                let mut b = [0u8; 8];
                b.copy_from_slice(large);
                (u64::from_be_bytes(b), 16)
            }
            n => (u64::from(n), 8),
        };
        let box_end = usize::try_from(size)
            .ok()
            .and_then(|s| pos.checked_add(s))
            .filter(|&e| e <= end && size >= header_len as u64)
            .ok_or_else(|| truncated(&kind))?;
        out.push(BoxRef { kind, body: pos + header_len, end: box_end });
        pos = box_end;
    }
    Ok(out)
}

fn find(data: &[u8], parent: (usize, usize), kind: &[u8; 4]) -> Result<Option<BoxRef>, BoxError> {
    Ok(children(data, parent.0, parent.1)?.into_iter().find(|b| &b.kind == kind))
}

fn read_u32(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn read_u64(data: &[u8], at: usize) -> Option<u64> {
    let b = data.get(at..at + 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Some(u64::from_be_bytes(a))
}

/// The media timescale (`moov/trak/mdia/mdhd`) of the first track of an init segment.
pub fn media_timescale(init: &[u8]) -> Result<u32, BoxError> {
    let moov = find(init, (0, init.len()), b"moov")?.ok_or(BoxError::Missing("moov"))?;
    let trak = find(init, (moov.body, moov.end), b"trak")?.ok_or(BoxError::Missing("trak"))?;
    let mdia = find(init, (trak.body, trak.end), b"mdia")?.ok_or(BoxError::Missing("mdia"))?;
    let mdhd = find(init, (mdia.body, mdia.end), b"mdhd")?.ok_or(BoxError::Missing("mdhd"))?;
    let version = *init.get(mdhd.body).ok_or(BoxError::Missing("mdhd"))?;
    // version/flags, then creation and modification times (4 or 8 bytes each).
    let at = mdhd.body + if version == 1 { 4 + 8 + 8 } else { 4 + 4 + 4 };
    let ts = read_u32(init, at)
        .filter(|&t| at + 4 <= mdhd.end && t > 0)
        .ok_or(BoxError::Truncated { kind: "mdhd".into(), offset: mdhd.body })?;
    Ok(ts)
}

/// `(version, offset of the time field)` of every `moof/traf/tfdt` in a segment.
fn tfdt_fields(seg: &[u8]) -> Result<Vec<(u8, usize)>, BoxError> {
    let mut out = Vec::new();
    for moof in children(seg, 0, seg.len())?.into_iter().filter(|b| &b.kind == b"moof") {
        for traf in children(seg, moof.body, moof.end)?.into_iter().filter(|b| &b.kind == b"traf") {
            for tfdt in
                children(seg, traf.body, traf.end)?.into_iter().filter(|b| &b.kind == b"tfdt")
            {
                let version = *seg
                    .get(tfdt.body)
                    .ok_or(BoxError::Truncated { kind: "tfdt".into(), offset: tfdt.body })?;
                let width = if version == 1 { 8 } else { 4 };
                if tfdt.body + 4 + width > tfdt.end {
                    return Err(BoxError::Truncated { kind: "tfdt".into(), offset: tfdt.body });
                }
                out.push((version, tfdt.body + 4));
            }
        }
    }
    Ok(out)
}

/// The `baseMediaDecodeTime` of the first `tfdt` of a media segment.
pub fn first_decode_time(seg: &[u8]) -> Result<u64, BoxError> {
    let (version, at) = *tfdt_fields(seg)?.first().ok_or(BoxError::Missing("tfdt"))?;
    let v = if version == 1 { read_u64(seg, at) } else { read_u32(seg, at).map(u64::from) };
    v.ok_or(BoxError::Missing("tfdt"))
}

fn write_time(
    seg: &mut [u8],
    at: usize,
    wide: bool,
    offset: u64,
    kind: &'static str,
) -> Result<(), BoxError> {
    let missing = || BoxError::Truncated { kind: kind.into(), offset: at };
    if wide {
        let old = read_u64(seg, at).ok_or_else(missing)?;
        let new = old.checked_add(offset).ok_or(BoxError::Overflow {
            kind,
            value: u64::MAX,
            bits: 64,
        })?;
        seg[at..at + 8].copy_from_slice(&new.to_be_bytes());
    } else {
        let old = u64::from(read_u32(seg, at).ok_or_else(missing)?);
        let new = old.saturating_add(offset);
        let narrow =
            u32::try_from(new).map_err(|_| BoxError::Overflow { kind, value: new, bits: 32 })?;
        seg[at..at + 4].copy_from_slice(&narrow.to_be_bytes());
    }
    Ok(())
}

/// Adds `offset_s` seconds to every decode time of a media segment in place: each
/// `moof/traf/tfdt` (in `timescale` ticks) and a top-level `sidx`'s earliest
/// presentation time (in the `sidx`'s own timescale). Returns how many fields changed.
pub fn shift_decode_times(
    seg: &mut [u8],
    offset_s: f64,
    timescale: u32,
) -> Result<usize, BoxError> {
    let ticks = |ts: u32| (offset_s * f64::from(ts)).round().max(0.0) as u64;
    let mut patched = 0;
    for (version, at) in tfdt_fields(seg)? {
        write_time(seg, at, version == 1, ticks(timescale), "tfdt")?;
        patched += 1;
    }
    let sidxs: Vec<BoxRef> =
        children(seg, 0, seg.len())?.into_iter().filter(|b| &b.kind == b"sidx").collect();
    for sidx in sidxs {
        // version/flags (4), reference_ID (4), timescale (4), then the time field.
        let version = seg.get(sidx.body).copied();
        let ts = read_u32(seg, sidx.body + 8);
        let (Some(version), Some(ts)) = (version, ts) else {
            return Err(BoxError::Truncated { kind: "sidx".into(), offset: sidx.body });
        };
        let at = sidx.body + 12;
        if at + if version == 1 { 8 } else { 4 } > sidx.end {
            return Err(BoxError::Truncated { kind: "sidx".into(), offset: sidx.body });
        }
        write_time(seg, at, version == 1, ticks(ts), "sidx")?;
        patched += 1;
    }
    Ok(patched)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn shifts_v0_and_v1_tfdt() {
        let tfdt0 = bx(b"tfdt", &[0, 0, 0, 0, 0, 0, 0, 10]);
        let tfdt1 = bx(b"tfdt", &[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20]);
        let traf = bx(b"traf", &[tfdt0, tfdt1].concat());
        let mut seg = [bx(b"moof", &traf), bx(b"mdat", &[1, 2, 3])].concat();
        let n = shift_decode_times(&mut seg, 2.0, 1000).unwrap();
        assert_eq!(n, 2);
        assert_eq!(first_decode_time(&seg).unwrap(), 2010);
        let fields = tfdt_fields(&seg).unwrap();
        assert_eq!(read_u64(&seg, fields[1].1), Some(2020));
    }

    #[test]
    fn v0_overflow_is_an_error_not_a_wrap() {
        let traf = bx(b"traf", &bx(b"tfdt", &[0, 0, 0, 0, 0xff, 0xff, 0xff, 0]));
        let mut seg = bx(b"moof", &traf);
        assert!(matches!(
            shift_decode_times(&mut seg, 1.0, 1000),
            Err(BoxError::Overflow { kind: "tfdt", .. })
        ));
    }

    #[test]
    fn truncated_boxes_are_errors() {
        let mut seg = bx(b"moof", &bx(b"traf", &[]));
        seg[3] = 200;
        assert!(matches!(first_decode_time(&seg), Err(BoxError::Truncated { .. })));
        assert!(first_decode_time(&[0, 0]).is_err());
    }
}
