//! The origin over loopback: byte-identical segments on every pathway, trace shaping,
//! every fault kind as a client sees it, runtime outages, the steering server, live
//! streaming and the request log.

mod common;

use common::{client, content_length, fixture, get_all, raw_get};
use std::time::{Duration, Instant};
use streamsteer::manifest::{parse_dash_at, parse_hls};
use streamsteer::steering::SteeringManifest;
use streamsteer::uri::Url;
use streamsteer_origin::boxes;
use streamsteer_origin::{
    Fault, FaultKind, Origin, OriginConfig, PathwayConfig, PriorityStep, RequestKind,
    RequestLogEntry, SteeringStatus, TraceSource,
};

fn unix_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64()
}

fn file(rel: &str) -> Vec<u8> {
    std::fs::read(common::fixture_dir().join(rel)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_pathway_serves_the_files_byte_for_byte() {
    let origin = Origin::start(common::fixture_dir(), OriginConfig::default()).await.unwrap();
    let info = origin.content().clone();
    let c = client();

    // HLS: multivariant from the steering listener, media playlists and segments from
    // each pathway.
    let url = origin.hls_url();
    let text = c.get(&url).send().await.unwrap().text().await.unwrap();
    let mut p = parse_hls(&text, &Url::parse(&url).unwrap()).unwrap();
    assert_eq!(p.pathways.len(), 2);
    for (rid, playlist_url) in p.pending_playlists() {
        let body = c.get(playlist_url.as_str()).send().await.unwrap().text().await.unwrap();
        p.apply_media_playlist(&rid, &body, &playlist_url).unwrap();
    }
    let mut fetched = 0;
    for r in p.renditions() {
        let pathway = r.pathway_id.clone().unwrap();
        let base = origin.pathway_url(&pathway).unwrap();
        let content_id = r.playlist_url.as_ref().unwrap().split('/').nth(4).unwrap().to_string();
        let content = streamsteer_origin::renditions::find(&info, &content_id).unwrap();
        let segs = r.segments().unwrap();
        let init_url = r.url_on(&segs[0].init.as_ref().unwrap().uri, None).unwrap();
        let init = c.get(init_url.as_str()).send().await.unwrap();
        assert_eq!(init.bytes().await.unwrap().as_ref(), file(content.init).as_slice());
        for (s, meta) in segs.iter().zip(content.segments) {
            let s_url = r.url_on(&s.uri, None).unwrap();
            assert!(s_url.starts_with(&base), "{s_url} on {base}");
            let resp = c.get(s_url.as_str()).send().await.unwrap();
            assert_eq!(resp.status(), 200);
            assert_eq!(resp.content_length(), Some(meta.bytes));
            assert_eq!(resp.bytes().await.unwrap().as_ref(), file(&meta.path).as_slice());
            fetched += 1;
        }
    }
    assert_eq!(fetched, 2 * 3 * info.segment_count);

    // DASH: the same bytes through the template, on both service locations.
    let url = origin.dash_url();
    let text = c.get(&url).send().await.unwrap().text().await.unwrap();
    let p = parse_dash_at(&text, &Url::parse(&url).unwrap(), None).unwrap();
    for pathway in origin.pathway_names() {
        for meta in [&info.video[1].segments[2], &info.audio.segments[3]] {
            let rid = meta.path.split('/').nth(1).unwrap();
            let n: usize =
                meta.path.trim_end_matches(".m4s").rsplit('_').next().unwrap().parse().unwrap();
            let r = p.rendition(rid).unwrap();
            let seg_url = r.segment_url_on(&r.segments().unwrap()[n], &pathway).unwrap();
            assert!(seg_url.starts_with(&origin.pathway_url(&pathway).unwrap()));
            let got = c.get(seg_url.as_str()).send().await.unwrap().bytes().await.unwrap();
            assert_eq!(got.as_ref(), file(&meta.path).as_slice());
        }
    }

    // Byte ranges and HEAD.
    let base = origin.pathway_url("cloudfront").unwrap();
    let whole = file(&info.video[0].segments[1].path);
    let seg = format!("{base}/vod/v0/1.m4s");
    let resp = c.get(&seg).header("Range", "bytes=100-1099").send().await.unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(
        resp.headers()["content-range"].to_str().unwrap(),
        format!("bytes 100-1099/{}", whole.len())
    );
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &whole[100..1100]);
    let resp = c.get(&seg).header("Range", "bytes=-10").send().await.unwrap();
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &whole[whole.len() - 10..]);
    let resp = c.get(&seg).header("Range", format!("bytes={}-", whole.len())).send().await.unwrap();
    assert_eq!(resp.status(), 416);
    let resp = c.head(&seg).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-length"].to_str().unwrap(), whole.len().to_string());
    // Unknown things are 404, and the steering listener serves no segments.
    assert_eq!(c.get(format!("{base}/vod/v9/0.m4s")).send().await.unwrap().status(), 404);
    assert_eq!(c.get(format!("{base}/vod/v0/99.m4s")).send().await.unwrap().status(), 404);
    let steering_seg = format!("{}/vod/v0/0.m4s", origin.steering_url());
    assert_eq!(c.get(steering_seg).send().await.unwrap().status(), 404);
    origin.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_shaped_pathway_is_one_shared_link_at_the_trace_rate() {
    // A Pensieve cooked trace file at 0.4 Mbit/s, loaded the way the CLI loads one.
    let dir = common::scratch("trace");
    let trace = dir.join("flat.cooked");
    std::fs::write(&trace, "0 0.4\n60 0.4\n").unwrap();
    let mut config = OriginConfig::default();
    config.pathways[0].trace = Some(TraceSource::File(trace));
    let origin = Origin::start(common::fixture_dir(), config).await.unwrap();
    let info = origin.content().clone();
    let shaped = origin.pathway_url("openconnect").unwrap();

    // Two renditions fetched at the same time share the link: the last byte of both
    // arrives when their sum has crossed it at 0.4 Mbit/s.
    let started = Instant::now();
    let mut tasks = Vec::new();
    let mut total = 0u64;
    for rung in &info.video {
        total += rung.segments.iter().map(|s| s.bytes).sum::<u64>();
        let urls: Vec<String> =
            (0..rung.segments.len()).map(|n| format!("{shaped}/vod/{}/{n}.m4s", rung.id)).collect();
        tasks.push(tokio::spawn(async move {
            let c = client();
            for u in urls {
                let (status, _, _, err) = get_all(&c, &u).await;
                assert!(status == 200 && !err);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let expected = total as f64 * 8.0 / 400_000.0;
    assert!(
        elapsed > expected * 0.85 && elapsed < expected * 1.6,
        "{total} bytes took {elapsed:.2} s, the trace says {expected:.2} s"
    );
    // The unshaped pathway moves the same bytes far faster.
    let free = origin.pathway_url("cloudfront").unwrap();
    let started = Instant::now();
    let c = client();
    for rung in &info.video {
        for n in 0..rung.segments.len() {
            get_all(&c, &format!("{free}/vod/{}/{n}.m4s", rung.id)).await;
        }
    }
    assert!(started.elapsed().as_secs_f64() < expected * 0.5);
    origin.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_kind_shows_on_the_client_side() {
    let media_only = [RequestKind::Media];
    let pathway = |name: &str, kind: FaultKind| PathwayConfig {
        faults: vec![Fault::always(kind).on(&media_only)],
        ..PathwayConfig::named(name)
    };
    let config = OriginConfig {
        pathways: vec![
            pathway("status", FaultKind::Status { code: 503 }),
            pathway("reset", FaultKind::Reset { after_fraction: 0.5 }),
            pathway("stall", FaultKind::Stall { after_fraction: 0.5, seconds: 1.5 }),
            pathway("drip", FaultKind::SlowDrip { bytes_per_s: 20_000.0 }),
            pathway("truncate", FaultKind::Truncate { fraction: 0.25 }),
            PathwayConfig {
                faults: vec![Fault::always(FaultKind::Outage).during(0.0, None)],
                ..PathwayConfig::named("outage")
            },
        ],
        ..OriginConfig::default()
    };
    let origin = Origin::start(common::fixture_dir(), config).await.unwrap();
    let info = origin.content().clone();
    let seg = &info.video[1].segments[3];
    let whole = file(&seg.path);
    let path = "/vod/v1/3.m4s";
    let url = |p: &str| origin.pathway_url(p).unwrap();
    let c = client();

    // 5xx.
    let (status, _, _, err) = get_all(&c, &format!("{}{path}", url("status"))).await;
    assert_eq!((status, err), (503, false));
    // The filter: manifests on a faulty pathway are fine.
    let (status, _, _, err) = get_all(&c, &format!("{}/vod/v1/playlist.m3u8", url("status"))).await;
    assert_eq!((status, err), (200, false));
    // The init segment is not "media" either.
    let (status, _, body, _) = get_all(&c, &format!("{}/vod/v1/init.mp4", url("reset"))).await;
    assert_eq!((status, body), (200, file(&info.video[1].init)));

    // Reset mid-body: the headers promise everything, half arrives, then an RST.
    let (head, body, end) = raw_get(&url("reset"), path).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(content_length(&head), Some(whole.len()));
    assert_eq!(end, Err(std::io::ErrorKind::ConnectionReset));
    assert!(body.len() <= whole.len() / 2 && whole.starts_with(&body));

    // Truncated: a quarter of the body, then a clean close.
    let (head, body, end) = raw_get(&url("truncate"), path).await;
    assert_eq!(content_length(&head), Some(whole.len()));
    assert_eq!(end, Ok(()));
    assert_eq!(body, whole[..whole.len() / 4]);
    let (status, len, body, err) = get_all(&c, &format!("{}{path}", url("truncate"))).await;
    assert_eq!((status, len, err), (200, Some(whole.len() as u64), true));
    assert!(body.len() < whole.len());

    // Stall: everything arrives, but only after the pause.
    let started = Instant::now();
    let (status, _, body, err) = get_all(&c, &format!("{}{path}", url("stall"))).await;
    assert_eq!((status, err), (200, false));
    assert_eq!(body, whole);
    assert!(started.elapsed() >= Duration::from_millis(1400));

    // Slow drip: 20 kB/s.
    let started = Instant::now();
    let (_, _, body, err) = get_all(&c, &format!("{}{path}", url("drip"))).await;
    assert!(!err && body == whole);
    let floor = whole.len() as f64 / 20_000.0 * 0.85;
    assert!(started.elapsed().as_secs_f64() >= floor);

    // Outage window: connections are reset on accept.
    let refused = c.get(format!("{}/vod/master.m3u8", url("outage"))).send().await;
    assert!(refused.is_err());
    assert_eq!(origin.is_down("outage"), Some(true));

    // The log says which fault each request got.
    let log = origin.requests();
    let fault_of = |pathway: &str| {
        log.iter()
            .filter(|e| e.pathway == pathway)
            .filter_map(|e| e.fault.clone())
            .collect::<Vec<_>>()
    };
    assert!(fault_of("status").contains(&"status_503".to_string()));
    assert!(fault_of("reset").iter().all(|f| f == "reset"));
    assert_eq!(fault_of("truncate").len(), 2);
    assert!(fault_of("outage").iter().all(|f| f == "outage") && !fault_of("outage").is_empty());
    let truncated = log.iter().find(|e| e.pathway == "truncate").unwrap();
    assert!(!truncated.complete && truncated.bytes_sent == (whole.len() / 4) as u64);
    origin.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probabilistic_faults_are_reproducible_from_the_seed() {
    let run = || async {
        let mut config = OriginConfig::default();
        config.pathways[0].faults =
            vec![Fault::always(FaultKind::Status { code: 500 }).with_probability(0.5)];
        config.seed = 42;
        let origin = Origin::start(common::fixture_dir(), config).await.unwrap();
        let base = origin.pathway_url("openconnect").unwrap();
        let c = client();
        let mut statuses = Vec::new();
        for i in 0..40 {
            let resp = c.get(format!("{base}/vod/v0/{}.m4s", i % 4)).send().await.unwrap();
            statuses.push(resp.status().as_u16());
        }
        origin.shutdown().await;
        statuses
    };
    let a = run().await;
    let b = run().await;
    assert_eq!(a, b);
    let failures = a.iter().filter(|&&s| s == 500).count();
    assert!((8..=32).contains(&failures), "{failures} of 40");
    assert!(a.iter().all(|&s| s == 500 || s == 200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_set_at_runtime_kills_the_body_in_flight() {
    let mut config = OriginConfig::default();
    // 100 kbit/s: the 28 kB segment takes over 2 s, so it is mid-transfer when cut.
    config.pathways[0].trace = Some(TraceSource::ConstantKbps(100.0));
    let origin = Origin::start(common::fixture_dir(), config).await.unwrap();
    let base = origin.pathway_url("openconnect").unwrap();
    let whole = file(&origin.content().video[1].segments[3].path);
    let c = client();
    let mut resp = c.get(format!("{base}/vod/v1/3.m4s")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let mut got = Vec::new();
    // Wait for the first bytes, then pull the plug.
    got.extend_from_slice(&resp.chunk().await.unwrap().unwrap());
    origin.set_outage("openconnect", true).unwrap();
    let ended = loop {
        match resp.chunk().await {
            Ok(Some(c)) => got.extend_from_slice(&c),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    assert!(ended.is_err(), "the body completed despite the outage");
    assert!(got.len() < whole.len() && whole.starts_with(&got));
    // New requests fail while it is down; the other pathway is unaffected.
    assert!(c.get(format!("{base}/vod/v1/0.m4s")).send().await.is_err());
    let other = origin.pathway_url("cloudfront").unwrap();
    assert_eq!(c.get(format!("{other}/vod/v1/0.m4s")).send().await.unwrap().status(), 200);
    // And it comes back.
    origin.set_outage("openconnect", false).unwrap();
    let (status, _, body, err) = get_all(&client(), &format!("{base}/vod/v0/0.m4s")).await;
    assert_eq!((status, err), (200, false));
    assert_eq!(body, file(&origin.content().video[0].segments[0].path));
    let killed = origin.requests().into_iter().find(|e| e.path == "/vod/v1/3.m4s").unwrap();
    assert!(!killed.complete);
    assert_eq!(killed.fault.as_deref(), Some("outage"));
    assert!(origin.set_outage("nowhere", true).is_err());
    origin.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steering_server_schedule_override_status_and_logged_parameters() {
    let mut config = OriginConfig::default();
    config.steering.ttl_s = 7;
    config.steering.schedule = vec![
        PriorityStep { at_s: 0.0, priority: vec!["openconnect".into(), "cloudfront".into()] },
        PriorityStep { at_s: 1.5, priority: vec!["cloudfront".into(), "openconnect".into()] },
    ];
    let origin = Origin::start(common::fixture_dir(), config).await.unwrap();
    let hls = origin.steering_manifest_url(streamsteer_origin::SteeringProtocol::Hls);
    let dash = origin.steering_manifest_url(streamsteer_origin::SteeringProtocol::Dash);
    let c = client();
    let fetch = |url: String| {
        let c = c.clone();
        async move {
            let resp = c.get(&url).send().await.unwrap();
            let status = resp.status().as_u16();
            let retry = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
            (status, retry, resp.text().await.unwrap())
        }
    };
    let (status, _, body) =
        fetch(format!("{hls}?_HLS_pathway=\"openconnect\"&_HLS_throughput=1234567")).await;
    assert_eq!(status, 200);
    let m = SteeringManifest::parse(&body, &Url::parse(&hls).unwrap()).unwrap();
    assert_eq!(m.pathway_priority, ["openconnect", "cloudfront"]);
    assert_eq!(m.ttl.as_secs_f64(), 7.0);
    assert_eq!(m.reload_uri.as_deref(), Some(hls.as_str()));

    // The schedule moves on by itself.
    while origin.elapsed_s() < 1.55 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, _, body) = fetch(format!(
        "{dash}?_DASH_pathway=%22openconnect,cloudfront%22&_DASH_throughput=900000,2000000"
    ))
    .await;
    let m = SteeringManifest::parse(&body, &Url::parse(&dash).unwrap()).unwrap();
    assert_eq!(m.pathway_priority, ["cloudfront", "openconnect"]);

    // Runtime override, then back to the schedule.
    origin.set_priority(vec!["openconnect".into()]);
    let (_, _, body) = fetch(hls.clone()).await;
    assert_eq!(
        SteeringManifest::parse(&body, &Url::parse(&hls).unwrap()).unwrap().pathway_priority,
        ["openconnect"]
    );
    origin.clear_priority();
    assert_eq!(origin.priority(), ["cloudfront", "openconnect"]);

    // 429 with Retry-After, 410, then normal service again.
    origin.set_steering_status(Some(SteeringStatus::TooManyRequests { retry_after_s: 9 }));
    let (status, retry, _) = fetch(hls.clone()).await;
    assert_eq!((status, retry.as_deref()), (429, Some("9")));
    origin.set_steering_status(Some(SteeringStatus::Gone));
    assert_eq!(fetch(dash.clone()).await.0, 410);
    origin.set_steering_status(None);
    assert_eq!(fetch(hls.clone()).await.0, 200);

    // The parameters the client sent are in the log, quotes or not.
    let log = origin.requests();
    let first = &log[0];
    assert_eq!(first.pathway, "steering");
    assert_eq!(first.kind, Some(RequestKind::Steering));
    assert_eq!(first.param_unquoted("_HLS_pathway"), Some("openconnect"));
    assert_eq!(first.query.get("_HLS_throughput").map(String::as_str), Some("1234567"));
    let dash_req = log.iter().find(|e| e.path.ends_with("dash.json")).unwrap();
    assert_eq!(dash_req.param_unquoted("_DASH_pathway"), Some("openconnect,cloudfront"));
    assert_eq!(dash_req.query["_DASH_throughput"], "900000,2000000");
    let statuses: Vec<u16> = log.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [200, 200, 200, 429, 410, 200]);
    origin.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_playlists_slide_and_timestamps_only_increase() {
    let origin = Origin::start(common::fixture_dir(), OriginConfig::default()).await.unwrap();
    let info = origin.content().clone();
    let store = fixture();
    let c = client();
    let base = origin.pathway_url("cloudfront").unwrap();

    let playlist = |rid: &str| format!("{base}/live/{rid}/playlist.m3u8");
    let load = |rid: &str| {
        let c = c.clone();
        let url = playlist(rid);
        async move {
            let text = c.get(&url).send().await.unwrap().text().await.unwrap();
            parse_hls(&text, &Url::parse(&url).unwrap()).unwrap()
        }
    };
    let first = load("v0").await;
    let segs = first.renditions().next().unwrap().segments().unwrap().to_vec();
    assert_eq!(segs.len(), 6);
    assert!(first.is_live());
    // The window slides: about a second later, it starts later.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let later = load("v0").await;
    let later_segs = later.renditions().next().unwrap().segments().unwrap().to_vec();
    assert!(
        later_segs[0].number > segs[0].number,
        "{} vs {}",
        later_segs[0].number,
        segs[0].number
    );
    // A segment that has not happened yet does not exist.
    let future = later_segs.last().unwrap().number + 3;
    assert_eq!(c.get(format!("{base}/live/v0/{future}.m4s")).send().await.unwrap().status(), 404);

    // tfdt: equal to the dynamic MPD's timeline, increasing across loop boundaries,
    // and the rest of each segment untouched.
    let mpd_url = origin.live_dash_url();
    let text = c.get(&mpd_url).send().await.unwrap().text().await.unwrap();
    let mpd = parse_dash_at(&text, &Url::parse(&mpd_url).unwrap(), Some(unix_now())).unwrap();
    assert!(mpd.is_live());
    for rid in ["v0", "v1", "a0"] {
        let r = mpd.rendition(rid).unwrap();
        let window = r.segments().unwrap();
        assert_eq!(window.len(), 6, "{rid}");
        let mut last = None;
        let mut loops = std::collections::BTreeSet::new();
        for s in window {
            let url = r.segment_url_on(s, "openconnect").unwrap();
            let bytes = c.get(url.as_str()).send().await.unwrap().bytes().await.unwrap();
            let tfdt = boxes::first_decode_time(&bytes).unwrap();
            assert_eq!(Some(tfdt), s.time, "{rid} #{}", s.number);
            assert!(last.is_none_or(|l| tfdt > l));
            last = Some(tfdt);
            let count = info.segment_count as u64;
            loops.insert(s.number / count);
            let original = &store.renditions[rid].segments[(s.number % count) as usize];
            assert_eq!(bytes.len(), original.len());
            let differing = bytes.iter().zip(original.iter()).filter(|(a, b)| a != b).count();
            assert!(differing <= 8, "{differing} bytes changed");
        }
        assert!(loops.len() >= 2 || window[0].number >= info.segment_count as u64);
    }
    // The live multivariant playlist points at the live media playlists.
    let url = origin.live_hls_url();
    let text = c.get(&url).send().await.unwrap().text().await.unwrap();
    let p = parse_hls(&text, &Url::parse(&url).unwrap()).unwrap();
    assert!(p.pending_playlists().iter().all(|(_, u)| u.contains("/live/")));
    origin.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_is_one_json_line() {
    let dir = common::scratch("log");
    let log_path = dir.join("requests.jsonl");
    let mut config = OriginConfig::default();
    config.log.file = Some(log_path.clone());
    config.pathways[1].latency_ms = 30.0;
    let origin = Origin::start(common::fixture_dir(), config).await.unwrap();
    let c = client();
    let oc = origin.pathway_url("openconnect").unwrap();
    let cf = origin.pathway_url("cloudfront").unwrap();
    c.get(origin.hls_url()).send().await.unwrap().text().await.unwrap();
    c.get(format!("{oc}/vod/v0/0.m4s"))
        .header("Range", "bytes=0-99")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    c.get(format!("{cf}/vod/a0/2.m4s?x=1")).send().await.unwrap().bytes().await.unwrap();
    c.get(format!("{cf}/nothing")).send().await.unwrap().bytes().await.unwrap();
    // Entries are written when the body ends; give the last one a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    while origin.requests().len() < 4 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mem = origin.requests();
    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let expected: Vec<String> = mem.iter().map(|e| serde_json::to_string(e).unwrap()).collect();
    assert_eq!(lines, expected);
    for l in &lines {
        let e: RequestLogEntry = serde_json::from_str(l).unwrap();
        assert!(!e.pathway.is_empty());
    }
    assert_eq!(mem.len(), 4);
    assert_eq!((mem[0].pathway.as_str(), mem[0].kind), ("steering", Some(RequestKind::Manifest)));
    assert_eq!(
        (mem[1].status, mem[1].bytes_sent, mem[1].range.as_deref()),
        (206, 100, Some("bytes=0-99"))
    );
    let a0 = &origin.content().audio.segments[2];
    assert_eq!(
        (mem[2].pathway.as_str(), mem[2].bytes_sent, mem[2].complete),
        ("cloudfront", a0.bytes, true)
    );
    assert_eq!(mem[2].query["x"], "1");
    assert!(mem[2].duration_s >= 0.03, "latency counts: {}", mem[2].duration_s);
    assert_eq!((mem[3].status, mem[3].kind), (404, None));
    assert!(mem.windows(2).all(|w| w[1].t_s >= w[0].t_s));
    origin.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_on_another_origin_may_play_and_read_what_a_player_needs() {
    let origin = Origin::start(common::fixture_dir(), OriginConfig::default()).await.unwrap();
    let c = client();
    let url = origin.hls_url();
    let resp = c.get(&url).header("Origin", "http://page.example").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    let exposed = resp.headers()["access-control-expose-headers"].to_str().unwrap().to_string();
    for h in ["Date", "Retry-After", "Content-Range"] {
        assert!(exposed.contains(h), "{exposed}");
    }
    // The preflight of a ranged request with CMCD headers.
    let pre = c
        .request(reqwest::Method::OPTIONS, &url)
        .header("Origin", "http://page.example")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "range, cmcd-request")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), 204);
    let allowed = pre.headers()["access-control-allow-headers"].to_str().unwrap().to_lowercase();
    assert!(allowed.contains("range") && allowed.contains("cmcd-request"), "{allowed}");
    assert_eq!(pre.headers()["access-control-allow-origin"], "*");
    // Other methods are still refused.
    let post = c.post(&url).send().await.unwrap();
    assert_eq!(post.status(), 405);
    origin.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_controls_over_http_take_down_slow_and_reorder_and_web_files_are_served() {
    let web = common::scratch("web-root");
    std::fs::create_dir_all(web.join("demo")).unwrap();
    std::fs::write(web.join("demo/index.html"), "<!doctype html><title>demo</title>").unwrap();
    std::fs::write(web.join("secret.txt"), "outside the demo? still under the root").unwrap();
    let outside = common::scratch("web-outside");
    std::fs::write(outside.join("private.txt"), "not to be served").unwrap();
    std::os::unix::fs::symlink(outside.join("private.txt"), web.join("link.txt")).unwrap();
    let mut config = OriginConfig::default();
    // 2 Mbit/s: the 28 kB segment takes ~0.1 s, ~1 s once slowed tenfold.
    config.pathways[0].trace = Some(TraceSource::ConstantKbps(2000.0));
    config.web_root = Some(web.clone());
    let origin = Origin::start(common::fixture_dir(), config).await.unwrap();
    let control = origin.control_url();
    let c = client();
    let post = |path: &str| c.post(format!("{control}{path}")).send();
    let state = |r: reqwest::Response| async move {
        assert_eq!(r.status(), 200);
        serde_json::from_str::<serde_json::Value>(&r.text().await.unwrap()).unwrap()
    };

    let s = state(c.get(format!("{control}state")).send().await.unwrap()).await;
    assert_eq!(s["priority"], serde_json::json!(["openconnect", "cloudfront"]));
    assert_eq!(
        s["pathways"][0],
        serde_json::json!({"name": "openconnect", "down": false, "slowdown": 1.0})
    );
    assert_eq!(s["pathways"][1]["slowdown"], serde_json::Value::Null, "cloudfront is unshaped");

    // Down and up.
    let base = origin.pathway_url("openconnect").unwrap();
    let s = state(post("pathway/openconnect/down").await.unwrap()).await;
    assert_eq!(s["pathways"][0]["down"], true);
    assert!(c.get(format!("{base}/vod/v1/0.m4s")).send().await.is_err());
    let s = state(post("pathway/openconnect/up").await.unwrap()).await;
    assert_eq!(s["pathways"][0]["down"], false);
    assert_eq!(get_all(&client(), &format!("{base}/vod/v1/0.m4s")).await.0, 200);

    // Slowed tenfold, with no error: the same segment takes far longer, whole.
    let seg = format!("{base}/vod/v1/3.m4s");
    let timed = |url: String| async move {
        let started = Instant::now();
        let (status, _, body, err) = get_all(&client(), &url).await;
        assert_eq!((status, err), (200, false));
        (started.elapsed().as_secs_f64(), body.len())
    };
    let (fast, len) = timed(seg.clone()).await;
    let s = state(post("pathway/openconnect/slow?factor=10").await.unwrap()).await;
    assert_eq!(s["pathways"][0]["slowdown"], 10.0);
    let (slow, slow_len) = timed(seg.clone()).await;
    assert_eq!(slow_len, len);
    let expected = len as f64 * 8.0 / 200_000.0;
    assert!(
        slow > expected * 0.7 && slow > 4.0 * fast,
        "{fast:.3} s, slowed {slow:.3} s ({len} B)"
    );
    state(post("pathway/openconnect/slow?factor=1").await.unwrap()).await;
    let (restored, _) = timed(seg).await;
    assert!(restored < slow / 3.0, "{restored:.3} s after restoring");

    // Steering order, and back to the schedule.
    let s = state(post("priority?order=cloudfront,openconnect").await.unwrap()).await;
    assert_eq!(s["priority"], serde_json::json!(["cloudfront", "openconnect"]));
    assert_eq!(origin.priority(), vec!["cloudfront", "openconnect"]);
    let s = state(post("priority").await.unwrap()).await;
    assert_eq!(s["priority"], serde_json::json!(["openconnect", "cloudfront"]));

    // Bad requests: typed answers, nothing changed.
    for (path, status) in [
        ("pathway/nowhere/down", 400),
        ("pathway/cloudfront/slow?factor=10", 400),
        ("pathway/openconnect/slow?factor=0.5", 400),
        ("pathway/openconnect/slow", 400),
        ("priority?order=openconnect,nowhere", 400),
        ("reboot", 404),
    ] {
        let r = post(path).await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{path}");
        assert!(
            serde_json::from_str::<serde_json::Value>(&r.text().await.unwrap()).unwrap()["error"]
                .is_string()
        );
    }
    assert_eq!(
        c.get(format!("{control}pathway/openconnect/down")).send().await.unwrap().status(),
        404
    );
    assert_eq!(origin.is_down("openconnect"), Some(false));

    // Files under the web root, and nothing outside it.
    let page = c.get(format!("{}demo/", origin.web_url())).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.text().await.unwrap().contains("<title>demo</title>"));
    let steering = origin.web_url().trim_end_matches("/web/").to_string();
    for bad in
        ["demo/../../Cargo.toml", "missing.js", "..%2f..%2fCargo.toml", ".hidden", "link.txt"]
    {
        let (head, _, _) = raw_get(&steering, &format!("/web/{bad}")).await;
        assert!(head.starts_with("HTTP/1.1 404"), "{bad}: {head}");
    }
    // The controls live on the steering listener only.
    assert_eq!(
        c.post(format!("{base}/control/pathway/openconnect/down")).send().await.unwrap().status(),
        405
    );
    origin.shutdown().await;
}
