//! Origin configuration (serde; every field has a documented default, so `{}` is a
//! valid configuration file).

use crate::faults::Fault;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use streamsteer_sim::trace::Period;

/// The whole origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OriginConfig {
    /// Address every listener binds to. Default `127.0.0.1`.
    pub bind: IpAddr,
    /// The pathways (CDNs), in default priority order. Default: `openconnect` then
    /// `cloudfront`, unshaped, no faults.
    pub pathways: Vec<PathwayConfig>,
    /// The steering server.
    pub steering: SteeringConfig,
    /// The live stream made from the VOD ladder.
    pub live: LiveConfig,
    /// Request logging.
    pub log: LogConfig,
    /// Seed of the probabilistic fault draws. Default 1.
    pub seed: u64,
    /// A folder whose files the steering listener serves under `/web/` (the browser
    /// package and its demo page: `streamsteer serve --web web`). Default `None`.
    pub web_root: Option<PathBuf>,
}

impl Default for OriginConfig {
    fn default() -> Self {
        OriginConfig {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            pathways: vec![PathwayConfig::named("openconnect"), PathwayConfig::named("cloudfront")],
            steering: SteeringConfig::default(),
            live: LiveConfig::default(),
            log: LogConfig::default(),
            seed: 1,
            web_root: None,
        }
    }
}

impl OriginConfig {
    /// The pathway called `name`, for editing.
    pub fn pathway_mut(&mut self, name: &str) -> Option<&mut PathwayConfig> {
        self.pathways.iter_mut().find(|p| p.name == name)
    }
}

/// Where a pathway's throughput trace comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceSource {
    /// A trace file in any format the simulator reads (Pensieve cooked, Mahimahi,
    /// Sabre JSON); a folder uses its first trace.
    File(PathBuf),
    /// Sabre-style periods given inline (`latency_ms` is ignored: the pathway's
    /// `latency_ms` applies).
    Periods(Vec<Period>),
    /// One constant rate, kbit/s.
    ConstantKbps(f64),
}

/// One pathway (CDN): a listener with its own shaping and faults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PathwayConfig {
    /// Pathway ID (HLS `PATHWAY-ID`, DASH `serviceLocation`): `[A-Za-z0-9._-]+`.
    /// Default `openconnect`.
    pub name: String,
    /// Port; 0 (default) picks a free one.
    pub port: u16,
    /// Throughput trace; default `None`: unshaped.
    pub trace: Option<TraceSource>,
    /// Added latency before the first byte of every response, ms. Default 0.
    pub latency_ms: f64,
    /// Fault schedule. Default: none.
    pub faults: Vec<Fault>,
}

impl Default for PathwayConfig {
    fn default() -> Self {
        PathwayConfig::named("openconnect")
    }
}

impl PathwayConfig {
    /// An unshaped, fault-free pathway called `name` on a free port.
    pub fn named(name: &str) -> Self {
        PathwayConfig {
            name: name.to_string(),
            port: 0,
            trace: None,
            latency_ms: 0.0,
            faults: Vec::new(),
        }
    }
}

/// One step of the steering priority schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriorityStep {
    /// From this time on (seconds since origin start).
    pub at_s: f64,
    /// `PATHWAY-PRIORITY`, most preferred first.
    pub priority: Vec<String>,
}

/// A non-200 answer of the steering server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SteeringStatus {
    /// 410 Gone: the client must stop asking.
    Gone,
    /// 429 Too Many Requests with `Retry-After: <retry_after_s>`.
    TooManyRequests {
        /// Seconds the client must wait.
        retry_after_s: u64,
    },
}

/// The steering server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SteeringConfig {
    /// Port; 0 (default) picks a free one.
    pub port: u16,
    /// `TTL` of the steering manifests, seconds. Default 10 (the spec recommends
    /// 300; tests and demos want changes to take effect quickly).
    pub ttl_s: u64,
    /// Priority over time; the last step at or before now applies. Default (empty):
    /// the pathways in configuration order.
    pub schedule: Vec<PriorityStep>,
    /// Answer every steering request with this status instead. Default `None`.
    pub status: Option<SteeringStatus>,
    /// Put a `RELOAD-URI` (the same endpoint, absolute) in each manifest. Default true.
    pub reload_uri: bool,
    /// DASH `ContentSteering@queryBeforeStart`. Default true.
    pub query_before_start: bool,
    /// DASH `ContentSteering@proxyServerURL` (2022 draft only). Default `None`.
    pub proxy_server_url: Option<String>,
    /// Added latency before each steering answer, ms. Default 0.
    pub latency_ms: f64,
    /// Faults of the steering listener (same semantics as a pathway's). Default none.
    pub faults: Vec<Fault>,
    /// `PATHWAY-CLONES` sent in every steering manifest. Default none (the key is
    /// left out).
    pub clones: Vec<CloneConfig>,
}

/// One `PATHWAY-CLONES` entry of the steering manifests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloneConfig {
    /// `BASE-ID`: the pathway (or earlier clone) copied.
    pub base_id: String,
    /// `ID`: the new pathway's ID.
    pub id: String,
    /// `URI-REPLACEMENT.HOST` (`host` or `host:port`); default `None`: the base's host.
    #[serde(default)]
    pub host: Option<String>,
    /// `URI-REPLACEMENT.PARAMS`: query parameters added to every URI. Default none.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}

impl Default for SteeringConfig {
    fn default() -> Self {
        SteeringConfig {
            port: 0,
            ttl_s: 10,
            schedule: Vec::new(),
            status: None,
            reload_uri: true,
            query_before_start: true,
            proxy_server_url: None,
            latency_ms: 0.0,
            faults: Vec::new(),
            clones: Vec::new(),
        }
    }
}

/// The live stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LiveConfig {
    /// Segments in the sliding window (HLS playlist length, DASH time-shift buffer).
    /// Default 6.
    pub window_segments: usize,
    /// How many segments are already available when the origin starts (the stream
    /// "began" that long before). Default 6, so a full window exists at once.
    pub preroll_segments: usize,
    /// The origin's clock minus the system clock, seconds (default 0): the live
    /// stream and the `/time` endpoint run on it, so that a test can give the origin
    /// and a player on the same machine different clocks, as a CDN and a device have.
    pub clock_offset_s: f64,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig { window_segments: 6, preroll_segments: 6, clock_offset_s: 0.0 }
    }
}

/// Request logging.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogConfig {
    /// Also append every entry as a JSON line to this file. Default `None`.
    pub file: Option<PathBuf>,
    /// Entries kept in memory (the oldest are dropped). Default 100 000.
    pub keep: usize,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { file: None, keep: 100_000 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_json_is_the_default() {
        let c: OriginConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(c, OriginConfig::default());
        assert_eq!(c.pathways[0].name, "openconnect");
        assert_eq!(c.pathways[1].name, "cloudfront");
    }

    #[test]
    fn partial_pathways_fill_defaults() {
        let c: OriginConfig = serde_json::from_str(
            r#"{"pathways":[{"name":"a","trace":{"constant_kbps":2000},"faults":[{"type":"status","code":503,"probability":0.5}]},{"name":"b","latency_ms":40}],
                "steering":{"schedule":[{"at_s":0,"priority":["a","b"]},{"at_s":30,"priority":["b","a"]}],"status":{"type":"too_many_requests","retry_after_s":5}}}"#,
        )
        .unwrap();
        assert_eq!(c.pathways[0].trace, Some(TraceSource::ConstantKbps(2000.0)));
        assert_eq!(c.pathways[1].latency_ms, 40.0);
        assert_eq!(c.steering.ttl_s, 10);
        assert_eq!(c.steering.status, Some(SteeringStatus::TooManyRequests { retry_after_s: 5 }));
        assert_eq!(c.live.window_segments, 6);
    }
}
