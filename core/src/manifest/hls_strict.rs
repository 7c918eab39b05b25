//! The strict pass over an HLS playlist's text.
//!
//! m3u8-rs is lenient: a tag it cannot parse silently becomes an "unknown" tag (an
//! `EXT-X-STREAM-INF` without BANDWIDTH simply vanishes, a `TARGETDURATION:NaN` is
//! ignored). This pass walks the lines first, rejects what RFC 8216 forbids with the
//! line number, records tolerable deviations as warnings, and keeps what the
//! conversion needs that m3u8-rs loses (exact EXTINF durations, line numbers).

use super::attr::{AttrValue, Attrs, parse_attributes};
use super::error::ManifestError;

/// The two kinds of HLS playlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlaylistKind {
    Multivariant,
    Media,
}

/// What the strict pass learned.
#[derive(Debug, Clone)]
pub(crate) struct Scan {
    pub kind: PlaylistKind,
    pub warnings: Vec<String>,
    /// Lines of `EXT-X-STREAM-INF` tags, in order.
    pub variant_lines: Vec<usize>,
    /// Lines of `EXT-X-I-FRAME-STREAM-INF` tags, in order.
    pub iframe_lines: Vec<usize>,
    /// Lines of `EXT-X-MEDIA` tags, in order.
    pub media_lines: Vec<usize>,
    /// Exact EXTINF duration of every segment, in order.
    pub durations: Vec<f64>,
    /// Line of every segment URI, in order.
    pub segment_lines: Vec<usize>,
    /// `EXT-X-SKIP:SKIPPED-SEGMENTS` (LL-HLS delta update).
    pub skipped_segments: u64,
    /// `EXT-X-CONTENT-STEERING` and its line.
    pub steering: Option<(usize, Attrs)>,
    /// `EXT-X-TARGETDURATION` in seconds.
    pub target_duration: Option<u64>,
    /// The text to give m3u8-rs: tolerated deviations repaired (URIs trimmed, stray
    /// or unusable lines blanked), line count unchanged.
    pub clean: String,
}

const MULTIVARIANT_TAGS: &[&str] = &[
    "#EXT-X-STREAM-INF",
    "#EXT-X-I-FRAME-STREAM-INF",
    "#EXT-X-MEDIA",
    "#EXT-X-SESSION-DATA",
    "#EXT-X-SESSION-KEY",
    "#EXT-X-CONTENT-STEERING",
];

const MEDIA_TAGS: &[&str] = &[
    "#EXTINF",
    "#EXT-X-TARGETDURATION",
    "#EXT-X-MEDIA-SEQUENCE",
    "#EXT-X-DISCONTINUITY-SEQUENCE",
    "#EXT-X-ENDLIST",
    "#EXT-X-PLAYLIST-TYPE",
    "#EXT-X-I-FRAMES-ONLY",
    "#EXT-X-BYTERANGE",
    "#EXT-X-DISCONTINUITY",
    "#EXT-X-MAP",
    "#EXT-X-PART-INF",
    "#EXT-X-SERVER-CONTROL",
];

/// Splits a tag line into name and value (`#EXTINF:10,` → `#EXTINF`, `Some("10,")`).
pub(crate) fn split_tag(line: &str) -> (&str, Option<&str>) {
    match line.find(':') {
        Some(i) => (&line[..i], Some(&line[i + 1..])),
        None => (line.trim_end(), None),
    }
}

/// The playlist's lines without line terminators (a leading BOM removed).
pub(crate) fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.trim_start_matches('\u{feff}')
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .enumerate()
        .map(|(i, l)| (i + 1, l))
}

fn decimal_integer(value: Option<&str>) -> Option<u64> {
    let v = value?.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// RFC 8216 decimal-floating-point: digits with an optional fraction, no sign.
pub(crate) fn decimal_float(v: &str) -> Option<f64> {
    let v = v.trim();
    let (int, frac) = match v.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (v, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !frac.is_none_or(digits) {
        return None;
    }
    v.parse().ok().filter(|f: &f64| f.is_finite())
}

fn byte_range_ok(v: &str) -> bool {
    let (len, off) = match v.trim().split_once('@') {
        Some((l, o)) => (l, Some(o)),
        None => (v.trim(), None),
    };
    decimal_integer(Some(len)).is_some() && off.is_none_or(|o| decimal_integer(Some(o)).is_some())
}

struct Validator {
    kind: PlaylistKind,
    warnings: Vec<String>,
    seen: Vec<(&'static str, usize)>,
    scan: Scan,
    pending_extinf: Option<(usize, f64)>,
    pending_variant: Option<usize>,
    endlist: Option<usize>,
    whitespace_uri_lines: Vec<usize>,
    long_segments: Vec<usize>,
}

impl Validator {
    /// Records a tag that may appear once; a second one is an error.
    fn once(&mut self, tag: &'static str, line: usize) -> Result<(), ManifestError> {
        if let Some((_, first)) = self.seen.iter().find(|(t, _)| *t == tag) {
            return Err(ManifestError::hls(
                line,
                format!("{tag} appears again (first on line {first})"),
            ));
        }
        self.seen.push((tag, line));
        Ok(())
    }

    fn attrs(line: usize, tag: &str, value: Option<&str>) -> Result<Attrs, ManifestError> {
        parse_attributes(value.unwrap_or(""))
            .map_err(|e| ManifestError::hls(line, format!("{tag}: {e}")))
    }

    fn variant_attrs(
        n: usize,
        tag: &str,
        value: Option<&str>,
        iframe: bool,
    ) -> Result<(), ManifestError> {
        let a = Self::attrs(n, &tag[1..], value)?;
        match a.get("BANDWIDTH") {
            None => {
                return Err(ManifestError::hls(
                    n,
                    format!("{} without the required BANDWIDTH", &tag[1..]),
                ));
            }
            Some(b) if b.quoted().is_some() || decimal_integer(Some(b.as_str())).is_none() => {
                return Err(ManifestError::hls(
                    n,
                    format!("BANDWIDTH must be a decimal integer, found {:?}", b.as_str()),
                ));
            }
            Some(_) => {}
        }
        for unquoted in ["AVERAGE-BANDWIDTH", "RESOLUTION", "FRAME-RATE"] {
            if let Some(v) = a.get(unquoted)
                && v.quoted().is_some()
            {
                return Err(ManifestError::hls(
                    n,
                    format!("{unquoted} must not be quoted, found \"{}\"", v.as_str()),
                ));
            }
        }
        if let Some(b) = a.get("AVERAGE-BANDWIDTH")
            && decimal_integer(Some(b.as_str())).is_none()
        {
            return Err(ManifestError::hls(
                n,
                format!("AVERAGE-BANDWIDTH must be a decimal integer, found {:?}", b.as_str()),
            ));
        }
        if let Some(r) = a.get("RESOLUTION") {
            let ok = r.as_str().split_once('x').is_some_and(|(w, h)| {
                decimal_integer(Some(w)).is_some() && decimal_integer(Some(h)).is_some()
            });
            if !ok {
                return Err(ManifestError::hls(
                    n,
                    format!("RESOLUTION must be <width>x<height>, found {:?}", r.as_str()),
                ));
            }
        }
        if let Some(f) = a.get("FRAME-RATE")
            && decimal_float(f.as_str()).is_none()
        {
            return Err(ManifestError::hls(
                n,
                format!("FRAME-RATE must be a decimal number, found {:?}", f.as_str()),
            ));
        }
        if iframe && a.quoted("URI").is_none() {
            return Err(ManifestError::hls(
                n,
                "EXT-X-I-FRAME-STREAM-INF needs a quoted URI attribute",
            ));
        }
        Ok(())
    }

    fn tag(&mut self, n: usize, line: &str) -> Result<Option<String>, ManifestError> {
        let (tag, value) = split_tag(line);
        let media = self.kind == PlaylistKind::Media;
        match tag {
            "#EXTM3U" => self.warnings.push(format!("line {n}: #EXTM3U repeated")),
            "#EXT-X-VERSION" => {
                self.once("#EXT-X-VERSION", n)?;
                if decimal_integer(value).is_none() {
                    return Err(ManifestError::hls(
                        n,
                        format!(
                            "EXT-X-VERSION must be a decimal integer, found {:?}",
                            value.unwrap_or("")
                        ),
                    ));
                }
            }
            "#EXT-X-TARGETDURATION" => {
                self.once("#EXT-X-TARGETDURATION", n)?;
                let Some(t) = decimal_integer(value) else {
                    return Err(ManifestError::hls(
                        n,
                        format!(
                            "EXT-X-TARGETDURATION must be a non-negative decimal integer, found {:?}",
                            value.unwrap_or("")
                        ),
                    ));
                };
                if media {
                    self.scan.target_duration = Some(t);
                } else {
                    self.warnings.push(format!(
                        "line {n}: EXT-X-TARGETDURATION in a multivariant playlist, ignored"
                    ));
                }
            }
            "#EXT-X-MEDIA-SEQUENCE" | "#EXT-X-DISCONTINUITY-SEQUENCE" => {
                let name = if tag == "#EXT-X-MEDIA-SEQUENCE" {
                    "#EXT-X-MEDIA-SEQUENCE"
                } else {
                    "#EXT-X-DISCONTINUITY-SEQUENCE"
                };
                self.once(name, n)?;
                if decimal_integer(value).is_none() {
                    return Err(ManifestError::hls(
                        n,
                        format!(
                            "{} must be a non-negative decimal integer, found {:?}",
                            &tag[1..],
                            value.unwrap_or("")
                        ),
                    ));
                }
                if let Some(&first) = self.scan.segment_lines.first() {
                    return Err(ManifestError::hls(
                        n,
                        format!("{} must come before the first segment (line {first})", &tag[1..]),
                    ));
                }
            }
            "#EXT-X-PLAYLIST-TYPE" => {
                self.once("#EXT-X-PLAYLIST-TYPE", n)?;
                let v = value.unwrap_or("").trim();
                if v != "VOD" && v != "EVENT" {
                    return Err(ManifestError::hls(
                        n,
                        format!("EXT-X-PLAYLIST-TYPE must be VOD or EVENT, found {v:?}"),
                    ));
                }
            }
            "#EXT-X-ALLOW-CACHE" => {
                let v = value.unwrap_or("").trim();
                if v != "YES" && v != "NO" {
                    return Err(ManifestError::hls(
                        n,
                        format!("EXT-X-ALLOW-CACHE must be YES or NO, found {v:?}"),
                    ));
                }
            }
            "#EXT-X-ENDLIST" => match self.endlist {
                Some(first) => self
                    .warnings
                    .push(format!("line {n}: EXT-X-ENDLIST repeated (first on line {first})")),
                None => self.endlist = Some(n),
            },
            "#EXTINF" => {
                if let Some(end) = self.endlist {
                    return Err(ManifestError::hls(
                        n,
                        format!("segment after EXT-X-ENDLIST (line {end})"),
                    ));
                }
                if let Some((first, _)) = self.pending_extinf {
                    // m3u8-rs keeps the later EXTINF too, so both sides agree.
                    self.warnings
                        .push(format!("line {first}: EXTINF without a segment URI, ignored"));
                }
                let v = value.unwrap_or("");
                let (dur, has_comma) = match v.split_once(',') {
                    Some((d, _)) => (d, true),
                    None => (v, false),
                };
                let Some(d) = decimal_float(dur) else {
                    return Err(ManifestError::hls(
                        n,
                        format!(
                            "EXTINF duration must be a non-negative decimal number, found {:?}",
                            dur.trim()
                        ),
                    ));
                };
                if !has_comma {
                    self.warnings
                        .push(format!("line {n}: EXTINF without the comma after the duration"));
                }
                self.pending_extinf = Some((n, d));
            }
            "#EXT-X-BYTERANGE" => {
                if let Some(len) = value.and_then(|v| v.trim().strip_suffix('@'))
                    && decimal_integer(Some(len)).is_some()
                {
                    self.warnings
                        .push(format!("line {n}: EXT-X-BYTERANGE ends in '@' without an offset"));
                    return Ok(Some(format!("#EXT-X-BYTERANGE:{}", len.trim())));
                }
                if !byte_range_ok(value.unwrap_or("")) {
                    return Err(ManifestError::hls(
                        n,
                        format!(
                            "EXT-X-BYTERANGE must be <length>[@<offset>], found {:?}",
                            value.unwrap_or("")
                        ),
                    ));
                }
            }
            "#EXT-X-MAP" => {
                let a = Self::attrs(n, "EXT-X-MAP", value)?;
                if a.quoted("URI").is_none() {
                    return Err(ManifestError::hls(n, "EXT-X-MAP needs a quoted URI attribute"));
                }
                if let Some(r) = a.get("BYTERANGE")
                    && (r.quoted().is_none() || !byte_range_ok(r.as_str()))
                {
                    return Err(ManifestError::hls(
                        n,
                        format!(
                            "EXT-X-MAP BYTERANGE {:?} is not a quoted <length>[@<offset>]",
                            r.as_str()
                        ),
                    ));
                }
            }
            "#EXT-X-KEY" => {
                let a = Self::attrs(n, "EXT-X-KEY", value)?;
                if a.get("METHOD").is_none() {
                    return Err(ManifestError::hls(n, "EXT-X-KEY needs a METHOD attribute"));
                }
            }
            "#EXT-X-SKIP" => {
                let a = Self::attrs(n, "EXT-X-SKIP", value)?;
                self.scan.skipped_segments =
                    decimal_integer(a.get("SKIPPED-SEGMENTS").map(|v| v.as_str())).ok_or_else(
                        || ManifestError::hls(n, "EXT-X-SKIP needs a decimal SKIPPED-SEGMENTS"),
                    )?;
            }
            "#EXT-X-STREAM-INF" | "#EXT-X-I-FRAME-STREAM-INF" => {
                let iframe = tag == "#EXT-X-I-FRAME-STREAM-INF";
                if let Some(first) = self.pending_variant {
                    return Err(ManifestError::hls(
                        n,
                        format!("EXT-X-STREAM-INF on line {first} has no URI line"),
                    ));
                }
                match Self::variant_attrs(n, tag, value, iframe) {
                    Ok(()) if iframe => self.scan.iframe_lines.push(n),
                    Ok(()) => {
                        self.scan.variant_lines.push(n);
                        self.pending_variant = Some(n);
                    }
                    // Trick-play variants are optional: drop a broken one, as players do.
                    Err(ManifestError::Hls { message, .. }) if iframe => {
                        self.warnings.push(format!("line {n}: {message}; I-frame variant ignored"));
                        return Ok(Some(String::new()));
                    }
                    Err(e) => return Err(e),
                }
            }
            "#EXT-X-MEDIA" => {
                let a = Self::attrs(n, "EXT-X-MEDIA", value)?;
                let ty = match a.get("TYPE") {
                    Some(AttrValue::Unquoted(t)) => t.as_str(),
                    Some(AttrValue::Quoted(t)) => {
                        return Err(ManifestError::hls(
                            n,
                            format!("EXT-X-MEDIA TYPE must not be quoted, found \"{t}\""),
                        ));
                    }
                    None => "",
                };
                if !matches!(ty, "AUDIO" | "VIDEO" | "SUBTITLES" | "CLOSED-CAPTIONS") {
                    return Err(ManifestError::hls(
                        n,
                        format!(
                            "EXT-X-MEDIA TYPE must be AUDIO, VIDEO, SUBTITLES or CLOSED-CAPTIONS, found {ty:?}"
                        ),
                    ));
                }
                for required in ["GROUP-ID", "NAME"] {
                    if a.quoted(required).is_none() {
                        return Err(ManifestError::hls(
                            n,
                            format!("EXT-X-MEDIA needs a quoted {required}"),
                        ));
                    }
                }
                if ty == "CLOSED-CAPTIONS" {
                    if a.get("URI").is_some() {
                        return Err(ManifestError::hls(
                            n,
                            "EXT-X-MEDIA TYPE=CLOSED-CAPTIONS must not have a URI",
                        ));
                    }
                    if a.get("INSTREAM-ID").is_none() {
                        return Err(ManifestError::hls(
                            n,
                            "EXT-X-MEDIA TYPE=CLOSED-CAPTIONS needs INSTREAM-ID",
                        ));
                    }
                } else if a.get("INSTREAM-ID").is_some() {
                    return Err(ManifestError::hls(
                        n,
                        "INSTREAM-ID is only allowed with TYPE=CLOSED-CAPTIONS",
                    ));
                }
                if ty != "SUBTITLES" && a.get("FORCED").is_some() {
                    return Err(ManifestError::hls(
                        n,
                        "FORCED is only allowed with TYPE=SUBTITLES",
                    ));
                }
                if let Some(u) = a.get("URI")
                    && a.quoted("URI").is_none()
                {
                    return Err(ManifestError::hls(
                        n,
                        format!("EXT-X-MEDIA URI must be quoted, found {:?}", u.as_str()),
                    ));
                }
                self.scan.media_lines.push(n);
            }
            "#EXT-X-CONTENT-STEERING" => {
                self.once("#EXT-X-CONTENT-STEERING", n)?;
                let a = Self::attrs(n, "EXT-X-CONTENT-STEERING", value)?;
                if a.quoted("SERVER-URI").is_none() {
                    return Err(ManifestError::hls(
                        n,
                        "EXT-X-CONTENT-STEERING needs a quoted SERVER-URI",
                    ));
                }
                self.scan.steering = Some((n, a));
            }
            _ => {}
        }
        Ok(None)
    }

    fn uri(&mut self, n: usize, raw: &str) -> Result<Option<String>, ManifestError> {
        if raw.trim() != raw {
            self.whitespace_uri_lines.push(n);
        }
        match self.kind {
            PlaylistKind::Multivariant => {
                if self.pending_variant.take().is_none() {
                    // m3u8-rs would give it to the previous variant: blank it instead.
                    self.warnings.push(format!(
                        "line {n}: URI line not preceded by EXT-X-STREAM-INF, ignored"
                    ));
                    return Ok(Some(String::new()));
                }
            }
            PlaylistKind::Media => {
                if let Some(end) = self.endlist {
                    return Err(ManifestError::hls(
                        n,
                        format!("segment after EXT-X-ENDLIST (line {end})"),
                    ));
                }
                let Some((_, d)) = self.pending_extinf.take() else {
                    return Err(ManifestError::hls(n, "segment URI without a preceding EXTINF"));
                };
                if let Some(t) = self.scan.target_duration
                    && d.round() > t as f64
                {
                    self.long_segments.push(n);
                }
                self.scan.durations.push(d);
                self.scan.segment_lines.push(n);
            }
        }
        Ok((raw.trim() != raw).then(|| raw.trim().to_string()))
    }
}

/// Classifies the playlist from its tags.
fn classify(text: &str) -> Result<PlaylistKind, ManifestError> {
    let mut multivariant: Option<usize> = None;
    let mut segment: Option<usize> = None;
    let mut media_tag = false;
    for (n, line) in lines(text).skip(1) {
        let t = line.trim();
        if !t.starts_with('#') {
            if !t.is_empty() {
                media_tag |= multivariant.is_none();
            }
            continue;
        }
        let (tag, _) = split_tag(t);
        if MULTIVARIANT_TAGS.contains(&tag)
            && tag != "#EXT-X-SESSION-DATA"
            && tag != "#EXT-X-SESSION-KEY"
        {
            multivariant.get_or_insert(n);
        } else if tag == "#EXTINF" {
            segment.get_or_insert(n);
        } else if MEDIA_TAGS.contains(&tag) {
            media_tag = true;
        }
    }
    match (multivariant, segment) {
        (Some(m), Some(s)) => Err(ManifestError::hls(
            s.max(m),
            format!("playlist mixes variant streams (line {m}) and media segments (line {s})"),
        )),
        (Some(_), None) => Ok(PlaylistKind::Multivariant),
        (None, Some(_)) => Ok(PlaylistKind::Media),
        (None, None) if media_tag => Ok(PlaylistKind::Media),
        (None, None) => Err(ManifestError::hls(
            0,
            "neither a multivariant playlist (no EXT-X-STREAM-INF) nor a media playlist (no EXT-X-TARGETDURATION or segments)",
        )),
    }
}

/// Validates `text`; errors name the first offending line.
pub(crate) fn scan(text: &str) -> Result<Scan, ManifestError> {
    if text.trim().is_empty() {
        return Err(ManifestError::Empty);
    }
    let first = lines(text).next().map(|(_, l)| l).unwrap_or("");
    if first.trim_end() != "#EXTM3U" {
        let shown: String = first.chars().take(40).collect();
        return Err(ManifestError::hls(
            1,
            format!("the first line must be #EXTM3U, found {shown:?}"),
        ));
    }
    let kind = classify(text)?;
    let mut v = Validator {
        kind,
        warnings: Vec::new(),
        seen: Vec::new(),
        scan: Scan {
            kind,
            warnings: Vec::new(),
            variant_lines: Vec::new(),
            iframe_lines: Vec::new(),
            media_lines: Vec::new(),
            durations: Vec::new(),
            segment_lines: Vec::new(),
            skipped_segments: 0,
            steering: None,
            target_duration: None,
            clean: String::with_capacity(text.len()),
        },
        pending_extinf: None,
        pending_variant: None,
        endlist: None,
        whitespace_uri_lines: Vec::new(),
        long_segments: Vec::new(),
    };
    let mut blank_with_spaces: Vec<usize> = Vec::new();
    let mut clean = String::with_capacity(text.len());
    clean.push_str("#EXTM3U\n");
    for (n, line) in lines(text).skip(1) {
        let replacement = if line.trim().is_empty() {
            if !line.is_empty() {
                blank_with_spaces.push(n);
            }
            Some(String::new())
        } else if line.trim_start().starts_with('#') {
            let t = line.trim();
            if t.starts_with("#EXT") {
                v.tag(n, t)?.or_else(|| (t != line).then(|| t.to_string()))
            } else {
                None
            }
        } else {
            v.uri(n, line)?
        };
        clean.push_str(replacement.as_deref().unwrap_or(line));
        clean.push('\n');
    }
    if let Some(n) = v.pending_variant {
        return Err(ManifestError::hls(n, "EXT-X-STREAM-INF is not followed by a URI line"));
    }
    if let Some((n, _)) = v.pending_extinf {
        return Err(ManifestError::hls(n, "EXTINF has no segment URI"));
    }
    let mut warnings = v.warnings;
    if kind == PlaylistKind::Media && v.scan.target_duration.is_none() {
        warnings.push("EXT-X-TARGETDURATION is missing (required in a media playlist)".to_string());
    }
    if let (Some(&first), count) = (v.long_segments.first(), v.long_segments.len()) {
        warnings.push(format!(
            "{count} segment(s) longer than EXT-X-TARGETDURATION {}s (first on line {first})",
            v.scan.target_duration.unwrap_or(0)
        ));
    }
    if let Some(&first) = v.whitespace_uri_lines.first() {
        warnings.push(format!(
            "{} URI line(s) with leading or trailing whitespace (first on line {first}), trimmed",
            v.whitespace_uri_lines.len()
        ));
    }
    if let Some(&first) = blank_with_spaces.first() {
        warnings.push(format!("whitespace-only line(s), first on line {first}"));
    }
    v.scan.warnings = warnings;
    v.scan.clean = clean;
    Ok(v.scan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err_line(text: &str) -> (usize, String) {
        match scan(text) {
            Err(ManifestError::Hls { line, message }) => (line, message),
            other => panic!("expected an HLS error, got {other:?}"),
        }
    }

    #[test]
    fn names_the_offending_line() {
        let (line, msg) = err_line("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:abc,\na.ts\n");
        assert_eq!(line, 3);
        assert!(msg.contains("EXTINF duration"), "{msg}");
        let (line, msg) = err_line(
            "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:4,\na.ts\n#EXT-X-ENDLIST\n#EXTINF:4,\nb.ts\n",
        );
        assert_eq!(line, 6);
        assert!(msg.contains("after EXT-X-ENDLIST (line 5)"), "{msg}");
        let (line, _) = err_line("#EXTM3U\n#EXT-X-STREAM-INF:RESOLUTION=1x1\nv.m3u8\n");
        assert_eq!(line, 2);
    }

    #[test]
    fn tolerates_lenient_deviations_with_warnings() {
        let s = scan("#EXTM3U\n#EXTINF:12\n  a.ts \n").unwrap();
        assert_eq!(s.kind, PlaylistKind::Media);
        assert_eq!(s.durations, vec![12.0]);
        assert_eq!(s.warnings.len(), 3, "{:?}", s.warnings);
    }

    #[test]
    fn decimal_float_is_strict() {
        assert_eq!(decimal_float("9.97667"), Some(9.97667));
        assert_eq!(decimal_float("10"), Some(10.0));
        assert_eq!(decimal_float("-1"), None);
        assert_eq!(decimal_float("1e3"), None);
        assert_eq!(decimal_float("NaN"), None);
        assert_eq!(decimal_float(""), None);
    }
}
