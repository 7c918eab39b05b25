//! Hostile steering-server bodies: the manifest parser, then the steering controller of
//! both protocols (HLS and DASH rules) digesting the body, with and without a host
//! allowlist.
//!
//! Checked: a refused body leaves the priority in force and schedules the next poll; an
//! applied one lists only known pathways and schedules the next poll after now; with an
//! allowlist, every URL the controller then produces (the next poll, media URIs
//! rewritten for each pathway, per-variant and per-rendition playlist URIs) names an
//! allowed host, as the `url` crate (which the network layer uses) reads the host.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamsteer::allowlist::HostAllowlist;
use streamsteer::steering::{
    PollState, Protocol, StableId, Steering, SteeringConfig, SteeringManifest,
};
use streamsteer::time::{Duration, Instant};
use streamsteer::uri::Url;

const SERVER: &str = "https://steering.example.net/dcsm.json?video=00012";
const PATHWAYS: [&str; 2] = ["oca", "cloudfront"];
const MEDIA: [&str; 2] = [
    "https://oca.example.net/vod/360p/seg_001.m4s",
    "https://d111.cloudfront.net/vod/360p/seg_001.m4s",
];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(server) = Url::parse(SERVER) else { return };
    let _ = SteeringManifest::parse(&text, &server);
    if let Ok(data_base) = server.join_allowing_data("data:application/json,{}") {
        let _ = SteeringManifest::parse(&text, &data_base);
    }
    for protocol in [Protocol::Hls, Protocol::Dash] {
        for allowlist in [
            None,
            Some([
                "oca.example.net",
                "d111.cloudfront.net",
                "steering.example.net",
                "*.cdn.example",
            ]),
        ] {
            let allowed = allowlist.map_or_else(HostAllowlist::any, HostAllowlist::only);
            check(protocol, allowed, &text);
        }
    }
});

fn check(protocol: Protocol, allowed: HostAllowlist, body: &str) {
    let pathways: Vec<String> = PATHWAYS.iter().map(|p| (*p).to_string()).collect();
    let server = Url::parse(SERVER).ok();
    let mut s = Steering::new(protocol, SteeringConfig::default(), &pathways, Some("oca"), server)
        .with_allowed_hosts(allowed.clone());
    let t0 = Instant::from_secs_f64(10.0);
    s.start(t0);
    assert!(s.poll(t0, Some(3e6)).is_some(), "the first poll is due at start");
    let before = s.priority().to_vec();
    let t1 = Instant::from_secs_f64(10.5);
    match s.on_loaded(t1, body) {
        Ok(update) => {
            assert!(update.next_poll > t1, "next poll not after now");
            assert_eq!(s.poll_state(), PollState::Waiting { at: update.next_poll });
            assert!(!s.priority().is_empty());
            for p in s.priority() {
                assert!(s.pathways().contains(p), "unknown pathway {p} in force");
            }
            assert_eq!(update.priority, s.priority());
        }
        Err(_) => {
            assert_eq!(s.priority(), before, "a refused body changed the priority");
            assert!(matches!(s.poll_state(), PollState::Waiting { at } if at > t1));
        }
    }
    // What the body steers: every pathway's URIs, the selection, the next poll.
    let ok_host = |url: &str| match url::Url::parse(url) {
        // What the network layer would request: its host must be allowed.
        Ok(u) => u
            .host_str()
            .is_none_or(|h| allowed.allows(h.trim_start_matches('[').trim_end_matches(']'))),
        // Nothing would be requested.
        Err(_) => true,
    };
    for p in s.pathways().to_vec() {
        let root = s.root_pathway(&p).to_string();
        let Some(i) = PATHWAYS.iter().position(|r| *r == root) else {
            panic!("pathway {p} has root {root}, not a presentation pathway");
        };
        for id in [StableId::None, StableId::Variant("360p"), StableId::Rendition("en")] {
            let Ok(media) = Url::parse(MEDIA[i]) else { continue };
            if let Ok(url) = s.rewrite_uri(&p, &media, id) {
                assert!(ok_host(&url), "{p}: {url} escapes the allowlist");
            }
        }
    }
    let sel = s.select(t1, 1500.0, 300.0);
    assert!(s.pathways().contains(&sel.pathway));
    assert!(s.on_media_failure(t1, &sel.pathway) || s.config().failures_before_penalty > 1);
    let t2 = t1 + Duration::from_secs_f64(1e6);
    if let Some(req) = s.poll(t2, None) {
        assert!(ok_host(&req.url), "next poll {} escapes the allowlist", req.url);
    }
    s.on_failed(t2, Some(429), Some(Duration(u64::MAX)));
    s.on_failed(t2, Some(410), None);
    assert_eq!(s.poll_state(), PollState::Gone);
}
