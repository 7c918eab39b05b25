//! The strict pass over an HLS playlist's text.
//!
//! m3u8-rs is lenient: a tag it cannot parse silently becomes an "unknown" tag (an
//! `EXT-X-STREAM-INF` without BANDWIDTH simply vanishes, a `TARGETDURATION:NaN` is
//! ignored). This pass walks the lines first, rejects what RFC 8216 forbids with the
//! line number, records tolerable deviations as warnings, and keeps what the
//! conversion needs that m3u8-rs loses (exact EXTINF durations, line numbers).
//!
//! What real playlists get wrong and players still play is accepted with a warning,
//! and repaired in [`Scan::clean`] so m3u8-rs reads what the author meant:
//! - a UTF-8 byte order mark (RFC 8216 §4.1 forbids it; browsers' decoders drop it);
//! - LF and CRLF line ends mixed in one file (either alone is RFC 8216);
//! - whitespace at either end of a tag line, around the `:` after a tag name, around
//!   `=` and `,` in an attribute list, on blank lines and around URI lines;
//! - an enumerated-string written quoted with one of its values (`FORCED="NO"`,
//!   `TYPE="AUDIO"`, `EXT-X-PLAYLIST-TYPE:"VOD"`): read unquoted.
//!
//! What could be read two ways, or fetch the wrong thing, is refused with the line:
//! - a carriage return inside a line (players disagree whether a lone CR ends it);
//! - a quoted enumerated-string that is not one of its values (`DEFAULT="yes"`);
//! - an unquoted value where RFC 8216 wants a quoted-string: any URI (an unquoted
//!   value ends at the first comma), and the attributes the model reads (CODECS,
//!   AUDIO, GROUP-ID, PATHWAY-ID, …); `CLOSED-CAPTIONS` other than the enumerated
//!   `NONE` (`CLOSED-CAPTIONS="NONE"` is a group named NONE and is fine).

use super::attr::{AttrValue, Attrs, parse_attribute_list, parse_attributes};
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

/// Tags read by name besides the two lists above.
const OTHER_TAGS: &[&str] = &[
    "#EXTM3U",
    "#EXT-X-VERSION",
    "#EXT-X-INDEPENDENT-SEGMENTS",
    "#EXT-X-START",
    "#EXT-X-DEFINE",
    "#EXT-X-ALLOW-CACHE",
    "#EXT-X-KEY",
    "#EXT-X-PROGRAM-DATE-TIME",
    "#EXT-X-DATERANGE",
    "#EXT-X-SKIP",
    "#EXT-X-GAP",
    "#EXT-X-BITRATE",
    "#EXT-X-PART",
    "#EXT-X-PRELOAD-HINT",
    "#EXT-X-RENDITION-REPORT",
];

/// Tags whose value is an attribute list (RFC 8216 §4.3, rfc8216bis §4.4).
const ATTRIBUTE_TAGS: &[&str] = &[
    "#EXT-X-KEY",
    "#EXT-X-SESSION-KEY",
    "#EXT-X-MAP",
    "#EXT-X-DATERANGE",
    "#EXT-X-MEDIA",
    "#EXT-X-STREAM-INF",
    "#EXT-X-I-FRAME-STREAM-INF",
    "#EXT-X-SESSION-DATA",
    "#EXT-X-START",
    "#EXT-X-SERVER-CONTROL",
    "#EXT-X-PART-INF",
    "#EXT-X-PART",
    "#EXT-X-PRELOAD-HINT",
    "#EXT-X-RENDITION-REPORT",
    "#EXT-X-SKIP",
    "#EXT-X-CONTENT-STEERING",
    "#EXT-X-DEFINE",
];

/// Attribute-list tags the model reads: a list that does not parse is an error. The
/// others are left to m3u8-rs as they are, as before.
const CHECKED_LIST_TAGS: &[&str] = &[
    "#EXT-X-KEY",
    "#EXT-X-MAP",
    "#EXT-X-MEDIA",
    "#EXT-X-STREAM-INF",
    "#EXT-X-I-FRAME-STREAM-INF",
    "#EXT-X-SKIP",
    "#EXT-X-CONTENT-STEERING",
];

/// The RFC 8216 type of an attribute, where leniency depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AttrType {
    /// An enumerated-string: unquoted, one of `values`. `open`: another unquoted value
    /// is left to m3u8-rs (the spec asks clients to ignore unknown ones); otherwise
    /// it is an error.
    Enum { values: &'static [&'static str], open: bool },
    /// A quoted-string.
    Quoted,
    /// `CLOSED-CAPTIONS`: a quoted-string group id or the enumerated `NONE`.
    ClosedCaptions,
}

const YES_NO: &[&str] = &["YES", "NO"];
const YES: &[&str] = &["YES"];

/// The type of attribute `name` of `tag`, for the attributes the leniency rules cover.
fn attr_type(tag: &str, name: &str) -> Option<AttrType> {
    use AttrType::{ClosedCaptions, Enum, Quoted};
    let closed = |values| Enum { values, open: false };
    let open = |values| Enum { values, open: true };
    let variant = matches!(tag, "#EXT-X-STREAM-INF" | "#EXT-X-I-FRAME-STREAM-INF");
    Some(match (tag, name) {
        ("#EXT-X-MEDIA", "TYPE") => closed(&["AUDIO", "VIDEO", "SUBTITLES", "CLOSED-CAPTIONS"]),
        ("#EXT-X-MEDIA", "DEFAULT" | "AUTOSELECT" | "FORCED") => closed(YES_NO),
        (
            "#EXT-X-MEDIA",
            "GROUP-ID"
            | "LANGUAGE"
            | "ASSOC-LANGUAGE"
            | "NAME"
            | "STABLE-RENDITION-ID"
            | "INSTREAM-ID"
            | "CHARACTERISTICS"
            | "CHANNELS",
        ) => Quoted,
        (_, "HDCP-LEVEL") if variant => open(&["TYPE-0", "TYPE-1", "NONE"]),
        (_, "VIDEO-RANGE") if variant => open(&["SDR", "HLG", "PQ"]),
        (
            _,
            "CODECS"
            | "SUPPLEMENTAL-CODECS"
            | "ALLOWED-CPC"
            | "REQ-VIDEO-LAYOUT"
            | "STABLE-VARIANT-ID"
            | "VIDEO"
            | "PATHWAY-ID",
        ) if variant => Quoted,
        ("#EXT-X-STREAM-INF", "AUDIO" | "SUBTITLES") => Quoted,
        ("#EXT-X-STREAM-INF", "CLOSED-CAPTIONS") => ClosedCaptions,
        ("#EXT-X-KEY" | "#EXT-X-SESSION-KEY", "METHOD") => {
            open(&["NONE", "AES-128", "SAMPLE-AES", "SAMPLE-AES-CTR"])
        }
        ("#EXT-X-KEY" | "#EXT-X-SESSION-KEY", "KEYFORMAT" | "KEYFORMATVERSIONS") => Quoted,
        ("#EXT-X-CONTENT-STEERING", "PATHWAY-ID") => Quoted,
        ("#EXT-X-SESSION-DATA", "FORMAT") => open(&["JSON", "RAW"]),
        ("#EXT-X-START", "PRECISE") => open(YES_NO),
        ("#EXT-X-DATERANGE", "END-ON-NEXT") => open(YES),
        ("#EXT-X-SERVER-CONTROL", "CAN-SKIP-DATERANGES" | "CAN-BLOCK-RELOAD") => open(YES),
        ("#EXT-X-PART", "INDEPENDENT" | "GAP") => open(YES),
        ("#EXT-X-PRELOAD-HINT", "TYPE") => open(&["PART", "MAP"]),
        // Unquoted, a URI ends at its first comma: `URI=a.m3u8?x=1,y=2` reads as
        // URI "a.m3u8?x=1" and an attribute Y. (EXT-X-MAP BYTERANGE, also a
        // quoted-string, keeps its own check in `check_tag`.)
        (_, "URI" | "SERVER-URI") => Quoted,
        _ => return None,
    })
}

/// Tags whose whole value is an enumerated-string.
fn tag_value_enum(tag: &str) -> Option<&'static [&'static str]> {
    match tag {
        "#EXT-X-PLAYLIST-TYPE" => Some(&["VOD", "EVENT"]),
        "#EXT-X-ALLOW-CACHE" => Some(YES_NO),
        _ => None,
    }
}

/// `A`, `A or B`, `A, B or C`.
fn one_of(values: &[&str]) -> String {
    match values.split_last() {
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// An enumerated-string value found quoted and read unquoted.
#[derive(Debug, Clone)]
struct QuotedEnum {
    line: usize,
    /// Tag without `#`, and attribute name (empty for a tag value).
    tag: String,
    name: String,
    value: String,
}

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
    /// Tag or comment lines with whitespace at either end.
    padded_tag_lines: Vec<usize>,
    /// Tag lines with whitespace around `:`, `=` or `,`.
    spaced_tag_lines: Vec<usize>,
    quoted_enums: Vec<QuotedEnum>,
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

    /// Checks one tag line (already trimmed). Returns the line to give m3u8-rs when it
    /// differs from `line`.
    fn tag(&mut self, n: usize, line: &str) -> Result<Option<String>, ManifestError> {
        let (raw_tag, raw_value) = split_tag(line);
        let tag = raw_tag.trim_end();
        let known = MULTIVARIANT_TAGS.contains(&tag)
            || MEDIA_TAGS.contains(&tag)
            || OTHER_TAGS.contains(&tag)
            || ATTRIBUTE_TAGS.contains(&tag);
        if !known {
            // Vendor and unknown tags pass through as they are.
            return Ok(None);
        }
        let mut value = raw_value.map(str::trim_start);
        let mut changed = tag != raw_tag || value != raw_value;
        if changed {
            self.spaced_tag_lines.push(n);
        }
        let canonical: String;
        if ATTRIBUTE_TAGS.contains(&tag) {
            match self.attribute_list(n, tag, value) {
                Ok(Some(list)) => {
                    canonical = list;
                    value = Some(&canonical);
                    changed = true;
                }
                Ok(None) => {}
                // Trick-play variants are optional: drop a broken one, as players do.
                Err(ManifestError::Hls { message, .. }) if tag == "#EXT-X-I-FRAME-STREAM-INF" => {
                    self.warnings.push(format!("line {n}: {message}; I-frame variant ignored"));
                    return Ok(Some(String::new()));
                }
                Err(e) => return Err(e),
            }
        } else if let (Some(values), Some(v)) = (tag_value_enum(tag), value)
            && let Some(inner) = v.strip_prefix('"').and_then(|q| q.strip_suffix('"'))
        {
            if !values.contains(&inner) {
                return Err(ManifestError::hls(
                    n,
                    format!(
                        "{} must be {} (an enumerated-string, unquoted), found \"{inner}\"",
                        &tag[1..],
                        one_of(values)
                    ),
                ));
            }
            self.quoted_enums.push(QuotedEnum {
                line: n,
                tag: tag[1..].to_string(),
                name: String::new(),
                value: inner.to_string(),
            });
            canonical = inner.to_string();
            value = Some(&canonical);
            changed = true;
        }
        let repaired = self.check_tag(n, tag, value)?;
        Ok(repaired.or_else(|| {
            changed.then(|| match value {
                Some(v) => format!("{tag}:{v}"),
                None => tag.to_string(),
            })
        }))
    }

    /// Reads the attribute list of `tag` on line `n`: refuses what is ambiguous, and
    /// returns the list rewritten when it needed repair (stray whitespace, quoted
    /// enumerated-strings).
    fn attribute_list(
        &mut self,
        n: usize,
        tag: &str,
        value: Option<&str>,
    ) -> Result<Option<String>, ManifestError> {
        let (mut attrs, spaced) = match parse_attribute_list(value.unwrap_or("")) {
            Ok(parsed) => parsed,
            Err(e) if CHECKED_LIST_TAGS.contains(&tag) => {
                return Err(ManifestError::hls(n, format!("{}: {e}", &tag[1..])));
            }
            // Left to m3u8-rs as before.
            Err(_) => return Ok(None),
        };
        let t = &tag[1..];
        let mut changed = spaced;
        if spaced && self.spaced_tag_lines.last() != Some(&n) {
            self.spaced_tag_lines.push(n);
        }
        for (name, v) in attrs.0.iter_mut() {
            match (attr_type(tag, name), &*v) {
                (Some(AttrType::Enum { values, .. }), AttrValue::Quoted(q)) => {
                    if !values.contains(&q.as_str()) {
                        return Err(ManifestError::hls(
                            n,
                            format!(
                                "{t} {name} must be {} (an enumerated-string, unquoted), found \"{q}\"",
                                one_of(values)
                            ),
                        ));
                    }
                    self.quoted_enums.push(QuotedEnum {
                        line: n,
                        tag: t.to_string(),
                        name: name.clone(),
                        value: q.clone(),
                    });
                    *v = AttrValue::Unquoted(q.clone());
                    changed = true;
                }
                (Some(AttrType::Enum { values, open: false }), AttrValue::Unquoted(u))
                    if !values.contains(&u.as_str()) =>
                {
                    return Err(ManifestError::hls(
                        n,
                        format!("{t} {name} must be {}, found {u:?}", one_of(values)),
                    ));
                }
                (Some(AttrType::Quoted), AttrValue::Unquoted(u)) => {
                    return Err(ManifestError::hls(
                        n,
                        format!("{t} {name} must be a quoted-string, found unquoted {u:?}"),
                    ));
                }
                (Some(AttrType::ClosedCaptions), AttrValue::Unquoted(u)) if u != "NONE" => {
                    return Err(ManifestError::hls(
                        n,
                        format!(
                            "{t} CLOSED-CAPTIONS must be a quoted group id or NONE, found unquoted {u:?}"
                        ),
                    ));
                }
                _ => {}
            }
        }
        Ok(changed.then(|| attrs.to_text()))
    }

    fn check_tag(
        &mut self,
        n: usize,
        tag: &str,
        value: Option<&str>,
    ) -> Result<Option<String>, ManifestError> {
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
                // attribute_list checked the value and unquoted a quoted one.
                let Some(ty) = a.get("TYPE").map(AttrValue::as_str) else {
                    return Err(ManifestError::hls(n, "EXT-X-MEDIA needs a TYPE attribute"));
                };
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
        let tag = tag.trim_end();
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

/// How the lines of a playlist end.
struct LineEnds {
    /// Lines ending in CRLF (a CR at the very end of the text counts as one).
    crlf: usize,
    /// Lines ending in a bare LF.
    lf: usize,
    first_crlf: Option<usize>,
    first_lf: Option<usize>,
}

/// Counts line terminators, refusing a carriage return inside a line: RFC 8216 ends
/// lines with LF or CRLF, and players split a lone CR differently (some as a line
/// end, some as part of the line), so the same text would be read two ways.
fn line_ends(text: &str) -> Result<LineEnds, ManifestError> {
    let mut ends = LineEnds { crlf: 0, lf: 0, first_crlf: None, first_lf: None };
    let body = text.trim_start_matches('\u{feff}');
    let pieces = body.split('\n').count();
    for (i, raw) in body.split('\n').enumerate() {
        let n = i + 1;
        // Extra CRs before the terminator are trailing whitespace, handled as such.
        if let Some(at) = raw.trim_end_matches('\r').find('\r') {
            let shown: String = raw[..at].chars().take(40).collect();
            return Err(ManifestError::hls(
                n,
                format!(
                    "carriage return (CR) inside the line, after {shown:?}: lines must end in LF or CRLF (RFC 8216 §4.1), and players disagree on whether a lone CR ends a line"
                ),
            ));
        }
        let last = i + 1 == pieces;
        if raw.ends_with('\r') {
            ends.crlf += 1;
            ends.first_crlf.get_or_insert(n);
        } else if !last {
            ends.lf += 1;
            ends.first_lf.get_or_insert(n);
        }
    }
    Ok(ends)
}

/// One warning per (tag, attribute) for the quoted enumerated-strings read unquoted.
fn quoted_enum_warnings(found: &[QuotedEnum]) -> Vec<String> {
    let mut out = Vec::new();
    let mut done: Vec<(&str, &str)> = Vec::new();
    for q in found {
        if done.contains(&(q.tag.as_str(), q.name.as_str())) {
            continue;
        }
        done.push((&q.tag, &q.name));
        let same: Vec<&QuotedEnum> =
            found.iter().filter(|o| o.tag == q.tag && o.name == q.name).collect();
        let (subject, what, read_as) = if q.name.is_empty() {
            let t = &q.tag;
            (t.clone(), format!("{t}:\"{}\"", q.value), format!("{t}:{}", q.value))
        } else {
            let (t, a) = (&q.tag, &q.name);
            (format!("{t} {a}"), format!("{t} {a}=\"{}\"", q.value), format!("{a}={}", q.value))
        };
        out.push(if same.len() == 1 {
            format!(
                "line {}: {what} is quoted, but RFC 8216 makes it an enumerated-string: read as {read_as}",
                q.line
            )
        } else {
            format!(
                "{} quoted enumerated-string values of {subject} read unquoted (first on line {}: {what} read as {read_as})",
                same.len(),
                q.line
            )
        });
    }
    out
}

/// Validates `text`; errors name the first offending line.
pub(crate) fn scan(text: &str) -> Result<Scan, ManifestError> {
    if text.trim().is_empty() {
        return Err(ManifestError::Empty);
    }
    let ends = line_ends(text)?;
    let first = lines(text).next().map(|(_, l)| l).unwrap_or("");
    if first.trim() != "#EXTM3U" {
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
        padded_tag_lines: Vec::new(),
        spaced_tag_lines: Vec::new(),
        quoted_enums: Vec::new(),
    };
    if first != "#EXTM3U" {
        v.padded_tag_lines.push(1);
    }
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
            let tag_line = t.starts_with("#EXT");
            // Trailing whitespace in a comment is the comment's own.
            let padded = if tag_line { t != line } else { line.trim_start() != line };
            if padded {
                v.padded_tag_lines.push(n);
            }
            let repaired = if tag_line { v.tag(n, t)? } else { None };
            repaired.or_else(|| (t != line).then(|| t.to_string()))
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
    let mut warnings = Vec::new();
    if text.starts_with('\u{feff}') {
        warnings.push(
            "UTF-8 byte order mark before #EXTM3U, ignored (RFC 8216 §4.1 forbids one)".to_string(),
        );
    }
    if let (Some(c), Some(l)) = (ends.first_crlf, ends.first_lf) {
        warnings.push(format!(
            "mixed line ends: {} CRLF (first on line {c}) and {} LF (first on line {l}), all read as line ends",
            ends.crlf, ends.lf
        ));
    }
    warnings.append(&mut v.warnings);
    if kind == PlaylistKind::Media && v.scan.target_duration.is_none() {
        warnings.push("EXT-X-TARGETDURATION is missing (required in a media playlist)".to_string());
    }
    if let (Some(&first), count) = (v.long_segments.first(), v.long_segments.len()) {
        warnings.push(format!(
            "{count} segment(s) longer than EXT-X-TARGETDURATION {}s (first on line {first})",
            v.scan.target_duration.unwrap_or(0)
        ));
    }
    warnings.extend(quoted_enum_warnings(&v.quoted_enums));
    if let Some(&first) = v.padded_tag_lines.first() {
        warnings.push(format!(
            "{} tag or comment line(s) with leading or trailing whitespace (first on line {first}), trimmed",
            v.padded_tag_lines.len()
        ));
    }
    if let Some(&first) = v.spaced_tag_lines.first() {
        warnings.push(format!(
            "{} tag line(s) with whitespace around ':', '=' or ',' (first on line {first}), removed",
            v.spaced_tag_lines.len()
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

    const SUBS: &str = "#EXTM3U\n#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"s\",NAME=\"en\",DEFAULT=YES,AUTOSELECT=YES,FORCED=NO,URI=\"s.m3u8\"\n#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"s\",NAME=\"fr\",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI=\"f.m3u8\"\n#EXT-X-STREAM-INF:BANDWIDTH=1000,HDCP-LEVEL=NONE,VIDEO-RANGE=SDR,SUBTITLES=\"s\"\nv.m3u8\n";

    #[test]
    fn quoted_enumerated_strings_are_read_unquoted_with_a_warning() {
        let reference = scan(SUBS).unwrap();
        assert!(reference.warnings.is_empty(), "{:?}", reference.warnings);
        let quoted = SUBS
            .replace("TYPE=SUBTITLES", "TYPE=\"SUBTITLES\"")
            .replace("FORCED=NO", "FORCED=\"NO\"")
            .replace("HDCP-LEVEL=NONE", "HDCP-LEVEL=\"NONE\"");
        let s = scan(&quoted).unwrap();
        // m3u8-rs gets the lists as if they had been written right.
        assert_eq!(s.clean, reference.clean);
        assert_eq!(
            s.warnings,
            [
                "2 quoted enumerated-string values of EXT-X-MEDIA TYPE read unquoted (first on line 2: EXT-X-MEDIA TYPE=\"SUBTITLES\" read as TYPE=SUBTITLES)",
                "2 quoted enumerated-string values of EXT-X-MEDIA FORCED read unquoted (first on line 2: EXT-X-MEDIA FORCED=\"NO\" read as FORCED=NO)",
                "line 4: EXT-X-STREAM-INF HDCP-LEVEL=\"NONE\" is quoted, but RFC 8216 makes it an enumerated-string: read as HDCP-LEVEL=NONE",
            ]
        );
        let media =
            "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:\"VOD\"\n#EXTINF:4,\na.ts\n";
        let s = scan(media).unwrap();
        assert_eq!(s.clean.lines().nth(2), Some("#EXT-X-PLAYLIST-TYPE:VOD"));
        assert_eq!(
            s.warnings,
            [
                "line 3: EXT-X-PLAYLIST-TYPE:\"VOD\" is quoted, but RFC 8216 makes it an enumerated-string: read as EXT-X-PLAYLIST-TYPE:VOD"
            ]
        );
    }

    #[test]
    fn ambiguous_values_are_refused_with_the_line() {
        for (from, to, line, expected) in [
            (
                "FORCED=NO",
                "FORCED=\"no\"",
                2,
                "EXT-X-MEDIA FORCED must be YES or NO (an enumerated-string, unquoted), found \"no\"",
            ),
            (
                "DEFAULT=NO",
                "DEFAULT=\"MAYBE\"",
                3,
                "EXT-X-MEDIA DEFAULT must be YES or NO (an enumerated-string, unquoted), found \"MAYBE\"",
            ),
            (
                "DEFAULT=NO",
                "DEFAULT=MAYBE",
                3,
                "EXT-X-MEDIA DEFAULT must be YES or NO, found \"MAYBE\"",
            ),
            (
                "TYPE=SUBTITLES",
                "TYPE=\"CAPTIONS\"",
                2,
                "EXT-X-MEDIA TYPE must be AUDIO, VIDEO, SUBTITLES or CLOSED-CAPTIONS (an enumerated-string, unquoted), found \"CAPTIONS\"",
            ),
            (
                "HDCP-LEVEL=NONE",
                "HDCP-LEVEL=\"TYPE-2\"",
                4,
                "EXT-X-STREAM-INF HDCP-LEVEL must be TYPE-0, TYPE-1 or NONE (an enumerated-string, unquoted), found \"TYPE-2\"",
            ),
            (
                "URI=\"f.m3u8\"",
                "URI=f.m3u8",
                3,
                "EXT-X-MEDIA URI must be a quoted-string, found unquoted \"f.m3u8\"",
            ),
            (
                "SUBTITLES=\"s\"",
                "SUBTITLES=s",
                4,
                "EXT-X-STREAM-INF SUBTITLES must be a quoted-string, found unquoted \"s\"",
            ),
            (
                "VIDEO-RANGE=SDR",
                "CLOSED-CAPTIONS=cc1",
                4,
                "EXT-X-STREAM-INF CLOSED-CAPTIONS must be a quoted group id or NONE, found unquoted \"cc1\"",
            ),
        ] {
            let text: String = SUBS
                .split_inclusive('\n')
                .enumerate()
                .map(|(i, l)| if i + 1 == line { l.replace(from, to) } else { l.to_string() })
                .collect();
            assert!(text.contains(to));
            assert_eq!(err_line(&text), (line, expected.to_string()), "{to}");
        }
        let media = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-KEY:METHOD=AES-128,URI=k.key?a=1,b=2\n#EXTINF:4,\na.ts\n";
        assert_eq!(
            err_line(media),
            (3, "EXT-X-KEY URI must be a quoted-string, found unquoted \"k.key?a=1\"".to_string())
        );
        let media =
            "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:\"vod\"\n#EXTINF:4,\na.ts\n";
        assert_eq!(err_line(media).0, 3);
    }

    #[test]
    fn closed_captions_none_quoted_is_a_group_id() {
        for cc in ["CLOSED-CAPTIONS=NONE", "CLOSED-CAPTIONS=\"NONE\"", "CLOSED-CAPTIONS=\"cc1\""] {
            let text = SUBS.replace("VIDEO-RANGE=SDR", cc);
            let s = scan(&text).unwrap();
            assert!(s.warnings.is_empty(), "{cc}: {:?}", s.warnings);
            assert!(s.clean.contains(cc), "{cc}: passed on as written");
        }
    }

    #[test]
    fn broken_i_frame_variants_are_dropped_not_fatal() {
        let text = SUBS.replace(
            "v.m3u8\n",
            "v.m3u8\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=100,URI=i.m3u8\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=100,HDCP-LEVEL=\"x\",URI=\"j.m3u8\"\n",
        );
        let s = scan(&text).unwrap();
        assert!(s.iframe_lines.is_empty());
        assert_eq!(
            s.warnings,
            [
                "line 6: EXT-X-I-FRAME-STREAM-INF URI must be a quoted-string, found unquoted \"i.m3u8\"; I-frame variant ignored",
                "line 7: EXT-X-I-FRAME-STREAM-INF HDCP-LEVEL must be TYPE-0, TYPE-1 or NONE (an enumerated-string, unquoted), found \"x\"; I-frame variant ignored",
            ]
        );
    }

    #[test]
    fn line_ends_and_bom() {
        let reference = scan(SUBS).unwrap();
        // CRLF is RFC 8216 (§4.1): the same playlist, nothing to warn about.
        let crlf = scan(&SUBS.replace('\n', "\r\n")).unwrap();
        assert_eq!(crlf.clean, reference.clean);
        assert!(crlf.warnings.is_empty(), "{:?}", crlf.warnings);
        let mixed = scan(&SUBS.replacen('\n', "\r\n", 2)).unwrap();
        assert_eq!(mixed.clean, reference.clean);
        assert_eq!(
            mixed.warnings,
            [
                "mixed line ends: 2 CRLF (first on line 1) and 3 LF (first on line 3), all read as line ends"
            ]
        );
        let bom = scan(&format!("\u{feff}{SUBS}")).unwrap();
        assert_eq!(bom.clean, reference.clean);
        assert_eq!(
            bom.warnings,
            ["UTF-8 byte order mark before #EXTM3U, ignored (RFC 8216 §4.1 forbids one)"]
        );
        // A lone CR: one line to some players, two to others.
        let (line, msg) = err_line(&SUBS.replace("v.m3u8\n", "v.m3u8\rw.m3u8\n"));
        assert_eq!(line, 5);
        assert!(msg.starts_with("carriage return (CR) inside the line, after \"v.m3u8\""), "{msg}");
        let (line, _) = err_line("#EXTM3U\r#EXT-X-TARGETDURATION:4\r#EXTINF:4,\ra.ts\r");
        assert_eq!(line, 1);
        // Extra CRs before the line end are trailing whitespace.
        let s = scan(&SUBS.replace("v.m3u8\n", "v.m3u8\r\r\n")).unwrap();
        assert_eq!(s.clean, reference.clean);
        assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
    }

    #[test]
    fn stray_whitespace_is_removed_with_a_warning() {
        let reference = scan(SUBS).unwrap();
        let messy = SUBS
            .replace("#EXTM3U\n", "#EXTM3U \n")
            .replace(",GROUP-ID", " , GROUP-ID")
            .replace("NAME=\"fr\"", "NAME = \"fr\"")
            .replace("#EXT-X-STREAM-INF:", "\t#EXT-X-STREAM-INF: ")
            .replace("SDR,", "SDR,\t")
            .replace("\"s\"\n", "\"s\"\t\n");
        let s = scan(&messy).unwrap();
        assert_eq!(s.clean, reference.clean);
        assert_eq!(
            s.warnings,
            [
                "2 tag or comment line(s) with leading or trailing whitespace (first on line 1), trimmed",
                "3 tag line(s) with whitespace around ':', '=' or ',' (first on line 2), removed",
            ]
        );
        // Whitespace inside quotes belongs to the value.
        let quoted_space = SUBS.replace("NAME=\"fr\"", "NAME=\" fr \"");
        let s = scan(&quoted_space).unwrap();
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        assert!(s.clean.contains("NAME=\" fr \""));
        // Before #EXTM3U too; a line before it is still refused.
        let s = scan("  #EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\na.ts\n").unwrap();
        assert_eq!(s.clean, "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\na.ts\n\n");
        assert_eq!(
            s.warnings,
            [
                "1 tag or comment line(s) with leading or trailing whitespace (first on line 1), trimmed"
            ]
        );
        assert_eq!(err_line("\n#EXTM3U\n#EXT-X-TARGETDURATION:4\n").0, 1);
        // Around the ':' of a value tag too.
        let media = "#EXTM3U\n#EXT-X-TARGETDURATION : 4\n#EXTINF: 4,\na.ts\n";
        let s = scan(media).unwrap();
        assert_eq!(s.target_duration, Some(4));
        assert_eq!(s.clean, "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\na.ts\n\n");
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
