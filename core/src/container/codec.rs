//! RFC 6381 codec strings (`avc1.64001f`, `av01.0.08M.08`, `mp4a.40.2`) from a sample
//! entry's configuration box, so manifests can be written from the media itself.

use super::boxes::{Mp4Box, Reader};
use super::error::Fmp4Error;

/// The codec string for a sample entry of type `entry` whose child boxes are
/// `children`; `None` when the configuration needed is absent or the codec is one we
/// do not describe (the caller falls back to the bare four-character code).
pub(crate) fn codec_string<'a>(
    entry: &Mp4Box<'a>,
    children: impl Iterator<Item = Result<Mp4Box<'a>, Fmp4Error>>,
) -> Result<Option<String>, Fmp4Error> {
    let fourcc = entry.kind.as_string();
    for child in children {
        let child = child?;
        let described = match &child.kind.0 {
            b"avcC" => avc(&fourcc, &child)?,
            b"av1C" => av1(&child)?,
            b"esds" => mp4a(&fourcc, &child)?,
            _ => continue,
        };
        return Ok(described);
    }
    Ok(match &entry.kind.0 {
        b"Opus" => Some("opus".to_owned()),
        b"fLaC" => Some("flac".to_owned()),
        _ => None,
    })
}

/// `avc1.PPCCLL`: profile, constraint flags and level from the `avcC` record.
fn avc(fourcc: &str, b: &Mp4Box<'_>) -> Result<Option<String>, Fmp4Error> {
    let mut r = b.reader();
    let _configuration_version = r.u8()?;
    let profile = r.u8()?;
    let constraints = r.u8()?;
    let level = r.u8()?;
    Ok(Some(format!("{fourcc}.{profile:02x}{constraints:02x}{level:02x}")))
}

/// `av01.P.LLT.DD` from the `av1C` record (AV1 codec ISO-BMFF binding §5).
fn av1(b: &Mp4Box<'_>) -> Result<Option<String>, Fmp4Error> {
    let mut r = b.reader();
    let marker_version = r.u8()?;
    if marker_version & 0x80 == 0 {
        return Err(b.bad("av1C marker bit is not set"));
    }
    let profile_level = r.u8()?;
    let flags = r.u8()?;
    let profile = profile_level >> 5;
    let level = profile_level & 0x1f;
    let tier = if flags & 0x80 != 0 { 'H' } else { 'M' };
    let high_bitdepth = flags & 0x40 != 0;
    let twelve_bit = flags & 0x20 != 0;
    let depth = match (high_bitdepth, twelve_bit) {
        (true, true) => 12,
        (true, false) => 10,
        _ => 8,
    };
    Ok(Some(format!("av01.{profile}.{level:02}{tier}.{depth:02}")))
}

/// `mp4a.OO.A`: object type indication and, for MPEG-4 audio, the audio object type
/// from the decoder-specific info, walking the `esds` descriptors (ISO 14496-1 §7.2.6).
fn mp4a(fourcc: &str, b: &Mp4Box<'_>) -> Result<Option<String>, Fmp4Error> {
    let Some((object_type, mut dc)) = decoder_config_descriptor(b)? else { return Ok(None) };
    if object_type != 0x40 {
        return Ok(Some(format!("{fourcc}.{object_type:02x}")));
    }
    let Some(mut dsi) = descriptor(&mut dc, 0x05)? else {
        return Ok(Some(format!("{fourcc}.40")));
    };
    let first = dsi.u8()?;
    let mut audio_object_type = first >> 3;
    if audio_object_type == 31 {
        // Escape value: the real type is 32 plus the next six bits.
        let second = dsi.u8()?;
        audio_object_type = 32 + (((first & 0x07) << 3) | (second >> 5));
    }
    Ok(Some(format!("{fourcc}.40.{audio_object_type}")))
}

/// The `DecoderConfigDescriptor` of an `esds` box: its object type indication and a
/// reader after its fixed fields, where the decoder-specific info follows (ISO
/// 14496-1 §7.2.6.5–6). `None` when the box has no such descriptor.
pub(super) fn decoder_config_descriptor<'a>(
    b: &Mp4Box<'a>,
) -> Result<Option<(u8, Reader<'a>)>, Fmp4Error> {
    let mut r = b.reader();
    r.full_box()?;
    let Some(mut es) = descriptor(&mut r, 0x03)? else { return Ok(None) };
    es.u16()?; // ES_ID
    let es_flags = es.u8()?;
    if es_flags & 0x80 != 0 {
        es.skip(2)?; // dependsOn_ES_ID
    }
    if es_flags & 0x40 != 0 {
        let url_len = es.u8()?;
        es.skip(usize::from(url_len))?;
    }
    if es_flags & 0x20 != 0 {
        es.skip(2)?; // OCR_ES_Id
    }
    let Some(mut dc) = descriptor(&mut es, 0x04)? else { return Ok(None) };
    let object_type = dc.u8()?;
    dc.skip(1 + 3 + 4 + 4)?; // streamType/upStream, bufferSizeDB, maxBitrate, avgBitrate
    Ok(Some((object_type, dc)))
}

/// Finds the next descriptor with `tag` among those at the reader's position, skipping
/// others, and returns a reader over its payload.
pub(super) fn descriptor<'a>(r: &mut Reader<'a>, tag: u8) -> Result<Option<Reader<'a>>, Fmp4Error> {
    while r.remaining() > 0 {
        let this_tag = r.u8()?;
        // The size is a base-128 number of at most four bytes.
        let mut size: usize = 0;
        for _ in 0..4 {
            let byte = r.u8()?;
            size = (size << 7) | usize::from(byte & 0x7f);
            if byte & 0x80 == 0 {
                break;
            }
        }
        let payload = r.sub(size)?;
        if this_tag == tag {
            return Ok(Some(payload));
        }
    }
    Ok(None)
}
