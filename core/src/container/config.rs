//! Decoder configuration from an init segment's sample entry: what a decoder needs
//! before the first sample (`avcC`, `av1C`, `esds`) and the colour description a
//! YUV→RGB conversion needs (`colr`).
//!
//! Records are parsed field by field with bounds checks; the raw record bytes are kept
//! too, because decoders such as libavcodec take them verbatim as "extradata".

use super::boxes::{Mp4Box, Reader};
use super::codec::{decoder_config_descriptor, descriptor};
use super::error::{Fmp4Error, FourCc};

/// How to configure a decoder for a track, from its sample entry's configuration box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecoderConfig {
    /// H.264 (`avc1`/`avc3` with `avcC`).
    Avc(AvcConfig),
    /// AV1 (`av01` with `av1C`).
    Av1(Av1Config),
    /// MPEG-4 audio (`mp4a` whose `esds` carries an AudioSpecificConfig).
    Aac(AacConfig),
    /// A sample entry we do not describe, or one lacking its configuration box.
    Unknown {
        /// The sample entry type (for encrypted entries, the original format).
        fourcc: FourCc,
    },
}

/// An `AVCDecoderConfigurationRecord` (ISO 14496-15 §5.3.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcConfig {
    /// `AVCProfileIndication` (66 baseline, 77 main, 100 high…).
    pub profile: u8,
    /// `profile_compatibility`: the constraint-set flags.
    pub constraints: u8,
    /// `AVCLevelIndication` (31 = level 3.1).
    pub level: u8,
    /// Bytes of the big-endian length before each NAL unit in a sample: 1, 2 or 4.
    pub nal_length_size: u8,
    /// Sequence parameter set NAL units, each without a length prefix.
    pub sps: Vec<Vec<u8>>,
    /// Picture parameter set NAL units.
    pub pps: Vec<Vec<u8>>,
    /// `chroma_format_idc` from the High-profile extension, when present.
    pub chroma_format: Option<u8>,
    /// Luma bit depth from the High-profile extension, when present.
    pub bit_depth_luma: Option<u8>,
    /// Chroma bit depth from the High-profile extension, when present.
    pub bit_depth_chroma: Option<u8>,
    /// The whole record, as decoders take it for extradata.
    pub record: Vec<u8>,
}

/// An `AV1CodecConfigurationRecord` (AV1 ISO-BMFF binding §2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Av1Config {
    /// `seq_profile` (0 main, 1 high, 2 professional).
    pub seq_profile: u8,
    /// `seq_level_idx_0`.
    pub seq_level_idx: u8,
    /// `seq_tier_0`: the high tier.
    pub high_tier: bool,
    /// 8, 10 or 12.
    pub bit_depth: u8,
    /// No chroma planes.
    pub monochrome: bool,
    /// Chroma subsampled horizontally (4:2:0 and 4:2:2).
    pub chroma_subsampling_x: bool,
    /// Chroma subsampled vertically (4:2:0).
    pub chroma_subsampling_y: bool,
    /// `chroma_sample_position` (0 unknown, 1 vertical, 2 colocated).
    pub chroma_sample_position: u8,
    /// `initial_presentation_delay_minus_one + 1`, when signalled.
    pub initial_presentation_delay: Option<u8>,
    /// The configuration OBUs (normally the sequence header), in low-overhead format.
    pub config_obus: Vec<u8>,
    /// The whole record.
    pub record: Vec<u8>,
}

/// The MPEG-4 audio configuration from an `esds` (ISO 14496-1 §7.2.6, 14496-3 §1.6.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AacConfig {
    /// `objectTypeIndication` of the DecoderConfigDescriptor (0x40: MPEG-4 audio).
    pub object_type_indication: u8,
    /// `audioObjectType` (2: AAC-LC, 5: SBR, 29: PS…); 0 without a
    /// DecoderSpecificInfo.
    pub audio_object_type: u8,
    /// `samplingFrequencyIndex` (15: explicit frequency).
    pub sample_rate_index: u8,
    /// The sampling frequency in Hz from the index or the explicit field; `None` for
    /// a reserved index.
    pub sample_rate: Option<u32>,
    /// `channelConfiguration` (1 mono, 2 stereo…; 0 means defined in-band).
    pub channel_config: u8,
    /// The AudioSpecificConfig bytes, verbatim.
    pub audio_specific_config: Vec<u8>,
}

/// Colour description of a visual sample entry's `colr` box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Colour {
    /// `nclx` (or QuickTime `nclc`): code points of ISO/IEC 23091-2 (H.273).
    Nclx(NclxColour),
    /// An ICC profile (`rICC`/`prof`), kept verbatim.
    Icc(Vec<u8>),
}

/// Colour code points (ITU-T H.273).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NclxColour {
    /// `colour_primaries` (1: BT.709, 9: BT.2020…).
    pub primaries: u16,
    /// `transfer_characteristics` (1: BT.709, 16: PQ, 18: HLG…).
    pub transfer: u16,
    /// `matrix_coefficients` (1: BT.709, 5/6: BT.601, 9: BT.2020 NCL…).
    pub matrix: u16,
    /// Full-range samples (0–255) rather than limited (16–235); `false` for `nclc`.
    pub full_range: bool,
}

/// The decoder configuration of a sample entry (`entry`, with its four-character code
/// already resolved through `sinf/frma` to `fourcc`) whose child boxes are `children`.
pub(crate) fn decoder_config<'a>(
    fourcc: FourCc,
    children: impl Iterator<Item = Result<Mp4Box<'a>, Fmp4Error>>,
) -> Result<DecoderConfig, Fmp4Error> {
    for child in children {
        let child = child?;
        match (&fourcc.0, &child.kind.0) {
            (b"avc1" | b"avc3" | b"encv", b"avcC") => return avc(&child).map(DecoderConfig::Avc),
            (b"av01" | b"encv", b"av1C") => return av1(&child).map(DecoderConfig::Av1),
            (b"mp4a" | b"enca", b"esds") => {
                if let Some(aac) = aac(&child)? {
                    return Ok(DecoderConfig::Aac(aac));
                }
            }
            _ => {}
        }
    }
    Ok(DecoderConfig::Unknown { fourcc })
}

/// The first `colr` among a visual sample entry's children that we understand.
pub(crate) fn colour<'a>(
    children: impl Iterator<Item = Result<Mp4Box<'a>, Fmp4Error>>,
) -> Result<Option<Colour>, Fmp4Error> {
    for child in children {
        let child = child?;
        if child.kind != *b"colr" {
            continue;
        }
        let mut r = child.reader();
        let colour_type = r.array4()?;
        match &colour_type {
            b"nclx" | b"nclc" => {
                let primaries = r.u16()?;
                let transfer = r.u16()?;
                let matrix = r.u16()?;
                // `nclc` (QuickTime) has no range byte and means limited range.
                let full_range = if &colour_type == b"nclx" { r.u8()? & 0x80 != 0 } else { false };
                return Ok(Some(Colour::Nclx(NclxColour {
                    primaries,
                    transfer,
                    matrix,
                    full_range,
                })));
            }
            b"rICC" | b"prof" => {
                let rest = r.remaining();
                return Ok(Some(Colour::Icc(r.take(rest)?.to_vec())));
            }
            other => {
                tracing::debug!(colour_type = %FourCc(*other), "colr of unknown type; skipped")
            }
        }
    }
    Ok(None)
}

fn avc(b: &Mp4Box<'_>) -> Result<AvcConfig, Fmp4Error> {
    let mut r = b.reader();
    let version = r.u8()?;
    if version != 1 {
        return Err(b.bad(format!("avcC configurationVersion {version}, expected 1")));
    }
    let profile = r.u8()?;
    let constraints = r.u8()?;
    let level = r.u8()?;
    let nal_length_size = (r.u8()? & 0x03) + 1;
    if nal_length_size == 3 {
        return Err(b.bad("NAL length size 3 is not allowed"));
    }
    // Each parameter set costs at least its 2-byte length, so the 5-bit and 8-bit
    // counts stay bounded by the record's bytes as they are read.
    let sps_count = r.u8()? & 0x1f;
    let sps = parameter_sets(&mut r, usize::from(sps_count))?;
    let pps_count = r.u8()?;
    let pps = parameter_sets(&mut r, usize::from(pps_count))?;
    let (mut chroma_format, mut bit_depth_luma, mut bit_depth_chroma) = (None, None, None);
    // The extension exists only for these profiles, and some muxers omit it anyway.
    if matches!(profile, 100 | 110 | 122 | 144) && r.remaining() >= 4 {
        chroma_format = Some(r.u8()? & 0x03);
        bit_depth_luma = Some((r.u8()? & 0x07) + 8);
        bit_depth_chroma = Some((r.u8()? & 0x07) + 8);
    }
    Ok(AvcConfig {
        profile,
        constraints,
        level,
        nal_length_size,
        sps,
        pps,
        chroma_format,
        bit_depth_luma,
        bit_depth_chroma,
        record: b.body.to_vec(),
    })
}

fn parameter_sets(r: &mut Reader<'_>, count: usize) -> Result<Vec<Vec<u8>>, Fmp4Error> {
    let mut sets = Vec::new();
    for _ in 0..count {
        let len = r.u16()?;
        sets.push(r.take(usize::from(len))?.to_vec());
    }
    Ok(sets)
}

fn av1(b: &Mp4Box<'_>) -> Result<Av1Config, Fmp4Error> {
    let mut r = b.reader();
    let marker_version = r.u8()?;
    if marker_version & 0x80 == 0 {
        return Err(b.bad("av1C marker bit is not set"));
    }
    let profile_level = r.u8()?;
    let flags = r.u8()?;
    let delay = r.u8()?;
    let high_bitdepth = flags & 0x40 != 0;
    let twelve_bit = flags & 0x20 != 0;
    let rest = r.remaining();
    Ok(Av1Config {
        seq_profile: profile_level >> 5,
        seq_level_idx: profile_level & 0x1f,
        high_tier: flags & 0x80 != 0,
        bit_depth: match (high_bitdepth, twelve_bit) {
            (true, true) => 12,
            (true, false) => 10,
            _ => 8,
        },
        monochrome: flags & 0x10 != 0,
        chroma_subsampling_x: flags & 0x08 != 0,
        chroma_subsampling_y: flags & 0x04 != 0,
        chroma_sample_position: flags & 0x03,
        initial_presentation_delay: (delay & 0x10 != 0).then_some((delay & 0x0f) + 1),
        config_obus: r.take(rest)?.to_vec(),
        record: b.body.to_vec(),
    })
}

/// Sampling frequencies by `samplingFrequencyIndex` (14496-3 Table 1.18).
const AAC_SAMPLE_RATES: [u32; 13] =
    [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

fn aac(b: &Mp4Box<'_>) -> Result<Option<AacConfig>, Fmp4Error> {
    let Some((object_type_indication, mut dc)) = decoder_config_descriptor(b)? else {
        return Ok(None);
    };
    let Some(mut dsi) = descriptor(&mut dc, 0x05)? else {
        return Ok(Some(AacConfig {
            object_type_indication,
            audio_object_type: 0,
            sample_rate_index: 0,
            sample_rate: None,
            channel_config: 0,
            audio_specific_config: Vec::new(),
        }));
    };
    let asc_offset = dsi.offset();
    let len = dsi.remaining();
    let asc = dsi.take(len)?;
    let mut bits = BitReader { data: asc, pos: 0 };
    let short = || Fmp4Error::Truncated {
        box_type: b.kind,
        offset: asc_offset,
        needed: len as u64 + 1,
        available: len as u64,
    };
    let mut audio_object_type = bits.read(5).ok_or_else(short)?;
    if audio_object_type == 31 {
        audio_object_type = 32 + bits.read(6).ok_or_else(short)?;
    }
    let sample_rate_index = bits.read(4).ok_or_else(short)?;
    let sample_rate = if sample_rate_index == 0x0f {
        Some(bits.read(24).ok_or_else(short)?)
    } else {
        AAC_SAMPLE_RATES.get(sample_rate_index as usize).copied()
    };
    let channel_config = bits.read(4).ok_or_else(short)?;
    // Each value was read from at most 8 bits except the explicit rate, so they fit.
    Ok(Some(AacConfig {
        object_type_indication,
        audio_object_type: audio_object_type as u8,
        sample_rate_index: sample_rate_index as u8,
        sample_rate,
        channel_config: channel_config as u8,
        audio_specific_config: asc.to_vec(),
    }))
}

/// MSB-first bit reader over a byte slice.
struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl BitReader<'_> {
    /// The next `n` (≤ 32) bits, or `None` past the end.
    fn read(&mut self, n: usize) -> Option<u32> {
        let mut value: u32 = 0;
        for _ in 0..n {
            let byte = *self.data.get(self.pos / 8)?;
            let bit = (byte >> (7 - self.pos % 8)) & 1;
            value = (value << 1) | u32::from(bit);
            self.pos += 1;
        }
        Some(value)
    }
}
