//! The lite MPD reader: builds dash-mpd-core's [`MPD`] structs from the XML with a
//! small pull reader ([`super::xml_pull`]) instead of serde and quick-xml, so that a
//! browser build can read MPDs without their code (about 510 KB gzipped in wasm32).
//! The result goes through the same converter as the serde reader's, so both front
//! ends share one conversion path; `core/tests/dash_readers_agree.rs` checks they give
//! equal presentations on every MPD of the shared corpus.
//!
//! # What it covers
//!
//! Every element and attribute the converter and `dash_mpd_core::check_conformity`
//! read, with the serde reader's conventions: elements and attributes matched by
//! local name (prefix dropped; `xmlns`, `xmlns:*` and `xml:*` attributes kept whole),
//! attribute values normalised and unescaped, numbers trimmed of XML white space and
//! read with Rust's `FromStr` (as quick-xml does), a missing string attribute that
//! the model requires read as empty, an `xs:duration` or `xs:dateTime` read as
//! dash-mpd-core reads it ([`super::xs_value`]), element text trimmed, several
//! occurrences of a repeated element collected even when not adjacent. The serde
//! reader's errors are kept where they concern what is read: an attribute named twice,
//! a single-occurrence element (`SegmentTemplate`, `Initialization`, …) given twice,
//! a value that does not parse, an unknown entity, a mismatched or missing end tag.
//!
//! # What it does not cover
//!
//! The elements and attributes the converter never reads (`ContentProtection`,
//! `EventStream`, `@qualityRanking`, …) are skipped without checking their values, so
//! an MPD that the serde reader refuses for, say, an `@startWithSAP` that is not a
//! number is read here. Nesting deeper than [`MAX_DEPTH`] elements is an error (the
//! serde reader has no such limit). Digits outside ASCII in durations (see
//! [`super::xs_value`]). ContentSteering is read from the text by the converter
//! itself, for both readers.

use dash_mpd_core::{
    AdaptationSet, BaseURL, EssentialProperty, Initialization, Label, MPD, Period,
    ProgramInformation, Representation, RepresentationIndex, Role, S, SegmentBase, SegmentList,
    SegmentTemplate, SegmentTimeline, SegmentURL, UTCTiming, XsDatetime,
};
use std::str::FromStr;
use std::time::Duration;

use super::error::ManifestError;
use super::xml_pull::{Pull, Token, decode_attr, decode_text, is_xml_space};
use super::xml_scan::StartTag;
use super::xs_value::{parse_xs_datetime, parse_xs_duration};

/// Deepest element nesting read: an MPD's own structure is 8 deep; a hostile
/// document nested millions deep must be an error, not a huge stack of open tags.
pub const MAX_DEPTH: usize = 256;

type Res<T> = Result<T, ManifestError>;

/// Reads an MPD document into dash-mpd-core's model, without serde.
pub(crate) fn read_mpd(xml: &str) -> Res<MPD> {
    let mut r = Reader { pull: Pull::new(xml) };
    loop {
        match r.next("document")? {
            Token::Start(tag) => return r.mpd(&tag),
            Token::Text(raw) => {
                let text = decode_text(raw).map_err(|m| ManifestError::dash("document", m))?;
                if !text.trim_matches(is_xml_space).is_empty() {
                    return Err(ManifestError::dash("document", "text before the root element"));
                }
            }
            Token::End(name) => {
                return Err(ManifestError::dash(
                    "document",
                    format!("end tag </{name}> before the root element"),
                ));
            }
            Token::CData(_) => {
                return Err(ManifestError::dash("document", "CDATA before the root element"));
            }
        }
    }
}

/// The name without its prefix, as quick-xml matches element names.
fn local(name: &str) -> &str {
    name.split_once(':').map_or(name, |(_, l)| l)
}

/// The name an attribute is matched by: its local name, except namespace bindings
/// and `xml:` attributes, which keep their prefix (quick-xml's rule).
fn attr_key(name: &str) -> &str {
    if name == "xmlns" || name.starts_with("xmlns:") || name.starts_with("xml:") {
        name
    } else {
        local(name)
    }
}

/// Puts `value` in a single-occurrence slot; a second occurrence is an error, as in
/// the serde reader.
fn once<T>(slot: &mut Option<T>, value: T, path: &str, name: &str) -> Res<()> {
    if slot.is_some() {
        return Err(ManifestError::dash(path, format!("{name} appears more than once")));
    }
    *slot = Some(value);
    Ok(())
}

/// The attributes of one start tag, read by key.
struct Attrs<'t, 'a> {
    tag: &'t StartTag<'a>,
    path: &'t str,
}

impl<'a> Attrs<'_, 'a> {
    fn err(&self, key: &str, message: impl std::fmt::Display) -> ManifestError {
        ManifestError::dash(self.path, format!("@{key}: {message}"))
    }

    /// The raw value; an attribute given twice is an error.
    fn raw(&self, key: &str) -> Res<Option<&'a str>> {
        if self.tag.malformed {
            return Err(ManifestError::dash(self.path, "malformed attributes"));
        }
        let mut found = None;
        for (k, v) in &self.tag.attrs {
            if attr_key(k) == key {
                if found.is_some() {
                    return Err(self.err(key, "attribute given more than once"));
                }
                found = Some(*v);
            }
        }
        Ok(found)
    }

    fn string(&self, key: &str) -> Res<Option<String>> {
        self.raw(key)?.map(|v| decode_attr(v).map_err(|m| self.err(key, m))).transpose()
    }

    /// A string the model requires: empty when absent.
    fn required(&self, key: &str) -> Res<String> {
        Ok(self.string(key)?.unwrap_or_default())
    }

    fn number<T: FromStr>(&self, key: &str) -> Res<Option<T>> {
        let Some(v) = self.string(key)? else { return Ok(None) };
        v.trim_matches(is_xml_space)
            .parse()
            .map(Some)
            .map_err(|_| self.err(key, format!("{:?} is not a valid number here", clip(&v))))
    }

    /// A value dash-mpd-core reads with its own string parser: a value that is not
    /// even a valid string (a bad reference) counts as absent there, and here.
    fn xs<T>(&self, key: &str, what: &str, parse: fn(&str) -> Option<T>) -> Res<Option<T>> {
        let Some(Ok(v)) = self.raw(key)?.map(decode_attr) else { return Ok(None) };
        parse(&v).map(Some).ok_or_else(|| self.err(key, format!("invalid {what} {:?}", clip(&v))))
    }

    fn duration(&self, key: &str) -> Res<Option<Duration>> {
        self.xs(key, "xs:duration", parse_xs_duration)
    }

    fn datetime(&self, key: &str) -> Res<Option<XsDatetime>> {
        self.xs(key, "xs:dateTime", parse_xs_datetime)
    }
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Text runs of one element: pieces of character data and CDATA not separated by a
/// tag (comments do not separate them).
#[derive(Default)]
struct Runs {
    done: Vec<String>,
    current: String,
    /// Whether the current run began, and ended so far, with character data (which
    /// is trimmed at the run's ends; CDATA is not).
    first_is_text: Option<bool>,
    last_is_text: bool,
}

impl Runs {
    fn push(&mut self, piece: &str, is_text: bool) {
        if self.first_is_text.is_none() {
            self.first_is_text = Some(is_text);
        }
        self.last_is_text = is_text;
        self.current.push_str(piece);
    }

    fn flush(&mut self) {
        let mut s = std::mem::take(&mut self.current);
        if self.last_is_text {
            s.truncate(s.trim_end_matches(is_xml_space).len());
        }
        if self.first_is_text == Some(true) {
            s = s.trim_start_matches(is_xml_space).to_string();
        }
        if !s.is_empty() {
            self.done.push(s);
        }
        self.first_is_text = None;
    }
}

struct Reader<'a> {
    pull: Pull<'a>,
}

impl<'a> Reader<'a> {
    /// The next token; the end of the text is an error (the caller is inside an
    /// element).
    fn next(&mut self, path: &str) -> Res<Token<'a>> {
        let at = self.pull.offset();
        match self.pull.next() {
            Ok(Some(t)) => Ok(t),
            Ok(None) => Err(ManifestError::dash(path, "truncated document: unexpected end")),
            Err(e) => Err(ManifestError::dash(
                path,
                format!("{} (at byte {})", e.message, e.offset.max(at)),
            )),
        }
    }

    /// Reads the content of `tag` up to its end tag: each child start tag goes to
    /// `child` (which must read or skip it); the text is returned, trimmed. An
    /// element whose text is used must not have it split by child elements (the
    /// serde reader refuses that too).
    fn walk(
        &mut self,
        tag: &StartTag<'a>,
        path: &str,
        wants_text: bool,
        mut child: impl FnMut(&mut Self, StartTag<'a>) -> Res<()>,
    ) -> Res<String> {
        if tag.malformed {
            return Err(ManifestError::dash(path, "malformed attributes"));
        }
        let mut runs = Runs::default();
        if !tag.self_closing {
            loop {
                match self.next(path)? {
                    Token::Start(t) => {
                        runs.flush();
                        child(self, t)?;
                    }
                    Token::End(name) if name == tag.name => break,
                    Token::End(name) => return Err(mismatch(path, tag.name, name)),
                    Token::Text(raw) => {
                        let text = decode_text(raw).map_err(|m| ManifestError::dash(path, m))?;
                        runs.push(&text, true);
                    }
                    Token::CData(c) => runs.push(c, false),
                }
            }
        }
        runs.flush();
        if wants_text && runs.done.len() > 1 {
            return Err(ManifestError::dash(path, "text split by child elements"));
        }
        Ok(runs.done.into_iter().next().unwrap_or_default())
    }

    /// Skips an element the model does not read, checking only that it is well
    /// formed (end tags match, references are known) and not nested too deep.
    fn skip(&mut self, tag: &StartTag<'a>, path: &str) -> Res<()> {
        if tag.self_closing {
            return Ok(());
        }
        let mut open = vec![tag.name];
        while let Some(&innermost) = open.last() {
            match self.next(path)? {
                Token::Start(t) if !t.self_closing => {
                    if open.len() >= MAX_DEPTH {
                        return Err(ManifestError::dash(
                            path,
                            format!("elements nested more than {MAX_DEPTH} deep"),
                        ));
                    }
                    open.push(t.name);
                }
                Token::Start(_) | Token::CData(_) => {}
                Token::End(name) if name == innermost => {
                    open.pop();
                }
                Token::End(name) => return Err(mismatch(path, innermost, name)),
                Token::Text(raw) => {
                    decode_text(raw).map_err(|m| ManifestError::dash(path, m))?;
                }
            }
        }
        Ok(())
    }

    /// An element read for its attributes only.
    fn leaf<T>(
        &mut self,
        tag: &StartTag<'a>,
        path: &str,
        read: impl FnOnce(&Attrs<'_, 'a>) -> Res<T>,
    ) -> Res<T> {
        let value = read(&Attrs { tag, path })?;
        self.skip(tag, path)?;
        Ok(value)
    }

    fn mpd(&mut self, tag: &StartTag<'a>) -> Res<MPD> {
        let path = "MPD";
        let a = Attrs { tag, path };
        let mut mpd = MPD {
            xmlns: a.string("xmlns")?,
            profiles: a.string("profiles")?,
            mpdtype: a.string("type")?,
            availabilityStartTime: a.datetime("availabilityStartTime")?,
            mediaPresentationDuration: a.duration("mediaPresentationDuration")?,
            minimumUpdatePeriod: a.duration("minimumUpdatePeriod")?,
            timeShiftBufferDepth: a.duration("timeShiftBufferDepth")?,
            suggestedPresentationDelay: a.duration("suggestedPresentationDelay")?,
            maxSegmentDuration: a.duration("maxSegmentDuration")?,
            ..MPD::default()
        };
        self.walk(tag, path, false, |r, t| {
            match local(t.name) {
                "ProgramInformation" => {
                    let p = format!("{path}/ProgramInformation[{}]", mpd.ProgramInformation.len());
                    let info = r.leaf(&t, &p, |a| {
                        Ok(ProgramInformation {
                            moreInformationURL: a.string("moreInformationURL")?,
                            ..ProgramInformation::default()
                        })
                    })?;
                    mpd.ProgramInformation.push(info);
                }
                "BaseURL" => {
                    let p = format!("{path}/BaseURL[{}]", mpd.base_url.len());
                    mpd.base_url.push(r.base_url(&t, &p)?);
                }
                "Period" => {
                    let p = format!("{path}/Period[{}]", mpd.periods.len());
                    mpd.periods.push(r.period(&t, &p)?);
                }
                "UTCTiming" => {
                    let p = format!("{path}/UTCTiming[{}]", mpd.UTCTiming.len());
                    let timing = r.leaf(&t, &p, |a| {
                        Ok(UTCTiming {
                            schemeIdUri: a.required("schemeIdUri")?,
                            value: a.string("value")?,
                            ..UTCTiming::default()
                        })
                    })?;
                    mpd.UTCTiming.push(timing);
                }
                _ => r.skip(&t, path)?,
            }
            Ok(())
        })?;
        Ok(mpd)
    }

    fn base_url(&mut self, tag: &StartTag<'a>, path: &str) -> Res<BaseURL> {
        let location = Attrs { tag, path }.string("serviceLocation")?;
        let base = self.walk(tag, path, true, |r, t| r.skip(&t, path))?;
        Ok(BaseURL { serviceLocation: location, base, ..BaseURL::default() })
    }

    /// The three addressing elements, which Period, AdaptationSet and Representation
    /// all carry; `false` when `t` is none of them.
    fn addressing(
        &mut self,
        t: &StartTag<'a>,
        path: &str,
        template: &mut Option<SegmentTemplate>,
        list: &mut Option<SegmentList>,
        base: &mut Option<SegmentBase>,
    ) -> Res<bool> {
        match local(t.name) {
            "SegmentTemplate" => {
                let p = format!("{path}/SegmentTemplate");
                let v = self.segment_template(t, &p)?;
                once(template, v, path, "SegmentTemplate")?;
            }
            "SegmentList" => {
                let p = format!("{path}/SegmentList");
                let v = self.segment_list(t, &p)?;
                once(list, v, path, "SegmentList")?;
            }
            "SegmentBase" => {
                let p = format!("{path}/SegmentBase");
                let v = self.segment_base(t, &p)?;
                once(base, v, path, "SegmentBase")?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn period(&mut self, tag: &StartTag<'a>, path: &str) -> Res<Period> {
        let a = Attrs { tag, path };
        let mut period = Period {
            href: a.string("href")?,
            id: a.string("id")?,
            start: a.duration("start")?,
            duration: a.duration("duration")?,
            ..Period::default()
        };
        self.walk(tag, path, false, |r, t| {
            let Period { SegmentTemplate: st, SegmentList: sl, SegmentBase: sb, .. } = &mut period;
            if r.addressing(&t, path, st, sl, sb)? {
                return Ok(());
            }
            match local(t.name) {
                "BaseURL" => {
                    let p = format!("{path}/BaseURL[{}]", period.BaseURL.len());
                    period.BaseURL.push(r.base_url(&t, &p)?);
                }
                "AdaptationSet" => {
                    let p = format!("{path}/AdaptationSet[{}]", period.adaptations.len());
                    period.adaptations.push(r.adaptation_set(&t, &p)?);
                }
                _ => r.skip(&t, path)?,
            }
            Ok(())
        })?;
        Ok(period)
    }

    fn adaptation_set(&mut self, tag: &StartTag<'a>, path: &str) -> Res<AdaptationSet> {
        let a = Attrs { tag, path };
        let mut set = AdaptationSet {
            id: a.string("id")?,
            contentType: a.string("contentType")?,
            mimeType: a.string("mimeType")?,
            codecs: a.string("codecs")?,
            lang: a.string("lang")?,
            width: a.number("width")?,
            height: a.number("height")?,
            frameRate: a.string("frameRate")?,
            maxWidth: a.number("maxWidth")?,
            maxHeight: a.number("maxHeight")?,
            maxBandwidth: a.number("maxBandwidth")?,
            ..AdaptationSet::default()
        };
        self.walk(tag, path, false, |r, t| {
            let AdaptationSet { SegmentTemplate: st, SegmentList: sl, SegmentBase: sb, .. } =
                &mut set;
            if r.addressing(&t, path, st, sl, sb)? {
                return Ok(());
            }
            match local(t.name) {
                "BaseURL" => {
                    let p = format!("{path}/BaseURL[{}]", set.BaseURL.len());
                    set.BaseURL.push(r.base_url(&t, &p)?);
                }
                "Representation" => {
                    let p = format!("{path}/Representation[{}]", set.representations.len());
                    set.representations.push(r.representation(&t, &p)?);
                }
                "Label" => {
                    let p = format!("{path}/Label[{}]", set.Label.len());
                    let content = r.walk(&t, &p, true, |r, c| r.skip(&c, &p))?;
                    set.Label.push(Label { content, ..Label::default() });
                }
                "Role" => {
                    let p = format!("{path}/Role[{}]", set.Role.len());
                    let value = r.leaf(&t, &p, |a| a.string("value"))?;
                    set.Role.push(Role { value, ..Role::default() });
                }
                "EssentialProperty" => {
                    let p = format!("{path}/EssentialProperty[{}]", set.essential_property.len());
                    let scheme = r.leaf(&t, &p, |a| a.required("schemeIdUri"))?;
                    set.essential_property.push(EssentialProperty {
                        schemeIdUri: scheme,
                        ..EssentialProperty::default()
                    });
                }
                _ => r.skip(&t, path)?,
            }
            Ok(())
        })?;
        Ok(set)
    }

    fn representation(&mut self, tag: &StartTag<'a>, path: &str) -> Res<Representation> {
        let a = Attrs { tag, path };
        let mut rep = Representation {
            id: a.string("id")?,
            bandwidth: a.number("bandwidth")?,
            width: a.number("width")?,
            height: a.number("height")?,
            frameRate: a.string("frameRate")?,
            mimeType: a.string("mimeType")?,
            codecs: a.string("codecs")?,
            contentType: a.string("contentType")?,
            lang: a.string("lang")?,
            href: a.string("href")?,
            ..Representation::default()
        };
        self.walk(tag, path, false, |r, t| {
            let Representation { SegmentTemplate: st, SegmentList: sl, SegmentBase: sb, .. } =
                &mut rep;
            if r.addressing(&t, path, st, sl, sb)? {
                return Ok(());
            }
            if local(t.name) == "BaseURL" {
                let p = format!("{path}/BaseURL[{}]", rep.BaseURL.len());
                rep.BaseURL.push(r.base_url(&t, &p)?);
            } else {
                r.skip(&t, path)?;
            }
            Ok(())
        })?;
        Ok(rep)
    }

    fn initialization(&mut self, tag: &StartTag<'a>, path: &str) -> Res<Initialization> {
        self.leaf(tag, path, |a| {
            Ok(Initialization { sourceURL: a.string("sourceURL")?, range: a.string("range")? })
        })
    }

    fn segment_template(&mut self, tag: &StartTag<'a>, path: &str) -> Res<SegmentTemplate> {
        let a = Attrs { tag, path };
        let mut st = SegmentTemplate {
            media: a.string("media")?,
            index: a.string("index")?,
            initialization: a.string("initialization")?,
            startNumber: a.number("startNumber")?,
            endNumber: a.number("endNumber")?,
            duration: a.number("duration")?,
            timescale: a.number("timescale")?,
            presentationTimeOffset: a.number("presentationTimeOffset")?,
            ..SegmentTemplate::default()
        };
        self.walk(tag, path, false, |r, t| {
            match local(t.name) {
                "Initialization" => {
                    let v = r.initialization(&t, &format!("{path}/Initialization"))?;
                    once(&mut st.Initialization, v, path, "Initialization")?;
                }
                "SegmentTimeline" => {
                    let v = r.timeline(&t, &format!("{path}/SegmentTimeline"))?;
                    once(&mut st.SegmentTimeline, v, path, "SegmentTimeline")?;
                }
                _ => r.skip(&t, path)?,
            }
            Ok(())
        })?;
        Ok(st)
    }

    fn segment_list(&mut self, tag: &StartTag<'a>, path: &str) -> Res<SegmentList> {
        let a = Attrs { tag, path };
        let mut sl = SegmentList {
            duration: a.number("duration")?,
            timescale: a.number("timescale")?,
            href: a.string("href")?,
            ..SegmentList::default()
        };
        self.walk(tag, path, false, |r, t| {
            match local(t.name) {
                "Initialization" => {
                    let v = r.initialization(&t, &format!("{path}/Initialization"))?;
                    once(&mut sl.Initialization, v, path, "Initialization")?;
                }
                "SegmentTimeline" => {
                    let v = r.timeline(&t, &format!("{path}/SegmentTimeline"))?;
                    once(&mut sl.SegmentTimeline, v, path, "SegmentTimeline")?;
                }
                "SegmentURL" => {
                    let p = format!("{path}/SegmentURL[{}]", sl.segment_urls.len());
                    let u = r.leaf(&t, &p, |a| {
                        Ok(SegmentURL {
                            media: a.string("media")?,
                            mediaRange: a.string("mediaRange")?,
                            index: a.string("index")?,
                            ..SegmentURL::default()
                        })
                    })?;
                    sl.segment_urls.push(u);
                }
                _ => r.skip(&t, path)?,
            }
            Ok(())
        })?;
        Ok(sl)
    }

    fn segment_base(&mut self, tag: &StartTag<'a>, path: &str) -> Res<SegmentBase> {
        let a = Attrs { tag, path };
        let mut sb = SegmentBase {
            timescale: a.number("timescale")?,
            presentationTimeOffset: a.number("presentationTimeOffset")?,
            indexRange: a.string("indexRange")?,
            ..SegmentBase::default()
        };
        self.walk(tag, path, false, |r, t| {
            match local(t.name) {
                "Initialization" => {
                    let v = r.initialization(&t, &format!("{path}/Initialization"))?;
                    once(&mut sb.Initialization, v, path, "Initialization")?;
                }
                "RepresentationIndex" => {
                    let p = format!("{path}/RepresentationIndex");
                    let source = r.leaf(&t, &p, |a| a.string("sourceURL"))?;
                    let v = RepresentationIndex { sourceURL: source, ..Default::default() };
                    once(&mut sb.representation_index, v, path, "RepresentationIndex")?;
                }
                _ => r.skip(&t, path)?,
            }
            Ok(())
        })?;
        Ok(sb)
    }

    fn timeline(&mut self, tag: &StartTag<'a>, path: &str) -> Res<SegmentTimeline> {
        let mut tl = SegmentTimeline::default();
        self.walk(tag, path, false, |r, t| {
            if local(t.name) != "S" {
                return r.skip(&t, path);
            }
            let a = Attrs { tag: &t, path };
            // The path names the S only on error: timelines can hold many thousands.
            let s = (|| {
                Ok(S {
                    t: a.number("t")?,
                    n: a.number("n")?,
                    d: a.number("d")?.unwrap_or(0),
                    r: a.number("r")?,
                    ..S::default()
                })
            })()
            .map_err(|e| at_index(e, path, "S", tl.segments.len()))?;
            r.skip(&t, path)?;
            tl.segments.push(s);
            Ok(())
        })?;
        Ok(tl)
    }
}

/// Moves an error reported at `path` to `path/name[i]`.
fn at_index(e: ManifestError, path: &str, name: &str, i: usize) -> ManifestError {
    match e {
        ManifestError::Dash { message, .. } => {
            ManifestError::dash(format!("{path}/{name}[{i}]"), message)
        }
        other => other,
    }
}

fn mismatch(path: &str, open: &str, close: &str) -> ManifestError {
    ManifestError::dash(path, format!("end tag </{}> does not close <{}>", clip(close), open))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHAPES: &str = r#"<?xml version="1.0"?>
<dash:MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:dash="urn:mpeg:dash:schema:mpd:2011"
  type="dynamic" availabilityStartTime="2024-01-01T00:00:00Z" timeShiftBufferDepth="PT30S"
  profiles="urn:mpeg:dash:profile:isoff-live:2011">
  <BaseURL serviceLocation="alpha"> https://a.example/&amp;v/ </BaseURL>
  <Period id="p0" start="PT0S">
    <AdaptationSet contentType="video" width="1280" height="720">
      <Label> Main <!-- c --> </Label>
      <Role schemeIdUri="urn:mpeg:dash:role:2011" value="main"/>
      <SegmentTemplate timescale="90000" media="$Number$.m4s">
        <SegmentTimeline><S t="0" d="180000" r="2"/><S d="90000"/></SegmentTimeline>
      </SegmentTemplate>
      <Representation id="v1" bandwidth=" 800000 "><ContentProtection x="y"><a><b/></a></ContentProtection></Representation>
    </AdaptationSet>
  </Period>
  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-iso:2014" value="/time"/>
</dash:MPD>"#;

    #[test]
    fn reads_the_fields_the_converter_uses() {
        let mpd = read_mpd(SHAPES).unwrap();
        assert_eq!(mpd.mpdtype.as_deref(), Some("dynamic"));
        assert_eq!(mpd.timeShiftBufferDepth, Some(Duration::from_secs(30)));
        assert_eq!(mpd.base_url[0].base, "https://a.example/&v/");
        assert_eq!(mpd.base_url[0].serviceLocation.as_deref(), Some("alpha"));
        let set = &mpd.periods[0].adaptations[0];
        assert_eq!(set.Label[0].content, "Main");
        assert_eq!(set.Role[0].value.as_deref(), Some("main"));
        let tl = set.SegmentTemplate.as_ref().unwrap().SegmentTimeline.as_ref().unwrap();
        assert_eq!(tl.segments.len(), 2);
        assert_eq!((tl.segments[0].d, tl.segments[0].r), (180_000, Some(2)));
        assert_eq!(set.representations[0].bandwidth, Some(800_000));
        assert_eq!(mpd.UTCTiming[0].value.as_deref(), Some("/time"));
    }

    #[test]
    fn refuses_what_the_serde_reader_refuses() {
        let bad = [
            r#"<MPD><Period id="a" id="b"/></MPD>"#,
            r#"<MPD><Period><SegmentTemplate/><SegmentTemplate/></Period></MPD>"#,
            r#"<MPD><Period><AdaptationSet width="wide"/></Period></MPD>"#,
            r#"<MPD><Period><AdaptationSet></Period></MPD>"#,
            r#"<MPD><Period start="P"/></MPD>"#,
            r#"<MPD><BaseURL>&ent;</BaseURL></MPD>"#,
            r#"<MPD><Period>"#,
        ];
        for xml in bad {
            assert!(read_mpd(xml).is_err(), "{xml}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let xml =
            format!("<MPD>{}{}</MPD>", "<x>".repeat(MAX_DEPTH + 1), "</x>".repeat(MAX_DEPTH + 1));
        let e = read_mpd(&xml).unwrap_err();
        assert!(e.to_string().contains("nested"), "{e}");
    }
}
