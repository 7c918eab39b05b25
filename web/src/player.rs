//! `StreamsteerPlayer`: the engine's [`Session`] driven by the browser, as the native
//! driver drives it with tokio and reqwest.
//!
//! Every input (a fetch's progress or end, a timer, the media element's clock, a call
//! from the page) takes the player's state, feeds the session one event and carries
//! out the actions it returns; events for the page are queued meanwhile and handed to
//! the page's listener only once the state is released, so a listener may call back
//! into the player. Nothing in here throws into JavaScript: failures become `error`
//! events, and the promise of `load` rejects with a typed message.

use crate::clock::{Clock, unix_now_s};
use crate::error::{WebError, WebErrorKind};
use crate::fetch::{self, FetchJob, FetchMsg};
use crate::global;
use crate::mse::{Element, MediaOutput, Remote};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use streamsteer::manifest::parse_any;
use streamsteer::session::{
    Action, BodyLimits, Event, FetchKind, FetchRequest, PlayerEvent, PlayerState, RequestId,
    Session, SessionConfig, TrackKind,
};
use streamsteer::time::Duration;
use streamsteer::uri::Url;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, HtmlMediaElement};

/// The web player's configuration: one object, every field optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebConfig {
    /// The engine's settings, as natively (`SessionConfig`: ABR, buffer, steering,
    /// CMCD, allowed hosts); their defaults are the native defaults.
    pub session: SessionConfig,
    /// How often the media element's playhead is read into the session, ms (250).
    pub position_interval_ms: u32,
    /// Largest response bodies, per request kind (the native player's defaults).
    pub limits: BodyLimits,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            session: SessionConfig::default(),
            position_interval_ms: 250,
            limits: BodyLimits::default(),
        }
    }
}

/// A message for the page's listener, serialized straight to its JSON text (no
/// `serde_json::Value` in between): `{"type":"player","event":{...}}`,
/// `{"type":"request",...}` or `{"type":"error","kind":...,"message":...}`.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Message<'a> {
    Player {
        event: &'a PlayerEvent,
    },
    Request {
        id: RequestId,
        url: String,
        pathway: &'a Option<String>,
        kind: FetchKind,
        track: Option<TrackKind>,
        status: Option<u16>,
        bytes: u64,
        ttfb_s: Option<f64>,
        duration_s: f64,
        error: Option<&'a str>,
    },
    Error {
        kind: WebErrorKind,
        message: String,
    },
}

/// A timer the player set, kept alive with its callback.
struct Timer {
    handle: i32,
    _callback: Closure<dyn FnMut()>,
}

impl Timer {
    fn cancel(&self, interval: bool) {
        if interval {
            global::clear_interval(self.handle);
        } else {
            global::clear_timeout(self.handle);
        }
    }
}

struct InFlight {
    controller: AbortController,
    req: FetchRequest,
}

/// Values by request: the few requests in flight (a `Vec`, searched, rather than a
/// `HashMap`, whose code would be instantiated once more for each value type).
struct IdMap<V>(Vec<(RequestId, V)>);

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<V> IdMap<V> {
    fn insert(&mut self, id: RequestId, value: V) {
        self.remove(id);
        self.0.push((id, value));
    }

    fn remove(&mut self, id: RequestId) -> Option<V> {
        let i = self.0.iter().position(|(k, _)| *k == id)?;
        Some(self.0.swap_remove(i).1)
    }

    fn contains_key(&self, id: RequestId) -> bool {
        self.0.iter().any(|(k, _)| *k == id)
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}

/// The player's state, shared by the callbacks the browser holds.
struct Inner {
    me: Weak<RefCell<Inner>>,
    config: WebConfig,
    clock: Clock,
    session: Option<Session<'static>>,
    media: Option<MediaOutput>,
    inflight: IdMap<InFlight>,
    bodies: IdMap<Vec<u8>>,
    wake: Option<Timer>,
    position_timer: Option<Timer>,
    listener: Option<js_sys::Function>,
    /// Events for the page, as JSON, handed over once the state is released.
    outbox: Vec<String>,
    destroyed: bool,
}

/// The page's handle on a player.
#[wasm_bindgen]
pub struct StreamsteerPlayer {
    inner: Rc<RefCell<Inner>>,
}

/// Runs `f` on the player's state, then hands the queued events to the listener.
/// A call made while the state is taken (which the event queue prevents) is dropped
/// rather than allowed to panic.
fn with_inner<R>(inner: &Rc<RefCell<Inner>>, f: impl FnOnce(&mut Inner) -> R) -> Option<R> {
    let result = f(&mut *inner.try_borrow_mut().ok()?);
    deliver(inner);
    Some(result)
}

/// Hands the queued events to the listener, once the state is released. Not generic
/// (and not inlined), so that it is in the module once rather than in every
/// instance of [`with_inner`].
#[inline(never)]
fn deliver(inner: &Rc<RefCell<Inner>>) {
    let Ok(mut guard) = inner.try_borrow_mut() else { return };
    let (listener, events) = (guard.listener.clone(), std::mem::take(&mut guard.outbox));
    drop(guard);
    if let Some(listener) = listener {
        for e in events {
            // A listener that throws is the page's own error; the player goes on.
            let _ = listener.call1(&JsValue::NULL, &JsValue::from_str(&e));
        }
    }
}

fn with_weak(weak: &Weak<RefCell<Inner>>, f: impl FnOnce(&mut Inner)) {
    if let Some(inner) = weak.upgrade() {
        with_inner(&inner, f);
    }
}

#[wasm_bindgen]
impl StreamsteerPlayer {
    /// A player configured by `config` (a JSON string of [`WebConfig`], or
    /// `undefined` for the defaults).
    #[wasm_bindgen(constructor)]
    pub fn new(config: Option<String>) -> Result<StreamsteerPlayer, JsError> {
        let config: WebConfig = match config.as_deref().map(str::trim) {
            None | Some("") => WebConfig::default(),
            Some(text) => serde_json::from_str(text)
                .map_err(|e| JsError::new(&WebError::Config(e.to_string()).to_string()))?,
        };
        let inner = Rc::new_cyclic(|me| {
            RefCell::new(Inner {
                me: me.clone(),
                config,
                clock: Clock::new(),
                session: None,
                media: None,
                inflight: IdMap::default(),
                bodies: IdMap::default(),
                wake: None,
                position_timer: None,
                listener: None,
                outbox: Vec::new(),
                destroyed: false,
            })
        });
        Ok(StreamsteerPlayer { inner })
    }

    /// Sets the function that receives every event, as a JSON string:
    /// `{"type":"player","event":{...}}` (the engine's events: state, decisions,
    /// renditions, pathways, stalls, the QoE report), `{"type":"request",...}` (one
    /// per finished request) and `{"type":"error","kind":...,"message":...}`.
    #[wasm_bindgen(js_name = setListener)]
    pub fn set_listener(&self, listener: js_sys::Function) {
        with_inner(&self.inner, |i| i.listener = Some(listener));
    }

    /// Plays into `element` (a `<video>` or `<audio>`) through a new `MediaSource`.
    #[wasm_bindgen(js_name = attachMedia)]
    pub fn attach_media(&self, element: HtmlMediaElement) -> Result<(), JsError> {
        self.attach(Element::Local(element))
    }

    /// Plays, from a dedicated worker, into an element of the page: the `MediaSource`
    /// is made here and `post` receives, as objects, what the page must do with its
    /// element: `{op: "attach", handle}` (set `srcObject` to the `MediaSourceHandle`,
    /// transferring it), `{op: "play"}`, `{op: "pause"}`, `{op: "seek", position_s}`
    /// and `{op: "detach"}`. The page reports the element's playhead with
    /// [`set_position`](Self::set_position).
    #[wasm_bindgen(js_name = attachRemote)]
    pub fn attach_remote(&self, post: js_sys::Function) -> Result<(), JsError> {
        self.attach(Element::Remote(Remote::new(post)))
    }

    /// The page's element's playhead, seconds (a player attached by `attachRemote`).
    #[wasm_bindgen(js_name = setPosition)]
    pub fn set_position(&self, position_s: f64) {
        with_inner(&self.inner, |i| {
            if let Some(m) = &i.media {
                m.element().set_reported_position(position_s);
            }
        });
    }

    fn attach(&self, element: Element) -> Result<(), JsError> {
        match with_inner(&self.inner, |i| i.attach(element)) {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => Err(JsError::new(&e.to_string())),
            None => Err(JsError::new("the player is busy")),
        }
    }

    /// Loads `url` (HLS or DASH, detected from the content) and starts the session.
    /// The promise resolves once the manifest is parsed, and rejects with the reason
    /// when it cannot be fetched or read (also sent as an `error` event).
    pub fn load(&self, url: String) -> js_sys::Promise {
        let weak = Rc::downgrade(&self.inner);
        wasm_bindgen_futures::future_to_promise(async move {
            let result = load(&weak, &url).await;
            if let Err(e) = &result {
                with_weak(&weak, |i| i.error(e));
            }
            result.map(|()| JsValue::UNDEFINED).map_err(|e| JsError::new(&e.to_string()).into())
        })
    }

    /// Starts or resumes playback.
    pub fn play(&self) {
        with_inner(&self.inner, |i| i.handle(Event::Play));
    }

    /// Pauses playback (fetching goes on up to the buffer target).
    pub fn pause(&self) {
        with_inner(&self.inner, |i| i.handle(Event::Pause));
    }

    /// Moves the playhead to `position_s` seconds of media.
    pub fn seek(&self, position_s: f64) {
        with_inner(&self.inner, |i| {
            i.handle(Event::UserSeek { position_s });
            let at = i.session.as_ref().map(Session::position_s);
            if let (Some(m), Some(at)) = (&i.media, at) {
                m.seek(at);
            }
        });
    }

    /// Pins rendition `rendition` of `track` (`"video"` or `"audio"`), or returns
    /// the track to automatic selection with `undefined`.
    #[wasm_bindgen(js_name = selectTrack)]
    pub fn select_track(&self, track: &str, rendition: Option<u32>) -> Result<(), JsError> {
        let track = match track {
            "video" => TrackKind::Video,
            "audio" => TrackKind::Audio,
            other => return Err(JsError::new(&format!("no track {other:?}: video or audio"))),
        };
        let rendition = rendition.map(|r| r as usize);
        with_inner(&self.inner, |i| i.handle(Event::UserSelectTrack { track, rendition }));
        Ok(())
    }

    /// The QoE report so far, as JSON (the schema of the native report and the
    /// simulator's), or `null` before `load`.
    pub fn stats(&self) -> Option<String> {
        with_inner(&self.inner, |i| {
            i.session.as_ref().and_then(|s| serde_json::to_string(&s.qoe_report()).ok())
        })
        .flatten()
    }

    /// The player state (`loading`, `buffering`, `playing`, ...), or `idle` before `load`.
    pub fn state(&self) -> String {
        with_inner(&self.inner, |i| {
            i.session
                .as_ref()
                // A unit variant's JSON is its quoted snake_case name, with nothing to escape.
                .and_then(|s| serde_json::to_string(&s.state()).ok())
                .map(|text| text.trim_matches('"').to_owned())
        })
        .flatten()
        .unwrap_or_else(|| "idle".into())
    }

    /// Stops everything: requests aborted, timers cleared, the media element detached.
    pub fn destroy(&self) {
        with_inner(&self.inner, Inner::destroy);
    }
}

/// Fetches and parses the manifest, then starts the session.
async fn load(weak: &Weak<RefCell<Inner>>, url: &str) -> Result<(), WebError> {
    let network = |message: String| WebError::Browser {
        kind: WebErrorKind::Network,
        what: "manifest",
        message,
    };
    let (job, clock, controller) = {
        let inner = weak.upgrade().ok_or(WebError::Usage("the player was dropped"))?;
        let mut guard =
            inner.try_borrow_mut().map_err(|_| WebError::Usage("the player is busy"))?;
        if guard.destroyed {
            return Err(WebError::Usage("load after destroy"));
        }
        if guard.session.is_some() {
            return Err(WebError::Usage("load was called already: make a new player"));
        }
        let parsed = Url::parse(url).map_err(|e| network(format!("{url}: {e}")))?;
        let config = &mut guard.config.session;
        if !config.allowed_hosts.allows_url(&parsed) {
            return Err(network(format!("{url}: host not allowed")));
        }
        let mut req = FetchRequest::document(0, parsed, FetchKind::Manifest, None);
        req.cmcd = config.cmcd.first_request(&req);
        let (wire, headers) = req.wire(config.cmcd.mode);
        let max_bytes = guard.config.limits.for_request(&req);
        let job = FetchJob {
            id: 0,
            url: wire.to_string(),
            headers: owned(headers),
            head: false,
            max_bytes,
            ranged: false,
        };
        let controller = AbortController::new()
            .map_err(|e| WebError::browser(WebErrorKind::Network, "AbortController", &e))?;
        (job, guard.clock, controller)
    };
    let result = RefCell::new(None);
    fetch::run(job, controller.signal(), clock, |msg| {
        if let FetchMsg::Done { outcome, .. } = msg {
            *result.borrow_mut() = Some(outcome);
        }
    })
    .await;
    let fetched = match result.into_inner() {
        Some(Ok(f)) => f,
        Some(Err(f)) => return Err(network(format!("{url}: {}", f.message))),
        None => return Err(network(format!("{url}: no answer"))),
    };
    let text = String::from_utf8(fetched.body)
        .map_err(|_| WebError::Manifest { url: url.into(), message: "not UTF-8 text".into() })?;
    let final_url = Url::parse(&fetched.final_url)
        .map_err(|e| network(format!("{}: {e}", fetched.final_url)))?;
    let presentation = parse_any(&text, &final_url)
        .map_err(|e| WebError::Manifest { url: final_url.to_string(), message: e.to_string() })?;
    let inner = weak.upgrade().ok_or(WebError::Usage("the player was dropped"))?;
    with_inner(&inner, |i| {
        if !i.config.session.allowed_hosts.allows_url(&final_url) {
            return Err(network(format!("{final_url}: redirected to a host not allowed")));
        }
        let session = Session::new(presentation, i.config.session.clone()).map_err(|e| {
            WebError::Manifest { url: final_url.to_string(), message: e.to_string() }
        })?;
        i.session = Some(session);
        i.start_position_timer();
        i.handle(Event::WallClock { unix_s: unix_now_s() });
        i.handle(Event::Tick);
        Ok(())
    })
    .unwrap_or(Err(WebError::Usage("the player is busy")))
}

/// A server that ignores `Range` answers 200 with the whole resource: the range is
/// cut from it.
fn whole_or_range(mut f: fetch::Fetched, req: &FetchRequest) -> fetch::Fetched {
    if let (200, Some(r)) = (f.status, req.byte_range) {
        let start = usize::try_from(r.offset).unwrap_or(usize::MAX).min(f.body.len());
        let end = usize::try_from(r.offset.saturating_add(r.length))
            .unwrap_or(usize::MAX)
            .min(f.body.len());
        f.body = f.body[start..end].to_vec();
    }
    f
}

fn owned(headers: Vec<(&'static str, String)>) -> Vec<(String, String)> {
    headers.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

impl Inner {
    fn attach(&mut self, element: Element) -> Result<(), WebError> {
        if self.destroyed {
            return Err(WebError::Usage("attachMedia after destroy"));
        }
        let me = self.me.clone();
        let notify: Rc<dyn Fn()> = Rc::new(move || with_weak(&me, Inner::on_media_ready));
        self.media = Some(MediaOutput::attach(element, notify)?);
        Ok(())
    }

    fn emit(&mut self, message: &Message<'_>) {
        if let Ok(text) = serde_json::to_string(message) {
            self.outbox.push(text);
        }
    }

    fn error(&mut self, e: &WebError) {
        self.emit(&Message::Error { kind: e.kind(), message: e.to_string() });
    }

    /// Feeds one event to the session and carries out what it asks.
    fn handle(&mut self, event: Event) {
        if self.destroyed {
            return;
        }
        let now = self.clock.now();
        let Some(session) = self.session.as_mut() else { return };
        session.handle(now, event);
        while let Some(action) = self.session.as_mut().and_then(Session::poll_action) {
            self.act(action);
        }
    }

    fn act(&mut self, action: Action) {
        match action {
            Action::Fetch(req) => self.start_fetch(req),
            Action::Cancel { id } => {
                if let Some(f) = self.inflight.remove(id) {
                    f.controller.abort();
                }
                self.bodies.remove(id);
            }
            Action::Append { track, init, request, timing, .. } => {
                let Some(body) = self.bodies.remove(request) else { return };
                let Some(media) = self.media.as_mut() else {
                    let e = WebError::Usage("no media element: call attachMedia before load");
                    self.error(&e);
                    return;
                };
                let result = if init {
                    media.append_init(track, body)
                } else {
                    media.append_media(track, body, timing)
                };
                if let Err(e) = result {
                    self.error(&e);
                }
            }
            Action::Play => {
                if let Some(m) = &self.media {
                    m.play();
                }
            }
            Action::Pause => {
                if let Some(m) = &self.media {
                    m.pause();
                }
            }
            // The element stalls on its own when its buffer runs dry.
            Action::Stall => {}
            Action::Emit(event) => self.on_player_event(event),
            Action::WakeAt(t) => self.set_wake(t.as_secs_f64()),
            _ => {}
        }
    }

    fn on_player_event(&mut self, event: PlayerEvent) {
        match &event {
            PlayerEvent::StateChanged { from: PlayerState::Loading, to }
                if *to != PlayerState::Failed =>
            {
                // The timeline is known: the element's playhead starts where the session's does.
                let at = self.session.as_ref().map(Session::position_s);
                if let (Some(m), Some(at)) = (&self.media, at) {
                    m.seek(at);
                }
            }
            PlayerEvent::StateChanged { to: PlayerState::Ended, .. } => {
                if let Some(m) = &self.media {
                    m.end_of_stream();
                }
            }
            _ => {}
        }
        self.emit(&Message::Player { event: &event });
    }

    fn start_fetch(&mut self, req: FetchRequest) {
        if let (FetchKind::Init, Some(track), Some(media)) = (req.kind, req.track, &mut self.media)
        {
            media.expect(track);
        }
        let (url, headers) = req.wire(self.config.session.cmcd.mode);
        let mut headers = owned(headers);
        if let Some(range) = req.byte_range.as_ref().and_then(|r| r.http_range()) {
            headers.push(("Range".into(), range));
        }
        let (max_bytes, ranged) = match req.byte_range {
            // The larger of the two bounds: whether the server honours the range is
            // known only from its answer.
            Some(r) => (self.config.limits.for_range(r, false), true),
            None => (self.config.limits.for_request(&req), false),
        };
        let job = FetchJob {
            id: req.id,
            url: url.to_string(),
            headers,
            head: req.kind.is_head(),
            max_bytes,
            ranged,
        };
        let controller = match AbortController::new() {
            Ok(c) => c,
            Err(e) => {
                self.error(&WebError::browser(WebErrorKind::Network, "AbortController", &e));
                self.handle(Event::FetchFailed { id: req.id, status: None, bytes: 0 });
                return;
            }
        };
        let signal = controller.signal();
        self.inflight.insert(req.id, InFlight { controller, req });
        let me = self.me.clone();
        let clock = self.clock;
        wasm_bindgen_futures::spawn_local(fetch::run(job, signal, clock, move |msg| {
            with_weak(&me, |i| i.on_fetch(msg));
        }));
    }

    fn on_fetch(&mut self, msg: FetchMsg) {
        match msg {
            FetchMsg::Started { id } => {
                if self.inflight.contains_key(id) {
                    self.handle(Event::FetchStarted { id });
                }
            }
            FetchMsg::Progress { id, bytes, ttfb_s } => {
                if self.inflight.contains_key(id) {
                    self.handle(Event::FetchProgress { id, bytes, ttfb: Some(secs(ttfb_s)) });
                }
            }
            FetchMsg::Done { id, outcome } => {
                let Some(f) = self.inflight.remove(id) else { return };
                self.report_request(&f.req, &outcome);
                self.on_done(f.req, outcome);
            }
        }
    }

    fn report_request(
        &mut self,
        req: &FetchRequest,
        outcome: &Result<fetch::Fetched, fetch::Failed>,
    ) {
        let (status, bytes, ttfb_s, duration_s, error) = match outcome {
            Ok(f) => (Some(f.status), f.body.len() as u64, Some(f.ttfb_s), f.duration_s, None),
            Err(e) => (e.status, e.bytes, None, 0.0, Some(e.message.as_str())),
        };
        self.emit(&Message::Request {
            id: req.id,
            url: req.url.to_string(),
            pathway: &req.pathway,
            kind: req.kind,
            track: req.track,
            status,
            bytes,
            ttfb_s,
            duration_s,
            error,
        });
    }

    fn on_done(&mut self, req: FetchRequest, outcome: Result<fetch::Fetched, fetch::Failed>) {
        let id = req.id;
        let outcome = outcome.map(|f| whole_or_range(f, &req));
        match (req.kind, outcome) {
            (FetchKind::Steering, Ok(f)) => {
                let body = String::from_utf8_lossy(&f.body).into_owned();
                self.handle(Event::SteeringLoaded { id, body });
            }
            (FetchKind::Steering, Err(e)) => {
                let retry_after = e.retry_after_s.map(secs);
                self.handle(Event::SteeringFailed { id, status: e.status, retry_after });
            }
            (FetchKind::Manifest, Ok(f)) => {
                let bytes = f.body.len() as u64;
                let url = Url::parse(&f.final_url).ok();
                match (String::from_utf8(f.body), url) {
                    (Ok(text), Some(url)) => self.handle(Event::ManifestLoaded { id, text, url }),
                    _ => self.handle(Event::FetchFailed { id, status: None, bytes }),
                }
            }
            (FetchKind::SegmentIndex, Ok(f)) => {
                self.handle(Event::SegmentIndexLoaded { id, data: f.body });
            }
            (FetchKind::Init | FetchKind::Media, Ok(f)) => {
                let bytes = f.body.len() as u64;
                self.bodies.insert(id, f.body);
                self.handle(Event::FetchCompleted {
                    id,
                    bytes,
                    ttfb: secs(f.ttfb_s),
                    duration: secs(f.duration_s),
                });
                // An Append takes the body at once; one the session did not want must
                // not linger.
                self.bodies.remove(id);
            }
            (FetchKind::UtcTiming { .. }, Ok(f)) => {
                let body = String::from_utf8_lossy(&f.body).into_owned();
                self.handle(Event::UtcTimingLoaded { id, body, date: f.date });
            }
            (_, Err(e)) => {
                self.handle(Event::FetchFailed { id, status: e.status, bytes: e.bytes });
            }
            // A kind newer than this driver: the session hears it failed rather than
            // waiting for it forever.
            (_, Ok(f)) => {
                let bytes = f.body.len() as u64;
                self.handle(Event::FetchFailed { id, status: None, bytes });
            }
        }
    }

    /// The media source opened or a buffer finished an append.
    fn on_media_ready(&mut self) {
        let errors = self.media.as_mut().map(MediaOutput::pump_all).unwrap_or_default();
        for e in errors {
            self.error(&e);
        }
        if self.session.as_ref().is_some_and(Session::fetched_to_end)
            && let Some(m) = &self.media
        {
            m.end_of_stream();
        }
    }

    fn set_wake(&mut self, at_s: f64) {
        if let Some(t) = self.wake.take() {
            t.cancel(false);
        }
        let delay_ms = ((at_s - self.clock.now_s()) * 1000.0).clamp(0.0, i32::MAX as f64);
        let me = self.me.clone();
        let callback = Closure::<dyn FnMut()>::new(move || {
            with_weak(&me, |i| {
                i.wake = None;
                i.handle(Event::Tick);
            });
        });
        if let Some(handle) =
            global::set_timeout(callback.as_ref().unchecked_ref(), delay_ms.ceil() as i32)
        {
            self.wake = Some(Timer { handle, _callback: callback });
        }
    }

    fn start_position_timer(&mut self) {
        let me = self.me.clone();
        let callback = Closure::<dyn FnMut()>::new(move || with_weak(&me, Inner::read_position));
        let every = self.config.position_interval_ms.clamp(20, 5_000) as i32;
        if let Some(handle) = global::set_interval(callback.as_ref().unchecked_ref(), every) {
            self.position_timer = Some(Timer { handle, _callback: callback });
        }
    }

    /// The element's clock into the session, while playing.
    fn read_position(&mut self) {
        let playing = self.session.as_ref().is_some_and(|s| s.state() == PlayerState::Playing);
        if let (true, Some(m)) = (playing, &self.media) {
            let position_s = m.position_s();
            self.handle(Event::PlaybackPosition { position_s });
        }
        let over = |s: &Session<'_>| matches!(s.state(), PlayerState::Ended | PlayerState::Failed);
        if self.session.as_ref().is_some_and(over)
            && let Some(t) = self.position_timer.take()
        {
            t.cancel(true);
        }
    }

    fn destroy(&mut self) {
        self.destroyed = true;
        for (_, f) in self.inflight.0.drain(..) {
            f.controller.abort();
        }
        self.bodies.clear();
        if let Some(t) = self.wake.take() {
            t.cancel(false);
        }
        if let Some(t) = self.position_timer.take() {
            t.cancel(true);
        }
        if let Some(m) = self.media.take() {
            m.element().detach();
        }
        self.session = None;
    }
}
