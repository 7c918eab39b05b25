//! On-demand DASH (the ISO/IEC 23009-1 on-demand profile, what most VOD DASH is):
//! each rendition is one file — its init segment, a `sidx` box indexing the media
//! segments, then the media segments end to end — and the MPD addresses it with
//! `SegmentBase@indexRange` and `Initialization@range`, so a player fetches the
//! index, the init segment and every media segment as byte ranges of that file.
//!
//! The files are assembled from the same init and media segments the other streams
//! serve; the `sidx` is written here from their sizes and the durations of
//! `content.json` (in the track's own timescale, on the same tick grid as the
//! `SegmentTimeline` of the template MPD, so both MPDs describe identical segments).

use crate::content::ContentInfo;
use crate::error::OriginError;
use crate::manifests::{self, Site, Timescales};
use crate::paths::Stream;
use crate::renditions::{self, MediaKind, RenditionRef};
use crate::store::StoredRendition;
use bytes::Bytes;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One rendition as a single on-demand file.
#[derive(Debug, Clone)]
pub struct OnDemandFile {
    /// Init segment, `sidx`, media segments.
    pub data: Bytes,
    /// Bytes of the init segment at the start of the file.
    pub init_len: u64,
    /// Where the `sidx` box is: `(offset, length)`.
    pub index: (u64, u64),
    /// Where each media segment is: `(offset, length)`.
    pub segments: Vec<(u64, u64)>,
}

/// The track id the index is about: ffmpeg's CMAF segments carry one track, id 1.
const REFERENCE_ID: u32 = 1;

/// A `sidx` box (version 0 when its times fit in 32 bits, else 1) of media references
/// `(size, duration)` starting at `earliest` ticks, the media right after the box.
pub fn sidx_box(
    timescale: u32,
    earliest: u64,
    references: &[(u32, u32)],
) -> Result<Vec<u8>, OriginError> {
    let count = u16::try_from(references.len()).map_err(|_| {
        OriginError::Invalid(format!("{} segments do not fit one sidx", references.len()))
    })?;
    let version: u8 = u8::from(u32::try_from(earliest).is_err());
    let mut body = vec![version, 0, 0, 0];
    body.extend(REFERENCE_ID.to_be_bytes());
    body.extend(timescale.to_be_bytes());
    if version == 0 {
        body.extend((earliest as u32).to_be_bytes());
        body.extend(0u32.to_be_bytes());
    } else {
        body.extend(earliest.to_be_bytes());
        body.extend(0u64.to_be_bytes());
    }
    body.extend([0, 0]);
    body.extend(count.to_be_bytes());
    for &(size, duration) in references {
        if size >> 31 != 0 {
            return Err(OriginError::Invalid(format!("a {size}-byte segment does not fit a sidx")));
        }
        body.extend(size.to_be_bytes());
        body.extend(duration.to_be_bytes());
        // Every segment starts with a sync sample (SAP type 1) at its start.
        body.extend(0x9000_0000u32.to_be_bytes());
    }
    let size = u32::try_from(body.len() + 8)
        .map_err(|_| OriginError::Invalid("the sidx box is too large".into()))?;
    let mut out = size.to_be_bytes().to_vec();
    out.extend(b"sidx");
    out.extend(body);
    Ok(out)
}

/// The on-demand file of rendition `r`, whose init and media segments are `stored`.
pub fn build(r: &RenditionRef<'_>, stored: &StoredRendition) -> Result<OnDemandFile, OriginError> {
    let ts = stored.timescale;
    let invalid = |what: &str| OriginError::Invalid(format!("rendition {}: {what}", r.id));
    let first = r.segments.first().ok_or_else(|| invalid("no segments"))?;
    let starts: Vec<u64> = r.segments.iter().map(|s| manifests::ticks(s.start_s, ts)).collect();
    let mut references = Vec::with_capacity(r.segments.len());
    for (i, (s, data)) in r.segments.iter().zip(&stored.segments).enumerate() {
        // On the timeline's grid: each duration is the next start less this one.
        let end = starts
            .get(i + 1)
            .copied()
            .unwrap_or_else(|| manifests::ticks(s.start_s + s.duration_s, ts));
        let duration = u32::try_from(end.saturating_sub(starts[i]))
            .map_err(|_| invalid("a segment lasts more than 2^32 ticks"))?;
        let size = u32::try_from(data.len()).map_err(|_| invalid("a segment is over 4 GiB"))?;
        references.push((size, duration));
    }
    let sidx = sidx_box(ts, manifests::ticks(first.start_s, ts), &references)?;
    let init_len = stored.init.len() as u64;
    let media: usize = stored.segments.iter().map(Bytes::len).sum();
    let mut data = Vec::with_capacity(stored.init.len() + sidx.len() + media);
    data.extend_from_slice(&stored.init);
    data.extend_from_slice(&sidx);
    let mut segments = Vec::with_capacity(stored.segments.len());
    for s in &stored.segments {
        segments.push((data.len() as u64, s.len() as u64));
        data.extend_from_slice(s);
    }
    Ok(OnDemandFile {
        data: Bytes::from(data),
        init_len,
        index: (init_len, sidx.len() as u64),
        segments,
    })
}

/// The on-demand file of every rendition of `info`, by id.
pub fn build_all(
    info: &ContentInfo,
    stored: &BTreeMap<String, StoredRendition>,
) -> Result<BTreeMap<String, OnDemandFile>, OriginError> {
    let mut out = BTreeMap::new();
    for r in renditions::all(info) {
        let s = stored
            .get(r.id)
            .ok_or_else(|| OriginError::Invalid(format!("rendition {} is not loaded", r.id)))?;
        out.insert(r.id.to_string(), build(&r, s)?);
    }
    Ok(out)
}

/// `first-last` of `(offset, length)`, as DASH writes byte ranges.
fn range(offset: u64, length: u64) -> String {
    format!("{offset}-{}", (offset + length).saturating_sub(1))
}

/// The addressing of one Representation: its file and where the index and the init
/// segment are in it.
fn segment_base(rid: &str, ts: u32, file: &OnDemandFile) -> String {
    format!(
        "        <BaseURL>{}</BaseURL>\n        <SegmentBase timescale=\"{ts}\" indexRange=\"{}\" indexRangeExact=\"true\">\n          <Initialization range=\"{}\"/>\n        </SegmentBase>\n",
        manifests::xml(&crate::paths::on_demand_file_name(rid)),
        range(file.index.0, file.index.1),
        range(0, file.init_len)
    )
}

/// The on-demand MPD: static, one `BaseURL` per pathway, content steering, and per
/// Representation a `BaseURL` naming its file and a `SegmentBase`. Representations
/// whose file is missing from `files` are left out.
pub fn mpd(
    info: &ContentInfo,
    site: &Site,
    timescales: &Timescales,
    files: &BTreeMap<String, OnDemandFile>,
) -> String {
    let all = renditions::all(info);
    let duration = all.iter().map(RenditionRef::end_s).fold(0.0, f64::max);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" profiles=\"urn:mpeg:dash:profile:isoff-on-demand:2011\" type=\"static\" mediaPresentationDuration=\"{}\" minBufferTime=\"{}\">\n",
        manifests::xs_duration(duration),
        manifests::xs_duration(info.segment_duration_s * 2.0)
    );
    out.push_str(&manifests::mpd_locations(site, Stream::Vod));
    out.push_str("  <Period id=\"0\" start=\"PT0S\">\n");
    let max_w = info.video.iter().map(|v| v.width).max().unwrap_or(0);
    let max_h = info.video.iter().map(|v| v.height).max().unwrap_or(0);
    let _ = writeln!(
        out,
        "    <AdaptationSet id=\"0\" contentType=\"video\" mimeType=\"video/mp4\" subsegmentAlignment=\"true\" subsegmentStartsWithSAP=\"1\" maxWidth=\"{max_w}\" maxHeight=\"{max_h}\">"
    );
    for r in all.iter().filter(|r| r.kind == MediaKind::Video) {
        let (Some(v), Some(file)) = (info.video.iter().find(|v| v.id == r.id), files.get(r.id))
        else {
            continue;
        };
        let _ = writeln!(
            out,
            "      <Representation id=\"{}\" bandwidth=\"{}\" width=\"{}\" height=\"{}\" sar=\"1:1\" frameRate=\"{}\" codecs=\"{}\">",
            manifests::xml(&v.id),
            v.bandwidth_bps,
            v.width,
            v.height,
            manifests::frame_rate(v.frame_rate),
            manifests::xml(&v.codecs)
        );
        out.push_str(&segment_base(r.id, manifests::timescale(info, timescales, r), file));
        out.push_str("      </Representation>\n");
    }
    out.push_str("    </AdaptationSet>\n");
    let a = &info.audio;
    if let (Some(r), Some(file)) =
        (all.iter().find(|r| r.kind == MediaKind::Audio), files.get(&a.id))
    {
        let _ = writeln!(
            out,
            "    <AdaptationSet id=\"1\" contentType=\"audio\" mimeType=\"audio/mp4\" subsegmentAlignment=\"true\" subsegmentStartsWithSAP=\"1\">"
        );
        let _ = writeln!(
            out,
            "      <Representation id=\"{}\" bandwidth=\"{}\" audioSamplingRate=\"{}\" codecs=\"{}\">",
            manifests::xml(&a.id),
            a.bandwidth_bps,
            a.sample_rate,
            manifests::xml(&a.codecs)
        );
        let _ = writeln!(
            out,
            "        <AudioChannelConfiguration schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"{}\"/>",
            a.channels
        );
        out.push_str(&segment_base(r.id, manifests::timescale(info, timescales, r), file));
        out.push_str("      </Representation>\n    </AdaptationSet>\n");
    }
    out.push_str("  </Period>\n</MPD>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidx_version_follows_the_earliest_time() {
        let v0 = sidx_box(1000, 5, &[(10, 2000)]).unwrap();
        assert_eq!((&v0[4..8], v0[8], v0.len()), (&b"sidx"[..], 0, 8 + 24 + 12));
        let v1 = sidx_box(1000, 1 << 40, &[(10, 2000)]).unwrap();
        assert_eq!((v1[8], v1.len()), (1, 8 + 32 + 12));
        assert!(sidx_box(1, 0, &[(1 << 31, 1)]).is_err());
        assert!(sidx_box(1, 0, &vec![(1, 1); 70_000]).is_err());
    }
}
