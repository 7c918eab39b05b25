//! The steering server's answers: HLS and DASH steering manifests (one JSON format,
//! per rfc8216bis §7 and ETSI TS 103 998 §6.1) whose `PATHWAY-PRIORITY` follows a
//! schedule over time or a runtime override, and configurable 410 / 429 answers.

use crate::config::{CloneConfig, PriorityStep, SteeringConfig, SteeringStatus};
use serde_json::json;
use std::sync::Mutex;

/// What the steering endpoint answers now.
#[derive(Debug, Clone, PartialEq)]
pub enum SteeringAnswer {
    /// 200 with this JSON body.
    Manifest(String),
    /// 410 Gone.
    Gone,
    /// 429 with `Retry-After` seconds.
    TooManyRequests(u64),
}

#[derive(Debug)]
struct Mutable {
    priority_override: Option<Vec<String>>,
    status: Option<SteeringStatus>,
}

/// The steering server's state.
#[derive(Debug)]
pub struct SteeringState {
    ttl_s: u64,
    reload_uri: bool,
    clones: Vec<CloneConfig>,
    schedule: Vec<PriorityStep>,
    default_priority: Vec<String>,
    state: Mutex<Mutable>,
}

impl SteeringState {
    /// From the configuration; `pathways` is the default priority.
    pub fn new(config: &SteeringConfig, pathways: Vec<String>) -> Self {
        let mut schedule = config.schedule.clone();
        schedule.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
        SteeringState {
            ttl_s: config.ttl_s.max(1),
            reload_uri: config.reload_uri,
            clones: config.clones.clone(),
            schedule,
            default_priority: pathways,
            state: Mutex::new(Mutable { priority_override: None, status: config.status }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Mutable> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Overrides the schedule from now on (`None`: back to the schedule).
    pub fn set_priority(&self, priority: Option<Vec<String>>) {
        self.lock().priority_override = priority;
    }

    /// Sets (or clears) the non-200 answer.
    pub fn set_status(&self, status: Option<SteeringStatus>) {
        self.lock().status = status;
    }

    /// The priority at `t_s` seconds since origin start.
    pub fn priority_at(&self, t_s: f64) -> Vec<String> {
        if let Some(p) = &self.lock().priority_override {
            return p.clone();
        }
        self.schedule
            .iter()
            .rev()
            .find(|s| s.at_s <= t_s)
            .map(|s| s.priority.clone())
            .unwrap_or_else(|| self.default_priority.clone())
    }

    /// The answer at `t_s`; `self_url` is this endpoint's absolute URL (for
    /// `RELOAD-URI`).
    pub fn answer(&self, t_s: f64, self_url: &str) -> SteeringAnswer {
        match self.lock().status {
            Some(SteeringStatus::Gone) => return SteeringAnswer::Gone,
            Some(SteeringStatus::TooManyRequests { retry_after_s }) => {
                return SteeringAnswer::TooManyRequests(retry_after_s);
            }
            None => {}
        }
        let mut body = json!({
            "VERSION": 1,
            "TTL": self.ttl_s,
            "PATHWAY-PRIORITY": self.priority_at(t_s),
        });
        if self.reload_uri
            && let Some(o) = body.as_object_mut()
        {
            o.insert("RELOAD-URI".into(), json!(self_url));
        }
        if !self.clones.is_empty()
            && let Some(o) = body.as_object_mut()
        {
            let clones: Vec<serde_json::Value> = self.clones.iter().map(clone_json).collect();
            o.insert("PATHWAY-CLONES".into(), json!(clones));
        }
        SteeringAnswer::Manifest(body.to_string())
    }
}

/// One `PATHWAY-CLONES` entry (rfc8216bis §7.2, ETSI TS 103 998 §6.1).
fn clone_json(c: &CloneConfig) -> serde_json::Value {
    let mut replacement = serde_json::Map::new();
    if let Some(h) = &c.host {
        replacement.insert("HOST".into(), json!(h));
    }
    if !c.params.is_empty() {
        replacement.insert("PARAMS".into(), json!(c.params));
    }
    json!({ "BASE-ID": c.base_id, "ID": c.id, "URI-REPLACEMENT": replacement })
}

#[cfg(test)]
mod tests {
    use super::*;
    use streamsteer::steering::SteeringManifest;

    fn state() -> SteeringState {
        let cfg = SteeringConfig {
            schedule: vec![
                PriorityStep { at_s: 30.0, priority: vec!["b".into(), "a".into()] },
                PriorityStep { at_s: 10.0, priority: vec!["a".into()] },
            ],
            ..SteeringConfig::default()
        };
        SteeringState::new(&cfg, vec!["a".into(), "b".into()])
    }

    #[test]
    fn schedule_then_override() {
        let s = state();
        assert_eq!(s.priority_at(0.0), vec!["a", "b"]);
        assert_eq!(s.priority_at(10.0), vec!["a"]);
        assert_eq!(s.priority_at(45.0), vec!["b", "a"]);
        s.set_priority(Some(vec!["b".into()]));
        assert_eq!(s.priority_at(0.0), vec!["b"]);
        s.set_priority(None);
        assert_eq!(s.priority_at(0.0), vec!["a", "b"]);
    }

    #[test]
    fn answers_parse_with_the_engine() {
        let s = state();
        let url = "http://127.0.0.1:9/steering/hls.json";
        let SteeringAnswer::Manifest(body) = s.answer(40.0, url) else { panic!("not a manifest") };
        let m =
            SteeringManifest::parse(&body, &streamsteer::uri::Url::parse(url).unwrap()).unwrap();
        assert_eq!(m.pathway_priority, vec!["b", "a"]);
        assert_eq!(m.ttl.as_secs_f64(), 10.0);
        assert_eq!(m.reload_uri.as_deref(), Some(url));
        s.set_status(Some(SteeringStatus::TooManyRequests { retry_after_s: 7 }));
        assert_eq!(s.answer(0.0, url), SteeringAnswer::TooManyRequests(7));
        s.set_status(Some(SteeringStatus::Gone));
        assert_eq!(s.answer(0.0, url), SteeringAnswer::Gone);
    }

    #[test]
    fn clones_are_sent_and_parse_with_the_engine() {
        let cfg = SteeringConfig {
            clones: vec![CloneConfig {
                base_id: "b".into(),
                id: "b2".into(),
                host: Some("cdn2.example".into()),
                params: [("via".to_string(), "clone".to_string())].into(),
            }],
            ..SteeringConfig::default()
        };
        let s = SteeringState::new(&cfg, vec!["a".into(), "b".into()]);
        let url = "http://127.0.0.1:9/steering/hls.json";
        let SteeringAnswer::Manifest(body) = s.answer(0.0, url) else { panic!("not a manifest") };
        let m =
            SteeringManifest::parse(&body, &streamsteer::uri::Url::parse(url).unwrap()).unwrap();
        assert_eq!(m.pathway_clones.len(), 1);
        let c = &m.pathway_clones[0];
        assert_eq!((c.base_id.as_str(), c.id.as_str()), ("b", "b2"));
        assert_eq!(c.replacement.host.as_deref(), Some("cdn2.example"));
        assert_eq!(c.replacement.params, vec![("via".to_string(), "clone".to_string())]);
        let plain = SteeringState::new(&SteeringConfig::default(), vec!["a".into()]);
        let SteeringAnswer::Manifest(body) = plain.answer(0.0, url) else { panic!() };
        assert!(!body.contains("PATHWAY-CLONES"), "{body}");
    }
}
