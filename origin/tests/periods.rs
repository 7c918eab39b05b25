//! The content played twice: the two-Period MPD and the HLS playlists with a
//! discontinuity parse with streamsteer's own engine into the segments of the
//! single-period manifests, twice, the second time D later, and the origin serves
//! them as it serves every manifest.

mod common;

use common::client;
use streamsteer::manifest::{MediaType, PresentationType, Rendition, parse_dash_at, parse_hls};
use streamsteer::uri::Url;
use streamsteer_origin::manifests::{self, PathwayBase, Site};
use streamsteer_origin::paths::{self, SteeringProtocol, Stream};
use streamsteer_origin::renditions;
use streamsteer_origin::{Fault, FaultKind, Origin, OriginConfig, RequestKind};

fn file(rel: &str) -> Vec<u8> {
    std::fs::read(common::fixture_dir().join(rel)).unwrap()
}

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

/// The content's duration D: from the earliest segment to the latest end.
fn content_duration(info: &streamsteer_origin::content::ContentInfo) -> f64 {
    let all = renditions::all(info);
    let start = all.iter().map(|r| r.segments[0].start_s).fold(f64::INFINITY, f64::min);
    all.iter().map(|r| r.end_s()).fold(0.0, f64::max) - start
}

/// The id of the highest-bandwidth video rung.
fn top_rung(info: &streamsteer_origin::content::ContentInfo) -> String {
    info.video.iter().max_by_key(|v| v.bandwidth_bps).unwrap().id.clone()
}

fn rendition_in<'a>(
    p: &'a streamsteer::manifest::Presentation,
    period: usize,
    id: &str,
) -> Option<&'a Rendition> {
    p.periods[period].tracks.iter().flat_map(|t| &t.renditions).find(|r| r.id == id)
}

#[test]
fn the_periods_mpd_plays_the_content_twice() {
    let store = common::fixture();
    let info = &store.info;
    let site = site();
    let d = content_duration(info);
    assert!((d - 4.0).abs() < 1e-9, "the fixture lasts 4 s, not {d}");
    let top = top_rung(info);
    let url = Url::parse("http://127.0.0.1:1003/vod/periods.mpd").unwrap();
    let text = manifests::dash_periods(info, &site, &store.timescales());
    let p = parse_dash_at(&text, &url, None).unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(p.presentation_type, PresentationType::Vod);
    assert!((p.duration_s.unwrap() - 2.0 * d).abs() < 1e-3);

    // The single-period MPD, for what each Period must repeat.
    let single_url = Url::parse("http://127.0.0.1:1003/vod/manifest.mpd").unwrap();
    let single =
        parse_dash_at(&manifests::dash_static(info, &site, &store.timescales()), &single_url, None)
            .unwrap();
    assert_eq!(p.pathways, single.pathways);
    assert_eq!(p.steering, single.steering);
    assert_eq!(p.steering.as_ref().unwrap().server_url, site.steering_url(SteeringProtocol::Dash));

    assert_eq!(p.periods.len(), 2);
    let (p0, p1) = (&p.periods[0], &p.periods[1]);
    assert_eq!((p0.id.as_deref(), p1.id.as_deref()), (Some("p0"), Some("p1")));
    assert_eq!(p0.start_s, 0.0);
    assert!((p0.duration_s.unwrap() - d).abs() < 1e-3);
    assert!((p1.start_s - d).abs() < 1e-3, "period 1 starts at {}", p1.start_s);
    assert!((p1.duration_s.unwrap() - d).abs() < 1e-3);
    for period in [p0, p1] {
        let types: Vec<MediaType> = period.tracks.iter().map(|t| t.media_type).collect();
        assert_eq!(types, [MediaType::Video, MediaType::Audio]);
    }

    for r in renditions::all(info) {
        let expected = single.rendition(r.id).unwrap();
        let expected_segs = expected.segments().unwrap();
        // Period 0 is the single-period MPD's Representation, segment for segment.
        let first = rendition_in(&p, 0, r.id).unwrap();
        assert_eq!(first.bandwidth, expected.bandwidth);
        assert_eq!(first.codecs, expected.codecs);
        assert_eq!(first.bases, expected.bases, "{}", r.id);
        let segs0 = first.segments().unwrap();
        assert_eq!(segs0.len(), expected_segs.len());
        for (i, (s, e)) in segs0.iter().zip(expected_segs).enumerate() {
            assert_eq!((&s.uri, s.number), (&e.uri, e.number), "{} segment {i}", r.id);
            assert!((s.start_s - e.start_s).abs() < 1e-9, "{} segment {i}", r.id);
            assert!((s.duration_s - e.duration_s).abs() < 1e-9, "{} segment {i}", r.id);
            assert_eq!(s.init, e.init);
            assert!(!s.discontinuity, "{} segment {i}", r.id);
        }

        // Period 1 leaves out the top rung; the others are the same files, D later.
        let second = rendition_in(&p, 1, r.id);
        if r.id == top {
            assert!(second.is_none(), "period 1 lists the top rung {top}");
            continue;
        }
        let second = second.unwrap();
        assert_eq!(second.bases, expected.bases, "{}", r.id);
        let segs1 = second.segments().unwrap();
        assert_eq!(segs1.len(), segs0.len());
        for (i, (s1, s0)) in segs1.iter().zip(segs0).enumerate() {
            assert_eq!(s1.uri, s0.uri, "{} segment {i}", r.id);
            assert_eq!(s1.init, s0.init);
            assert!(
                (s1.start_s - (s0.start_s + d)).abs() < 1e-3,
                "{} segment {i}: {} vs {} + {d}",
                r.id,
                s1.start_s,
                s0.start_s
            );
            assert!((s1.duration_s - s0.duration_s).abs() < 1e-9);
            assert_eq!(s1.discontinuity, i == 0, "{} segment {i}", r.id);
            assert_eq!(
                second.segment_url_on(s1, "cloudfront").unwrap(),
                format!("http://127.0.0.1:1002/vod/{}/{i}.m4s", r.id)
            );
        }
    }
    // Period 1's video is every rung but the top one, in ladder order.
    let video1: Vec<&str> = p1.tracks[0].renditions.iter().map(|r| r.id.as_str()).collect();
    let expected: Vec<&str> =
        info.video.iter().map(|v| v.id.as_str()).filter(|id| *id != top).collect();
    assert_eq!(video1, expected);
}

#[test]
fn the_discontinuity_playlists_play_the_content_twice() {
    let store = common::fixture();
    let info = &store.info;
    let site = site();
    let d = content_duration(info);
    let url = Url::parse("http://127.0.0.1:1003/vod/discontinuity.m3u8").unwrap();
    let text = manifests::hls_discontinuity_multivariant(info, &site);
    let mut p = parse_hls(&text, &url).unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);

    // The variants, groups, pathways and steering of master.m3u8; only the media
    // playlists differ.
    let single_url = Url::parse("http://127.0.0.1:1003/vod/master.m3u8").unwrap();
    let single =
        parse_hls(&manifests::hls_multivariant(info, &site, Stream::Vod), &single_url).unwrap();
    assert_eq!(p.pathways, single.pathways);
    assert_eq!(p.steering, single.steering);
    let listed: Vec<&Rendition> = p.renditions().collect();
    let single_listed: Vec<&Rendition> = single.renditions().collect();
    assert_eq!(listed.len(), single_listed.len());
    assert_eq!(listed.len(), 2 * (info.video.len() + 1));
    for (r, s) in listed.iter().zip(&single_listed) {
        let playlist = r.playlist_url.as_ref().unwrap().to_string();
        let single_playlist = s.playlist_url.as_ref().unwrap().to_string();
        assert_eq!(playlist.replace("/discontinuity.m3u8", "/playlist.m3u8"), single_playlist);
        let mut same = (*r).clone();
        same.playlist_url = s.playlist_url.clone();
        same.bases.clone_from(&s.bases);
        assert_eq!(&same, *s);
    }

    let pending = p.pending_playlists();
    assert_eq!(pending.len(), listed.len());
    for (rid, playlist_url) in pending {
        let path = playlist_url.as_str().split("/vod/").nth(1).unwrap();
        let content_id = path.split('/').next().unwrap();
        assert_eq!(format!("/vod/{path}"), paths::discontinuity_playlist(content_id));
        let text = manifests::hls_discontinuity_media(info, content_id).unwrap();
        let update = p.apply_media_playlist(&rid, &text, &playlist_url).unwrap();
        assert!(update.ended);
        let content = renditions::find(info, content_id).unwrap();
        let n = content.segments.len();
        let r = p.rendition(&rid).unwrap();
        let segs = r.segments().unwrap();
        assert_eq!(segs.len(), 2 * n, "{rid}");
        let base = playlist_url.as_str().rsplit_once('/').unwrap().0;
        for (i, s) in segs.iter().enumerate() {
            assert_eq!(s.discontinuity, i == n, "{rid} segment {i}");
            // Both halves name the same files.
            assert_eq!(r.url_on(&s.uri, None).unwrap(), format!("{base}/{}.m4s", i % n));
            let init = s.init.as_ref().unwrap();
            assert_eq!(r.url_on(&init.uri, None).unwrap(), format!("{base}/init.mp4"));
            // The second half has the real durations; so has the first, except that
            // its last segment reaches D in a rendition that ends before it.
            let real = content.segments[i % n].duration_s;
            if i == n - 1 {
                assert!(s.duration_s >= real - 1e-9 && s.duration_s < real + 0.1, "{rid}");
            } else {
                assert!((s.duration_s - real).abs() < 1e-9, "{rid} segment {i}");
            }
        }
        assert!((segs[n].start_s - d).abs() < 1e-6, "{rid}: {} vs {d}", segs[n].start_s);
        // Each half has its own EXT-X-MAP.
        assert_eq!(text.matches("#EXT-X-MAP:").count(), 2);
        let (first_half, second_half) = text.split_once("#EXT-X-DISCONTINUITY\n").unwrap();
        assert!(first_half.contains("#EXT-X-MAP:URI=\"init.mp4\""));
        assert!(second_half.starts_with("#EXT-X-MAP:URI=\"init.mp4\"\n"));
    }
    assert_eq!(p.presentation_type, PresentationType::Vod);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert!(manifests::hls_discontinuity_media(info, "v9").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_origin_serves_periods_and_discontinuities_like_every_manifest() {
    let mut config = OriginConfig::default();
    // Manifest faults on one pathway reach the new manifests too.
    config.pathway_mut("cloudfront").unwrap().faults =
        vec![Fault::always(FaultKind::Status { code: 503 }).on(&[RequestKind::Manifest])];
    let origin = Origin::start(common::fixture_dir(), config).await.unwrap();
    let info = origin.content().clone();
    let d = content_duration(&info);
    let c = client();

    // DASH: the two Periods, from the steering listener.
    let url = origin.dash_periods_url();
    assert!(url.ends_with("/vod/periods.mpd"), "{url}");
    let resp = c.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/dash+xml");
    let text = resp.text().await.unwrap();
    let p = parse_dash_at(&text, &Url::parse(&url).unwrap(), None).unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(p.periods.len(), 2);
    assert!((p.periods[1].start_s - d).abs() < 1e-3);
    // A segment of period 1 is the file itself, on the healthy pathway.
    let a1 = rendition_in(&p, 1, &info.audio.id).unwrap();
    let seg = &a1.segments().unwrap()[2];
    let seg_url = a1.segment_url_on(seg, "openconnect").unwrap();
    let got = c.get(seg_url.as_str()).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(got.as_ref(), file(&info.audio.segments[2].path).as_slice());

    // HLS: the multivariant from the steering listener, media playlists from a pathway.
    let url = origin.hls_discontinuity_url();
    assert!(url.ends_with("/vod/discontinuity.m3u8"), "{url}");
    let resp = c.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/vnd.apple.mpegurl");
    let text = resp.text().await.unwrap();
    let mut hp = parse_hls(&text, &Url::parse(&url).unwrap()).unwrap();
    let pending = hp.pending_playlists();
    assert_eq!(pending.len(), 2 * (info.video.len() + 1));
    let mut healthy = 0;
    for (rid, playlist_url) in pending {
        let resp = c.get(playlist_url.as_str()).send().await.unwrap();
        let on_cloudfront = hp.rendition(&rid).unwrap().pathway_id.as_deref() == Some("cloudfront");
        if on_cloudfront {
            assert_eq!(resp.status(), 503, "{playlist_url}");
            continue;
        }
        assert_eq!(resp.status(), 200, "{playlist_url}");
        assert_eq!(resp.headers()["content-type"], "application/vnd.apple.mpegurl");
        let body = resp.text().await.unwrap();
        hp.apply_media_playlist(&rid, &body, &playlist_url).unwrap();
        let r = hp.rendition(&rid).unwrap();
        let segs = r.segments().unwrap();
        let n = segs.len() / 2;
        assert!(segs[n].discontinuity);
        // The second half's first segment is the first file, byte for byte.
        let content_id = playlist_url.as_str().split('/').nth(4).unwrap().to_string();
        let content = renditions::find(&info, &content_id).unwrap();
        let seg_url = r.url_on(&segs[n].uri, None).unwrap();
        let got = c.get(seg_url.as_str()).send().await.unwrap().bytes().await.unwrap();
        assert_eq!(got.as_ref(), file(&content.segments[0].path).as_slice());
        healthy += 1;
    }
    assert_eq!(healthy, info.video.len() + 1);
    assert!(hp.warnings.is_empty(), "{:?}", hp.warnings);

    // VOD only: the live stream has neither; unknown renditions are not found.
    let base = origin.pathway_url("openconnect").unwrap();
    for path in [
        "/live/periods.mpd",
        "/live/discontinuity.m3u8",
        "/live/v0/discontinuity.m3u8",
        "/vod/v9/discontinuity.m3u8",
    ] {
        let status = c.get(format!("{base}{path}")).send().await.unwrap().status();
        assert_eq!(status, 404, "{path}");
    }
    // The cloudfront listener's fault hits the MPD too.
    let cloudfront = origin.pathway_url("cloudfront").unwrap();
    let status =
        c.get(format!("{cloudfront}{}", paths::periods_mpd())).send().await.unwrap().status();
    assert_eq!(status, 503);

    // The log names them as manifests.
    let log = origin.requests();
    for path in [paths::periods_mpd(), paths::discontinuity_multivariant()] {
        let entry = log.iter().find(|e| e.path == path).unwrap();
        assert_eq!((entry.status, entry.kind), (200, Some(RequestKind::Manifest)), "{path}");
    }
    let entry = log.iter().find(|e| e.path == paths::discontinuity_playlist("v0")).unwrap();
    assert_eq!(entry.kind, Some(RequestKind::Manifest));
    let unknown = log.iter().find(|e| e.path == "/live/periods.mpd").unwrap();
    assert_eq!((unknown.status, unknown.kind), (404, None));
    origin.shutdown().await;
}
