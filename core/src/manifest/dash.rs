//! The DASH front end: an MPD read into dash-mpd-core's structs (by its serde reader,
//! feature `dash`, or by the lite reader of `mpd_reader`, feature `dash-lite`), then
//! converted into the shared model (segment addressing resolved, BaseURLs resolved
//! per pathway) by one converter for both readers.

use dash_mpd_core::{
    AdaptationSet, BaseURL, Initialization, MPD, Period as MpdPeriod, Representation, S,
    SegmentBase, SegmentList as MpdSegmentList, SegmentTemplate, SegmentTimeline,
};

use super::error::ManifestError;
use super::model::{
    BaseLocation, ByteRange, ContentSteering, InitSegment, LiveTemplate, LiveWindow,
    MAX_SEGMENTS_PER_PRESENTATION, ManifestKind, MediaType, Pathway, Period, Presentation,
    PresentationType, Rendition, Resolution, Segment, SegmentBaseIndex, SegmentIndex, SegmentList,
    Track, UtcTiming, UtcTimingScheme,
};
use super::template::{TemplateVars, expand};
use super::xml_scan::{oversized_duration, start_tags, text_after, unescape};
use crate::uri::Url;
use std::sync::Arc;

/// Most segments one representation may expand to: a SegmentTimeline `@r` of 10^12
/// must be an error, not an out-of-memory.
pub const MAX_SEGMENTS_PER_REPRESENTATION: usize = 250_000;

/// Parses a DASH MPD loaded from `url`. Dynamic MPDs whose segments depend on the wall
/// clock (SegmentTemplate `@duration` without a timeline) keep a
/// [`SegmentIndex::LiveTemplate`]; use [`parse_dash_at`] to expand them.
///
/// With the `dash` feature the MPD is read by dash-mpd-core's serde reader; with
/// `dash-lite` alone, by the small reader of [`parse_dash_lite`].
pub fn parse_dash(text: &str, url: &Url) -> Result<Presentation, ManifestError> {
    parse_dash_at(text, url, None)
}

/// Parses a DASH MPD as seen at `now_unix_s` (the caller's wall clock, Unix seconds).
/// For dynamic MPDs, live templates expand to the segments available at that time,
/// timelines ending in `r="-1"` repeat up to it, and segments outside the
/// time-shift buffer are dropped. `None` behaves like [`parse_dash`].
pub fn parse_dash_at(
    text: &str,
    url: &Url,
    now_unix_s: Option<f64>,
) -> Result<Presentation, ManifestError> {
    #[cfg(feature = "dash")]
    let reader: fn(&str) -> Result<MPD, ManifestError> = read_serde;
    #[cfg(not(feature = "dash"))]
    let reader: fn(&str) -> Result<MPD, ManifestError> = super::mpd_reader::read_mpd;
    parse_with(text, url, now_unix_s, reader)
}

/// [`parse_dash`] with the lite MPD reader (no serde, a few tens of KB in wasm32),
/// whatever the features: the same checks and the same conversion into the model, so
/// both readers give equal presentations (see the `mpd_reader` module for what the
/// lite reader does not check).
pub fn parse_dash_lite(text: &str, url: &Url) -> Result<Presentation, ManifestError> {
    parse_dash_lite_at(text, url, None)
}

/// [`parse_dash_at`] with the lite MPD reader (see [`parse_dash_lite`]).
pub fn parse_dash_lite_at(
    text: &str,
    url: &Url,
    now_unix_s: Option<f64>,
) -> Result<Presentation, ManifestError> {
    parse_with(text, url, now_unix_s, super::mpd_reader::read_mpd)
}

/// The one path both readers share: the document checks, the MPD read by `reader`,
/// then the conversion.
fn parse_with(
    text: &str,
    url: &Url,
    now_unix_s: Option<f64>,
    reader: fn(&str) -> Result<MPD, ManifestError>,
) -> Result<Presentation, ManifestError> {
    if text.trim().is_empty() {
        return Err(ManifestError::Empty);
    }
    check_document(text)?;
    let (text, early_warnings) = clamp_negative_offsets(text);
    let text = text.as_ref();
    let mpd = reader(text)?;
    let mut converter = Converter::new(text, url, &mpd, now_unix_s);
    converter.warnings = early_warnings;
    converter.run()
}

/// dash-mpd-core's serde reader, its errors given the element path it reports.
#[cfg(feature = "dash")]
fn read_serde(text: &str) -> Result<MPD, ManifestError> {
    dash_mpd_core::parse(text).map_err(|e| {
        let msg = match e {
            dash_mpd_core::DashMpdError::Parsing(s) => s,
            other => other.to_string(),
        };
        // serde_path_to_error prefixes the element path: "Period[0].AdaptationSet…: reason".
        match msg.split_once(": ") {
            Some((path, reason)) if !path.contains(' ') && !path.is_empty() && path != "." => {
                ManifestError::dash(format!("MPD/{}", path.replace('.', "/")), reason)
            }
            _ => ManifestError::dash("MPD", msg),
        }
    })
}

/// `@presentationTimeOffset` is unsigned (ISO/IEC 23009-1), but real MPDs carry
/// negative ones and peers play them: such a value is read as 0, with a warning,
/// instead of failing the whole document.
fn clamp_negative_offsets(text: &str) -> (std::borrow::Cow<'_, str>, Vec<String>) {
    const ATTR: &str = "presentationTimeOffset";
    let mut warnings = Vec::new();
    let mut out = String::new();
    let mut copied = 0;
    let mut search = 0;
    while let Some(found) = text[search..].find(ATTR) {
        let at = search + found;
        search = at + ATTR.len();
        let rest = &text[search..];
        let after_eq = rest.trim_start().strip_prefix('=').map(str::trim_start);
        let Some(value) = after_eq else { continue };
        let Some(quote) = value.chars().next().filter(|q| *q == '"' || *q == '\'') else {
            continue;
        };
        let inner = &value[1..];
        let Some(end) = inner.find(quote) else { continue };
        let v = inner[..end].trim();
        let negative = v
            .strip_prefix('-')
            .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
        if !negative {
            continue;
        }
        let value_start = text.len() - inner.len();
        out.push_str(&text[copied..value_start]);
        out.push('0');
        copied = value_start + end;
        warnings.push(format!("@presentationTimeOffset {v} is negative; read as 0"));
    }
    if warnings.is_empty() {
        return (std::borrow::Cow::Borrowed(text), warnings);
    }
    out.push_str(&text[copied..]);
    (std::borrow::Cow::Owned(out), warnings)
}

/// Document-level checks dash-mpd-core does not make.
fn check_document(text: &str) -> Result<(), ManifestError> {
    let root = start_tags(text)
        .next()
        .ok_or_else(|| ManifestError::dash("document", "no XML element found"))?;
    if root.local_name() != "MPD" {
        return Err(ManifestError::dash(root.name, "the root element must be MPD"));
    }
    if !root.self_closing {
        let closing = format!("</{}", root.name);
        if !text.contains(&closing) {
            return Err(ManifestError::dash(
                "MPD",
                format!("truncated document: no {closing}> end tag"),
            ));
        }
    }
    if let Some((element, attr, value)) = oversized_duration(text) {
        return Err(ManifestError::dash(
            element,
            format!("@{attr}={value:?} is too large a duration"),
        ));
    }
    Ok(())
}

fn secs(d: Option<std::time::Duration>) -> Option<f64> {
    d.map(|d| d.as_secs_f64())
}

/// Parses a DASH byte range `first-last` (inclusive).
fn parse_range(s: &str) -> Option<ByteRange> {
    let (a, b) = s.trim().split_once('-')?;
    let first: u64 = a.trim().parse().ok()?;
    let last: u64 = b.trim().parse().ok()?;
    let length = last.checked_sub(first)?.checked_add(1)?;
    Some(ByteRange { offset: first, length })
}

fn range_attr(
    element: &str,
    attr: &str,
    value: Option<&String>,
) -> Result<Option<ByteRange>, ManifestError> {
    match value {
        None => Ok(None),
        Some(v) => parse_range(v).map(Some).ok_or_else(|| {
            ManifestError::dash(
                element,
                format!("@{attr}={v:?} is not a byte range <first>-<last>"),
            )
        }),
    }
}

fn frame_rate(s: &str) -> Option<f64> {
    let v = match s.split_once('/') {
        Some((n, d)) => n.trim().parse::<f64>().ok()? / d.trim().parse::<f64>().ok()?,
        None => s.trim().parse().ok()?,
    };
    (v.is_finite() && v > 0.0).then_some(v)
}

fn type_from_str(s: &str) -> Option<MediaType> {
    let s = s.trim().to_ascii_lowercase();
    let top = s.split('/').next().unwrap_or("");
    match top {
        "video" => Some(MediaType::Video),
        "audio" => Some(MediaType::Audio),
        "text" => Some(MediaType::Text),
        "image" => Some(MediaType::Other),
        "application" if s.contains("ttml") || s.contains("vtt") => Some(MediaType::Text),
        _ => None,
    }
}

fn type_from_codecs(c: &str) -> Option<MediaType> {
    let c = c.trim().to_ascii_lowercase();
    const VIDEO: &[&str] =
        &["avc", "hvc", "hev", "vp8", "vp9", "vp08", "vp09", "av01", "dvh", "dva", "mp4v"];
    const AUDIO: &[&str] = &[
        "mp4a", "ac-3", "ec-3", "ac-4", "opus", "flac", "dtsc", "dtse", "dtsh", "vorbis", "mha1",
        "mhm1",
    ];
    const TEXT: &[&str] = &["stpp", "wvtt", "tx3g"];
    if VIDEO.iter().any(|p| c.starts_with(p)) {
        Some(MediaType::Video)
    } else if AUDIO.iter().any(|p| c.starts_with(p)) {
        Some(MediaType::Audio)
    } else if TEXT.iter().any(|p| c.starts_with(p)) {
        Some(MediaType::Text)
    } else {
        None
    }
}

fn adaptation_type(a: &AdaptationSet) -> MediaType {
    let rep = a.representations.first();
    let by_attr = [a.contentType.as_deref(), a.mimeType.as_deref()]
        .into_iter()
        .chain(rep.map(|r| r.contentType.as_deref()))
        .chain(rep.map(|r| r.mimeType.as_deref()))
        .flatten()
        .find_map(type_from_str);
    // application/mp4 text tracks only say what they are in @codecs.
    by_attr
        .or_else(|| {
            a.codecs
                .as_deref()
                .into_iter()
                .chain(rep.and_then(|r| r.codecs.as_deref()))
                .find_map(type_from_codecs)
        })
        .unwrap_or(MediaType::Other)
}

/// One resolved base per pathway (`None` = unnamed), first = default.
type Bases = Vec<(Option<String>, Url)>;

/// Resolves one level of the BaseURL hierarchy against its parent's bases: each
/// BaseURL here applies to the parent bases of the same (or an unnamed) service
/// location, and gives a result per service location. `element` names the level for
/// errors.
fn resolve_level(
    element: &str,
    parents: &Bases,
    level: &[BaseURL],
) -> Result<Bases, ManifestError> {
    if level.is_empty() {
        return Ok(parents.clone());
    }
    let mut out: Bases = Vec::new();
    let push = |loc: Option<String>, url: Url, out: &mut Bases| {
        if !out.iter().any(|(l, _)| *l == loc) {
            out.push((loc, url));
        }
    };
    let join = |i: usize, parent: &Url, b: &BaseURL| {
        parent
            .join(&unescape(&b.base))
            .map_err(|e| ManifestError::dash_url(&format!("{element}/BaseURL[{i}]"), e))
    };
    for (i, b) in level.iter().enumerate() {
        let loc = b.serviceLocation.clone().filter(|s| !s.trim().is_empty());
        for (ploc, purl) in parents {
            let compatible = loc.is_none() || ploc.is_none() || loc == *ploc;
            if compatible {
                push(loc.clone().or_else(|| ploc.clone()), join(i, purl, b)?, &mut out);
            }
        }
    }
    if out.is_empty() {
        // No parent on a matching service location: the first parent carries them all.
        if let Some((_, purl)) = parents.first() {
            for (i, b) in level.iter().enumerate() {
                push(b.serviceLocation.clone(), join(i, purl, b)?, &mut out);
            }
        }
    }
    Ok(out)
}

/// Field-wise inheritance of the segment-addressing elements: the lowest level wins
/// for each attribute.
fn first_some<T, U>(levels: &[Option<&T>], f: impl Fn(&T) -> Option<U>) -> Option<U> {
    levels.iter().rev().flatten().find_map(|x| f(x))
}

fn merged_template(levels: &[Option<&SegmentTemplate>]) -> SegmentTemplate {
    SegmentTemplate {
        media: first_some(levels, |t| t.media.clone()),
        index: first_some(levels, |t| t.index.clone()),
        initialization: first_some(levels, |t| t.initialization.clone()),
        startNumber: first_some(levels, |t| t.startNumber),
        endNumber: first_some(levels, |t| t.endNumber),
        duration: first_some(levels, |t| t.duration),
        timescale: first_some(levels, |t| t.timescale),
        presentationTimeOffset: first_some(levels, |t| t.presentationTimeOffset),
        Initialization: first_some(levels, |t| t.Initialization.clone()),
        SegmentTimeline: first_some(levels, |t| t.SegmentTimeline.clone()),
        ..SegmentTemplate::default()
    }
}

fn merged_list(levels: &[Option<&MpdSegmentList>]) -> MpdSegmentList {
    MpdSegmentList {
        duration: first_some(levels, |t| t.duration),
        timescale: first_some(levels, |t| t.timescale),
        Initialization: first_some(levels, |t| t.Initialization.clone()),
        SegmentTimeline: first_some(levels, |t| t.SegmentTimeline.clone()),
        segment_urls: first_some(levels, |t| {
            (!t.segment_urls.is_empty()).then(|| t.segment_urls.clone())
        })
        .unwrap_or_default(),
        ..MpdSegmentList::default()
    }
}

fn merged_base(levels: &[Option<&SegmentBase>]) -> SegmentBase {
    SegmentBase {
        timescale: first_some(levels, |t| t.timescale),
        presentationTimeOffset: first_some(levels, |t| t.presentationTimeOffset),
        indexRange: first_some(levels, |t| t.indexRange.clone()),
        Initialization: first_some(levels, |t| t.Initialization.clone()),
        ..SegmentBase::default()
    }
}

/// Which addressing scheme applies: the lowest level that names one decides.
enum Addressing {
    Template(SegmentTemplate),
    List(MpdSegmentList),
    Base(SegmentBase),
}

/// A segment on a timeline before it gets its URL: number, time, duration (ticks).
#[derive(Debug, Clone, Copy)]
struct Slot {
    number: u64,
    time: u64,
    duration: u64,
}

/// Period timing in seconds, plus what live expansion needs.
#[derive(Debug, Clone, Copy)]
struct PeriodTiming {
    start_s: f64,
    duration_s: Option<f64>,
}

struct Converter<'a> {
    text: &'a str,
    url: &'a Url,
    mpd: &'a MPD,
    now: Option<f64>,
    dynamic: bool,
    ast: Option<f64>,
    tsbd: Option<f64>,
    warnings: Vec<String>,
    /// Segments the presentation may still list (see [`MAX_SEGMENTS_PER_PRESENTATION`]).
    budget: usize,
}

impl<'a> Converter<'a> {
    fn new(text: &'a str, url: &'a Url, mpd: &'a MPD, now: Option<f64>) -> Self {
        let ast = mpd
            .availabilityStartTime
            .as_ref()
            .map(|t| t.timestamp() as f64 + f64::from(t.timestamp_subsec_nanos()) / 1e9);
        Self {
            text,
            url,
            mpd,
            now: now.filter(|n| n.is_finite()),
            dynamic: mpd.mpdtype.as_deref() == Some("dynamic"),
            ast,
            tsbd: secs(mpd.timeShiftBufferDepth),
            warnings: Vec::new(),
            budget: MAX_SEGMENTS_PER_PRESENTATION,
        }
    }

    /// Most segments the next representation may expand to.
    fn segment_limit(&self) -> usize {
        self.budget.min(MAX_SEGMENTS_PER_REPRESENTATION)
    }

    /// The error for a representation that would pass [`segment_limit`](Self::segment_limit).
    fn too_many(&self, element: String, what: &str) -> ManifestError {
        if self.budget < MAX_SEGMENTS_PER_REPRESENTATION {
            ManifestError::TooManySegments { at: element, max: MAX_SEGMENTS_PER_PRESENTATION }
        } else {
            ManifestError::dash(
                element,
                format!("{what} expands to more than {MAX_SEGMENTS_PER_REPRESENTATION} segments"),
            )
        }
    }

    /// Charges a representation's segments to the presentation's budget.
    fn charge(&mut self, element: &str, index: &SegmentIndex) -> Result<(), ManifestError> {
        let n = match index {
            SegmentIndex::Segments(l) => l.segments.len(),
            _ => 0,
        };
        self.budget = self.budget.checked_sub(n).ok_or_else(|| ManifestError::TooManySegments {
            at: element.to_string(),
            max: MAX_SEGMENTS_PER_PRESENTATION,
        })?;
        Ok(())
    }

    fn run(mut self) -> Result<Presentation, ManifestError> {
        let mpd = self.mpd;
        if let Some(t) = mpd.mpdtype.as_deref()
            && t != "static"
            && t != "dynamic"
        {
            return Err(ManifestError::dash(
                "MPD",
                format!("@type must be static or dynamic, found {t:?}"),
            ));
        }
        if mpd.periods.is_empty() {
            return Err(ManifestError::dash("MPD", "no Period element"));
        }
        if self.dynamic && self.ast.is_none() {
            self.warnings.push("dynamic MPD without @availabilityStartTime: live timing is relative to the Unix epoch".into());
        }
        if mpd.xmlns.is_none() {
            self.warnings.push("MPD root has no xmlns namespace".into());
        }
        if mpd.profiles.is_none() {
            self.warnings.push("MPD has no @profiles".into());
        }
        // dash-mpd-core's checks parse URLs with the url crate, whose IDNA tables a
        // browser build without it must not carry; they only add warnings.
        #[cfg(feature = "url-crate")]
        self.warnings.extend(dash_mpd_core::check_conformity(mpd));

        let steering = self.steering()?;
        let default_location = steering.as_ref().and_then(|s| s.default_pathways.first().cloned());
        let doc_bases: Bases = vec![(None, self.url.clone())];
        let mpd_bases = resolve_level("MPD", &doc_bases, &mpd.base_url)?;
        let timings = self.period_timings();

        let mut periods = Vec::with_capacity(mpd.periods.len());
        let mut pathways: Vec<Pathway> = Vec::new();
        for (pi, (period, timing)) in mpd.periods.iter().zip(&timings).enumerate() {
            let path = format!("MPD/Period[{pi}]");
            if period.href.is_some() {
                self.warnings.push(format!("{path}: xlink:href is not resolved"));
            }
            if period.adaptations.is_empty() {
                self.warnings.push(format!("{path}: Period has no AdaptationSet"));
            }
            let period_bases = resolve_level(&path, &mpd_bases, &period.BaseURL)?;
            let mut tracks = Vec::with_capacity(period.adaptations.len());
            for (ai, aset) in period.adaptations.iter().enumerate() {
                let apath = format!("{path}/AdaptationSet[{ai}]");
                let as_bases = resolve_level(&apath, &period_bases, &aset.BaseURL)?;
                let mut renditions = Vec::with_capacity(aset.representations.len());
                for (ri, rep) in aset.representations.iter().enumerate() {
                    let rpath = format!("{apath}/Representation[{ri}]");
                    let mut bases = resolve_level(&rpath, &as_bases, &rep.BaseURL)?;
                    if let Some(loc) = &default_location
                        && let Some(i) = bases.iter().position(|(l, _)| l.as_ref() == Some(loc))
                    {
                        let b = bases.remove(i);
                        bases.insert(0, b);
                    }
                    for (loc, _) in &bases {
                        if let Some(id) = loc
                            && !pathways.iter().any(|p| &p.id == id)
                        {
                            pathways.push(Pathway { id: id.clone() });
                        }
                    }
                    let id = rep.id.clone().unwrap_or_else(|| format!("p{pi}a{ai}r{ri}"));
                    let index =
                        self.segment_index(&rpath, &id, period, aset, rep, &bases, *timing, pi)?;
                    self.charge(&rpath, &index)?;
                    renditions.push(self.rendition(id, aset, rep, bases, index));
                }
                tracks.push(Track {
                    id: aset.id.clone().unwrap_or_else(|| ai.to_string()),
                    media_type: adaptation_type(aset),
                    language: aset
                        .lang
                        .clone()
                        .or_else(|| aset.representations.first().and_then(|r| r.lang.clone())),
                    name: aset
                        .Label
                        .first()
                        .map(|l| l.content.trim().to_string())
                        .filter(|s| !s.is_empty()),
                    default: aset.Role.iter().any(|r| r.value.as_deref() == Some("main")),
                    autoselect: true,
                    trick_play: aset
                        .essential_property
                        .iter()
                        .any(|p| p.schemeIdUri == "http://dashif.org/guidelines/trickmode"),
                    renditions,
                });
            }
            periods.push(Period {
                id: period.id.clone(),
                start_s: timing.start_s,
                duration_s: timing.duration_s,
                tracks,
            });
        }

        let duration_s = secs(mpd.mediaPresentationDuration).or_else(|| {
            (!self.dynamic)
                .then(|| timings.last().and_then(|t| t.duration_s.map(|d| t.start_s + d)))
                .flatten()
        });
        let live = self.dynamic.then(|| LiveWindow {
            media_sequence: None,
            target_duration_s: None,
            availability_start_time: mpd.availabilityStartTime.as_ref().map(|t| t.to_rfc3339()),
            availability_start_unix_s: self.ast,
            time_shift_buffer_depth_s: self.tsbd,
            minimum_update_period_s: secs(mpd.minimumUpdatePeriod),
            suggested_presentation_delay_s: secs(mpd.suggestedPresentationDelay),
            utc_timing: self.utc_timing(),
        });
        Ok(Presentation {
            kind: ManifestKind::Dash,
            url: self.url.clone(),
            presentation_type: if self.dynamic {
                PresentationType::Live
            } else {
                PresentationType::Vod
            },
            live,
            duration_s,
            periods,
            pathways,
            steering,
            warnings: collapse(self.warnings),
        })
    }

    /// Period starts and durations (ISO/IEC 23009-1 §5.3.2.1): a missing `@start`
    /// follows the previous period; a missing `@duration` runs to the next start or
    /// the presentation end.
    fn period_timings(&self) -> Vec<PeriodTiming> {
        let periods = &self.mpd.periods;
        let mut starts: Vec<f64> = Vec::with_capacity(periods.len());
        let mut prev_end: Option<f64> = Some(0.0);
        for p in periods {
            let start = secs(p.start).or(prev_end).unwrap_or(0.0);
            starts.push(start);
            prev_end = secs(p.duration).map(|d| start + d);
        }
        let total = secs(self.mpd.mediaPresentationDuration);
        periods
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let start_s = starts[i];
                let duration_s = secs(p.duration)
                    .or_else(|| starts.get(i + 1).map(|next| next - start_s))
                    .or_else(|| total.map(|t| t - start_s))
                    .filter(|d| d.is_finite() && *d >= 0.0);
                PeriodTiming { start_s, duration_s }
            })
            .collect()
    }

    /// The usable `UTCTiming` sources, in document order: an HTTP scheme's value may
    /// list several URLs (one source each); an unknown scheme, an empty value or a URL
    /// that does not resolve is dropped with a warning (the session falls back to the
    /// next source, then to the driver's clock).
    fn utc_timing(&mut self) -> Vec<UtcTiming> {
        let mut out = Vec::new();
        for (i, t) in self.mpd.UTCTiming.iter().enumerate() {
            let at = format!("MPD/UTCTiming[{i}]");
            let Some(scheme) = UtcTimingScheme::from_uri(&t.schemeIdUri) else {
                self.warnings.push(format!("{at}: scheme {:?} is not supported", t.schemeIdUri));
                continue;
            };
            let value = t.value.as_deref().map(unescape).unwrap_or_default();
            if value.trim().is_empty() {
                self.warnings.push(format!("{at}: no @value"));
                continue;
            }
            if !scheme.needs_fetch() {
                out.push(UtcTiming { scheme, value: value.trim().to_string() });
                continue;
            }
            for reference in value.split_whitespace() {
                match self.url.join(reference) {
                    Ok(url) => out.push(UtcTiming { scheme, value: url.to_string() }),
                    Err(e) => self.warnings.push(format!("{at}: {e}")),
                }
            }
        }
        out
    }

    fn steering(&mut self) -> Result<Option<ContentSteering>, ManifestError> {
        let Some(tag) = start_tags(self.text).find(|t| t.local_name() == "ContentSteering") else {
            return Ok(None);
        };
        let server = text_after(self.text, &tag).map(|t| unescape(t.trim())).unwrap_or_default();
        if server.is_empty() {
            self.warnings.push("ContentSteering element without a server URL, ignored".into());
            return Ok(None);
        }
        let element = "MPD/ContentSteering";
        let url = |s: &str| self.url.join(s).map_err(|e| ManifestError::dash_url(element, e));
        let flag = |name: &str, default: bool| match tag.attr(name).as_deref().map(str::trim) {
            Some("true") | Some("1") => true,
            Some("false") | Some("0") => false,
            _ => default,
        };
        Ok(Some(ContentSteering {
            server_url: url(&server)?,
            default_pathways: tag
                .attr("defaultServiceLocation")
                .map(|s| s.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default(),
            query_before_start: flag("queryBeforeStart", false),
            client_requirement: flag("clientRequirement", true),
            proxy_server_url: tag.attr("proxyServerURL").map(|p| url(p.trim())).transpose()?,
        }))
    }

    fn rendition(
        &self,
        id: String,
        aset: &AdaptationSet,
        rep: &Representation,
        bases: Bases,
        index: SegmentIndex,
    ) -> Rendition {
        let width = rep.width.or(aset.width);
        let height = rep.height.or(aset.height);
        Rendition {
            id,
            bandwidth: rep.bandwidth,
            average_bandwidth: None,
            resolution: width.zip(height).map(|(width, height)| Resolution { width, height }),
            codecs: rep.codecs.clone().or_else(|| aset.codecs.clone()),
            frame_rate: rep.frameRate.as_deref().or(aset.frameRate.as_deref()).and_then(frame_rate),
            mime_type: rep.mimeType.clone().or_else(|| aset.mimeType.clone()),
            pathway_id: None,
            stable_id: None,
            audio_group: None,
            subtitles_group: None,
            group_id: None,
            playlist_url: None,
            bases: bases
                .into_iter()
                .map(|(pathway_id, url)| BaseLocation { pathway_id, url })
                .collect(),
            index,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn segment_index(
        &mut self,
        path: &str,
        rep_id: &str,
        period: &MpdPeriod,
        aset: &AdaptationSet,
        rep: &Representation,
        bases: &Bases,
        timing: PeriodTiming,
        period_index: usize,
    ) -> Result<SegmentIndex, ManifestError> {
        if rep.href.is_some() {
            self.warnings.push(format!("{path}: xlink:href is not resolved"));
            return Ok(SegmentIndex::Unresolved);
        }
        let base = bases.first().map_or(self.url, |(_, u)| u);
        let templates = [
            period.SegmentTemplate.as_ref(),
            aset.SegmentTemplate.as_ref(),
            rep.SegmentTemplate.as_ref(),
        ];
        let lists =
            [period.SegmentList.as_ref(), aset.SegmentList.as_ref(), rep.SegmentList.as_ref()];
        let bases_el =
            [period.SegmentBase.as_ref(), aset.SegmentBase.as_ref(), rep.SegmentBase.as_ref()];
        // The lowest level naming a scheme decides; attributes inherit within it.
        let mut addressing = None;
        for level in (0..3).rev() {
            addressing = if templates[level].is_some() {
                Some(Addressing::Template(merged_template(&templates[..=level])))
            } else if lists[level].is_some() {
                Some(Addressing::List(merged_list(&lists[..=level])))
            } else if bases_el[level].is_some() {
                Some(Addressing::Base(merged_base(&bases_el[..=level])))
            } else {
                None
            };
            if addressing.is_some() {
                break;
            }
        }
        let vars = TemplateVars {
            representation_id: Some(rep_id),
            bandwidth: rep.bandwidth,
            ..TemplateVars::default()
        };
        let discontinuity_first = period_index > 0;
        match addressing {
            Some(Addressing::Template(t)) => self.template_index(
                &format!("{path}/SegmentTemplate"),
                &t,
                &vars,
                base,
                timing,
                discontinuity_first,
            ),
            Some(Addressing::List(l)) => self.list_index(
                &format!("{path}/SegmentList"),
                &l,
                base,
                timing,
                discontinuity_first,
            ),
            Some(Addressing::Base(b)) => {
                base_index(&format!("{path}/SegmentBase"), &b, base, timing)
            }
            // No addressing at all: the BaseURL is the one segment.
            None => base_index(path, &SegmentBase::default(), base, timing),
        }
    }

    fn init_segment(
        element: &str,
        init: Option<&Initialization>,
        template: Option<&str>,
        vars: &TemplateVars<'_>,
        base: &Url,
    ) -> Result<Option<Arc<InitSegment>>, ManifestError> {
        if let Some(t) = template {
            let uri = expand(t, vars).map_err(|e| ManifestError::dash(element, e))?;
            base.join(&uri).map_err(|e| ManifestError::dash_url(element, e))?;
            return Ok(Some(Arc::new(InitSegment { uri, byte_range: None })));
        }
        let Some(i) = init else { return Ok(None) };
        let el = format!("{element}/Initialization");
        let uri = i.sourceURL.clone().unwrap_or_default();
        base.join(&uri).map_err(|e| ManifestError::dash_url(&el, e))?;
        let byte_range = range_attr(&el, "range", i.range.as_ref())?;
        Ok(Some(Arc::new(InitSegment { uri, byte_range })))
    }

    /// Expands a SegmentTimeline into slots.
    fn timeline(
        &mut self,
        element: &str,
        tl: &SegmentTimeline,
        start_number: u64,
        period_end_ticks: Option<u64>,
        now_ticks: Option<u64>,
    ) -> Result<Vec<Slot>, ManifestError> {
        let mut out: Vec<Slot> = Vec::new();
        let mut t: u64 = 0;
        let mut number = start_number;
        for (i, s) in tl.segments.iter().enumerate() {
            let el = format!("{element}/SegmentTimeline/S[{i}]");
            let S { t: st, n, d, r, .. } = s;
            if let Some(st) = *st {
                t = st;
            }
            if let Some(n) = *n {
                number = n;
            }
            if *d == 0 {
                return Err(ManifestError::dash(el, "@d must be positive"));
            }
            let repeats: u64 = match r.unwrap_or(0) {
                r if r >= 0 => r as u64,
                -1 => {
                    let end = tl
                        .segments
                        .get(i + 1)
                        .and_then(|next| next.t)
                        .or(period_end_ticks)
                        .or(now_ticks);
                    match end {
                        Some(e) if e > t => (e - t).div_ceil(*d) - 1,
                        _ => {
                            self.warnings.push(format!(
                                "{el}: @r=-1 with no known end; one segment assumed"
                            ));
                            0
                        }
                    }
                }
                other => {
                    return Err(ManifestError::dash(
                        el,
                        format!("@r={other} is not -1 or a repeat count"),
                    ));
                }
            };
            let limit = self.segment_limit() as u64;
            if repeats >= limit || (out.len() as u64).saturating_add(repeats) >= limit {
                return Err(self.too_many(el, "timeline"));
            }
            for _ in 0..=repeats {
                out.push(Slot { number, time: t, duration: *d });
                t = t
                    .checked_add(*d)
                    .ok_or_else(|| ManifestError::dash(&el, "segment time overflows"))?;
                number = number.saturating_add(1);
            }
        }
        Ok(out)
    }

    /// The wall clock as ticks of this period's media timeline, for dynamic MPDs.
    fn now_ticks(&self, timing: PeriodTiming, timescale: u64, pto: u64) -> Option<u64> {
        let now = self.now?;
        let into_period = now - self.ast? - timing.start_s;
        // A float-to-integer cast saturates; the offset must not wrap either.
        (into_period > 0.0).then(|| ((into_period * timescale as f64) as u64).saturating_add(pto))
    }

    /// `@presentationTimeOffset` as used: one past the first segment's media time
    /// would place the period's media before its start, so it is clamped to that time
    /// with a warning (peers play such streams).
    fn clamp_pto(&mut self, element: &str, pto: u64, first_time: Option<u64>) -> u64 {
        match first_time {
            Some(t) if pto > t => {
                self.warnings.push(format!(
                    "{element}: @presentationTimeOffset {pto} is after the first segment's time {t}; clamped to {t}"
                ));
                t
            }
            _ => pto,
        }
    }

    /// For a dynamic MPD seen at `now`: keep the segments already available and still
    /// inside the time-shift buffer.
    fn live_filter(&self, segments: &mut Vec<Segment>) {
        let (Some(now), Some(ast)) = (self.now, self.ast) else { return };
        if !self.dynamic {
            return;
        }
        let live_edge = now - ast;
        segments.retain(|s| {
            let end = s.start_s + s.duration_s;
            end <= live_edge + 1e-9 && self.tsbd.is_none_or(|d| end > live_edge - d)
        });
    }

    fn template_index(
        &mut self,
        element: &str,
        t: &SegmentTemplate,
        vars: &TemplateVars<'_>,
        base: &Url,
        timing: PeriodTiming,
        discontinuity_first: bool,
    ) -> Result<SegmentIndex, ManifestError> {
        let timescale = t.timescale.unwrap_or(1);
        if timescale == 0 {
            return Err(ManifestError::dash(element, "@timescale must be positive"));
        }
        let mut pto = t.presentationTimeOffset.unwrap_or(0);
        let start_number = t.startNumber.unwrap_or(1);
        let init = Self::init_segment(
            element,
            t.Initialization.as_ref(),
            t.initialization.as_deref(),
            vars,
            base,
        )?;
        let Some(media_t) = t.media.as_deref() else {
            return Err(ManifestError::dash(element, "SegmentTemplate without @media"));
        };
        let media = expand(media_t, vars).map_err(|e| ManifestError::dash(element, e))?;
        // Validate the remaining identifiers once, so expansion below cannot fail; and
        // as every expansion differs only in digits, checking one checks every URL.
        let sample = expand(&media, &TemplateVars { number: Some(0), time: Some(0), ..*vars })
            .map_err(|e| ManifestError::dash(element, e))?;
        base.join(&sample).map_err(|e| ManifestError::dash_url(element, e))?;
        let ts = timescale as f64;
        let period_end_ticks =
            timing.duration_s.map(|d| ((d * ts).round() as u64).saturating_add(pto));

        let make = |slot: Slot, first: bool, pto: u64| {
            let v = TemplateVars { number: Some(slot.number), time: Some(slot.time), ..*vars };
            let uri = expand(&media, &v).unwrap_or_else(|_| media.clone());
            Segment {
                uri,
                start_s: timing.start_s + (slot.time as f64 - pto as f64) / ts,
                duration_s: slot.duration as f64 / ts,
                number: slot.number,
                time: Some(slot.time),
                byte_range: None,
                init: init.clone(),
                discontinuity: first && discontinuity_first,
            }
        };

        if let Some(tl) = &t.SegmentTimeline {
            let now_ticks =
                if self.dynamic { self.now_ticks(timing, timescale, pto) } else { None };
            let slots = self.timeline(element, tl, start_number, period_end_ticks, now_ticks)?;
            pto = self.clamp_pto(element, pto, slots.first().map(|s| s.time));
            let mut segments: Vec<Segment> =
                slots.into_iter().enumerate().map(|(i, s)| make(s, i == 0, pto)).collect();
            self.live_filter(&mut segments);
            let target = segments
                .iter()
                .map(|s| s.duration_s)
                .fold(None, |m: Option<f64>, d| Some(m.map_or(d, |m| m.max(d))));
            return Ok(SegmentIndex::Segments(SegmentList {
                segments,
                target_duration_s: target,
                ended: !self.dynamic,
            }));
        }

        let Some(duration) = t.duration.filter(|d| d.is_finite() && *d > 0.0) else {
            return Err(ManifestError::dash(
                element,
                "SegmentTemplate needs @duration or a SegmentTimeline",
            ));
        };
        let duration_ticks = duration.round().max(1.0) as u64;
        if self.dynamic {
            let live = LiveTemplate {
                media,
                init,
                start_number,
                end_number: t.endNumber,
                duration: duration_ticks,
                timescale,
                presentation_time_offset: pto,
                period_start_s: timing.start_s,
                period_duration_s: timing.duration_s,
                availability_start_unix_s: self.ast.unwrap_or(0.0),
                time_shift_buffer_depth_s: self.tsbd,
                base_url: base.clone(),
            };
            return Ok(match self.now {
                Some(now) => {
                    let mut segments = live.segments_at(now);
                    if let Some(first) = segments.first_mut() {
                        first.discontinuity = discontinuity_first && first.number == start_number;
                    }
                    SegmentIndex::Segments(SegmentList {
                        segments,
                        target_duration_s: Some(live.segment_duration_s()),
                        ended: false,
                    })
                }
                None => SegmentIndex::LiveTemplate(live),
            });
        }
        let Some(period_s) = timing.duration_s else {
            return Err(ManifestError::dash(
                element,
                "@duration addressing in a static MPD needs Period@duration or MPD@mediaPresentationDuration",
            ));
        };
        let seg_s = duration / ts;
        // A last partial segment counts; a sliver from rounding (< 1 ms) does not.
        let mut count = ((period_s - 1e-3) / seg_s).ceil().max(0.0) as u64;
        if let Some(end) = t.endNumber {
            count = count.min(end.saturating_add(1).saturating_sub(start_number));
        }
        if count > self.segment_limit() as u64 {
            return Err(self.too_many(element.to_string(), "@duration"));
        }
        let segments = (0..count)
            .map(|k| {
                let mut s = make(
                    Slot {
                        number: start_number.saturating_add(k),
                        time: pto.saturating_add(k.saturating_mul(duration_ticks)),
                        duration: duration_ticks,
                    },
                    k == 0,
                    pto,
                );
                // The last segment ends with the period.
                s.duration_s = s.duration_s.min(timing.start_s + period_s - s.start_s).max(0.0);
                s
            })
            .collect();
        Ok(SegmentIndex::Segments(SegmentList {
            segments,
            target_duration_s: Some(seg_s),
            ended: true,
        }))
    }

    fn list_index(
        &mut self,
        element: &str,
        l: &MpdSegmentList,
        base: &Url,
        timing: PeriodTiming,
        discontinuity_first: bool,
    ) -> Result<SegmentIndex, ManifestError> {
        let timescale = l.timescale.unwrap_or(1);
        if timescale == 0 {
            return Err(ManifestError::dash(element, "@timescale must be positive"));
        }
        let ts = timescale as f64;
        let init = Self::init_segment(
            element,
            l.Initialization.as_ref(),
            None,
            &TemplateVars::default(),
            base,
        )?;
        let slots: Vec<Slot> = match (&l.SegmentTimeline, l.duration) {
            (Some(tl), _) => self.timeline(element, tl, 1, None, None)?,
            (None, Some(d)) if d > 0 => (0..l.segment_urls.len() as u64)
                .map(|k| Slot { number: 1 + k, time: k.saturating_mul(d), duration: d })
                .collect(),
            (None, _) if l.segment_urls.len() == 1 => {
                let d = timing.duration_s.map(|s| (s * ts).round() as u64).unwrap_or(0);
                vec![Slot { number: 1, time: 0, duration: d }]
            }
            (None, _) => {
                return Err(ManifestError::dash(
                    element,
                    "SegmentList with several segments needs @duration or a SegmentTimeline",
                ));
            }
        };
        if slots.len() < l.segment_urls.len() {
            self.warnings.push(format!(
                "{element}: {} SegmentURLs but the timeline has {} segments; extra URLs ignored",
                l.segment_urls.len(),
                slots.len()
            ));
        }
        let mut segments = Vec::with_capacity(l.segment_urls.len());
        for (i, (u, slot)) in l.segment_urls.iter().zip(slots).enumerate() {
            let el = format!("{element}/SegmentURL[{i}]");
            let uri = u.media.clone().unwrap_or_default();
            base.join(&uri).map_err(|e| ManifestError::dash_url(&el, e))?;
            let byte_range = range_attr(&el, "mediaRange", u.mediaRange.as_ref())?;
            segments.push(Segment {
                uri,
                start_s: timing.start_s + slot.time as f64 / ts,
                duration_s: slot.duration as f64 / ts,
                number: slot.number,
                time: Some(slot.time),
                byte_range,
                init: init.clone(),
                discontinuity: i == 0 && discontinuity_first,
            });
        }
        self.live_filter(&mut segments);
        let target = segments
            .iter()
            .map(|s| s.duration_s)
            .fold(None, |m: Option<f64>, d| Some(m.map_or(d, |m| m.max(d))));
        Ok(SegmentIndex::Segments(SegmentList {
            segments,
            target_duration_s: target,
            ended: !self.dynamic,
        }))
    }
}

/// Collapses repeated warnings into one line with a count, keeping first-seen order.
fn collapse(warnings: Vec<String>) -> Vec<String> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for w in warnings {
        match out.iter_mut().find(|(x, _)| *x == w) {
            Some((_, n)) => *n += 1,
            None => out.push((w, 1)),
        }
    }
    out.into_iter().map(|(w, n)| if n > 1 { format!("{w} (×{n})") } else { w }).collect()
}

fn base_index(
    element: &str,
    b: &SegmentBase,
    base: &Url,
    timing: PeriodTiming,
) -> Result<SegmentIndex, ManifestError> {
    let timescale = b.timescale.unwrap_or(1);
    if timescale == 0 {
        return Err(ManifestError::dash(element, "@timescale must be positive"));
    }
    let init = match &b.Initialization {
        Some(i) => {
            let el = format!("{element}/Initialization");
            let uri = i.sourceURL.clone().unwrap_or_default();
            base.join(&uri).map_err(|e| ManifestError::dash_url(&el, e))?;
            let byte_range = range_attr(&el, "range", i.range.as_ref())?;
            Some(InitSegment { uri, byte_range })
        }
        None => None,
    };
    Ok(SegmentIndex::Base(SegmentBaseIndex {
        uri: String::new(),
        url: base.clone(),
        init,
        index_range: range_attr(element, "indexRange", b.indexRange.as_ref())?,
        timescale,
        presentation_time_offset: b.presentationTimeOffset.unwrap_or(0),
        duration_s: timing.duration_s,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges_are_inclusive() {
        assert_eq!(parse_range("0-99"), Some(ByteRange { offset: 0, length: 100 }));
        assert_eq!(parse_range("864-1915"), Some(ByteRange { offset: 864, length: 1052 }));
        assert_eq!(parse_range("9-1"), None);
        assert_eq!(parse_range("abc"), None);
    }

    #[test]
    fn negative_offsets_read_as_zero_with_a_warning() {
        let (t, w) = clamp_negative_offsets(
            r#"<S presentationTimeOffset="-5000" x="1"/><T presentationTimeOffset = '-7'/><U presentationTimeOffset="9"/>"#,
        );
        assert_eq!(
            t,
            r#"<S presentationTimeOffset="0" x="1"/><T presentationTimeOffset = '0'/><U presentationTimeOffset="9"/>"#
        );
        assert_eq!(w.len(), 2);
        assert!(w[0].contains("-5000"));
        let (t, w) = clamp_negative_offsets("<S presentationTimeOffset=\"-\"/>");
        assert!(w.is_empty() && t == "<S presentationTimeOffset=\"-\"/>");
    }

    #[test]
    fn frame_rates() {
        assert_eq!(frame_rate("25"), Some(25.0));
        assert!((frame_rate("30000/1001").unwrap() - 29.97).abs() < 1e-2);
        assert_eq!(frame_rate("1/0"), None);
    }

    #[test]
    fn base_urls_resolve_per_service_location() {
        let b = |loc: Option<&str>, base: &str| BaseURL {
            serviceLocation: loc.map(str::to_string),
            base: base.to_string(),
            ..BaseURL::default()
        };
        let u = |s: &str| Url::parse(s).unwrap();
        let doc = vec![(None, u("https://origin/x/manifest.mpd"))];
        let mpd = resolve_level(
            "MPD",
            &doc,
            &[b(Some("alpha"), "https://a.cdn/v/"), b(Some("beta"), "https://b.cdn/v/")],
        )
        .unwrap();
        let period = resolve_level("P", &mpd, &[b(None, "p1/")]).unwrap();
        let rep = resolve_level("R", &period, &[b(None, "720p/")]).unwrap();
        assert_eq!(
            rep,
            vec![
                (Some("alpha".to_string()), u("https://a.cdn/v/p1/720p/")),
                (Some("beta".to_string()), u("https://b.cdn/v/p1/720p/")),
            ]
        );
        let none = resolve_level("MPD", &doc, &[]).unwrap();
        assert_eq!(none, doc);
        let e = resolve_level("MPD", &doc, &[b(None, "file:///etc/")]).unwrap_err();
        assert!(e.to_string().contains("MPD/BaseURL[0]"), "{e}");
    }
}
