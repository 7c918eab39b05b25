//! Fault schedules: what a pathway does wrong, when, and to which requests.
//!
//! Probabilistic faults draw from a hash of (seed, pathway, request number, fault
//! index), so a run with the same seed and the same request order fails the same
//! requests: reproducible without a random number generator.

use serde::{Deserialize, Serialize};

/// What a request asks for, as far as faults and logging are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// A multivariant playlist, a media playlist or an MPD.
    Manifest,
    /// An initialization segment.
    Init,
    /// A media segment.
    Media,
    /// A steering manifest.
    Steering,
}

/// A time window, seconds since the origin started; `to_s: None` means forever.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimeWindow {
    /// Start (inclusive).
    pub from_s: f64,
    /// End (exclusive); `None`: no end.
    #[serde(default)]
    pub to_s: Option<f64>,
}

impl TimeWindow {
    /// True if `t_s` falls inside the window.
    pub fn contains(&self, t_s: f64) -> bool {
        t_s >= self.from_s && self.to_s.is_none_or(|end| t_s < end)
    }
}

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with this HTTP status (a small text body) instead of the resource.
    Status {
        /// Status code, e.g. 500 or 503.
        code: u16,
    },
    /// Send the headers and this fraction of the body, then reset the connection (RST).
    Reset {
        /// Fraction of the body sent before the reset, 0–1.
        after_fraction: f64,
    },
    /// Send this fraction of the body, stop sending for `seconds`, then finish.
    Stall {
        /// Fraction of the body sent before the stall, 0–1.
        after_fraction: f64,
        /// Length of the stall.
        seconds: f64,
    },
    /// Send the whole body at this rate at most (on top of the pathway's shaping).
    SlowDrip {
        /// Bytes per second.
        bytes_per_s: f64,
    },
    /// Send this fraction of the body, then close the connection cleanly: the
    /// `Content-Length` promised the whole body, so the client sees a short body.
    Truncate {
        /// Fraction of the body sent, 0–1.
        fraction: f64,
    },
    /// The whole pathway is down during the fault's window: new connections are reset
    /// on accept and connections open when the window starts are reset, bodies in
    /// flight included. `probability` and `requests` do not apply to an outage.
    Outage,
}

/// One entry of a pathway's fault schedule.
///
/// A request gets the first fault of the schedule whose window contains the request
/// time, whose `requests` filter matches its kind and whose probability draw hits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// What happens.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// When it may happen; default: always.
    #[serde(default)]
    pub window: Option<TimeWindow>,
    /// Chance that a matching request gets it, 0–1; default 1.
    #[serde(default = "one")]
    pub probability: f64,
    /// Request kinds it applies to; default (empty): all.
    #[serde(default)]
    pub requests: Vec<RequestKind>,
}

fn one() -> f64 {
    1.0
}

impl Fault {
    /// A fault of `kind` on every request, always.
    pub fn always(kind: FaultKind) -> Self {
        Fault { kind, window: None, probability: 1.0, requests: Vec::new() }
    }

    /// Restricts the fault to a window of seconds since origin start.
    pub fn during(mut self, from_s: f64, to_s: Option<f64>) -> Self {
        self.window = Some(TimeWindow { from_s, to_s });
        self
    }

    /// Restricts the fault to some request kinds.
    pub fn on(mut self, kinds: &[RequestKind]) -> Self {
        self.requests = kinds.to_vec();
        self
    }

    /// Sets the probability.
    pub fn with_probability(mut self, p: f64) -> Self {
        self.probability = p;
        self
    }

    /// True if the fault is active at `t_s` (window only).
    pub fn active_at(&self, t_s: f64) -> bool {
        self.window.is_none_or(|w| w.contains(t_s))
    }

    /// A short label for the request log.
    pub fn label(&self) -> String {
        match self.kind {
            FaultKind::Status { code } => format!("status_{code}"),
            FaultKind::Reset { .. } => "reset".into(),
            FaultKind::Stall { .. } => "stall".into(),
            FaultKind::SlowDrip { .. } => "slow_drip".into(),
            FaultKind::Truncate { .. } => "truncate".into(),
            FaultKind::Outage => "outage".into(),
        }
    }
}

/// SplitMix64 finaliser: a well-mixed 64-bit hash of one word.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A deterministic draw in `[0, 1)` for one (seed, stream, counter, slot).
pub fn draw(seed: u64, stream: u64, counter: u64, slot: u64) -> f64 {
    let h = mix(mix(mix(seed ^ mix(stream)) ^ counter) ^ slot.wrapping_mul(0x2545_f491));
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// The fault (index and value) a request gets, if any. Outages are never chosen here:
/// they act on the whole pathway.
pub fn choose(
    faults: &[Fault],
    t_s: f64,
    kind: RequestKind,
    seed: u64,
    stream: u64,
    counter: u64,
) -> Option<&Fault> {
    faults.iter().enumerate().find_map(|(i, f)| {
        let applies = !matches!(f.kind, FaultKind::Outage)
            && f.active_at(t_s)
            && (f.requests.is_empty() || f.requests.contains(&kind));
        (applies && draw(seed, stream, counter, i as u64) < f.probability).then_some(f)
    })
}

/// True if an outage fault of the schedule covers `t_s`.
pub fn outage_at(faults: &[Fault], t_s: f64) -> bool {
    faults.iter().any(|f| matches!(f.kind, FaultKind::Outage) && f.active_at(t_s))
}

/// The next time after `t_s` at which an outage window starts or ends.
pub fn next_outage_boundary(faults: &[Fault], t_s: f64) -> Option<f64> {
    faults
        .iter()
        .filter(|f| matches!(f.kind, FaultKind::Outage))
        .filter_map(|f| f.window)
        .flat_map(|w| [Some(w.from_s), w.to_s])
        .flatten()
        .filter(|&b| b > t_s)
        .fold(None, |m: Option<f64>, b| Some(m.map_or(b, |m| m.min(b))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_deterministic_and_spread() {
        let a: Vec<f64> = (0..1000).map(|c| draw(7, 1, c, 0)).collect();
        let b: Vec<f64> = (0..1000).map(|c| draw(7, 1, c, 0)).collect();
        assert_eq!(a, b);
        let hits = a.iter().filter(|&&x| x < 0.25).count();
        assert!((180..320).contains(&hits), "{hits} of 1000 below 0.25");
        assert!(a.iter().all(|&x| (0.0..1.0).contains(&x)));
        assert_ne!(draw(8, 1, 3, 0), draw(7, 1, 3, 0));
    }

    #[test]
    fn first_matching_fault_wins() {
        let faults = vec![
            Fault::always(FaultKind::Status { code: 503 })
                .on(&[RequestKind::Media])
                .during(10.0, Some(20.0)),
            Fault::always(FaultKind::Truncate { fraction: 0.5 }),
        ];
        let pick = |t, k| choose(&faults, t, k, 1, 0, 0).map(|f| f.label());
        assert_eq!(pick(15.0, RequestKind::Media).as_deref(), Some("status_503"));
        assert_eq!(pick(15.0, RequestKind::Init).as_deref(), Some("truncate"));
        assert_eq!(pick(25.0, RequestKind::Media).as_deref(), Some("truncate"));
    }

    #[test]
    fn outage_windows_and_boundaries() {
        let faults = vec![Fault::always(FaultKind::Outage).during(5.0, Some(8.0))];
        assert!(!outage_at(&faults, 4.9));
        assert!(outage_at(&faults, 5.0));
        assert!(!outage_at(&faults, 8.0));
        assert_eq!(next_outage_boundary(&faults, 0.0), Some(5.0));
        assert_eq!(next_outage_boundary(&faults, 6.0), Some(8.0));
        assert_eq!(next_outage_boundary(&faults, 8.0), None);
        assert!(choose(&faults, 6.0, RequestKind::Media, 0, 0, 0).is_none());
    }

    #[test]
    fn serde_shape() {
        let f: Fault = serde_json::from_str(
            r#"{"type":"stall","after_fraction":0.5,"seconds":2,"requests":["media"],"probability":0.1}"#,
        )
        .unwrap();
        assert_eq!(f.kind, FaultKind::Stall { after_fraction: 0.5, seconds: 2.0 });
        assert_eq!(f.requests, vec![RequestKind::Media]);
        let g: Fault = serde_json::from_str(r#"{"type":"outage","window":{"from_s":3}}"#).unwrap();
        assert_eq!(g.probability, 1.0);
        assert!(g.active_at(1e9));
    }
}
