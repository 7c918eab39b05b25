//! The HLS front end: m3u8-rs for the structure, [`hls_strict`](super::hls_strict) for
//! validation and the details m3u8-rs drops, converted into the shared model.

use m3u8_rs::{
    AlternativeMedia, AlternativeMediaType, MediaPlaylist, MediaPlaylistType, VariantStream,
};

use super::attr::parse_attributes;
use super::error::ManifestError;
use super::hls_strict::{self, PlaylistKind, Scan};
use super::model::{
    BaseLocation, ByteRange, ContentSteering, InitSegment, LiveWindow,
    MAX_SEGMENTS_PER_PRESENTATION, ManifestKind, MediaType, Pathway, Period, PlaylistUpdate,
    Presentation, PresentationType, Rendition, Resolution, Segment, SegmentIndex, SegmentList,
    Track,
};
use crate::uri::Url;
use std::sync::Arc;

/// The pathway of variants without `PATHWAY-ID` (rfc8216bis §4.4.6.2).
const DEFAULT_PATHWAY: &str = ".";

/// Most warnings that media playlists add to a presentation (live reloads would
/// otherwise grow the list for as long as the session lasts).
const MAX_WARNINGS: usize = 256;

/// Parses an HLS multivariant or media playlist loaded from `url`.
///
/// A multivariant playlist gives renditions whose [`SegmentIndex`] is `Unresolved`
/// until [`Presentation::apply_media_playlist`] loads them; a media playlist on its
/// own gives one video rendition `v0` with its segments.
pub fn parse_hls(text: &str, url: &Url) -> Result<Presentation, ManifestError> {
    let scan = hls_strict::scan(text)?;
    match scan.kind {
        PlaylistKind::Multivariant => multivariant(url, scan),
        PlaylistKind::Media => single_media(text, url, scan),
    }
}

fn parser_error(what: &str) -> ManifestError {
    ManifestError::hls(0, format!("m3u8-rs could not parse this {what} playlist"))
}

/// The first line m3u8-rs dropped: it keeps tags it cannot parse as "unknown".
fn dropped(kind: &str, lines: &[usize], parsed: usize) -> ManifestError {
    let line = lines.get(parsed).copied().unwrap_or(0);
    ManifestError::hls(line, format!("{kind} tag could not be parsed"))
}

fn other_attr(
    v: &Option<std::collections::HashMap<String, m3u8_rs::QuotedOrUnquoted>>,
    key: &str,
) -> Option<String> {
    v.as_ref().and_then(|m| m.get(key)).map(|q| q.as_str().to_string())
}

fn multivariant(url: &Url, scan: Scan) -> Result<Presentation, ManifestError> {
    let master = m3u8_rs::parse_master_playlist_res(scan.clean.as_bytes())
        .map_err(|_| parser_error("multivariant"))?;
    let (iframes, variants): (Vec<&VariantStream>, Vec<&VariantStream>) =
        master.variants.iter().partition(|v| v.is_i_frame);
    if variants.len() != scan.variant_lines.len() {
        return Err(dropped("EXT-X-STREAM-INF", &scan.variant_lines, variants.len()));
    }
    let mut warnings = scan.warnings;
    if iframes.len() != scan.iframe_lines.len() {
        // Trick-play variants are optional: keep what m3u8-rs could read.
        warnings.push(format!(
            "{} EXT-X-I-FRAME-STREAM-INF tag(s) could not be parsed and were ignored",
            scan.iframe_lines.len().abs_diff(iframes.len())
        ));
    }
    if master.alternatives.len() != scan.media_lines.len() {
        return Err(dropped("EXT-X-MEDIA", &scan.media_lines, master.alternatives.len()));
    }

    let named_pathways =
        master.variants.iter().any(|v| other_attr(&v.other_attributes, "PATHWAY-ID").is_some());
    let steering_tag = master.unknown_tags.iter().find(|t| t.tag == "X-CONTENT-STEERING");
    let uses_pathways = named_pathways || steering_tag.is_some();
    let pathway_of = |v: &VariantStream| {
        uses_pathways.then(|| {
            other_attr(&v.other_attributes, "PATHWAY-ID")
                .unwrap_or_else(|| DEFAULT_PATHWAY.to_string())
        })
    };

    let variant_rendition = |prefix: &str, i: usize, v: &VariantStream, lines: &[usize]| {
        let line = lines.get(i).map_or(0, |l| l + 1);
        let playlist_url = url.join(&v.uri).map_err(|e| ManifestError::hls_url(line, e))?;
        let pathway_id = pathway_of(v);
        Ok::<_, ManifestError>(Rendition {
            id: format!("{prefix}{i}"),
            bandwidth: Some(v.bandwidth),
            average_bandwidth: v.average_bandwidth,
            resolution: v.resolution.map(|r| Resolution { width: r.width, height: r.height }),
            codecs: v.codecs.clone(),
            frame_rate: v.frame_rate,
            mime_type: None,
            stable_id: other_attr(&v.other_attributes, "STABLE-VARIANT-ID"),
            audio_group: v.audio.clone(),
            subtitles_group: v.subtitles.clone(),
            group_id: None,
            bases: vec![BaseLocation { pathway_id: pathway_id.clone(), url: playlist_url.clone() }],
            pathway_id,
            playlist_url: Some(playlist_url),
            index: SegmentIndex::Unresolved,
        })
    };

    let mut tracks = vec![Track::main_video(
        variants
            .iter()
            .enumerate()
            .map(|(i, v)| variant_rendition("v", i, v, &scan.variant_lines))
            .collect::<Result<_, _>>()?,
    )];
    // Line numbers of the I-frame tags are only known when m3u8-rs kept them all.
    let iframe_lines: &[usize] =
        if iframes.len() == scan.iframe_lines.len() { &scan.iframe_lines } else { &[] };
    if !iframes.is_empty() {
        tracks.push(Track {
            id: "iframes".to_string(),
            media_type: MediaType::Video,
            language: None,
            name: None,
            default: false,
            autoselect: false,
            trick_play: true,
            renditions: iframes
                .iter()
                .enumerate()
                .map(|(i, v)| variant_rendition("i", i, v, iframe_lines))
                .collect::<Result<_, _>>()?,
        });
    }
    alternative_tracks(
        &master.alternatives,
        &scan.media_lines,
        &variants,
        url,
        uses_pathways,
        &mut tracks,
        &pathway_of,
    )?;

    let mut pathways: Vec<Pathway> = Vec::new();
    for v in master.variants.iter() {
        if let Some(id) = pathway_of(v)
            && !pathways.iter().any(|p| p.id == id)
        {
            pathways.push(Pathway { id });
        }
    }

    let steering = match steering_tag {
        Some(tag) => {
            let attrs = parse_attributes(tag.rest.as_deref().unwrap_or(""))
                .map_err(|e| ManifestError::hls(scan.steering.as_ref().map_or(0, |s| s.0), e))?;
            let server = attrs.quoted("SERVER-URI").unwrap_or_default();
            let default_pathways: Vec<String> =
                attrs.quoted("PATHWAY-ID").map(|p| vec![p.to_string()]).unwrap_or_default();
            for p in &default_pathways {
                if !pathways.iter().any(|x| &x.id == p) {
                    warnings.push(format!(
                        "EXT-X-CONTENT-STEERING PATHWAY-ID {p:?} matches no variant stream"
                    ));
                }
            }
            let line = scan.steering.as_ref().map_or(0, |s| s.0);
            Some(ContentSteering {
                server_url: url
                    .join_allowing_data(server)
                    .map_err(|e| ManifestError::hls_url(line, e))?,
                default_pathways,
                query_before_start: false,
                client_requirement: true,
                proxy_server_url: None,
            })
        }
        None => None,
    };

    Ok(Presentation {
        kind: ManifestKind::Hls,
        url: url.clone(),
        presentation_type: PresentationType::Undetermined,
        live: None,
        duration_s: None,
        periods: vec![Period { id: None, start_s: 0.0, duration_s: None, tracks }],
        pathways,
        steering,
        warnings,
    })
}

/// Builds one track per (type, name, language) of `EXT-X-MEDIA`, with one rendition
/// per group carrying it: the same language in a low and a high audio group is one
/// track at two bitrates.
fn alternative_tracks(
    alternatives: &[AlternativeMedia],
    lines: &[usize],
    variants: &[&VariantStream],
    url: &Url,
    uses_pathways: bool,
    tracks: &mut Vec<Track>,
    pathway_of: &dyn Fn(&VariantStream) -> Option<String>,
) -> Result<(), ManifestError> {
    let mut counters = [0usize; 4];
    let first_alt_track = tracks.len();
    for (n, alt) in alternatives.iter().enumerate() {
        let (media_type, prefix, slot, label) = match &alt.media_type {
            AlternativeMediaType::Audio => (MediaType::Audio, "a", 0, "audio"),
            AlternativeMediaType::Subtitles => (MediaType::Text, "s", 1, "subtitles"),
            AlternativeMediaType::ClosedCaptions => (MediaType::ClosedCaptions, "c", 2, "cc"),
            AlternativeMediaType::Video | AlternativeMediaType::Other(_) => {
                (MediaType::Video, "x", 3, "video")
            }
        };
        let id = format!("{prefix}{}", counters[slot]);
        counters[slot] += 1;
        // The group's pathway: the one shared by every variant that references it.
        let referencing: Vec<Option<String>> = variants
            .iter()
            .filter(|v| {
                let g = Some(&alt.group_id);
                match media_type {
                    MediaType::Audio => v.audio.as_ref() == g,
                    MediaType::Text => v.subtitles.as_ref() == g,
                    MediaType::Video => v.video.as_ref() == g,
                    _ => false,
                }
            })
            .map(|v| pathway_of(v))
            .collect();
        let pathway_id = match referencing.split_first() {
            Some((first, rest)) if uses_pathways && rest.iter().all(|p| p == first) => {
                first.clone()
            }
            _ => None,
        };
        let line = lines.get(n).copied().unwrap_or(0);
        let playlist_url = alt
            .uri
            .as_deref()
            .map(|u| url.join(u))
            .transpose()
            .map_err(|e| ManifestError::hls_url(line, e))?;
        let rendition = Rendition {
            id,
            bandwidth: None,
            average_bandwidth: None,
            resolution: None,
            codecs: None,
            frame_rate: None,
            mime_type: None,
            stable_id: other_attr(&alt.other_attributes, "STABLE-RENDITION-ID"),
            audio_group: None,
            subtitles_group: None,
            group_id: Some(alt.group_id.clone()),
            bases: playlist_url
                .iter()
                .map(|u| BaseLocation { pathway_id: pathway_id.clone(), url: u.clone() })
                .collect(),
            pathway_id,
            playlist_url,
            index: SegmentIndex::Unresolved,
        };
        let key_matches = |t: &Track| {
            t.media_type == media_type
                && t.name.as_deref() == Some(alt.name.as_str())
                && t.language == alt.language
        };
        match tracks[first_alt_track..].iter_mut().find(|t| key_matches(t)) {
            Some(track) => {
                track.default |= alt.default;
                track.autoselect |= alt.autoselect;
                track.renditions.push(rendition);
            }
            None => {
                let track_id = format!("{label}:{}", alt.name);
                tracks.push(Track {
                    id: track_id,
                    media_type,
                    language: alt.language.clone(),
                    name: Some(alt.name.clone()),
                    default: alt.default,
                    autoselect: alt.autoselect,
                    trick_play: false,
                    renditions: vec![rendition],
                });
            }
        }
    }
    Ok(())
}

/// A media playlist converted to segments, before it is placed in time.
struct MediaConversion {
    list: SegmentList,
    /// `EXT-X-MEDIA-SEQUENCE` (the first segment, skipped ones included).
    media_sequence: u64,
    target_duration_s: Option<f64>,
    warnings: Vec<String>,
}

fn convert_media(text: &str, url: &Url) -> Result<MediaConversion, ManifestError> {
    let scan = hls_strict::scan(text)?;
    if scan.kind != PlaylistKind::Media {
        return Err(ManifestError::Merge(
            "expected a media playlist, got a multivariant playlist".into(),
        ));
    }
    let pl: MediaPlaylist = m3u8_rs::parse_media_playlist_res(scan.clean.as_bytes())
        .map_err(|_| parser_error("media"))?;
    if pl.segments.len() != scan.durations.len() {
        return Err(dropped("segment", &scan.segment_lines, pl.segments.len()));
    }
    let mut warnings = scan.warnings;
    let vod = matches!(pl.playlist_type, Some(MediaPlaylistType::Vod));
    if vod && !pl.end_list {
        warnings.push("EXT-X-PLAYLIST-TYPE:VOD without EXT-X-ENDLIST: treated as ended".into());
    }
    let first_number = pl.media_sequence.saturating_add(scan.skipped_segments);
    if scan.skipped_segments > 0 {
        warnings
            .push(format!("delta update: {} segments skipped (EXT-X-SKIP)", scan.skipped_segments));
    }
    let mut segments = Vec::with_capacity(pl.segments.len());
    if pl.segments.len() > MAX_SEGMENTS_PER_PRESENTATION {
        return Err(ManifestError::TooManySegments {
            at: "HLS media playlist".into(),
            max: MAX_SEGMENTS_PER_PRESENTATION,
        });
    }
    let mut init: Option<Arc<InitSegment>> = None;
    // (uri, end offset) of the previous byte-range segment, for implicit offsets.
    let mut prev_range: Option<(String, u64)> = None;
    let mut start_s = 0.0;
    for (i, (seg, &duration_s)) in pl.segments.iter().zip(&scan.durations).enumerate() {
        let line = scan.segment_lines.get(i).copied().unwrap_or(0);
        // m3u8-rs attaches EXT-X-MAP only to the next segment; it applies until the next one.
        if let Some(m) = &seg.map {
            let uri = m.uri.trim().to_string();
            url.join(&uri).map_err(|e| ManifestError::hls_url(line, e))?;
            init = Some(Arc::new(InitSegment {
                uri,
                byte_range: m
                    .byte_range
                    .as_ref()
                    .map(|r| ByteRange { offset: r.offset.unwrap_or(0), length: r.length }),
            }));
        }
        let uri = seg.uri.trim().to_string();
        // Checked here so that a refused reference is a parse error naming its line;
        // the session resolves it again, against the pathway it requests from.
        url.join(&uri).map_err(|e| ManifestError::hls_url(line, e))?;
        let byte_range = match &seg.byte_range {
            Some(r) => {
                let offset = match (r.offset, &prev_range) {
                    (Some(o), _) => o,
                    (None, Some((prev_uri, end))) if *prev_uri == uri => *end,
                    (None, _) => {
                        if i > 0 {
                            warnings.push(format!(
                                "segment on line {line}: EXT-X-BYTERANGE without offset does not follow a range of the same resource; offset 0 assumed"
                            ));
                        }
                        0
                    }
                };
                let end = offset.checked_add(r.length).ok_or_else(|| {
                    ManifestError::hls(line, "EXT-X-BYTERANGE offset + length overflows")
                })?;
                prev_range = Some((uri.clone(), end));
                Some(ByteRange { offset, length: r.length })
            }
            None => {
                prev_range = None;
                None
            }
        };
        segments.push(Segment {
            uri,
            start_s,
            duration_s,
            number: first_number.saturating_add(i as u64),
            time: None,
            byte_range,
            init: init.clone(),
            discontinuity: seg.discontinuity,
        });
        start_s += duration_s;
    }
    let target_duration_s = scan.target_duration.map(|t| t as f64);
    Ok(MediaConversion {
        list: SegmentList { segments, target_duration_s, ended: pl.end_list || vod },
        media_sequence: pl.media_sequence,
        target_duration_s,
        warnings,
    })
}

fn single_media(text: &str, url: &Url, _scan: Scan) -> Result<Presentation, ManifestError> {
    let rendition = Rendition {
        id: "v0".to_string(),
        bandwidth: None,
        average_bandwidth: None,
        resolution: None,
        codecs: None,
        frame_rate: None,
        mime_type: None,
        pathway_id: None,
        stable_id: None,
        audio_group: None,
        subtitles_group: None,
        group_id: None,
        playlist_url: Some(url.clone()),
        bases: vec![BaseLocation { pathway_id: None, url: url.clone() }],
        index: SegmentIndex::Unresolved,
    };
    let mut p = Presentation {
        kind: ManifestKind::Hls,
        url: url.clone(),
        presentation_type: PresentationType::Undetermined,
        live: None,
        duration_s: None,
        periods: vec![Period {
            id: None,
            start_s: 0.0,
            duration_s: None,
            tracks: vec![Track::main_video(vec![rendition])],
        }],
        pathways: Vec::new(),
        steering: None,
        warnings: Vec::new(),
    };
    p.apply_media_playlist("v0", text, url)?;
    if let Some(d) = p.duration_s
        && let Some(period) = p.periods.first_mut()
    {
        period.duration_s = Some(d);
    }
    Ok(p)
}

/// Where a newly loaded playlist's first segment starts: aligned by media sequence
/// with what is already known, else right after it (gaps estimated at the target
/// duration).
fn placement(old: &[Segment], first_number: u64, target_s: f64) -> Option<f64> {
    if let Some(same) = old.iter().find(|s| s.number == first_number) {
        return Some(same.start_s);
    }
    let (first, last) = (old.first()?, old.last()?);
    if first_number > last.number {
        let gap = (first_number - last.number - 1) as f64;
        Some(last.start_s + last.duration_s + gap * target_s)
    } else {
        let gap = (first.number.saturating_sub(first_number)) as f64;
        Some((first.start_s - gap * target_s).max(0.0))
    }
}

impl Presentation {
    /// Loads (or reloads) the media playlist of HLS rendition `rendition_id` from
    /// `text`, fetched from `url` (the URL after redirects: segment references
    /// resolve against it).
    ///
    /// On the first load the segments are placed on the presentation timeline,
    /// aligned by media sequence number with any rendition already loaded. On a
    /// reload of a live playlist, segments already known keep their start times, new
    /// ones are appended by media sequence, and those that slid out of the window
    /// are dropped; LL-HLS delta updates (`EXT-X-SKIP`) keep the skipped segments
    /// from the previous load.
    pub fn apply_media_playlist(
        &mut self,
        rendition_id: &str,
        text: &str,
        url: &Url,
    ) -> Result<PlaylistUpdate, ManifestError> {
        if self.kind != ManifestKind::Hls {
            return Err(ManifestError::Merge(
                "media playlists apply to HLS presentations only".into(),
            ));
        }
        let conv = convert_media(text, url)?;
        let new_first = conv.list.segments.first().map(|s| s.number);
        let target_s = conv.target_duration_s.unwrap_or_else(|| {
            let n = conv.list.segments.len().max(1) as f64;
            conv.list.segments.iter().map(|s| s.duration_s).sum::<f64>() / n
        });
        let old: Vec<Segment> = match self.rendition(rendition_id) {
            None => return Err(ManifestError::UnknownRendition(rendition_id.to_string())),
            Some(r) => r.segments().map(<[Segment]>::to_vec).unwrap_or_default(),
        };
        let offset = match new_first {
            Some(n) if !old.is_empty() => placement(&old, n, target_s).unwrap_or(0.0),
            Some(n) => {
                // First load: align with another rendition holding the same number.
                self.renditions()
                    .filter_map(|r| r.segments())
                    .find_map(|segs| segs.iter().find(|s| s.number == n).map(|s| s.start_s))
                    .unwrap_or(0.0)
            }
            None => 0.0,
        };
        let window_start = conv.media_sequence;
        let old_last = old.last().map(|s| s.number);
        // Keep known segments inside the window (delta updates list only the tail).
        let mut merged: Vec<Segment> = old
            .iter()
            .filter(|s| s.number >= window_start && new_first.is_none_or(|n| s.number < n))
            .cloned()
            .collect();
        let removed = old.iter().filter(|s| s.number < window_start).count();
        let mut added = 0;
        for mut s in conv.list.segments {
            s.start_s += offset;
            if old_last.is_none_or(|l| s.number > l) {
                added += 1;
            }
            merged.push(s);
        }
        let elsewhere: usize = self
            .renditions()
            .filter(|r| r.id != rendition_id)
            .filter_map(Rendition::segments)
            .map(<[Segment]>::len)
            .sum();
        if elsewhere.saturating_add(merged.len()) > MAX_SEGMENTS_PER_PRESENTATION {
            return Err(ManifestError::TooManySegments {
                at: format!("media playlist of rendition {rendition_id}"),
                max: MAX_SEGMENTS_PER_PRESENTATION,
            });
        }
        let ended = conv.list.ended;
        let end_s = merged.last().map(|s| s.start_s + s.duration_s);
        let Some(r) = self.rendition_mut(rendition_id) else {
            return Err(ManifestError::UnknownRendition(rendition_id.to_string()));
        };
        r.playlist_url = Some(url.clone());
        match r.bases.first_mut() {
            Some(b) => b.url = url.clone(),
            None => {
                r.bases.push(BaseLocation { pathway_id: r.pathway_id.clone(), url: url.clone() })
            }
        }
        r.index = SegmentIndex::Segments(SegmentList {
            segments: merged,
            target_duration_s: conv.list.target_duration_s,
            ended,
        });
        // A live playlist is reloaded every few seconds and repeats its deviations:
        // each is noted once, and at most MAX_WARNINGS in all.
        for w in conv.warnings {
            let w = format!("rendition {rendition_id}: {w}");
            if self.warnings.len() < MAX_WARNINGS && !self.warnings.contains(&w) {
                self.warnings.push(w);
            }
        }
        if ended {
            self.presentation_type = PresentationType::Vod;
            self.live = None;
            if let Some(e) = end_s {
                self.duration_s = Some(self.duration_s.map_or(e, |d| d.max(e)));
            }
        } else {
            self.presentation_type = PresentationType::Live;
            self.live = Some(LiveWindow {
                media_sequence: Some(conv.media_sequence),
                target_duration_s: conv.target_duration_s,
                ..LiveWindow::default()
            });
        }
        Ok(PlaylistUpdate { added, removed, ended })
    }
}
