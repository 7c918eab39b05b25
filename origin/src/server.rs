//! The origin: two (or more) pathway listeners and a steering listener on loopback,
//! serving one ladder as VOD and live, with per-pathway shaping and faults.
//!
//! Every listener serves the manifests (rendered per request from the ports actually
//! bound); pathways also serve segments and the steering manifests (so that a
//! pathway's `steering` faults mean something); the steering listener serves
//! manifests and steering only. The URLs the handle hands out for manifests point at
//! the steering listener, the "control plane", so that a pathway outage does not take
//! the manifest down with it.

use crate::config::{OriginConfig, SteeringStatus, TraceSource};
use crate::connection::{self, ConnControl};
use crate::content::ContentInfo;
use crate::control::{ControlState, Controls};
use crate::error::OriginError;
use crate::faults::{self, Fault};
use crate::live::LiveTimeline;
use crate::log::{RequestLog, RequestLogEntry};
use crate::manifests::{PathwayBase, Site, Timescales};
use crate::paths::{self, SteeringProtocol, Stream};
use crate::responder;
use crate::shaping::{Link, RateSchedule};
use crate::steering_server::SteeringState;
use crate::store::ContentStore;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use streamsteer_sim::trace::{Trace, TraceData};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// What the origin serves: a content folder, or content already loaded.
#[derive(Debug, Clone)]
pub enum ContentSource {
    /// A folder with a `content.json`.
    Dir(PathBuf),
    /// Loaded content.
    Loaded(Box<ContentStore>),
}

impl From<PathBuf> for ContentSource {
    fn from(p: PathBuf) -> Self {
        ContentSource::Dir(p)
    }
}

impl From<&Path> for ContentSource {
    fn from(p: &Path) -> Self {
        ContentSource::Dir(p.to_path_buf())
    }
}

impl From<ContentStore> for ContentSource {
    fn from(s: ContentStore) -> Self {
        ContentSource::Loaded(Box::new(s))
    }
}

/// Pathway listener or steering listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A pathway (CDN).
    Pathway,
    /// The steering server.
    Steering,
}

/// One listener's state.
#[derive(Debug)]
pub struct ListenerState {
    /// Pathway name, or `steering`.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Its index, a stream id for fault draws.
    pub index: u64,
    /// `http://host:port`.
    pub base_url: String,
    /// The shaped link, if any.
    pub link: Option<Arc<Link>>,
    /// Added latency before each response.
    pub latency: Duration,
    /// The fault schedule.
    pub faults: Vec<Fault>,
    /// Requests so far (the fault draws' counter).
    pub counter: AtomicU64,
    /// Down by runtime control.
    forced_down: AtomicBool,
    /// Down now (runtime control or an outage window).
    pub down: watch::Sender<bool>,
    /// Wakes the outage supervisor.
    wake: Notify,
}

impl ListenerState {
    /// Takes the listener down now (`true`) or brings it back (`false`; outage
    /// windows of its fault schedule still apply).
    pub(crate) fn force_down(&self, down: bool, t_s: f64) {
        self.forced_down.store(down, Ordering::SeqCst);
        self.recompute_down(t_s);
        self.wake.notify_one();
        tracing::info!(pathway = %self.name, down, "pathway outage set");
    }

    fn recompute_down(&self, t_s: f64) {
        let down = self.forced_down.load(Ordering::SeqCst) || faults::outage_at(&self.faults, t_s);
        self.down.send_if_modified(|d| {
            let changed = *d != down;
            *d = down;
            changed
        });
    }
}

/// What every request handler shares.
#[derive(Debug)]
pub struct Shared {
    /// The content.
    pub store: ContentStore,
    /// Media timescales by rendition.
    pub timescales: Timescales,
    /// Time zero (monotonic).
    pub start: Instant,
    /// The live stream's clock.
    pub timeline: LiveTimeline,
    /// Listener URLs, as manifests say them.
    pub site: Site,
    /// The steering server's state.
    pub steering: SteeringState,
    /// The request log.
    pub log: Arc<RequestLog>,
    /// Seed of the fault draws.
    pub seed: u64,
    /// The origin's clock minus the system clock, seconds.
    pub clock_offset_s: f64,
}

impl Shared {
    /// Seconds since the origin started.
    pub fn elapsed_s(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// The origin's wall clock, Unix seconds: the system clock moved by
    /// [`LiveConfig::clock_offset_s`](crate::config::LiveConfig::clock_offset_s).
    pub fn clock_unix_s(&self) -> f64 {
        unix_now_s() + self.clock_offset_s
    }

    /// The content description.
    pub fn info(&self) -> &ContentInfo {
        &self.store.info
    }
}

/// Unix time now, seconds.
pub fn unix_now_s() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Starts origins.
#[derive(Debug)]
pub struct Origin;

impl Origin {
    /// Loads the content, binds every listener and starts serving.
    pub async fn start(
        content: impl Into<ContentSource>,
        config: OriginConfig,
    ) -> Result<OriginHandle, OriginError> {
        let store = match content.into() {
            ContentSource::Dir(dir) => {
                tokio::task::spawn_blocking(move || ContentStore::open(&dir)).await.map_err(
                    |e| OriginError::Config(format!("content loading task failed: {e}")),
                )??
            }
            ContentSource::Loaded(s) => *s,
        };
        validate(&config)?;
        let log =
            RequestLog::new(config.log.keep, config.log.file.as_deref()).map_err(|source| {
                OriginError::LogFile { path: config.log.file.clone().unwrap_or_default(), source }
            })?;

        // Bind first: manifests need the real ports.
        let mut bound = Vec::new();
        for p in &config.pathways {
            bound.push(bind(config.bind, p.port).await?);
        }
        let steering_listener = bind(config.bind, config.steering.port).await?;
        let base = |addr: SocketAddr| format!("http://{}", url_host_port(addr));
        let steering_base = base(steering_listener.1);

        let site = Site {
            pathways: config
                .pathways
                .iter()
                .zip(&bound)
                .map(|(p, (_, addr))| PathwayBase { name: p.name.clone(), base_url: base(*addr) })
                .collect(),
            steering_base: steering_base.clone(),
            query_before_start: config.steering.query_before_start,
            proxy_server_url: config.steering.proxy_server_url.clone(),
        };
        let start = Instant::now();
        let clock_offset_s =
            if config.live.clock_offset_s.is_finite() { config.live.clock_offset_s } else { 0.0 };
        let timeline = LiveTimeline::new(&store.info, &config.live, unix_now_s() + clock_offset_s);
        let shared = Arc::new(Shared {
            timescales: store.timescales(),
            store,
            start,
            timeline,
            site,
            steering: SteeringState::new(
                &config.steering,
                config.pathways.iter().map(|p| p.name.clone()).collect(),
            ),
            log: Arc::new(log),
            seed: config.seed,
            clock_offset_s,
        });

        let mut states = Vec::new();
        for (i, p) in config.pathways.iter().enumerate() {
            let link = match &p.trace {
                None => None,
                Some(source) => Some(Arc::new(Link::new(schedule(&p.name, source)?))),
            };
            states.push(Arc::new(listener_state(
                &p.name,
                Role::Pathway,
                i as u64,
                base(bound[i].1),
                link,
                p.latency_ms,
                p.faults.clone(),
            )));
        }
        let steering_state = Arc::new(listener_state(
            "steering",
            Role::Steering,
            config.pathways.len() as u64,
            steering_base,
            None,
            config.steering.latency_ms,
            config.steering.faults.clone(),
        ));

        let controls =
            Arc::new(Controls::new(Arc::clone(&shared), states.clone(), config.web_root.clone()));
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let listeners = bound.into_iter().map(|(l, _)| l).chain([steering_listener.0]);
        let all_states: Vec<Arc<ListenerState>> =
            states.iter().cloned().chain([Arc::clone(&steering_state)]).collect();
        for (listener, state) in listeners.zip(&all_states) {
            state.recompute_down(0.0);
            tasks.push(tokio::spawn(outage_supervisor(
                Arc::clone(&shared),
                Arc::clone(state),
                shutdown_rx.clone(),
            )));
            let service = {
                let shared = Arc::clone(&shared);
                let state = Arc::clone(state);
                let controls = Arc::clone(&controls);
                move |req: hyper::Request<hyper::body::Incoming>, ctl: Arc<ConnControl>| {
                    let shared = Arc::clone(&shared);
                    let state = Arc::clone(&state);
                    let controls = Arc::clone(&controls);
                    async move {
                        if state.role == Role::Steering && Controls::handles(req.uri().path()) {
                            let (method, uri) = (req.method().clone(), req.uri().clone());
                            controls.respond(&method, uri.path(), uri.query()).await
                        } else {
                            responder::respond(shared, state, ctl, req).await
                        }
                    }
                }
            };
            let on_refused = {
                let shared = Arc::clone(&shared);
                let state = Arc::clone(state);
                move || log_refused(&shared, &state)
            };
            tasks.push(tokio::spawn(connection::accept_loop(
                listener,
                state.down.subscribe(),
                shutdown_rx.clone(),
                on_refused,
                service,
            )));
        }
        let handle = OriginHandle {
            shared,
            controls,
            pathways: states,
            steering: steering_state,
            shutdown: shutdown_tx,
            tasks,
        };
        tracing::info!(
            hls = %handle.hls_url(),
            dash = %handle.dash_url(),
            steering = %handle.steering_url(),
            "origin started"
        );
        Ok(handle)
    }
}

fn validate(config: &OriginConfig) -> Result<(), OriginError> {
    if config.pathways.is_empty() {
        return Err(OriginError::Config("at least one pathway is needed".into()));
    }
    for (i, p) in config.pathways.iter().enumerate() {
        if !streamsteer::steering::is_legal_pathway_id(&p.name) || p.name == "steering" {
            return Err(OriginError::Config(format!(
                "pathway name {:?} is not a legal pathway ID ([A-Za-z0-9._-]+, not \"steering\")",
                p.name
            )));
        }
        if config.pathways[..i].iter().any(|q| q.name == p.name) {
            return Err(OriginError::Config(format!("pathway {:?} is listed twice", p.name)));
        }
        if !(p.latency_ms.is_finite() && p.latency_ms >= 0.0) {
            return Err(OriginError::Config(format!("pathway {}: bad latency_ms", p.name)));
        }
    }
    if !(config.steering.latency_ms.is_finite() && config.steering.latency_ms >= 0.0) {
        return Err(OriginError::Config("steering: bad latency_ms".into()));
    }
    Ok(())
}

fn schedule(pathway: &str, source: &TraceSource) -> Result<RateSchedule, OriginError> {
    let sched_err = |source| OriginError::Schedule { pathway: pathway.to_string(), source };
    match source {
        TraceSource::File(path) => {
            let traces = Trace::load_path(path)
                .map_err(|source| OriginError::Trace { pathway: pathway.to_string(), source })?;
            let first = traces.first().ok_or_else(|| {
                OriginError::Config(format!("pathway {pathway}: no trace in {}", path.display()))
            })?;
            RateSchedule::from_trace(first).map_err(sched_err)
        }
        TraceSource::Periods(periods) => RateSchedule::from_trace(&Trace {
            name: format!("{pathway} periods"),
            data: TraceData::Periods(periods.clone()),
        })
        .map_err(sched_err),
        TraceSource::ConstantKbps(kbps) => RateSchedule::constant(kbps * 1000.0).map_err(sched_err),
    }
}

fn listener_state(
    name: &str,
    role: Role,
    index: u64,
    base_url: String,
    link: Option<Arc<Link>>,
    latency_ms: f64,
    faults: Vec<Fault>,
) -> ListenerState {
    ListenerState {
        name: name.to_string(),
        role,
        index,
        base_url,
        link,
        latency: Duration::from_secs_f64(latency_ms / 1000.0),
        faults,
        counter: AtomicU64::new(0),
        forced_down: AtomicBool::new(false),
        down: watch::channel(false).0,
        wake: Notify::new(),
    }
}

async fn bind(ip: IpAddr, port: u16) -> Result<(TcpListener, SocketAddr), OriginError> {
    let addr = SocketAddr::new(ip, port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| OriginError::Bind { addr: addr.to_string(), source })?;
    let local = listener
        .local_addr()
        .map_err(|source| OriginError::Bind { addr: addr.to_string(), source })?;
    Ok((listener, local))
}

/// `host:port` for URLs: unspecified addresses become loopback, IPv6 gets brackets.
fn url_host_port(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => format!("{}:{}", Ipv4Addr::LOCALHOST, addr.port()),
        IpAddr::V4(v4) => format!("{v4}:{}", addr.port()),
        IpAddr::V6(v6) if v6.is_unspecified() => {
            format!("[{}]:{}", Ipv6Addr::LOCALHOST, addr.port())
        }
        IpAddr::V6(v6) => format!("[{v6}]:{}", addr.port()),
    }
}

/// Keeps a listener's `down` state in step with its outage windows.
async fn outage_supervisor(
    shared: Arc<Shared>,
    state: Arc<ListenerState>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let t = shared.elapsed_s();
        state.recompute_down(t);
        let next = faults::next_outage_boundary(&state.faults, t);
        let sleep = async {
            match next {
                // A millisecond late, so the boundary has passed when we look again.
                Some(b) => {
                    tokio::time::sleep_until(shared.start + Duration::from_secs_f64(b + 0.001))
                        .await
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = sleep => {}
            _ = state.wake.notified() => {}
            _ = async { let _ = shutdown.wait_for(|s| *s).await; } => break,
        }
    }
}

fn log_refused(shared: &Shared, state: &ListenerState) {
    shared.log.record(RequestLogEntry {
        t_s: shared.elapsed_s(),
        pathway: state.name.clone(),
        method: String::new(),
        path: String::new(),
        query: Default::default(),
        range: None,
        kind: None,
        status: 0,
        bytes_sent: 0,
        content_length: 0,
        duration_s: 0.0,
        fault: Some("outage".to_string()),
        complete: false,
    });
}

/// A running origin. Dropping it stops the listeners (as [`OriginHandle::shutdown`]
/// does, without waiting).
#[derive(Debug)]
pub struct OriginHandle {
    shared: Arc<Shared>,
    controls: Arc<Controls>,
    pathways: Vec<Arc<ListenerState>>,
    steering: Arc<ListenerState>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl OriginHandle {
    /// The HLS multivariant playlist (VOD), on the steering listener.
    pub fn hls_url(&self) -> String {
        format!("{}{}", self.steering.base_url, paths::multivariant(Stream::Vod))
    }

    /// The static DASH MPD, on the steering listener.
    pub fn dash_url(&self) -> String {
        format!("{}{}", self.steering.base_url, paths::mpd(Stream::Vod))
    }

    /// The on-demand DASH MPD (`SegmentBase` + `sidx` over one file per
    /// rendition), on the steering listener.
    pub fn dash_on_demand_url(&self) -> String {
        format!("{}{}", self.steering.base_url, paths::on_demand_mpd())
    }

    /// The two-Period DASH MPD (the content played twice, the second Period without
    /// the top video rung), on the steering listener.
    pub fn dash_periods_url(&self) -> String {
        format!("{}{}", self.steering.base_url, paths::periods_mpd())
    }

    /// The HLS multivariant playlist of the content played twice, across an
    /// `EXT-X-DISCONTINUITY`, on the steering listener.
    pub fn hls_discontinuity_url(&self) -> String {
        format!("{}{}", self.steering.base_url, paths::discontinuity_multivariant())
    }

    /// The live HLS multivariant playlist, on the steering listener.
    pub fn live_hls_url(&self) -> String {
        format!("{}{}", self.steering.base_url, paths::multivariant(Stream::Live))
    }

    /// The dynamic DASH MPD, on the steering listener.
    pub fn live_dash_url(&self) -> String {
        format!("{}{}", self.steering.base_url, paths::mpd(Stream::Live))
    }

    /// The live DASH MPD addressed by `SegmentTemplate@duration` and `$Number$`,
    /// with `UTCTiming` pointing at the origin's clock, on the steering listener.
    pub fn live_dash_template_url(&self) -> String {
        format!("{}{}", self.steering.base_url, paths::TEMPLATE_MPD)
    }

    /// Base URL (`http://127.0.0.1:port`) of pathway `name`.
    pub fn pathway_url(&self, name: &str) -> Option<String> {
        self.pathway(name).map(|p| p.base_url.clone())
    }

    /// Pathway names in configuration order.
    pub fn pathway_names(&self) -> Vec<String> {
        self.pathways.iter().map(|p| p.name.clone()).collect()
    }

    /// Base URL of the steering listener.
    pub fn steering_url(&self) -> String {
        self.steering.base_url.clone()
    }

    /// The steering manifest URL for `protocol` (the one the manifests name).
    pub fn steering_manifest_url(&self, protocol: SteeringProtocol) -> String {
        self.shared.site.steering_url(protocol)
    }

    /// The request log (the last `log.keep` entries), oldest first.
    pub fn requests(&self) -> Vec<RequestLogEntry> {
        self.shared.log.entries()
    }

    /// Seconds since the origin started.
    pub fn elapsed_s(&self) -> f64 {
        self.shared.elapsed_s()
    }

    /// The content served.
    pub fn content(&self) -> &ContentInfo {
        self.shared.info()
    }

    /// The live stream's clock.
    pub fn live_timeline(&self) -> &LiveTimeline {
        &self.shared.timeline
    }

    fn pathway(&self, name: &str) -> Option<&Arc<ListenerState>> {
        self.pathways.iter().find(|p| p.name == name)
    }

    /// Takes pathway `name` down now (`true`): its open connections are reset, bodies
    /// in flight included, and new ones are reset on accept; or brings it back
    /// (`false`; outage windows of its fault schedule still apply).
    pub fn set_outage(&self, name: &str, down: bool) -> Result<(), OriginError> {
        self.controls.set_outage(name, down)
    }

    /// Makes pathway `name`'s link `factor` (≥ 1) times slower from now on, with no
    /// error (1 restores its shaping). Only a shaped pathway (one with a `trace`) can
    /// be slowed: an unshaped one has no rate to divide.
    pub fn set_slowdown(&self, name: &str, factor: f64) -> Result<(), OriginError> {
        self.controls.set_slowdown(name, factor)
    }

    /// True while pathway `name` is down.
    pub fn is_down(&self, name: &str) -> Option<bool> {
        self.controls.is_down(name)
    }

    /// Overrides the steering priority schedule from now on.
    pub fn set_priority(&self, priority: Vec<String>) {
        self.shared.steering.set_priority(Some(priority));
    }

    /// Returns the steering priority to its schedule.
    pub fn clear_priority(&self) {
        self.shared.steering.set_priority(None);
    }

    /// The steering priority now.
    pub fn priority(&self) -> Vec<String> {
        self.shared.steering.priority_at(self.shared.elapsed_s())
    }

    /// What the runtime controls set (also `GET /control/state` on the steering
    /// listener).
    pub fn control_state(&self) -> ControlState {
        self.controls.state()
    }

    /// The runtime controls' URL prefix (`{steering}/control/`).
    pub fn control_url(&self) -> String {
        format!("{}/control/", self.steering.base_url)
    }

    /// `{steering}/web/`: the files of `OriginConfig::web_root`, if set.
    pub fn web_url(&self) -> String {
        format!("{}/web/", self.steering.base_url)
    }

    /// Makes the steering server answer 410 or 429 (`Some`), or manifests (`None`).
    pub fn set_steering_status(&self, status: Option<SteeringStatus>) {
        self.shared.steering.set_status(status);
    }

    /// Stops every listener and closes open connections; waits (up to 5 s) for the
    /// tasks to end.
    pub async fn shutdown(mut self) {
        self.shutdown.send_replace(true);
        for task in self.tasks.drain(..) {
            // A task stuck past this is aborted rather than waited on forever.
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task).await.is_err() {
                abort.abort();
            }
        }
    }
}

impl Drop for OriginHandle {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}
