//! Every manifest the origin renders parses with streamsteer's own engine and says
//! exactly what the content description says.

mod common;

use streamsteer::manifest::{
    MediaType, PresentationType, SegmentIndex, UtcTiming, UtcTimingScheme, parse_dash_at, parse_hls,
};
use streamsteer::uri::Url;
use streamsteer_origin::config::LiveConfig;
use streamsteer_origin::live::LiveTimeline;
use streamsteer_origin::manifests::{self, PathwayBase, Site};
use streamsteer_origin::paths::{SteeringProtocol, Stream};
use streamsteer_origin::renditions;

fn site() -> Site {
    Site {
        pathways: vec![
            PathwayBase { name: "openconnect".into(), base_url: "http://127.0.0.1:1001".into() },
            PathwayBase { name: "cloudfront".into(), base_url: "http://127.0.0.1:1002".into() },
        ],
        steering_base: "http://127.0.0.1:1003".into(),
        query_before_start: true,
        proxy_server_url: None,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn hls_multivariant_and_vod_media_playlists() {
    let store = common::fixture();
    let info = &store.info;
    let site = site();
    let url = Url::parse("http://127.0.0.1:1003/vod/master.m3u8").unwrap();
    let text = manifests::hls_multivariant(info, &site, Stream::Vod);
    let mut p = parse_hls(&text, &url).unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let ids: Vec<&str> = p.pathways.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["openconnect", "cloudfront"]);
    let steering = p.steering.clone().unwrap();
    assert_eq!(steering.server_url, site.steering_url(SteeringProtocol::Hls));
    assert_eq!(steering.default_pathways, ["openconnect"]);

    let video = p.tracks().find(|t| t.media_type == MediaType::Video).unwrap().clone();
    assert_eq!(video.renditions.len(), info.video.len() * 2);
    for (pw, base) in
        [("openconnect", "http://127.0.0.1:1001/"), ("cloudfront", "http://127.0.0.1:1002/")]
    {
        let on: Vec<_> =
            video.renditions.iter().filter(|r| r.pathway_id.as_deref() == Some(pw)).collect();
        assert_eq!(on.len(), info.video.len());
        for (r, v) in on.iter().zip(&info.video) {
            assert_eq!(r.bandwidth, Some(v.bandwidth_bps + info.audio.bandwidth_bps));
            assert_eq!(
                r.average_bandwidth,
                Some(v.average_bandwidth_bps + info.audio.bandwidth_bps)
            );
            let res = r.resolution.unwrap();
            assert_eq!((res.width, res.height), (u64::from(v.width), u64::from(v.height)));
            assert_eq!(
                r.codecs.as_deref(),
                Some(format!("{},{}", v.codecs, info.audio.codecs).as_str())
            );
            assert!(close(r.frame_rate.unwrap(), v.frame_rate));
            assert_eq!(r.stable_id.as_deref(), Some(v.id.as_str()));
            assert_eq!(r.audio_group.as_deref(), Some(format!("audio-{pw}").as_str()));
            assert!(r.playlist_url.as_deref().unwrap().starts_with(base));
        }
    }
    let audio = p.tracks().find(|t| t.media_type == MediaType::Audio).unwrap().clone();
    let audio_pathways: Vec<_> = audio.renditions.iter().map(|r| r.pathway_id.clone()).collect();
    assert_eq!(audio_pathways, [Some("openconnect".to_string()), Some("cloudfront".to_string())]);

    // Every media playlist: the real durations, the init segment, ended.
    for (rid, playlist_url) in p.pending_playlists() {
        let path = playlist_url.split("/vod/").nth(1).unwrap();
        let content_id = path.split('/').next().unwrap();
        let text = manifests::hls_media_vod(info, content_id).unwrap();
        let update = p.apply_media_playlist(&rid, &text, &playlist_url).unwrap();
        assert!(update.ended);
        let r = p.rendition(&rid).unwrap();
        let expected = renditions::find(info, content_id).unwrap().segments;
        let segs = r.segments().unwrap();
        assert_eq!(segs.len(), expected.len());
        for (i, (s, e)) in segs.iter().zip(expected).enumerate() {
            assert!(close(s.duration_s, e.duration_s), "{rid} segment {i}");
            assert!(close(s.start_s, e.start_s - expected[0].start_s), "{rid} segment {i}");
            assert_eq!(s.number, i as u64);
            let base = playlist_url.rsplit_once('/').unwrap().0;
            assert_eq!(r.url_on(&s.uri, None).unwrap(), format!("{base}/{i}.m4s"));
            let init = &s.init.as_ref().unwrap().uri;
            assert_eq!(r.url_on(init, None).unwrap(), format!("{base}/init.mp4"));
        }
    }
    assert_eq!(p.presentation_type, PresentationType::Vod);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert!(close(p.duration_s.unwrap(), renditions::loop_s(info)));
}

#[test]
fn dash_static_mpd() {
    let store = common::fixture();
    let info = &store.info;
    let site = site();
    let url = Url::parse("http://127.0.0.1:1003/vod/manifest.mpd").unwrap();
    let text = manifests::dash_static(info, &site, &store.timescales());
    let p = parse_dash_at(&text, &url, None).unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(p.presentation_type, PresentationType::Vod);
    let ids: Vec<&str> = p.pathways.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["openconnect", "cloudfront"]);
    let steering = p.steering.clone().unwrap();
    assert_eq!(steering.server_url, site.steering_url(SteeringProtocol::Dash));
    assert_eq!(steering.default_pathways, ["openconnect"]);
    assert!(steering.query_before_start);

    for r in renditions::all(info) {
        let rep = p.rendition(r.id).unwrap();
        assert_eq!(rep.bandwidth, Some(r.bandwidth_bps));
        let bases: Vec<_> =
            rep.bases.iter().map(|b| (b.pathway_id.clone().unwrap(), b.url.to_string())).collect();
        assert_eq!(
            bases,
            [
                ("openconnect".to_string(), "http://127.0.0.1:1001/vod/".to_string()),
                ("cloudfront".to_string(), "http://127.0.0.1:1002/vod/".to_string())
            ]
        );
        let segs = rep.segments().unwrap();
        assert_eq!(segs.len(), r.segments.len());
        for (i, (s, e)) in segs.iter().zip(r.segments).enumerate() {
            assert!(close(s.duration_s, e.duration_s), "{} segment {i}", r.id);
            assert!(close(s.start_s, e.start_s), "{} segment {i}", r.id);
            assert_eq!(
                rep.segment_url_on(s, "cloudfront").unwrap(),
                format!("http://127.0.0.1:1002/vod/{}/{i}.m4s", r.id)
            );
        }
        let init = segs[0].init.as_ref().unwrap();
        assert_eq!(
            rep.url_on(&init.uri, None).unwrap(),
            format!("http://127.0.0.1:1001/vod/{}/init.mp4", r.id)
        );
    }
    let v = p.rendition("v1").unwrap();
    let fixture_v1 = &info.video[1];
    let res = v.resolution.unwrap();
    assert_eq!(
        (res.width, res.height),
        (u64::from(fixture_v1.width), u64::from(fixture_v1.height))
    );
    assert_eq!(v.codecs.as_deref(), Some(fixture_v1.codecs.as_str()));
    assert!(close(v.frame_rate.unwrap(), fixture_v1.frame_rate));
    assert!(close(p.duration_s.unwrap(), renditions::loop_s(info)));
}

#[test]
fn live_playlists_and_dynamic_mpd_list_the_same_window() {
    let store = common::fixture();
    let info = &store.info;
    let site = site();
    let config = LiveConfig { window_segments: 3, preroll_segments: 9, ..LiveConfig::default() };
    let start = 1_800_000_000.25;
    let timeline = LiveTimeline::new(info, &config, start);
    let now = start + 0.5;
    let live_s = timeline.live_s(now);

    // DASH: parsed at `now`, each rendition lists exactly the window.
    let text = manifests::dash_dynamic(info, &site, &store.timescales(), &timeline, now);
    let mpd_url = Url::parse("http://127.0.0.1:1003/live/manifest.mpd").unwrap();
    let p = parse_dash_at(&text, &mpd_url, Some(now)).unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(p.presentation_type, PresentationType::Live);
    let live = p.live.clone().unwrap();
    assert!(close(live.availability_start_unix_s.unwrap(), timeline.epoch_unix_s));
    assert!(close(live.time_shift_buffer_depth_s.unwrap(), timeline.time_shift_buffer_s()));
    for r in renditions::all(info) {
        let window = timeline.window(&r, live_s);
        assert_eq!(window.len(), 3);
        // Nine segments of preroll: the window is in the content's third loop.
        assert!(window.iter().all(|s| s.loop_index >= 1));
        let segs = p.rendition(r.id).unwrap().segments().unwrap();
        let numbers: Vec<u64> = segs.iter().map(|s| s.number).collect();
        let expected: Vec<u64> = window.iter().map(|s| s.number).collect();
        assert_eq!(numbers, expected, "{}", r.id);
        for (s, w) in segs.iter().zip(&window) {
            assert!(
                (s.start_s - w.start_s).abs() < 1e-4,
                "{} {} vs {}",
                r.id,
                s.start_s,
                w.start_s
            );
            assert!(close(s.duration_s, w.duration_s));
            assert!(s.start_s + s.duration_s <= live_s + 1e-6);
        }
    }

    // HLS: the media playlist of each rendition says the same window.
    let mv = manifests::hls_multivariant(info, &site, Stream::Live);
    let mut hp =
        parse_hls(&mv, &Url::parse("http://127.0.0.1:1003/live/master.m3u8").unwrap()).unwrap();
    for (rid, url) in hp.pending_playlists() {
        let content_id = url.split("/live/").nth(1).unwrap().split('/').next().unwrap().to_string();
        let text = manifests::hls_media_live(info, &timeline, &content_id, live_s).unwrap();
        let update = hp.apply_media_playlist(&rid, &text, &url).unwrap();
        assert!(!update.ended);
        let r = renditions::find(info, &content_id).unwrap();
        let window = timeline.window(&r, live_s);
        let segs = hp.rendition(&rid).unwrap().segments().unwrap();
        assert_eq!(
            segs.iter().map(|s| s.number).collect::<Vec<_>>(),
            window.iter().map(|s| s.number).collect::<Vec<_>>()
        );
        for (s, w) in segs.iter().zip(&window) {
            assert!(close(s.duration_s, w.duration_s));
        }
    }
    assert_eq!(hp.presentation_type, PresentationType::Live);
    assert_eq!(
        hp.live.unwrap().media_sequence,
        Some(timeline.window(&renditions::find(info, "a0").unwrap(), live_s)[0].number)
    );
}

#[test]
fn the_live_window_slides_with_time() {
    let store = common::fixture();
    let info = &store.info;
    let timeline = LiveTimeline::new(info, &LiveConfig::default(), 1_000.0);
    let v0 = renditions::find(info, "v0").unwrap();
    let at = |t: f64| timeline.window(&v0, timeline.live_s(t));
    let a = at(1_000.0);
    assert_eq!(a.len(), 6);
    let b = at(1_001.0);
    assert_eq!(b[0].number, a[0].number + 1);
    let c = at(1_040.0);
    assert_eq!(c[0].number, a[0].number + 40);
    // Starts only increase across loop boundaries.
    let w = at(1_100.0);
    assert!(w.windows(2).all(|p| p[1].start_s > p[0].start_s));
    assert!(w.iter().all(|s| s.start_s + s.duration_s <= timeline.live_s(1_100.0) + 1e-9));
}

#[test]
fn on_demand_mpd_and_files_describe_the_same_segments() {
    let store = common::fixture();
    let info = &store.info;
    let url = Url::parse("http://127.0.0.1:1003/vod/ondemand.mpd").unwrap();
    let text =
        streamsteer_origin::on_demand::mpd(info, &site(), &store.timescales(), &store.on_demand);
    let mut p = parse_dash_at(&text, &url, None).unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(p.presentation_type, PresentationType::Vod);
    for r in renditions::all(info) {
        let file = &store.on_demand[r.id];
        let stored = &store.renditions[r.id];
        // The file is the init, the index, then every segment, unchanged.
        assert_eq!(&file.data[..file.init_len as usize], &stored.init[..]);
        for ((offset, length), seg) in file.segments.iter().zip(&stored.segments) {
            assert_eq!(&file.data[*offset as usize..(offset + length) as usize], &seg[..]);
        }
        // The MPD names the file on each pathway and where its index and init are.
        let rendition = p.rendition(r.id).unwrap();
        let bases: Vec<String> = rendition.bases.iter().map(|b| b.url.to_string()).collect();
        assert_eq!(
            bases,
            [
                format!("http://127.0.0.1:1001/vod/{}/ondemand.mp4", r.id),
                format!("http://127.0.0.1:1002/vod/{}/ondemand.mp4", r.id)
            ]
        );
        let (start, len) = file.index;
        let index = file.data[start as usize..(start + len) as usize].to_vec();
        let n = p.apply_segment_index(0, r.id, &index).unwrap();
        assert_eq!(n, r.segments.len());
        // What a player makes of the index: each segment's bytes and the timing of
        // content.json (the template MPD's SegmentTimeline).
        let listed = p.rendition(r.id).unwrap().segments().unwrap();
        for ((s, info_seg), (offset, length)) in listed.iter().zip(r.segments).zip(&file.segments) {
            let range = s.byte_range.unwrap();
            assert_eq!((range.offset, range.length), (*offset, *length));
            assert!(
                (s.start_s - info_seg.start_s).abs() < 1e-3,
                "{} vs {}",
                s.start_s,
                info_seg.start_s
            );
            assert!((s.duration_s - info_seg.duration_s).abs() < 1e-3);
            let init = s.init.as_deref().unwrap().byte_range.unwrap();
            assert_eq!((init.offset, init.length), (0, file.init_len));
        }
    }
}

#[test]
fn the_template_mpd_lists_exactly_the_segments_the_origin_serves() {
    let store = common::fixture();
    let info = &store.info;
    let config = LiveConfig { window_segments: 4, preroll_segments: 30, ..LiveConfig::default() };
    let start = 1_800_000_000.25;
    let timeline = LiveTimeline::new(info, &config, start);
    let text =
        manifests::dash_dynamic_template(info, &site(), &store.timescales(), &timeline, start);
    let url = Url::parse("http://127.0.0.1:1001/live/template.mpd").unwrap();
    let p = streamsteer::manifest::parse_dash(&text, &url).unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let live = p.live.clone().unwrap();
    let time = "http://127.0.0.1:1001/time";
    assert_eq!(
        live.utc_timing,
        [
            UtcTiming { scheme: UtcTimingScheme::HttpXsDate, value: time.into() },
            UtcTiming { scheme: UtcTimingScheme::HttpHead, value: time.into() },
        ]
    );
    // At every instant of two loops of the content, the template's newest segment is
    // one the origin has (it ended on the origin's clock), and the next one is not yet.
    for r in renditions::all(info) {
        let rendition = p.rendition(r.id).unwrap();
        let SegmentIndex::LiveTemplate(t) = &rendition.index else { panic!("{}", r.id) };
        let mut t_s = start;
        while t_s < start + 2.0 * timeline.loop_s {
            let listed = t.available(t_s);
            let live_s = timeline.live_s(t_s);
            let newest = listed.end - 1;
            assert!(timeline.is_available(&r, newest, live_s), "{} {newest} at {t_s}", r.id);
            let listed_s = listed.end as f64 * timeline.segment_duration_s;
            // The next is listed at most the slack (plus audio framing, some
            // 40 ms) after it really ended: the template lags the origin by no more.
            let next_ends = timeline.segment(&r, listed.end).map(|s| s.start_s + s.duration_s);
            let lag = live_s - next_ends.unwrap();
            assert!(lag < manifests::TEMPLATE_AVAILABILITY_SLACK_S + 0.05, "{} lags {lag}", r.id);
            assert!(listed_s <= live_s + 1e-6);
            assert_eq!(t.segment(newest).uri, format!("{}/{newest}.m4s", r.id));
            t_s += 0.173;
        }
    }
}
