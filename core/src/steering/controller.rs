//! The steering state machine shared by HLS and DASH.

use super::clone::{PathwayClone, StableId};
use super::cost::{CostPreference, CostReason};
use super::manifest::SteeringManifest;
use super::{PathwayHealth, SteeringError};
use crate::allowlist::HostAllowlist;
use crate::time::{Duration, Instant};
use crate::uri::Url;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which protocol's rules apply where HLS and DASH differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// HLS (rfc8216bis §7): `_HLS_pathway` / `_HLS_throughput`, per-ID clone URIs.
    Hls,
    /// DASH (ETSI TS 103 998): `_DASH_pathway` / `_DASH_throughput` lists; per-ID
    /// clone URIs ignored.
    Dash,
}

/// Steering settings (serde; every field defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SteeringConfig {
    /// The longest a failing pathway is excluded, seconds (default 120: HLS §7.5 says
    /// two minutes is generally enough; hls.js uses 300, Shaka 60). With a steering
    /// server, never longer than its TTL: a pathway it still ranks first is tried again
    /// at least once per TTL, so the session is back on it within one TTL of its
    /// recovery.
    pub penalty_s: f64,
    /// The first penalty of a pathway, seconds (default 2); each penalty after it with
    /// no success between lasts twice as long, up to `penalty_s`. When a penalty ends
    /// the pathway is eligible again, and the next fetch from it is the probe.
    pub first_penalty_s: f64,
    /// Consecutive media failures on a pathway before it is penalised (default 1).
    pub failures_before_penalty: u32,
    /// Reload interval before any manifest has given a TTL, and after failures
    /// when none has, seconds (default 300, the spec's recommendation).
    pub default_ttl_s: f64,
    /// Fetches per pathway in the throughput estimate (default 4, as dash.js).
    pub throughput_window: usize,
    /// The cost preference between pathways.
    pub cost: CostPreference,
}

impl Default for SteeringConfig {
    fn default() -> Self {
        Self {
            penalty_s: 120.0,
            first_penalty_s: 2.0,
            failures_before_penalty: 1,
            default_ttl_s: 300.0,
            throughput_window: 4,
            cost: CostPreference::default(),
        }
    }
}

/// Where the polling of the steering server stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum PollState {
    /// No steering server, or polling not started yet.
    Idle,
    /// Next request due at this instant.
    Waiting {
        /// When.
        at: Instant,
    },
    /// A request is out.
    InFlight,
    /// The server answered 410 Gone: no more requests this session.
    Gone,
}

/// A steering manifest request to issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SteeringRequest {
    /// Full URL including the `_HLS_*` / `_DASH_*` query parameters.
    pub url: Url,
}

/// What a successfully applied steering manifest changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SteeringUpdate {
    /// The priority order now in force (known pathways only).
    pub priority: Vec<String>,
    /// Pathways created by clones in this response.
    pub cloned: Vec<String>,
    /// IDs listed in PATHWAY-PRIORITY that are not known (ignored).
    pub ignored: Vec<String>,
    /// When the next request is due.
    pub next_poll: Instant,
}

/// Why a pathway was selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "why")]
#[non_exhaustive]
pub enum SelectionReason {
    /// Chosen among the unpenalised pathways by the cost preference.
    Cost {
        /// The cost rule that applied.
        rule: CostReason,
    },
    /// Every pathway is penalised: the one whose penalty ends first.
    AllPenalized,
    /// A pathway ranked above is penalised (it failed, or starved a fetch): the first
    /// usable one below it.
    Failover,
}

/// The pathway to use for the next request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathwaySelection {
    /// Pathway ID.
    pub pathway: String,
    /// Why.
    pub reason: SelectionReason,
}

/// Deepest chain of clones of clones followed when rewriting a URI.
const MAX_CLONE_DEPTH: usize = 32;

/// Most clones kept over a session: a clone is kept for the rest of the session (its
/// pathway may be listed again), so a steering server minting new clone IDs on every
/// poll would otherwise grow the session's pathway list, health map and usage
/// report without bound. Real deployments define a handful.
pub const MAX_CLONES: usize = 64;

/// The steering state machine: polling schedule, priority list, clones and
/// per-pathway health. Sans-IO: it builds request URLs and digests responses.
#[derive(Debug, Clone)]
pub struct Steering {
    protocol: Protocol,
    config: SteeringConfig,
    allowed_hosts: HostAllowlist,
    server_uri: Option<Url>,
    poll: PollState,
    last_ttl: Option<Duration>,
    /// Every pathway the presentation or a clone defined, in discovery order.
    known: Vec<String>,
    clones: BTreeMap<String, PathwayClone>,
    priority: Vec<String>,
    health: BTreeMap<String, PathwayHealth>,
    current: String,
    used_since_poll: Vec<String>,
}

impl Steering {
    /// Steering over the presentation's `pathways` (in presentation order), starting
    /// on `initial` (the tag's `PATHWAY-ID` / `@defaultServiceLocation`; the first
    /// pathway if absent or unknown), polling `server_uri` once started.
    pub fn new(
        protocol: Protocol,
        config: SteeringConfig,
        pathways: &[String],
        initial: Option<&str>,
        server_uri: Option<Url>,
    ) -> Self {
        let mut known: Vec<String> = Vec::new();
        for p in pathways {
            if !known.contains(p) {
                known.push(p.clone());
            }
        }
        if known.is_empty() {
            // A presentation without pathway ids plays from the default pathway ".".
            known.push(".".to_string());
        }
        let current =
            initial.filter(|i| known.iter().any(|k| k == i)).unwrap_or(&known[0]).to_string();
        let mut priority = vec![current.clone()];
        priority.extend(known.iter().filter(|k| **k != current).cloned());
        let health = known.iter().map(|k| (k.clone(), PathwayHealth::default())).collect();
        Self {
            protocol,
            config,
            allowed_hosts: HostAllowlist::any(),
            server_uri,
            poll: PollState::Idle,
            last_ttl: None,
            known,
            clones: BTreeMap::new(),
            priority,
            health,
            current,
            used_since_poll: Vec::new(),
        }
    }

    /// Refuses, whole, any steering response that names a host outside `hosts`
    /// (`RELOAD-URI`, a clone's `HOST` or per-ID URIs). Default: any host.
    pub fn with_allowed_hosts(mut self, hosts: HostAllowlist) -> Self {
        self.allowed_hosts = hosts;
        self
    }

    /// The protocol in force.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The settings.
    pub fn config(&self) -> &SteeringConfig {
        &self.config
    }

    /// The pathway last selected.
    pub fn current(&self) -> &str {
        &self.current
    }

    /// The priority order in force.
    pub fn priority(&self) -> &[String] {
        &self.priority
    }

    /// Every known pathway (presentation's, then clones), in discovery order.
    pub fn pathways(&self) -> &[String] {
        &self.known
    }

    /// The polling state.
    pub fn poll_state(&self) -> PollState {
        self.poll
    }

    /// The URI the next steering request goes to.
    pub fn server_uri(&self) -> Option<&Url> {
        self.server_uri.as_ref()
    }

    /// Health of one pathway.
    pub fn health(&self, pathway: &str) -> Option<&PathwayHealth> {
        self.health.get(pathway)
    }

    /// The pathway's fresh throughput estimate, kbit/s.
    pub fn throughput_kbps(&self, pathway: &str, now: Instant) -> Option<f64> {
        let max_age = Duration::from_secs_f64(self.config.cost.estimate_max_age_s);
        self.health.get(pathway)?.throughput_kbps(now, max_age)
    }

    /// Starts polling (first request due at `now`) if there is a server and polling
    /// has not started; HLS starts at once, DASH at once with `@queryBeforeStart`,
    /// otherwise once playback has started.
    pub fn start(&mut self, now: Instant) {
        if self.server_uri.is_some() && self.poll == PollState::Idle {
            self.poll = PollState::Waiting { at: now };
        }
    }

    /// When the steering machine next needs the caller's attention.
    pub fn next_wake(&self) -> Option<Instant> {
        match self.poll {
            PollState::Waiting { at } => Some(at),
            _ => None,
        }
    }

    /// The steering request due at `now`, if any; marks it in flight.
    /// `fallback_bps` is the session-wide throughput estimate, used for
    /// `_HLS_throughput` when the current pathway has no estimate of its own.
    pub fn poll(&mut self, now: Instant, fallback_bps: Option<f64>) -> Option<SteeringRequest> {
        let PollState::Waiting { at } = self.poll else { return None };
        if now < at {
            return None;
        }
        let base = self.server_uri.clone()?;
        self.poll = PollState::InFlight;
        let url = if base.is_data() {
            base
        } else {
            let any_age = Duration(u64::MAX);
            let bps = |p: &str| {
                self.health.get(p).and_then(|h| h.throughput_kbps(now, any_age)).map(|k| k * 1000.0)
            };
            let params = match self.protocol {
                Protocol::Hls => {
                    let mut v = vec![("_HLS_pathway".to_string(), self.current.clone())];
                    if let Some(t) =
                        bps(&self.current).or(fallback_bps).filter(|t| t.is_finite() && *t >= 0.0)
                    {
                        v.push(("_HLS_throughput".to_string(), format!("{}", t.floor() as u64)));
                    }
                    v
                }
                // The first DASH request goes out bare (clause 7: nothing used yet).
                Protocol::Dash if self.used_since_poll.is_empty() => Vec::new(),
                Protocol::Dash => {
                    let ids = self.used_since_poll.join(",");
                    let tputs: Vec<String> = self
                        .used_since_poll
                        .iter()
                        .map(|p| {
                            bps(p)
                                .filter(|t| t.is_finite())
                                .map_or(String::new(), |t| format!("{}", t.floor() as u64))
                        })
                        .collect();
                    vec![
                        ("_DASH_pathway".to_string(), format!("%22{ids}%22")),
                        ("_DASH_throughput".to_string(), tputs.join(",")),
                    ]
                }
            };
            base.with_query_params(&params)
        };
        self.used_since_poll = vec![self.current.clone()];
        Some(SteeringRequest { url })
    }

    fn retry_after(&mut self, now: Instant, delay: Option<Duration>) {
        let d = delay
            .or(self.last_ttl)
            .unwrap_or_else(|| Duration::from_secs_f64(self.config.default_ttl_s));
        self.poll = PollState::Waiting { at: now + d };
    }

    fn check_hosts(&self, m: &SteeringManifest) -> Result<(), SteeringError> {
        if let Some(u) = &m.reload_uri
            && !self.allowed_hosts.allows_url(u)
        {
            let host = u.host().unwrap_or_default().to_string();
            return Err(SteeringError::HostNotAllowed { field: "RELOAD-URI".into(), host });
        }
        for c in &m.pathway_clones {
            for host in c.replacement.hosts() {
                if !self.allowed_hosts.allows(&host) {
                    return Err(SteeringError::HostNotAllowed {
                        field: format!("clone {} HOST", c.id),
                        host,
                    });
                }
            }
        }
        Ok(())
    }

    /// Digests a steering manifest body received at `now`. On any error (parse,
    /// validation, refused host) the previous priority list stays in force and the
    /// next request is scheduled after the last TTL (or the default).
    pub fn on_loaded(&mut self, now: Instant, body: &str) -> Result<SteeringUpdate, SteeringError> {
        if self.poll == PollState::Gone {
            return Err(SteeringError::Missing("server (steering stopped after 410 Gone)"));
        }
        let Some(base) = self.server_uri.clone() else {
            return Err(SteeringError::Missing("server (the manifest names no steering server)"));
        };
        let parsed =
            SteeringManifest::parse(body, &base).and_then(|m| self.check_hosts(&m).map(|()| m));
        let m = match parsed {
            Ok(m) => m,
            Err(e) => {
                self.retry_after(now, None);
                return Err(e);
            }
        };
        let mut cloned = Vec::new();
        for c in m.pathway_clones {
            // First definition wins (hls.js); a clone of an unknown base is ignored.
            if self.known.contains(&c.id)
                || !self.known.contains(&c.base_id)
                || self.clones.len() >= MAX_CLONES
            {
                continue;
            }
            self.known.push(c.id.clone());
            self.health.entry(c.id.clone()).or_default();
            cloned.push(c.id.clone());
            self.clones.insert(c.id.clone(), c);
        }
        let (listed, ignored): (Vec<String>, Vec<String>) =
            m.pathway_priority.into_iter().partition(|p| self.known.contains(p));
        if !listed.is_empty() {
            self.priority = listed;
        }
        if let Some(u) = m.reload_uri {
            self.server_uri = Some(u);
        }
        self.last_ttl = Some(m.ttl);
        let next_poll = now + m.ttl;
        self.poll = PollState::Waiting { at: next_poll };
        Ok(SteeringUpdate { priority: self.priority.clone(), cloned, ignored, next_poll })
    }

    /// Digests a failed steering request: 410 stops polling for the session (the
    /// last list stays), 429 waits `retry_after` (or the last TTL) and resumes, any
    /// other failure retries after the last TTL (300 s before any manifest).
    pub fn on_failed(&mut self, now: Instant, status: Option<u16>, retry_after: Option<Duration>) {
        match status {
            Some(410) => self.poll = PollState::Gone,
            Some(429) => self.retry_after(now, retry_after),
            _ => self.retry_after(now, None),
        }
    }

    /// Records a failed media fetch on `pathway`; returns true if it is now penalised.
    pub fn on_media_failure(&mut self, now: Instant, pathway: &str) -> bool {
        let secs = |s: f64| Duration::from_secs_f64(if s.is_finite() { s.max(0.0) } else { 0.0 });
        let mut longest = secs(self.config.penalty_s);
        if self.server_uri.is_some() && self.poll != PollState::Gone {
            // The server is still asked: its order is re-tested once per TTL.
            longest = self.last_ttl.map_or(longest, |ttl| longest.min(ttl));
        }
        let first = secs(self.config.first_penalty_s).min(longest);
        let threshold = self.config.failures_before_penalty;
        self.health
            .entry(pathway.to_string())
            .or_default()
            .record_failure(now, threshold, first, longest)
    }

    /// Records a successful media fetch of `bits` in `seconds` on `pathway`.
    pub fn on_media_success(&mut self, now: Instant, pathway: &str, bits: f64, seconds: f64) {
        let window = self.config.throughput_window;
        self.health
            .entry(pathway.to_string())
            .or_default()
            .record_success(now, bits, seconds, window);
        if !self.used_since_poll.iter().any(|p| p == pathway) {
            self.used_since_poll.push(pathway.to_string());
        }
    }

    /// Selects the pathway for a request at `now` while a rung of `rung_kbps` is played
    /// (the ladder's lowest being `lowest_kbps`), and makes it current. What a pathway
    /// must carry to be kept is the cost preference's policy
    /// ([`CostPreference::need_kbps`]).
    pub fn select(&mut self, now: Instant, rung_kbps: f64, lowest_kbps: f64) -> PathwaySelection {
        let need_kbps = self.config.cost.need_kbps(rung_kbps, lowest_kbps);
        let candidates: Vec<&String> = self
            .priority
            .iter()
            .filter(|p| !self.health.get(*p).is_some_and(|h| h.is_penalized(now)))
            .collect();
        let selection = if candidates.is_empty() {
            let pathway = self
                .priority
                .iter()
                .min_by_key(|p| self.health.get(*p).and_then(|h| h.penalized_until))
                .cloned()
                .unwrap_or_else(|| self.current.clone());
            PathwaySelection { pathway, reason: SelectionReason::AllPenalized }
        } else {
            let estimates: Vec<Option<f64>> =
                candidates.iter().map(|p| self.throughput_kbps(p, now)).collect();
            let (i, rule) = self
                .config
                .cost
                .choose(&estimates, need_kbps)
                .unwrap_or((0, CostReason::Preferred));
            let pathway = candidates[i].clone();
            let above_penalized = self
                .priority
                .iter()
                .take_while(|p| **p != pathway)
                .any(|p| self.health.get(p).is_some_and(|h| h.is_penalized(now)));
            let reason = if above_penalized {
                SelectionReason::Failover
            } else {
                SelectionReason::Cost { rule }
            };
            PathwaySelection { pathway, reason }
        };
        self.current = selection.pathway.clone();
        selection
    }

    /// The presentation pathway whose URIs a (possibly cloned) `pathway` rewrites.
    pub fn root_pathway<'a>(&'a self, pathway: &'a str) -> &'a str {
        let mut p = pathway;
        for _ in 0..MAX_CLONE_DEPTH {
            match self.clones.get(p) {
                Some(c) => p = &c.base_id,
                None => break,
            }
        }
        p
    }

    /// Rewrites `root_uri` (a URI of [`root_pathway`](Self::root_pathway)`(pathway)`)
    /// into the URI to request on `pathway`, applying its clones' replacements from
    /// the root outwards. Non-clone pathways return the URI unchanged.
    pub fn rewrite_uri(
        &self,
        pathway: &str,
        root_uri: &Url,
        id: StableId<'_>,
    ) -> Result<Url, SteeringError> {
        let mut chain = Vec::new();
        let mut p = pathway;
        while let Some(c) = self.clones.get(p) {
            if chain.len() >= MAX_CLONE_DEPTH {
                break;
            }
            chain.push(c);
            p = &c.base_id;
        }
        let per_id = self.protocol == Protocol::Hls;
        let mut out = root_uri.clone();
        for c in chain.iter().rev() {
            out = c.replacement.apply(&out, id, per_id)?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: f64) -> Instant {
        Instant::from_secs_f64(s)
    }

    fn hls() -> Steering {
        Steering::new(
            Protocol::Hls,
            SteeringConfig::default(),
            &["oca".to_string(), "cf".to_string()],
            Some("oca"),
            Some(Url::parse("https://steer.example/s.json?v=1").unwrap()),
        )
    }

    const BODY: &str =
        r#"{"VERSION":1,"TTL":20,"RELOAD-URI":"/s2.json","PATHWAY-PRIORITY":["cf","oca"]}"#;

    #[test]
    fn polls_with_hls_params_and_schedules_by_ttl() {
        let mut s = hls();
        assert_eq!(s.poll(t(0.0), None), None, "not started");
        s.start(t(1.0));
        assert_eq!(s.next_wake(), Some(t(1.0)));
        let req = s.poll(t(1.0), Some(2_500_000.4)).unwrap();
        assert_eq!(
            req.url,
            "https://steer.example/s.json?v=1&_HLS_pathway=oca&_HLS_throughput=2500000"
        );
        assert_eq!(s.poll(t(1.0), None), None, "one request in flight");
        let up = s.on_loaded(t(2.0), BODY).unwrap();
        assert_eq!(up.priority, vec!["cf", "oca"]);
        assert_eq!(up.next_poll, t(22.0));
        assert_eq!(s.server_uri().unwrap(), "https://steer.example/s2.json");
        assert_eq!(s.poll(t(21.9), None), None);
        s.on_media_success(t(5.0), "cf", 8e6, 2.0);
        assert_eq!(s.select(t(5.0), 1000.0, 1000.0).pathway, "cf", "the new priority is applied");
        let req = s.poll(t(22.0), None).unwrap();
        assert_eq!(
            req.url,
            "https://steer.example/s2.json?_HLS_pathway=cf&_HLS_throughput=4000000"
        );
        s.on_failed(t(22.5), Some(503), None);
        s.select(t(23.0), 1000.0, 1000.0);
        // No estimate of its own and no fallback: the throughput parameter is left out.
        let mut fresh = hls();
        fresh.start(t(0.0));
        assert_eq!(
            fresh.poll(t(0.0), None).unwrap().url,
            "https://steer.example/s.json?v=1&_HLS_pathway=oca"
        );
    }

    #[test]
    fn dash_lists_every_pathway_used_since_last_poll() {
        let mut s = Steering::new(
            Protocol::Dash,
            SteeringConfig::default(),
            &["a".to_string(), "b".to_string()],
            Some("a"),
            Some(Url::parse("https://steer.example/d").unwrap()),
        );
        s.start(t(0.0));
        assert_eq!(
            s.poll(t(0.0), None).unwrap().url,
            "https://steer.example/d",
            "first request is bare"
        );
        s.on_loaded(t(0.5), r#"{"VERSION":1,"TTL":10,"PATHWAY-PRIORITY":["a","b"]}"#).unwrap();
        s.on_media_success(t(1.0), "a", 4e6, 1.0);
        s.on_media_success(t(2.0), "b", 2e6, 1.0);
        s.on_media_failure(t(3.0), "b");
        let url = s.poll(t(10.5), None).unwrap().url;
        assert_eq!(
            url,
            "https://steer.example/d?_DASH_pathway=%22a,b%22&_DASH_throughput=4000000,2000000"
        );
    }

    #[test]
    fn gone_stops_polling_and_keeps_the_list() {
        let mut s = hls();
        s.start(t(0.0));
        s.poll(t(0.0), None).unwrap();
        s.on_loaded(t(0.0), BODY).unwrap();
        s.poll(t(20.0), None).unwrap();
        s.on_failed(t(20.5), Some(410), None);
        assert_eq!(s.poll_state(), PollState::Gone);
        assert_eq!(s.next_wake(), None);
        assert_eq!(s.poll(t(10_000.0), None), None);
        assert_eq!(s.priority(), ["cf", "oca"]);
        assert_eq!(s.select(t(30.0), 1000.0, 1000.0).pathway, "cf");
    }

    #[test]
    fn too_many_requests_waits_retry_after_then_resumes() {
        let mut s = hls();
        s.start(t(0.0));
        s.poll(t(0.0), None).unwrap();
        s.on_failed(t(1.0), Some(429), Some(Duration::from_secs_f64(7.0)));
        assert_eq!(s.next_wake(), Some(t(8.0)));
        assert_eq!(s.poll(t(7.9), None), None);
        assert!(s.poll(t(8.0), None).is_some());
    }

    #[test]
    fn other_errors_keep_the_list_and_retry_after_last_ttl_or_300s() {
        let mut s = hls();
        s.start(t(0.0));
        s.poll(t(0.0), None).unwrap();
        s.on_failed(t(1.0), Some(503), None);
        assert_eq!(s.next_wake(), Some(t(301.0)), "default TTL before any manifest");
        s.poll(t(301.0), None).unwrap();
        s.on_loaded(t(301.0), BODY).unwrap();
        s.poll(t(321.0), None).unwrap();
        assert!(s.on_loaded(t(322.0), "{not json").is_err());
        assert_eq!(s.next_wake(), Some(t(342.0)), "last TTL");
        assert_eq!(s.priority(), ["cf", "oca"]);
        s.poll(t(342.0), None).unwrap();
        assert!(
            s.on_loaded(t(342.0), r#"{"VERSION":2,"TTL":1,"PATHWAY-PRIORITY":["oca"]}"#).is_err()
        );
        assert_eq!(s.priority(), ["cf", "oca"]);
    }

    #[test]
    fn unknown_ids_are_ignored() {
        let mut s = hls();
        let up =
            s.on_loaded(t(0.0), r#"{"VERSION":1,"TTL":5,"PATHWAY-PRIORITY":["zz","cf"]}"#).unwrap();
        assert_eq!(up.priority, vec!["cf"]);
        assert_eq!(up.ignored, vec!["zz"]);
        let up = s.on_loaded(t(0.0), r#"{"VERSION":1,"TTL":5,"PATHWAY-PRIORITY":["zz"]}"#).unwrap();
        assert_eq!(up.priority, vec!["cf"], "an all-unknown list leaves the last one in force");
    }

    #[test]
    fn penalty_fails_over_then_returns_after_expiry() {
        let mut s = hls();
        assert_eq!(s.select(t(0.0), 1000.0, 1000.0).pathway, "oca");
        // 2 s, then (the probe failing) 4 s, 8 s…
        assert!(s.on_media_failure(t(10.0), "oca"));
        let sel = s.select(t(10.0), 1000.0, 1000.0);
        assert_eq!((sel.pathway.as_str(), sel.reason), ("cf", SelectionReason::Failover));
        assert_eq!(s.select(t(11.9), 1000.0, 1000.0).pathway, "cf");
        assert_eq!(s.select(t(12.0), 1000.0, 1000.0).pathway, "oca");
        assert!(s.on_media_failure(t(12.0), "oca"));
        assert_eq!(s.select(t(15.9), 1000.0, 1000.0).pathway, "cf");
        assert_eq!(s.select(t(16.0), 1000.0, 1000.0).pathway, "oca");
        // Both penalised: the one whose penalty ends first (oca's third, 8 s, ends
        // after cf's first, 2 s).
        s.on_media_failure(t(200.0), "oca");
        s.on_media_failure(t(201.0), "cf");
        let sel = s.select(t(202.0), 1000.0, 1000.0);
        assert_eq!((sel.pathway.as_str(), sel.reason), ("cf", SelectionReason::AllPenalized));
    }

    #[test]
    fn penalties_grow_to_the_configured_longest_and_never_past_the_ttl() {
        let mut s = hls();
        // No steering manifest yet: up to penalty_s (120 s).
        let mut at = 0.0;
        for _ in 0..8 {
            s.on_media_failure(t(at), "oca");
            at = s.health("oca").unwrap().penalized_until.unwrap().as_secs_f64();
        }
        let last = s.health("oca").unwrap();
        assert_eq!(last.penalized_until, Some(t(at)));
        s.on_media_failure(t(at), "oca");
        assert_eq!(s.health("oca").unwrap().penalized_until, Some(t(at + 120.0)));
        // With a steering server answering a 10 s TTL, a penalty lasts 10 s at most:
        // a pathway it ranks first is tried again once per TTL.
        let at = at + 120.0;
        s.on_loaded(t(at), r#"{"VERSION":1,"TTL":10,"PATHWAY-PRIORITY":["oca","cf"]}"#).unwrap();
        s.on_media_failure(t(at), "oca");
        assert_eq!(s.health("oca").unwrap().penalized_until, Some(t(at + 10.0)));
        // A success resets the doubling.
        s.on_media_success(t(at + 10.0), "oca", 1e6, 1.0);
        s.on_media_failure(t(at + 11.0), "oca");
        assert_eq!(s.health("oca").unwrap().penalized_until, Some(t(at + 13.0)));
    }

    #[test]
    fn cost_preference_overflows_and_reprobes() {
        let mut s = hls();
        s.on_media_success(t(1.0), "oca", 2e6, 1.0); // 2000 kbps
        assert_eq!(s.select(t(1.0), 1000.0, 1000.0).pathway, "oca");
        let sel = s.select(t(1.0), 4000.0, 4000.0);
        assert_eq!(
            (sel.pathway.as_str(), sel.reason),
            ("cf", SelectionReason::Cost { rule: CostReason::Overflow })
        );
        // The edge's estimate ages out after 60 s: re-probe it.
        assert_eq!(s.select(t(61.5), 4000.0, 4000.0).pathway, "oca");
        // Under the default (cost) policy the edge is kept while it carries the lowest
        // rung, here 300 kbit/s: the ABR rule adapts instead.
        s.on_media_success(t(62.0), "oca", 2e6, 1.0);
        let sel = s.select(t(62.0), 4000.0, 300.0);
        assert_eq!(
            (sel.pathway.as_str(), sel.reason),
            ("oca", SelectionReason::Cost { rule: CostReason::Preferred })
        );
    }

    #[test]
    fn refuses_hosts_outside_the_allowlist() {
        let mut s = Steering::new(
            Protocol::Hls,
            SteeringConfig::default(),
            &["oca".to_string(), "cf".to_string()],
            None,
            Some(Url::parse("https://steer.example/s.json").unwrap()),
        )
        .with_allowed_hosts(HostAllowlist::only(["steer.example", "*.cdn.example"]));
        let e = s.on_loaded(
            t(0.0),
            r#"{"VERSION":1,"TTL":5,"RELOAD-URI":"https://evil.example/s","PATHWAY-PRIORITY":["cf"]}"#,
        );
        assert!(matches!(e, Err(SteeringError::HostNotAllowed { .. })));
        let e = s.on_loaded(
            t(0.0),
            r#"{"VERSION":1,"TTL":5,"PATHWAY-PRIORITY":["x"],"PATHWAY-CLONES":[
               {"BASE-ID":"cf","ID":"x","URI-REPLACEMENT":{"HOST":"evil.example"}}]}"#,
        );
        assert!(matches!(e, Err(SteeringError::HostNotAllowed { .. })));
        assert_eq!(s.priority(), ["oca", "cf"], "refused responses change nothing");
        assert_eq!(s.pathways(), ["oca", "cf"]);
        assert_eq!(s.server_uri().unwrap(), "https://steer.example/s.json");
        let ok = s.on_loaded(
            t(0.0),
            r#"{"VERSION":1,"TTL":5,"PATHWAY-PRIORITY":["x"],"PATHWAY-CLONES":[
               {"BASE-ID":"cf","ID":"x","URI-REPLACEMENT":{"HOST":"b.cdn.example"}}]}"#,
        );
        assert_eq!(ok.unwrap().priority, vec!["x"]);
    }

    #[test]
    fn clones_of_clones_rewrite_from_the_root() {
        let mut s = hls();
        let up = s
            .on_loaded(
                t(0.0),
                r#"{"VERSION":1,"TTL":5,"PATHWAY-PRIORITY":["c2","c1"],"PATHWAY-CLONES":[
                 {"BASE-ID":"cf","ID":"c1","URI-REPLACEMENT":{"HOST":"c1.example","PARAMS":{"a":"1"}}},
                 {"BASE-ID":"c1","ID":"c2","URI-REPLACEMENT":{"PARAMS":{"b":"2"}}},
                 {"BASE-ID":"nope","ID":"c3","URI-REPLACEMENT":{}},
                 {"BASE-ID":"oca","ID":"cf","URI-REPLACEMENT":{"HOST":"dup.example"}}]}"#,
            )
            .unwrap();
        assert_eq!(up.cloned, vec!["c1", "c2"]);
        assert_eq!(s.root_pathway("c2"), "cf");
        assert_eq!(s.root_pathway("cf"), "cf");
        let root = Url::parse("https://cf.example:444/v/1.m4s").unwrap();
        let u = s.rewrite_uri("c2", &root, StableId::None).unwrap();
        assert_eq!(u, "https://c1.example:444/v/1.m4s?a=1&b=2");
        let x = Url::parse("https://cf.example/x").unwrap();
        assert_eq!(s.rewrite_uri("cf", &x, StableId::None).unwrap(), "https://cf.example/x");
    }

    #[test]
    fn clones_are_capped_over_a_session() {
        let mut s = hls();
        for poll in 0..200 {
            let body = format!(
                r#"{{"VERSION":1,"TTL":5,"PATHWAY-PRIORITY":["n{poll}","cf"],"PATHWAY-CLONES":[
                 {{"BASE-ID":"cf","ID":"n{poll}","URI-REPLACEMENT":{{"HOST":"n{poll}.example"}}}}]}}"#
            );
            let up = s.on_loaded(t(poll as f64 * 5.0), &body).unwrap();
            assert_eq!(up.cloned.len(), usize::from(poll < MAX_CLONES), "poll {poll}");
        }
        assert_eq!(s.pathways().len(), 2 + MAX_CLONES);
        assert_eq!(s.health.len(), 2 + MAX_CLONES);
        // Past the cap, a new clone's pathway is unknown: the priority falls back to
        // the listed pathways that are known.
        assert_eq!(s.priority(), ["cf"]);
    }
}
