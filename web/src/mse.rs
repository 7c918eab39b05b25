//! Media into the page's `<video>` through Media Source Extensions: one `SourceBuffer`
//! per track, created from the codec its first init segment declares, fed from a
//! queue (a `SourceBuffer` takes one append at a time, `updateend` says when the next
//! may go); `timestampOffset` set where a segment starts a new media timeline (the
//! engine's [`MediaTiming`]); a full buffer (`QuotaExceededError`) answered by evicting
//! media behind the playhead and trying again.
//!
//! The element is the page's own ([`Element::Local`]), or, with the player in a
//! dedicated worker, the page's element seen from the worker ([`Element::Remote`]): the
//! `MediaSource` lives in the worker, its `MediaSourceHandle` goes to the page, which
//! reports the playhead and carries out play, pause and seek. `ManagedMediaSource` is
//! used where a browser has only that (Safari on iOS).

use crate::error::{WebError, WebErrorKind, describe};
use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;
use streamsteer::container::{Fragment, InitSegment};
use streamsteer::session::{MediaTiming, TrackKind};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{HtmlMediaElement, MediaSource, MediaSourceReadyState, SourceBuffer};

/// Media kept behind the playhead when the browser's buffer is full, seconds.
const KEEP_BEHIND_S: f64 = 10.0;

/// One append waiting for its `SourceBuffer`.
enum Pending {
    Init { data: Vec<u8> },
    Media { data: Vec<u8>, timing: Option<MediaTiming> },
}

/// A track's `SourceBuffer` and what waits for it.
#[derive(Default)]
struct TrackBuffer {
    buffer: Option<SourceBuffer>,
    /// The MIME type (with codecs) the buffer was made or last changed for.
    mime: Option<String>,
    /// The init segment appended last: maps a new timeline's first sample to its time.
    init: Option<InitSegment>,
    queue: VecDeque<Pending>,
    /// Evicted once for the append at the head of the queue (a second refusal fails).
    evicted: bool,
    on_update_end: Option<Closure<dyn FnMut()>>,
}

/// The media element the source plays into.
pub(crate) enum Element {
    /// The page's element, on this thread.
    Local(HtmlMediaElement),
    /// The page's element, this player being in a worker.
    Remote(Remote),
}

/// The page's element seen from a worker: its playhead as the page last reported it,
/// and a function that sends the page a command (`{op: "attach", handle}`, `{op:
/// "play"}`, `{op: "pause"}`, `{op: "seek", position_s}`, `{op: "detach"}`).
pub(crate) struct Remote {
    position_s: Cell<f64>,
    post: js_sys::Function,
}

impl Remote {
    /// A remote element that sends its commands through `post`.
    pub fn new(post: js_sys::Function) -> Self {
        Self { position_s: Cell::new(0.0), post }
    }

    fn send(&self, op: &str, field: Option<(&str, JsValue)>) {
        let message = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&message, &"op".into(), &op.into());
        if let Some((name, value)) = field {
            let _ = js_sys::Reflect::set(&message, &name.into(), &value);
        }
        // A page that throws is its own error; the player goes on.
        let _ = self.post.call1(&JsValue::NULL, &message);
    }
}

impl Element {
    fn current_time(&self) -> f64 {
        match self {
            Element::Local(e) => e.current_time(),
            Element::Remote(r) => r.position_s.get(),
        }
    }

    /// The page's report of its element's playhead (a worker's player).
    pub fn set_reported_position(&self, position_s: f64) {
        if let Element::Remote(r) = self
            && position_s.is_finite()
        {
            r.position_s.set(position_s);
        }
    }

    fn set_current_time(&self, position_s: f64) {
        match self {
            Element::Local(e) => e.set_current_time(position_s),
            Element::Remote(r) => {
                r.position_s.set(position_s);
                r.send("seek", Some(("position_s", position_s.into())));
            }
        }
    }

    fn play(&self) {
        match self {
            Element::Local(e) => {
                if let Ok(p) = e.play() {
                    wasm_bindgen_futures::spawn_local(async move {
                        let _ = wasm_bindgen_futures::JsFuture::from(p).await;
                    });
                }
            }
            Element::Remote(r) => r.send("play", None),
        }
    }

    fn pause(&self) {
        match self {
            Element::Local(e) => {
                let _ = e.pause();
            }
            Element::Remote(r) => r.send("pause", None),
        }
    }

    /// Stops the element and lets go of the source.
    pub fn detach(&self) {
        match self {
            Element::Local(e) => {
                let _ = e.pause();
                e.remove_attribute("src").ok();
                e.load();
            }
            Element::Remote(r) => r.send("detach", None),
        }
    }
}

/// A new `MediaSource`, or a `ManagedMediaSource` where the scope has only that; with
/// the name of the one made.
fn new_media_source() -> Result<(MediaSource, &'static str), WebError> {
    for name in ["MediaSource", "ManagedMediaSource"] {
        let Some(ctor) = crate::global::lookup(name) else { continue };
        let Ok(ctor) = ctor.dyn_into::<js_sys::Function>() else { continue };
        let source = js_sys::Reflect::construct(&ctor, &js_sys::Array::new())
            .map_err(|e| WebError::browser(WebErrorKind::Media, name_of(name), &e))?;
        // Both have MediaSource's interface (ManagedMediaSource extends it).
        return Ok((source.unchecked_into(), name_of(name)));
    }
    Err(media_error("MediaSource", "this browser has no Media Source Extensions here"))
}

fn name_of(name: &str) -> &'static str {
    if name == "MediaSource" { "MediaSource" } else { "ManagedMediaSource" }
}

/// The media element and its `MediaSource`.
pub(crate) struct MediaOutput {
    element: Element,
    source: MediaSource,
    /// The object URL a local element plays from.
    object_url: Option<String>,
    /// Every track's buffer, in `TrackKind` order (two at most: a sorted `Vec`, which
    /// keeps a `BTreeMap` instantiation out of the module).
    tracks: Vec<(TrackKind, TrackBuffer)>,
    /// Called when the source opens or a buffer finishes an append.
    notify: Rc<dyn Fn()>,
    _on_source_open: Closure<dyn FnMut()>,
}

impl MediaOutput {
    /// Attaches a new `MediaSource` to `element`: by an object URL on the page, by its
    /// `MediaSourceHandle` (sent to the page) from a worker.
    pub fn attach(element: Element, notify: Rc<dyn Fn()>) -> Result<Self, WebError> {
        let (source, kind) = new_media_source()?;
        let n = notify.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || n());
        source.set_onsourceopen(Some(on_open.as_ref().unchecked_ref()));
        let object_url = match &element {
            Element::Local(e) => {
                let url = web_sys::Url::create_object_url_with_source(&source).map_err(|e| {
                    WebError::browser(WebErrorKind::Media, "URL.createObjectURL", &e)
                })?;
                if kind == "ManagedMediaSource" {
                    // Safari plays a managed source only with remote playback off (or
                    // an alternative source, which a player has not).
                    let _ = js_sys::Reflect::set(e, &"disableRemotePlayback".into(), &true.into());
                }
                e.set_src(&url);
                Some(url)
            }
            Element::Remote(r) => {
                let handle = js_sys::Reflect::get(&source, &"handle".into())
                    .ok()
                    .filter(|h| !h.is_undefined())
                    .ok_or_else(|| {
                        media_error("MediaSource.handle", "no MediaSource in workers here")
                    })?;
                r.send("attach", Some(("handle", handle)));
                None
            }
        };
        Ok(Self {
            element,
            source,
            object_url,
            tracks: Vec::new(),
            notify,
            _on_source_open: on_open,
        })
    }

    /// The media element.
    pub fn element(&self) -> &Element {
        &self.element
    }

    /// `track`'s buffer, added (empty) where it has none yet.
    fn track(&mut self, track: TrackKind) -> &mut TrackBuffer {
        let i = match self.tracks.binary_search_by_key(&track, |(k, _)| *k) {
            Ok(i) => i,
            Err(i) => {
                self.tracks.insert(i, (track, TrackBuffer::default()));
                i
            }
        };
        &mut self.tracks[i].1
    }

    fn is_open(&self) -> bool {
        self.source.ready_state() == MediaSourceReadyState::Open
    }

    /// Queues an init segment for `track`.
    pub fn append_init(&mut self, track: TrackKind, data: Vec<u8>) -> Result<(), WebError> {
        self.track(track).queue.push_back(Pending::Init { data });
        self.pump(track)
    }

    /// Queues a media segment for `track`.
    pub fn append_media(
        &mut self,
        track: TrackKind,
        data: Vec<u8>,
        timing: Option<MediaTiming>,
    ) -> Result<(), WebError> {
        self.track(track).queue.push_back(Pending::Media { data, timing });
        self.pump(track)
    }

    /// Moves every track's queue along (the source opened, or an append ended).
    pub fn pump_all(&mut self) -> Vec<WebError> {
        let kinds: Vec<TrackKind> = self.tracks.iter().map(|(k, _)| *k).collect();
        kinds.into_iter().filter_map(|k| self.pump(k).err()).collect()
    }

    /// Expects a `SourceBuffer` for `track` (the session asked for its init segment):
    /// Chromium refuses new buffers once media has been appended to one, so no append
    /// starts until every expected track has its buffer.
    pub fn expect(&mut self, track: TrackKind) {
        self.track(track);
    }

    /// Creates the buffer of every expected track whose init segment is queued;
    /// whether all have one.
    fn buffers_ready(&mut self) -> Result<bool, WebError> {
        for (kind, t) in self.tracks.iter_mut().filter(|(_, t)| t.buffer.is_none()) {
            let Some(Pending::Init { data }) = t.queue.front() else { return Ok(false) };
            let (mime, init) = mime_of(*kind, data)?;
            let buffer = self
                .source
                .add_source_buffer(&mime)
                .map_err(|e| WebError::browser(WebErrorKind::Media, "addSourceBuffer", &e))?;
            let n = self.notify.clone();
            let on_end = Closure::<dyn FnMut()>::new(move || n());
            buffer.set_onupdateend(Some(on_end.as_ref().unchecked_ref()));
            t.on_update_end = Some(on_end);
            t.buffer = Some(buffer);
            t.mime = Some(mime);
            t.init = Some(init);
        }
        Ok(true)
    }

    /// Starts the next append of `track` if its buffer is free.
    fn pump(&mut self, track: TrackKind) -> Result<(), WebError> {
        if !self.is_open() || !self.buffers_ready()? {
            return Ok(());
        }
        let position = self.element.current_time();
        let Some((_, t)) = self.tracks.iter_mut().find(|(k, _)| *k == track) else {
            return Ok(());
        };
        let Some(buffer) = t.buffer.clone() else { return Ok(()) };
        if buffer.updating() {
            return Ok(());
        }
        let Some(mut next) = t.queue.pop_front() else { return Ok(()) };
        let data = match &mut next {
            Pending::Init { data } => {
                let (mime, init) = mime_of(track, data)?;
                if t.mime.as_deref() != Some(mime.as_str()) {
                    // A new codec (a period or rendition with another one).
                    buffer
                        .change_type(&mime)
                        .map_err(|e| WebError::browser(WebErrorKind::Media, "changeType", &e))?;
                    t.mime = Some(mime);
                }
                t.init = Some(init);
                data
            }
            Pending::Media { data, timing } => {
                if let Some(timing) = timing.filter(|t| t.new_timeline) {
                    // The segment's first sample plays at the timing's start.
                    let first = t
                        .init
                        .as_ref()
                        .and_then(|init| Fragment::parse(data, init).ok())
                        .and_then(|f| f.tracks.first().map(|r| r.start_s()));
                    if let Some(first) = first {
                        buffer.set_timestamp_offset(timing.start_s - first);
                    }
                }
                data
            }
        };
        match buffer.append_buffer_with_u8_array(data) {
            Ok(()) => {
                t.evicted = false;
                Ok(())
            }
            Err(e) if describe(&e).starts_with("QuotaExceededError") && !t.evicted => {
                // Full: drop what lies well behind the playhead and try again after it.
                t.evicted = true;
                t.queue.push_front(next);
                let end = (position - KEEP_BEHIND_S).max(0.0);
                if end > 0.0 {
                    buffer.remove(0.0, end).map_err(|e| {
                        WebError::browser(WebErrorKind::Media, "SourceBuffer.remove", &e)
                    })?;
                }
                Ok(())
            }
            Err(e) => Err(WebError::browser(WebErrorKind::Media, "appendBuffer", &e)),
        }
    }

    /// Everything is appended: the element may play to the end.
    pub fn end_of_stream(&self) {
        if self.is_open() && self.tracks.iter().all(|(_, t)| t.queue.is_empty()) {
            // Refused only while a buffer updates; the element then ends at its
            // buffered end anyway.
            let _ = self.source.end_of_stream();
        }
    }

    /// The element's playhead, seconds.
    pub fn position_s(&self) -> f64 {
        self.element.current_time()
    }

    /// Moves the element's playhead.
    pub fn seek(&self, position_s: f64) {
        if position_s.is_finite() {
            self.element.set_current_time(position_s);
        }
    }

    /// Starts the element (a refused `play()`, as an autoplay policy may, is left to
    /// the page: the promise's rejection is absorbed).
    pub fn play(&self) {
        self.element.play();
    }

    /// Pauses the element.
    pub fn pause(&self) {
        self.element.pause();
    }
}

impl Drop for MediaOutput {
    fn drop(&mut self) {
        self.source.set_onsourceopen(None);
        for (_, t) in &self.tracks {
            if let Some(b) = &t.buffer {
                b.set_onupdateend(None);
            }
        }
        if let Some(url) = &self.object_url {
            let _ = web_sys::Url::revoke_object_url(url);
        }
    }
}

/// The MIME type (with the codec the init segment declares) of `track`'s buffer.
fn mime_of(track: TrackKind, data: &[u8]) -> Result<(String, InitSegment), WebError> {
    let init = InitSegment::parse(data).map_err(|e| media_error("init segment", e))?;
    let codecs = init
        .tracks
        .first()
        .map(|i| i.codecs_or_fourcc())
        .ok_or_else(|| media_error("init segment", "no track"))?;
    let kind = if track == TrackKind::Audio { "audio" } else { "video" };
    Ok((format!("{kind}/mp4; codecs=\"{codecs}\""), init))
}

fn media_error(what: &'static str, e: impl std::fmt::Display) -> WebError {
    WebError::Browser { kind: WebErrorKind::Media, what, message: e.to_string() }
}
