//! CMCD (CTA-5004, version 1): the Common Media Client Data a player attaches to its
//! requests so that CDNs can correlate their logs with playback.
//!
//! Sans-IO like the rest of the engine: [`request_data`] is a pure function from a
//! request and a snapshot of the player ([`CmcdContext`]) to the key/value set
//! ([`CmcdData`]), which serialises as the `CMCD=` query argument
//! ([`CmcdData::to_query`]) or as the four `CMCD-Object/Request/Session/Status`
//! headers ([`CmcdData::to_headers`]). [`parse_payload`] reads a payload back (what
//! an origin or a test does with what arrived).
//!
//! Encoding rules (CTA-5004 §3): keys sorted alphabetically; a true Boolean is the key
//! alone and a false one is omitted; strings are quoted, tokens are not; `v` and `pr`
//! are omitted when 1; `br`, `d`, `tb` are rounded to integers, `bl`, `dl` (ms) and
//! `mtp`, `rtp` (kbit/s) to the nearest 100; `nor` is URL-encoded inside its quotes.

use crate::manifest::ByteRange;
use crate::session::{FetchKind, FetchRequest, TrackKind};
use crate::time::Instant;
use crate::uri::Url;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;

/// How a driver sends the keys a request carries ([`FetchRequest::cmcd`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CmcdMode {
    /// Not sent (default): the session computes no keys.
    #[default]
    Off,
    /// As the `CMCD=` query argument (no CORS preflight in browsers: what players
    /// default to).
    Query,
    /// As the `CMCD-Object/Request/Session/Status` headers.
    Headers,
}

/// Common Media Client Data (CTA-5004) settings of a session.
///
/// The session computes the keys of every request it asks for and puts them in
/// [`FetchRequest::cmcd`]; a driver only serialises them with [`FetchRequest::wire`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CmcdConfig {
    /// Off (default), query argument or headers.
    pub mode: CmcdMode,
    /// `sid`. `None` (default) derives one from the manifest URL
    /// ([`derived_session_id`] with seed 0); a driver should set a fresh one per
    /// playback (a random UUID) so that CDN logs tell viewers apart.
    pub session_id: Option<String>,
    /// `cid`; `None` (default) sends none.
    pub content_id: Option<String>,
    /// Also send CMCD on steering-manifest requests (default false: the steering
    /// server gets `_HLS_pathway`/`_DASH_pathway` and throughput already).
    pub on_steering: bool,
}

impl CmcdConfig {
    /// Whether keys are sent at all.
    pub fn enabled(&self) -> bool {
        self.mode != CmcdMode::Off
    }

    /// The session id to send for a presentation loaded from `manifest_url`.
    pub fn session_id_for(&self, manifest_url: &str) -> String {
        self.session_id.clone().unwrap_or_else(|| derived_session_id(0, manifest_url))
    }

    /// The keys of the first manifest request, made before any session exists:
    /// the session keys, `ot=m` and `su`. `None` when CMCD is off.
    pub fn first_request(&self, req: &FetchRequest) -> Option<Box<CmcdData>> {
        let ctx = CmcdContext {
            session_id: Some(self.session_id_for(&req.url)),
            content_id: self.content_id.clone(),
            urgent: true,
            ..CmcdContext::default()
        };
        self.enabled().then(|| Box::new(request_data(req, &ctx)))
    }
}

/// A UUID-shaped (RFC 9562 version 4 layout) session id, stable for a seed and a
/// manifest URL: deterministic, as the engine must be; a driver that wants a random
/// one passes a random seed.
pub fn derived_session_id(seed: u64, url: &str) -> String {
    // FNV-1a of the URL, then two SplitMix64 outputs.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in url.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut state = seed ^ h;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let (a, b) = (next(), next());
    let b = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    let a = (a & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

/// The name of the query argument that carries the payload.
pub const QUERY_KEY: &str = "CMCD";

/// Longest `sid` and `cid` value CTA-5004 v1 allows, in characters.
pub const MAX_ID_CHARS: usize = 64;

/// `ot`: what kind of object is requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectType {
    /// `m`: a manifest or playlist.
    Manifest,
    /// `a`: audio only.
    Audio,
    /// `v`: video only.
    Video,
    /// `av`: muxed audio and video.
    Muxed,
    /// `i`: an initialization segment.
    Init,
    /// `c`: captions or subtitles.
    Caption,
    /// `tt`: ISOBMFF timed text.
    TimedText,
    /// `k`: a key, licence or certificate.
    Key,
    /// `o`: anything else.
    Other,
}

impl ObjectType {
    /// The CMCD token.
    pub fn token(self) -> &'static str {
        match self {
            Self::Manifest => "m",
            Self::Audio => "a",
            Self::Video => "v",
            Self::Muxed => "av",
            Self::Init => "i",
            Self::Caption => "c",
            Self::TimedText => "tt",
            Self::Key => "k",
            Self::Other => "o",
        }
    }

    /// Whether the object is timed media (the types `bl` applies to).
    pub fn is_media(self) -> bool {
        matches!(self, Self::Audio | Self::Video | Self::Muxed)
    }
}

/// `sf`: the streaming format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamingFormat {
    /// `d`: MPEG-DASH.
    Dash,
    /// `h`: HLS.
    Hls,
    /// `s`: Smooth Streaming.
    Smooth,
    /// `o`: anything else.
    Other,
}

impl StreamingFormat {
    /// The CMCD token.
    pub fn token(self) -> &'static str {
        match self {
            Self::Dash => "d",
            Self::Hls => "h",
            Self::Smooth => "s",
            Self::Other => "o",
        }
    }
}

/// `st`: the stream type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamType {
    /// `v`: all segments are available (VOD).
    Vod,
    /// `l`: segments become available over time (live).
    Live,
}

impl StreamType {
    /// The CMCD token.
    pub fn token(self) -> &'static str {
        match self {
            Self::Vod => "v",
            Self::Live => "l",
        }
    }
}

/// Which of the four headers a key travels in (header mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Shard {
    /// `CMCD-Object`: keys that vary with the object.
    Object,
    /// `CMCD-Request`: keys that vary with each request.
    Request,
    /// `CMCD-Session`: keys that stay the same for the session.
    Session,
    /// `CMCD-Status`: keys that change rarely.
    Status,
}

impl Shard {
    /// The header name.
    pub fn header_name(self) -> &'static str {
        match self {
            Self::Object => "CMCD-Object",
            Self::Request => "CMCD-Request",
            Self::Session => "CMCD-Session",
            Self::Status => "CMCD-Status",
        }
    }

    /// The shard of a key (CTA-5004 v1 table 1); unknown and custom keys go in
    /// `CMCD-Request`, as CML does.
    pub fn of_key(key: &str) -> Shard {
        match key {
            "br" | "d" | "ot" | "tb" => Self::Object,
            "cid" | "pr" | "sf" | "sid" | "st" | "v" => Self::Session,
            "bs" | "rtp" => Self::Status,
            _ => Self::Request,
        }
    }
}

/// The player's state when a request is made: what [`request_data`] needs besides the
/// request itself. Every field is optional in the sense of CMCD: a `None` (or `false`)
/// key is simply not sent.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CmcdContext {
    /// When the request is made, on the session clock (for `dl`).
    pub now: Instant,
    /// `sid`: the playback session id (a UUID is recommended).
    pub session_id: Option<String>,
    /// `cid`: the content id.
    pub content_id: Option<String>,
    /// `sf`: the streaming format.
    pub format: Option<StreamingFormat>,
    /// `st`: VOD or live.
    pub stream_type: Option<StreamType>,
    /// `bl`: seconds of media buffered ahead of the playhead for the requested track.
    pub buffer_level_s: Option<f64>,
    /// `mtp`: measured throughput, kbit/s.
    pub throughput_kbps: Option<f64>,
    /// `br`: encoded bitrate of the requested rendition, kbit/s.
    pub bitrate_kbps: Option<f64>,
    /// `tb`: highest bitrate the player may play for this object type, kbit/s.
    pub top_bitrate_kbps: Option<f64>,
    /// `d`: duration of the requested media object, seconds.
    pub object_duration_s: Option<f64>,
    /// `nor`: the next object the player will request, relative to this one's URL.
    pub next_object: Option<String>,
    /// `nrr`: the byte range of the next request.
    pub next_range: Option<ByteRange>,
    /// `su`: the object is needed urgently (startup, seek, recovery from a stall).
    pub urgent: bool,
    /// `bs`: the buffer ran dry since the previous request.
    pub starved: bool,
    /// `pr`: playback rate (1 real time, 0 not playing).
    pub playback_rate: f64,
    /// `rtp`: the throughput the player asks the server to deliver at most, kbit/s.
    pub requested_max_throughput_kbps: Option<f64>,
}

/// The CMCD key/value set of one request, rounded as the specification says.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CmcdData {
    /// `br`: encoded bitrate, kbit/s.
    pub br: Option<u64>,
    /// `bl`: buffer length, ms, rounded to 100.
    pub bl: Option<u64>,
    /// `bs`: buffer starvation since the previous request.
    pub bs: bool,
    /// `cid`: content id.
    pub cid: Option<String>,
    /// `d`: object duration, ms.
    pub d: Option<u64>,
    /// `dl`: deadline, ms, rounded to 100.
    pub dl: Option<u64>,
    /// `mtp`: measured throughput, kbit/s, rounded to 100.
    pub mtp: Option<u64>,
    /// `nor`: next object request (relative path, not yet URL-encoded).
    pub nor: Option<String>,
    /// `nrr`: next range request (`start-end`).
    pub nrr: Option<String>,
    /// `ot`: object type.
    pub ot: Option<ObjectType>,
    /// `pr`: playback rate; omitted when 1.
    pub pr: Option<f64>,
    /// `rtp`: requested maximum throughput, kbit/s, rounded to 100.
    pub rtp: Option<u64>,
    /// `sf`: streaming format.
    pub sf: Option<StreamingFormat>,
    /// `sid`: session id.
    pub sid: Option<String>,
    /// `st`: stream type.
    pub st: Option<StreamType>,
    /// `su`: startup / urgent.
    pub su: bool,
    /// `tb`: top bitrate, kbit/s.
    pub tb: Option<u64>,
    /// `v`: CMCD version; omitted when 1.
    pub v: Option<u32>,
}

/// A value as it appears on the wire.
#[derive(Debug, Clone, PartialEq)]
pub enum CmcdValue {
    /// An integer.
    Integer(u64),
    /// A decimal.
    Decimal(f64),
    /// A quoted string (unescaped).
    String(String),
    /// An unquoted token.
    Token(String),
    /// A key without a value: Boolean true.
    True,
}

impl CmcdValue {
    fn write(&self, out: &mut String) {
        match self {
            Self::Integer(n) => out.push_str(&n.to_string()),
            Self::Decimal(x) => out.push_str(&format_decimal(*x)),
            Self::String(s) => {
                out.push('"');
                for c in s.chars() {
                    if c == '"' || c == '\\' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
            }
            Self::Token(t) => out.push_str(t),
            Self::True => {}
        }
    }
}

/// A payload that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CmcdError {
    /// A key is empty or has characters outside `[a-z0-9._-]`.
    #[error("CMCD: bad key {0:?}")]
    BadKey(String),
    /// A value is neither a number, a quoted string nor a token.
    #[error("CMCD: bad value for key {key}: {value:?}")]
    BadValue {
        /// The key.
        key: String,
        /// The value as written.
        value: String,
    },
    /// A quoted string has no closing quote.
    #[error("CMCD: unterminated string for key {0}")]
    Unterminated(String),
    /// A percent escape is malformed or decodes to invalid UTF-8.
    #[error("CMCD: bad percent-encoding")]
    BadEncoding,
}

/// Rounds to the nearest multiple of 100 (CTA-5004 for `bl`, `dl`, `mtp`, `rtp`).
fn round_100(x: f64) -> Option<u64> {
    finite_nonneg(x).map(|x| ((x / 100.0).round() * 100.0) as u64)
}

fn round_int(x: f64) -> Option<u64> {
    finite_nonneg(x).map(|x| x.round() as u64)
}

fn finite_nonneg(x: f64) -> Option<f64> {
    (x.is_finite() && x >= 0.0).then_some(x)
}

fn clip_id(s: &str) -> String {
    s.chars().take(MAX_ID_CHARS).collect()
}

/// The object type of a request: manifests `m`, init segments `i`, media by track,
/// steering manifests, segment indexes and `UTCTiming` clock requests `o`.
pub fn object_type(req: &FetchRequest) -> ObjectType {
    match req.kind {
        FetchKind::Manifest => ObjectType::Manifest,
        FetchKind::Init => ObjectType::Init,
        FetchKind::Media => match req.track {
            Some(TrackKind::Audio) => ObjectType::Audio,
            Some(TrackKind::Video) => ObjectType::Video,
            None => ObjectType::Other,
        },
        // CTA-5004 has no type for a segment index (neither init nor media) or a clock.
        FetchKind::Steering | FetchKind::SegmentIndex | FetchKind::UtcTiming { .. } => {
            ObjectType::Other
        }
    }
}

/// The CMCD data for `req` in the state `ctx` describes.
///
/// Session keys (`sid`, `cid`, `sf`, `st`, `pr`) and `mtp`, `rtp`, `bs`, `su` go with
/// every request; the object keys `br`, `tb`, `d`, the buffer length `bl`, the
/// deadline `dl` and the next-request hints `nor`/`nrr` go only with media objects,
/// the types the specification defines them for.
pub fn request_data(req: &FetchRequest, ctx: &CmcdContext) -> CmcdData {
    let ot = object_type(req);
    let media = ot.is_media();
    let pr = finite_nonneg(ctx.playback_rate).filter(|r| (r - 1.0).abs() > 1e-9);
    let dl = req
        .deadline
        .filter(|_| media)
        .and_then(|d| round_100(d.saturating_since(ctx.now).as_secs_f64() * 1000.0));
    CmcdData {
        br: ctx.bitrate_kbps.filter(|_| media).and_then(round_int),
        bl: ctx.buffer_level_s.filter(|_| media).and_then(|s| round_100(s * 1000.0)),
        bs: ctx.starved,
        cid: ctx.content_id.as_deref().map(clip_id),
        d: ctx.object_duration_s.filter(|_| media).and_then(|s| round_int(s * 1000.0)),
        dl,
        mtp: ctx.throughput_kbps.and_then(round_100),
        nor: ctx.next_object.clone().filter(|n| media && !n.is_empty()),
        nrr: ctx.next_range.filter(|_| media).and_then(range_spec),
        ot: Some(ot),
        pr,
        rtp: ctx.requested_max_throughput_kbps.and_then(round_100),
        sf: ctx.format,
        sid: ctx.session_id.as_deref().map(clip_id),
        st: ctx.stream_type,
        su: ctx.urgent,
        tb: ctx.top_bitrate_kbps.filter(|_| media).and_then(round_int),
        v: None,
    }
}

fn range_spec(r: ByteRange) -> Option<String> {
    let last = r.offset.checked_add(r.length)?.checked_sub(1)?;
    Some(format!("{}-{last}", r.offset))
}

/// Decimal in the shortest form that reads back exactly, at most three fraction
/// digits (RFC 8941 decimals).
fn format_decimal(x: f64) -> String {
    let r = (x * 1000.0).round() / 1000.0;
    format!("{r}")
}

impl CmcdData {
    /// The keys and values to send, sorted by key.
    pub fn pairs(&self) -> Vec<(&'static str, CmcdValue)> {
        use CmcdValue::{Decimal, Integer, String as Str, Token, True};
        let mut out: Vec<(&'static str, CmcdValue)> = Vec::new();
        let mut int = |k, v: Option<u64>| {
            if let Some(v) = v {
                out.push((k, Integer(v)));
            }
        };
        int("bl", self.bl);
        int("br", self.br);
        int("d", self.d);
        int("dl", self.dl);
        int("mtp", self.mtp);
        int("rtp", self.rtp);
        int("tb", self.tb);
        if let Some(v) = self.v.filter(|v| *v != 1) {
            out.push(("v", Integer(u64::from(v))));
        }
        if self.bs {
            out.push(("bs", True));
        }
        if self.su {
            out.push(("su", True));
        }
        if let Some(s) = &self.cid {
            out.push(("cid", Str(s.clone())));
        }
        if let Some(s) = &self.sid {
            out.push(("sid", Str(s.clone())));
        }
        if let Some(s) = &self.nor {
            out.push(("nor", Str(encode_component(s))));
        }
        if let Some(s) = &self.nrr {
            out.push(("nrr", Str(s.clone())));
        }
        if let Some(pr) = self.pr.filter(|p| (p - 1.0).abs() > 1e-9) {
            out.push(("pr", Decimal(pr)));
        }
        if let Some(t) = self.ot {
            out.push(("ot", Token(t.token().into())));
        }
        if let Some(t) = self.sf {
            out.push(("sf", Token(t.token().into())));
        }
        if let Some(t) = self.st {
            out.push(("st", Token(t.token().into())));
        }
        out.sort_by(|a, b| a.0.cmp(b.0));
        out
    }

    /// The payload: `key=value` pairs joined by commas, keys sorted.
    pub fn to_payload(&self) -> String {
        join(self.pairs().iter().map(|(k, v)| (*k, v)))
    }

    /// The query argument, `CMCD=<payload URL-encoded>`; empty when there is nothing
    /// to send.
    pub fn to_query(&self) -> String {
        let payload = self.to_payload();
        if payload.is_empty() {
            return String::new();
        }
        format!("{QUERY_KEY}={}", encode_component(&payload))
    }

    /// The header shards that have keys, in the order Object, Request, Session,
    /// Status: `(header name, value)`.
    pub fn to_headers(&self) -> Vec<(&'static str, String)> {
        let mut shards: BTreeMap<Shard, Vec<(&'static str, CmcdValue)>> = BTreeMap::new();
        for (k, v) in self.pairs() {
            shards.entry(Shard::of_key(k)).or_default().push((k, v));
        }
        shards
            .into_iter()
            .map(|(shard, pairs)| (shard.header_name(), join(pairs.iter().map(|(k, v)| (*k, v)))))
            .collect()
    }

    /// The URL and headers that carry this data in `mode`.
    pub fn encode(&self, mode: CmcdMode, url: &Url) -> (Url, Vec<(&'static str, String)>) {
        match mode {
            CmcdMode::Off => (url.clone(), Vec::new()),
            CmcdMode::Query => (self.append_to_url(url), Vec::new()),
            CmcdMode::Headers => (url.clone(), self.to_headers()),
        }
    }

    /// `url` with the query argument appended (before any fragment).
    pub fn append_to_url(&self, url: &Url) -> Url {
        let query = self.to_query();
        if query.is_empty() {
            return url.clone();
        }
        url.with_appended_query(&query)
    }
}

fn join<'a>(pairs: impl Iterator<Item = (&'a str, &'a CmcdValue)>) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(k);
        if *v != CmcdValue::True {
            out.push('=');
            v.write(&mut out);
        }
    }
    out
}

/// Percent-encodes everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` (what JavaScript's
/// `encodeURIComponent` leaves alone, which is what the specification's examples use).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (and nothing else: `+` stays a plus).
pub fn decode_component(s: &str) -> Result<String, CmcdError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(CmcdError::BadEncoding)?;
            let hex = std::str::from_utf8(hex).map_err(|_| CmcdError::BadEncoding)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| CmcdError::BadEncoding)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| CmcdError::BadEncoding)
}

/// The `CMCD` argument of a URL's query, decoded, if there is one.
pub fn payload_from_url(url: &str) -> Result<Option<String>, CmcdError> {
    let Some(q) = url.split('#').next().and_then(|u| u.split_once('?')).map(|x| x.1) else {
        return Ok(None);
    };
    for arg in q.split('&') {
        if let Some(v) = arg.strip_prefix(QUERY_KEY).and_then(|r| r.strip_prefix('=')) {
            return decode_component(v).map(Some);
        }
    }
    Ok(None)
}

/// Reads a payload (`key=value,key,…`) into its keys and values. Strings come back
/// unescaped but otherwise as sent (`nor` stays URL-encoded).
pub fn parse_payload(payload: &str) -> Result<BTreeMap<String, CmcdValue>, CmcdError> {
    let mut out = BTreeMap::new();
    let mut rest = payload.trim();
    while !rest.is_empty() {
        let key_end = rest.find(['=', ',']).unwrap_or(rest.len());
        let key = rest[..key_end].trim();
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        {
            return Err(CmcdError::BadKey(key.to_string()));
        }
        rest = &rest[key_end..];
        let value = if let Some(after) = rest.strip_prefix('=') {
            if let Some(body) = after.strip_prefix('"') {
                let mut s = String::new();
                let mut chars = body.char_indices();
                let mut end = None;
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => match chars.next() {
                            Some((_, e)) => s.push(e),
                            None => break,
                        },
                        '"' => {
                            end = Some(i);
                            break;
                        }
                        c => s.push(c),
                    }
                }
                let end = end.ok_or_else(|| CmcdError::Unterminated(key.to_string()))?;
                rest = &body[end + 1..];
                CmcdValue::String(s)
            } else {
                let end = after.find(',').unwrap_or(after.len());
                let raw = after[..end].trim();
                rest = &after[end..];
                parse_bare(key, raw)?
            }
        } else {
            CmcdValue::True
        };
        out.insert(key.to_string(), value);
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix(',') {
            rest = r.trim_start();
        } else if !rest.is_empty() {
            return Err(CmcdError::BadValue { key: key.to_string(), value: rest.to_string() });
        }
    }
    Ok(out)
}

fn parse_bare(key: &str, raw: &str) -> Result<CmcdValue, CmcdError> {
    let bad = || CmcdError::BadValue { key: key.to_string(), value: raw.to_string() };
    let first = raw.chars().next().ok_or_else(bad)?;
    if first.is_ascii_digit() || first == '-' {
        if let Ok(n) = raw.parse::<u64>() {
            return Ok(CmcdValue::Integer(n));
        }
        return raw.parse::<f64>().map(CmcdValue::Decimal).map_err(|_| bad());
    }
    if raw == "?1" {
        return Ok(CmcdValue::True);
    }
    if first.is_ascii_alphabetic() || first == '*' {
        return Ok(CmcdValue::Token(raw.to_string()));
    }
    Err(bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The "all keys on a video segment" example of CTA-5004 (section 5 examples).
    fn spec_example() -> CmcdData {
        CmcdData {
            br: Some(3200),
            bl: Some(21300),
            bs: true,
            cid: Some("faec5fc2-ac30-11ea-bb37-0242ac130002".into()),
            d: Some(4004),
            dl: Some(18500),
            mtp: Some(48100),
            nor: Some("../300kbps/track.m4v".into()),
            nrr: Some("12323-48763".into()),
            ot: Some(ObjectType::Video),
            pr: Some(1.08),
            rtp: Some(12000),
            sf: Some(StreamingFormat::Dash),
            sid: Some("6e2fb550-c457-11e9-bb97-0800200c9a66".into()),
            st: Some(StreamType::Vod),
            su: true,
            tb: Some(6000),
            v: None,
        }
    }

    #[test]
    fn query_matches_the_spec_example() {
        assert_eq!(
            spec_example().to_query(),
            "CMCD=bl%3D21300%2Cbr%3D3200%2Cbs%2Ccid%3D%22faec5fc2-ac30-11ea-bb37-0242ac130002%22\
             %2Cd%3D4004%2Cdl%3D18500%2Cmtp%3D48100%2Cnor%3D%22..%252F300kbps%252Ftrack.m4v%22\
             %2Cnrr%3D%2212323-48763%22%2Cot%3Dv%2Cpr%3D1.08%2Crtp%3D12000%2Csf%3Dd\
             %2Csid%3D%226e2fb550-c457-11e9-bb97-0800200c9a66%22%2Cst%3Dv%2Csu%2Ctb%3D6000"
        );
    }

    #[test]
    fn headers_match_the_spec_example() {
        let h = spec_example().to_headers();
        assert_eq!(
            h,
            vec![
                ("CMCD-Object", "br=3200,d=4004,ot=v,tb=6000".to_string()),
                (
                    "CMCD-Request",
                    "bl=21300,dl=18500,mtp=48100,nor=\"..%2F300kbps%2Ftrack.m4v\",\
                     nrr=\"12323-48763\",su"
                        .to_string()
                ),
                (
                    "CMCD-Session",
                    "cid=\"faec5fc2-ac30-11ea-bb37-0242ac130002\",pr=1.08,sf=d,\
                     sid=\"6e2fb550-c457-11e9-bb97-0800200c9a66\",st=v"
                        .to_string()
                ),
                ("CMCD-Status", "bs,rtp=12000".to_string()),
            ]
        );
    }

    #[test]
    fn payload_round_trips_through_the_query() {
        let data = spec_example();
        let base = Url::parse("http://cdn.example/v/seg_1.m4s?token=a#frag").unwrap();
        let url = data.append_to_url(&base);
        assert!(url.starts_with("http://cdn.example/v/seg_1.m4s?token=a&CMCD="), "{url}");
        assert!(url.ends_with("#frag"));
        let payload = payload_from_url(&url).unwrap().unwrap();
        assert_eq!(payload, data.to_payload());
        let keys = parse_payload(&payload).unwrap();
        assert_eq!(keys["bl"], CmcdValue::Integer(21300));
        assert_eq!(keys["bs"], CmcdValue::True);
        assert_eq!(keys["nor"], CmcdValue::String("..%2F300kbps%2Ftrack.m4v".into()));
        assert_eq!(keys["ot"], CmcdValue::Token("v".into()));
        assert_eq!(keys["pr"], CmcdValue::Decimal(1.08));
        assert_eq!(keys.len(), 17);
    }

    fn media_request() -> FetchRequest {
        FetchRequest {
            id: 7,
            url: crate::uri::Url::parse("http://cdn.example/720p/seg_003.m4s").unwrap(),
            byte_range: None,
            pathway: Some("cdn-a".into()),
            kind: FetchKind::Media,
            track: Some(TrackKind::Video),
            segment: Some(3),
            rendition: Some(2),
            expected_bytes: None,
            deadline: Some(Instant::from_secs_f64(30.0)),
            cmcd: None,
        }
    }

    #[test]
    fn request_data_rounds_as_the_spec_says() {
        let ctx = CmcdContext {
            now: Instant::from_secs_f64(11.5),
            session_id: Some("s".into()),
            content_id: Some("c".repeat(80)),
            format: Some(StreamingFormat::Hls),
            stream_type: Some(StreamType::Vod),
            buffer_level_s: Some(21.349),
            throughput_kbps: Some(48_149.9),
            bitrate_kbps: Some(3_199.6),
            top_bitrate_kbps: Some(6_000.4),
            object_duration_s: Some(4.0044),
            next_object: Some("seg_004.m4s".into()),
            next_range: Some(ByteRange { offset: 12323, length: 36441 }),
            urgent: false,
            starved: false,
            playback_rate: 1.0,
            requested_max_throughput_kbps: None,
        };
        let d = request_data(&media_request(), &ctx);
        assert_eq!(d.bl, Some(21300));
        assert_eq!(d.mtp, Some(48100));
        assert_eq!(d.br, Some(3200));
        assert_eq!(d.tb, Some(6000));
        assert_eq!(d.d, Some(4004));
        assert_eq!(d.dl, Some(18500));
        assert_eq!(d.nrr.as_deref(), Some("12323-48763"));
        assert_eq!(d.cid.as_ref().map(String::len), Some(MAX_ID_CHARS));
        assert_eq!(d.pr, None, "pr is omitted at real-time rate");
        assert_eq!(d.to_headers()[0], ("CMCD-Object", "br=3200,d=4004,ot=v,tb=6000".to_string()));
        assert!(!d.to_payload().contains("su"));
    }

    #[test]
    fn manifests_carry_no_media_keys() {
        let mut req = media_request();
        req.kind = FetchKind::Manifest;
        req.track = None;
        let ctx = CmcdContext {
            buffer_level_s: Some(3.0),
            bitrate_kbps: Some(800.0),
            object_duration_s: Some(2.0),
            throughput_kbps: Some(1234.0),
            urgent: true,
            playback_rate: 0.0,
            ..CmcdContext::default()
        };
        let d = request_data(&req, &ctx);
        assert_eq!(d.to_payload(), "mtp=1200,ot=m,pr=0,su");
    }

    #[test]
    fn derived_session_ids_are_stable_uuids() {
        let a = derived_session_id(1, "http://x/m.m3u8");
        assert_eq!(a, derived_session_id(1, "http://x/m.m3u8"));
        assert_ne!(a, derived_session_id(2, "http://x/m.m3u8"));
        assert_ne!(a, derived_session_id(1, "http://x/n.m3u8"));
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4');
        assert!(matches!(a.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
    }

    #[test]
    fn off_sends_nothing_and_the_first_request_is_urgent() {
        let mut req = media_request();
        req.kind = FetchKind::Manifest;
        let off = CmcdConfig::default();
        assert_eq!(off.first_request(&req), None);
        let on = CmcdConfig { mode: CmcdMode::Query, ..CmcdConfig::default() };
        let d = on.first_request(&req).unwrap();
        assert!(d.su);
        assert_eq!(d.ot, Some(ObjectType::Manifest));
        assert_eq!(d.sid.as_deref(), Some(derived_session_id(0, &req.url).as_str()));
        let (url, headers) = d.encode(CmcdMode::Query, &req.url);
        assert!(url.contains("CMCD=ot%3Dm%2Cpr%3D0%2Csid%3D"), "{url}");
        assert!(headers.is_empty());
        let (url, headers) = d.encode(CmcdMode::Headers, &req.url);
        assert_eq!(url, req.url);
        let names: Vec<&str> = headers.iter().map(|h| h.0).collect();
        assert_eq!(names, ["CMCD-Object", "CMCD-Request", "CMCD-Session"]);
    }

    #[test]
    fn parse_rejects_malformed_payloads() {
        assert!(matches!(parse_payload("BL=1"), Err(CmcdError::BadKey(_))));
        assert!(matches!(parse_payload("sid=\"abc"), Err(CmcdError::Unterminated(_))));
        assert!(matches!(parse_payload("bl=%%"), Err(CmcdError::BadValue { .. })));
        assert_eq!(decode_component("%2"), Err(CmcdError::BadEncoding));
        assert_eq!(parse_payload("").unwrap().len(), 0);
        let p = parse_payload("sid=\"a\\\"b\",su").unwrap();
        assert_eq!(p["sid"], CmcdValue::String("a\"b".into()));
    }
}
