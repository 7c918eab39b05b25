//! The manifest front ends against the shared corpus, ffmpeg output and steering fixtures.

use std::path::PathBuf;
use streamsteer::manifest::{self, ManifestError, Presentation};
use streamsteer::uri::Url;
use streamsteer_tests::shared_dir;

struct Entry {
    path: String,
    kind: String,
    expect: String,
}

fn corpus() -> Vec<Entry> {
    let index = shared_dir().join("manifests/index.tsv");
    let text = std::fs::read_to_string(&index).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Entry {
                path: cols[0].to_string(),
                kind: cols[2].to_string(),
                expect: cols[4].to_string(),
            }
        })
        .collect()
}

fn corpus_path(rel: &str) -> PathBuf {
    shared_dir().join("manifests").join(rel)
}

fn parse(rel: &str) -> Result<Presentation, ManifestError> {
    let path = corpus_path(rel);
    let bytes = std::fs::read(&path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    // These are real-world manifests, served over HTTP where they come from: parse them
    // at an HTTP URL, so that a scheme-relative reference (`//host/x`) means what it
    // meant there (against a local file it names a remote share, which is refused).
    manifest::parse_any(&text, &u(&format!("https://corpus.example/{rel}")))
}

fn u(s: &str) -> Url {
    Url::parse(s).unwrap()
}

/// Segment `i`'s URL on the rendition's default pathway.
fn seg_url(r: &manifest::Rendition, i: usize) -> String {
    r.url_on(&r.segments().unwrap()[i].uri, None).unwrap().to_string()
}

/// The URL of segment `i`'s init segment on the rendition's default pathway.
fn init_url(r: &manifest::Rendition, i: usize) -> String {
    let init = r.segments().unwrap()[i].init.clone().unwrap();
    r.url_on(&init.uri, None).unwrap().to_string()
}

#[test]
fn corpus_outcomes_match_the_index() {
    let mut failures = Vec::new();
    let mut counts = std::collections::BTreeMap::new();
    for e in corpus() {
        let r = parse(&e.path);
        match (e.expect.as_str(), &r) {
            ("ok" | "lenient", Ok(_)) | ("invalid", Err(_)) => {
                *counts.entry(e.expect.clone()).or_insert(0) += 1;
            }
            _ => failures.push(format!(
                "{} ({}, {}): {:?}",
                e.path,
                e.kind,
                e.expect,
                r.as_ref().map(|p| &p.warnings)
            )),
        }
        if std::env::var("MANIFEST_VERBOSE").is_ok() {
            match &r {
                Ok(p) => {
                    eprintln!("{}: ok, {} warnings {:?}", e.path, p.warnings.len(), p.warnings)
                }
                Err(err) => eprintln!("{}: ERR {err}", e.path),
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(counts.get("ok"), Some(&88));
    assert_eq!(counts.get("lenient"), Some(&10));
    assert_eq!(counts.get("invalid"), Some(&27));
}

fn fixture(rel: &str) -> PathBuf {
    streamsteer_tests::repo_dir().join("tests/fixtures").join(rel)
}

fn load_fixture(rel: &str) -> (String, Url) {
    let path = fixture(rel);
    (std::fs::read_to_string(&path).unwrap(), Url::from_file_path(&path).unwrap())
}

fn bandwidths(p: &Presentation, track: usize) -> Vec<Option<u64>> {
    p.periods[0].tracks[track].renditions.iter().map(|r| r.bandwidth).collect()
}

#[test]
fn invalid_files_name_the_line_or_element() {
    for e in corpus().into_iter().filter(|e| e.expect == "invalid") {
        let err = parse(&e.path).unwrap_err();
        let msg = err.to_string();
        assert!(msg.len() > 15, "{}: message too terse: {msg}", e.path);
        match err {
            ManifestError::Hls { line, .. } => {
                // Only the header-only playlist is wrong as a whole.
                assert!(line > 0 || e.path.ends_with("headerOnly.m3u8"), "{}: {msg}", e.path);
            }
            ManifestError::Dash { element, .. } => {
                assert!(element.contains("MPD"), "{}: {msg}", e.path)
            }
            ManifestError::Empty => assert!(e.path.ends_with("empty.m3u8")),
            other => panic!("{}: unexpected error kind {other:?}", e.path),
        }
    }
    let msg = parse("videojs-m3u8-parser/manifestExtXEndlistEarly.m3u8").unwrap_err().to_string();
    assert_eq!(msg, "HLS line 10: segment after EXT-X-ENDLIST (line 9)");
    let msg = parse("videojs-m3u8-parser/invalidTargetDuration.m3u8").unwrap_err().to_string();
    assert!(msg.starts_with("HLS line 2: EXT-X-TARGETDURATION"), "{msg}");
}

#[test]
fn lenient_files_carry_warnings() {
    for e in corpus().into_iter().filter(|e| e.expect == "lenient") {
        let p = parse(&e.path).unwrap();
        assert!(!p.warnings.is_empty(), "{}: a lenient file should warn", e.path);
    }
    let p = parse("videojs-m3u8-parser/whiteSpace.m3u8").unwrap();
    let r = p.renditions().next().unwrap();
    let urls: Vec<String> = (0..2).map(|i| seg_url(r, i)).collect();
    assert_eq!(urls[0], "http://example.com/00001.ts");
    assert_eq!(urls[1], "https://example.com/00002.ts");
}

/// Rewrites every attribute of the attribute-list tags on `text`'s lines with `f(tag,
/// name, value)` (value with its quotes), joined by `sep`; other lines are kept.
fn rewrite_lists(text: &str, sep: &str, f: &dyn Fn(&str, &str, &str) -> String) -> String {
    const LIST_TAGS: &[&str] = &[
        "#EXT-X-MEDIA",
        "#EXT-X-STREAM-INF",
        "#EXT-X-I-FRAME-STREAM-INF",
        "#EXT-X-KEY",
        "#EXT-X-SESSION-KEY",
        "#EXT-X-MAP",
        "#EXT-X-START",
        "#EXT-X-SERVER-CONTROL",
        "#EXT-X-PART-INF",
        "#EXT-X-PART",
        "#EXT-X-PRELOAD-HINT",
        "#EXT-X-RENDITION-REPORT",
        "#EXT-X-SKIP",
        "#EXT-X-DATERANGE",
    ];
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let ending = &line[body.len()..];
        let Some((tag, list)) = body.split_once(':').filter(|(t, _)| LIST_TAGS.contains(t)) else {
            out.push_str(line);
            continue;
        };
        // Split on commas outside quotes.
        let (mut attrs, mut cur, mut quoted) = (Vec::new(), String::new(), false);
        for c in list.chars() {
            match c {
                '"' => {
                    quoted = !quoted;
                    cur.push(c);
                }
                ',' if !quoted => attrs.push(std::mem::take(&mut cur)),
                _ => cur.push(c),
            }
        }
        attrs.push(cur);
        let rewritten: Vec<String> = attrs
            .iter()
            .map(|a| match a.split_once('=') {
                Some((name, value)) => f(tag, name, value),
                None => a.clone(),
            })
            .collect();
        out.push_str(&format!("{tag}:{}{ending}", rewritten.join(sep)));
    }
    out
}

/// `text` with every enumerated-string attribute value quoted, as some packagers write
/// them (`DEFAULT="YES"`), and EXT-X-PLAYLIST-TYPE quoted.
fn quote_enumerated_strings(text: &str) -> String {
    let quoted = rewrite_lists(text, ",", &|tag, name, value| {
        let values: &[&str] = match (tag, name) {
            ("#EXT-X-MEDIA", "TYPE") => &["AUDIO", "VIDEO", "SUBTITLES", "CLOSED-CAPTIONS"],
            ("#EXT-X-MEDIA", "DEFAULT" | "AUTOSELECT" | "FORCED") => &["YES", "NO"],
            (_, "HDCP-LEVEL") => &["TYPE-0", "TYPE-1", "NONE"],
            (_, "VIDEO-RANGE") => &["SDR", "HLG", "PQ"],
            ("#EXT-X-KEY", "METHOD") => &["NONE", "AES-128", "SAMPLE-AES"],
            ("#EXT-X-START", "PRECISE") => &["YES", "NO"],
            ("#EXT-X-PART", "INDEPENDENT" | "GAP") => &["YES"],
            ("#EXT-X-SERVER-CONTROL", "CAN-BLOCK-RELOAD" | "CAN-SKIP-DATERANGES") => &["YES"],
            ("#EXT-X-PRELOAD-HINT", "TYPE") => &["PART", "MAP"],
            _ => &[],
        };
        if values.contains(&value) {
            format!("{name}=\"{value}\"")
        } else {
            format!("{name}={value}")
        }
    });
    quoted
        .replace("#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-PLAYLIST-TYPE:\"VOD\"")
        .replace("#EXT-X-PLAYLIST-TYPE:EVENT", "#EXT-X-PLAYLIST-TYPE:\"EVENT\"")
}

/// `text` with stray whitespace: around `=` and after `,` in attribute lists, before
/// and after tag lines.
fn add_stray_whitespace(text: &str) -> String {
    let spaced = rewrite_lists(text, ", ", &|_, name, value| format!("{name} = {value}"));
    spaced
        .split_inclusive('\n')
        .map(|l| match l.strip_suffix('\n') {
            Some(body) if body.starts_with("#EXT-X-") => format!("  {body} \t\n"),
            _ => l.to_string(),
        })
        .collect()
}

/// What a presentation says, without its warnings.
fn content(p: &Presentation) -> Presentation {
    Presentation { warnings: Vec::new(), ..p.clone() }
}

#[test]
fn sloppy_rewrites_of_the_corpus_parse_identically() {
    let (mut crlf, mut quoted, mut spaced) = (0, 0, 0);
    for e in corpus().into_iter().filter(|e| e.kind.starts_with("hls") && e.expect != "invalid") {
        let path = corpus_path(&e.path);
        let url = u(&format!("https://corpus.example/{}", e.path));
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let reference = manifest::parse_any(&text, &url).unwrap();
        let parse_as_reference = |variant: &str, what: &str| {
            let p = manifest::parse_any(variant, &url)
                .unwrap_or_else(|err| panic!("{} {what}: {err}", e.path));
            assert_eq!(content(&p), content(&reference), "{} {what}", e.path);
            // Whitespace warnings count lines: padding more lines changes the count.
            let recounted = |w: &String| what.contains("whitespace") && w.contains("whitespace");
            for w in reference.warnings.iter().filter(|w| !recounted(w)) {
                assert!(p.warnings.contains(w), "{} {what}: lost warning {w:?}", e.path);
            }
            let new: Vec<String> =
                p.warnings.into_iter().filter(|w| !reference.warnings.contains(w)).collect();
            new
        };

        // CRLF line ends are RFC 8216 (§4.1): same presentation, nothing new to say.
        let new = parse_as_reference(&text.replace('\n', "\r\n"), "with CRLF");
        assert!(new.is_empty(), "{}: {new:?}", e.path);
        crlf += 1;

        let variant = quote_enumerated_strings(&text);
        if variant != text {
            let new = parse_as_reference(&variant, "with quoted enumerated-strings");
            assert!(!new.is_empty(), "{}: quoted values read silently", e.path);
            assert!(new.iter().all(|w| w.contains("enumerated-string")), "{}: {new:?}", e.path);
            quoted += 1;
        }

        let variant = add_stray_whitespace(&text);
        if variant != text {
            let new = parse_as_reference(&variant, "with stray whitespace");
            assert!(
                new.iter().any(|w| w.contains("leading or trailing whitespace")),
                "{}: {new:?}",
                e.path
            );
            let around = |w: &String| w.contains("whitespace around ':', '=' or ','");
            if rewrite_lists(&text, ", ", &|_, n, v| format!("{n} = {v}")) != text {
                assert!(new.iter().chain(&reference.warnings).any(around), "{}: {new:?}", e.path);
            }
            spaced += 1;
        }
    }
    // Every HLS playlist that parses; 38 have enumerated-strings to quote.
    assert_eq!((crlf, quoted, spaced), (56, 38, 56));
}

#[test]
fn quoted_enumerated_strings_keep_their_meaning() {
    // DEFAULT/AUTOSELECT/FORCED quoted used to drop the whole EXT-X-MEDIA tag.
    let text = std::fs::read_to_string(corpus_path("videojs-m3u8-parser/master-fmp4.m3u8"))
        .unwrap()
        .replace("FORCED=NO", "FORCED=\"NO\"")
        .replace("DEFAULT=YES", "DEFAULT=\"YES\"");
    let p = manifest::parse_hls(&text, &u("https://h/master.m3u8")).unwrap();
    let defaults: Vec<&str> = p.tracks().filter(|t| t.default).map(|t| t.id.as_str()).collect();
    let reference = parse("videojs-m3u8-parser/master-fmp4.m3u8").unwrap();
    let expected: Vec<&str> =
        reference.tracks().filter(|t| t.default).map(|t| t.id.as_str()).collect();
    assert!(expected.len() > 2, "{expected:?}");
    assert_eq!(defaults, expected);
    assert!(
        p.warnings.iter().any(
            |w| w.contains("EXT-X-MEDIA DEFAULT") && w.contains("read unquoted (first on line")
        ),
        "{:?}",
        p.warnings
    );

    // Whitespace around '=' used to lose the attribute silently (m3u8-rs reads the
    // name "DEFAULT ").
    let text = std::fs::read_to_string(corpus_path("videojs-m3u8-parser/multipleAudioGroups.m3u8"))
        .unwrap()
        .replace(", DEFAULT=YES", ", DEFAULT = YES");
    let p = manifest::parse_hls(&text, &u("https://h/master.m3u8")).unwrap();
    let english = p.tracks().find(|t| t.language.as_deref() == Some("eng")).unwrap();
    assert!(english.default);
    assert!(p.warnings.iter().any(|w| w.contains("whitespace around ':', '=' or ','")));
}

#[test]
fn ambiguous_values_are_typed_errors_naming_the_line() {
    let text =
        std::fs::read_to_string(corpus_path("videojs-m3u8-parser/master-fmp4.m3u8")).unwrap();
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let cases = [
        ("FORCED=NO", "FORCED=\"no\"", "FORCED must be YES or NO"),
        (
            "TYPE=SUBTITLES",
            "TYPE=\"TEXT\"",
            "TYPE must be AUDIO, VIDEO, SUBTITLES or CLOSED-CAPTIONS",
        ),
        (
            "URI=\"s1/eng/prog_index.m3u8\"",
            "URI=s1/eng/prog_index.m3u8",
            "URI must be a quoted-string",
        ),
        (
            "CLOSED-CAPTIONS=\"cc1\"",
            "CLOSED-CAPTIONS=cc1",
            "CLOSED-CAPTIONS must be a quoted group id or NONE",
        ),
    ];
    for (from, to, expected) in cases {
        let line = line_of(from);
        let broken: String = text
            .lines()
            .enumerate()
            .map(
                |(i, l)| if i + 1 == line { l.replacen(from, to, 1) } else { l.to_string() } + "\n",
            )
            .collect();
        match manifest::parse_hls(&broken, &u("https://h/master.m3u8")) {
            Err(ManifestError::Hls { line: got, message }) => {
                assert_eq!(got, line, "{to}: {message}");
                assert!(message.contains(expected), "{to}: {message}");
            }
            other => panic!("{to}: expected an HLS error, got {other:?}"),
        }
    }
    // CLOSED-CAPTIONS="NONE" is a group named NONE, not the enumerated NONE.
    let cc = text.replace("CLOSED-CAPTIONS=\"cc1\"", "CLOSED-CAPTIONS=\"NONE\"");
    let p = manifest::parse_hls(&cc, &u("https://h/master.m3u8")).unwrap();
    assert_eq!(p.warnings, parse("videojs-m3u8-parser/master-fmp4.m3u8").unwrap().warnings);
}

#[test]
fn hls_multivariant_content() {
    let p = parse("m3u8-rs/master.m3u8").unwrap();
    assert_eq!(p.kind, manifest::ManifestKind::Hls);
    assert_eq!(p.presentation_type, manifest::PresentationType::Undetermined);
    assert_eq!(
        bandwidths(&p, 0),
        [300_000, 600_000, 850_000, 1_000_000, 1_500_000].map(Some).to_vec()
    );
    let r = p.rendition("v1").unwrap();
    assert!(r.playlist_url.as_deref().unwrap().ends_with("m3u8-rs/chunklist-b600000.m3u8"));
    assert_eq!(r.index, manifest::SegmentIndex::Unresolved);

    // Two audio groups with the same three languages: three tracks of two renditions.
    let p = parse("videojs-m3u8-parser/multipleAudioGroups.m3u8").unwrap();
    let audio: Vec<_> = p.tracks().filter(|t| t.media_type == manifest::MediaType::Audio).collect();
    assert_eq!(audio.len(), 3);
    assert_eq!(audio[0].language.as_deref(), Some("eng"));
    assert!(audio[0].default);
    let groups: Vec<_> =
        audio[0].renditions.iter().map(|r| r.group_id.as_deref().unwrap()).collect();
    assert_eq!(groups, ["audio-lo", "audio-hi"]);
    assert_eq!(p.rendition("v2").unwrap().audio_group.as_deref(), Some("audio-hi"));

    let p = parse("videojs-m3u8-parser/iFramePlaylist.m3u8").unwrap();
    let iframes = p.tracks().find(|t| t.trick_play).unwrap();
    assert_eq!(iframes.renditions.len(), 9);
    assert_eq!(iframes.renditions[0].average_bandwidth, Some(248_586));
    let v0 = p.rendition("v0").unwrap();
    assert_eq!(v0.resolution, Some(manifest::Resolution { width: 1280, height: 720 }));
    assert_eq!(v0.frame_rate, Some(23.976));
    assert_eq!(v0.codecs.as_deref(), Some("hvc1.2.4.L123.B0"));
}

#[test]
fn hls_media_playlists_resolve_segments() {
    // Byte ranges with implicit offsets continue the previous range of the same file.
    let p = parse("videojs-m3u8-parser/byteRange.m3u8").unwrap();
    let segs = p.rendition("v0").unwrap().segments().unwrap();
    assert_eq!(segs[1].byte_range, Some(manifest::ByteRange { offset: 522_828, length: 587_500 }));
    assert_eq!(segs[2].byte_range, Some(manifest::ByteRange { offset: 0, length: 713_084 }));
    assert_eq!(p.presentation_type, manifest::PresentationType::Vod);

    let p = parse("m3u8-rs/mediaplaylist-byterange.m3u8").unwrap();
    let segs = p.rendition("v0").unwrap().segments().unwrap();
    for w in segs.windows(2) {
        let (a, b) = (w[0].byte_range.unwrap(), w[1].byte_range.unwrap());
        if w[0].uri == w[1].uri {
            assert!(b.offset >= a.offset + a.length, "ranges overlap: {a:?} {b:?}");
        }
        assert!((w[1].start_s - (w[0].start_s + w[0].duration_s)).abs() < 1e-9);
    }

    // EXT-X-MAP changes mid-playlist and applies to every following segment.
    let p = parse("videojs-m3u8-parser/diff-init-key.m3u8").unwrap();
    let segs = p.rendition("v0").unwrap().segments().unwrap();
    let inits: Vec<Option<&str>> =
        segs.iter().map(|s| s.init.as_ref().map(|i| i.uri.as_str())).collect();
    assert!(inits.iter().all(Option::is_some), "{inits:?}");
    let distinct: std::collections::BTreeSet<_> = inits.iter().collect();
    assert!(distinct.len() >= 2, "{inits:?}");

    let p = parse("videojs-m3u8-parser/discontinuity.m3u8").unwrap();
    let segs = p.rendition("v0").unwrap().segments().unwrap();
    assert!(segs.iter().filter(|s| s.discontinuity).count() >= 1);

    // Live: no ENDLIST, media sequence numbers the segments.
    let p = parse("videojs-m3u8-parser/mediaSequence.m3u8").unwrap();
    assert!(p.is_live() || p.presentation_type == manifest::PresentationType::Vod);
    let text =
        std::fs::read_to_string(corpus_path("videojs-m3u8-parser/mediaSequence.m3u8")).unwrap();
    let seq: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(p.rendition("v0").unwrap().segments().unwrap()[0].number, seq);

    let p = parse("videojs-m3u8-parser/llhlsDelta.m3u8").unwrap();
    let segs = p.rendition("v0").unwrap().segments().unwrap();
    let text = std::fs::read_to_string(corpus_path("videojs-m3u8-parser/llhlsDelta.m3u8")).unwrap();
    let seq: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(
        segs[0].number,
        seq + 3,
        "EXT-X-SKIP:SKIPPED-SEGMENTS=3 shifts the first listed segment"
    );
}

#[test]
fn live_playlist_refresh_appends_by_media_sequence() {
    let first = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:10\n#EXTINF:4.0,\ns10.ts\n#EXTINF:4.0,\ns11.ts\n#EXTINF:4.0,\ns12.ts\n";
    let mut p = manifest::parse_hls(first, &u("https://cdn.example/live/index.m3u8")).unwrap();
    assert!(p.is_live());
    assert_eq!(p.live.as_ref().unwrap().media_sequence, Some(10));
    let second = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:11\n#EXTINF:4.0,\ns11.ts\n#EXTINF:4.0,\ns12.ts\n#EXTINF:4.0,\ns13.ts\n#EXTINF:3.5,\ns14.ts\n";
    let upd =
        p.apply_media_playlist("v0", second, &u("https://cdn.example/live/index.m3u8")).unwrap();
    assert_eq!(upd, manifest::PlaylistUpdate { added: 2, removed: 1, ended: false });
    let segs = p.rendition("v0").unwrap().segments().unwrap();
    let numbers: Vec<u64> = segs.iter().map(|s| s.number).collect();
    assert_eq!(numbers, vec![11, 12, 13, 14]);
    // Known segments keep their place on the timeline.
    assert_eq!(segs[0].start_s, 4.0);
    assert_eq!(segs[3].start_s, 16.0);
    assert_eq!(seg_url(p.rendition("v0").unwrap(), 3), "https://cdn.example/live/s14.ts");
    let last = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:13\n#EXTINF:4.0,\ns13.ts\n#EXTINF:3.5,\ns14.ts\n#EXT-X-ENDLIST\n";
    let upd =
        p.apply_media_playlist("v0", last, &u("https://cdn.example/live/index.m3u8")).unwrap();
    assert!(upd.ended);
    assert_eq!(p.presentation_type, manifest::PresentationType::Vod);
    assert!(matches!(
        p.apply_media_playlist("nope", last, &u("https://h/x")),
        Err(ManifestError::UnknownRendition(_))
    ));
}

#[test]
fn dash_addressing_modes() {
    // SegmentList with a SegmentTimeline.
    let p = parse("dash-mpd-rs/st-sl.mpd").unwrap();
    let segs = p.rendition("video1").unwrap().segments().unwrap();
    assert_eq!(segs.len(), 3);
    assert_eq!(seg_url(p.rendition("video1").unwrap(), 1), "https://foobar.com/fie.1.m4v");
    assert!((segs[1].start_s - 16.56).abs() < 1e-9);
    assert!((segs[2].duration_s - 16.519).abs() < 1e-9);
    assert_eq!(init_url(p.rendition("video1").unwrap(), 0), "https://foobar.com/init.mp4");

    // SegmentBase: one resource and its sidx.
    let p = parse("videojs-mpd-parser/segmentBase.mpd").unwrap();
    match &p.rendition("482").unwrap().index {
        manifest::SegmentIndex::Base(b) => {
            assert_eq!(b.url, "https://www.example.com/1080p.ts");
            assert_eq!(b.duration_s, Some(6.0));
        }
        other => panic!("expected SegmentBase, got {other:?}"),
    }
    assert!(p.to_ladder().unwrap_err().to_string().contains("sidx"));

    // Multi-period: periods follow each other, later periods start with a discontinuity.
    let p = parse("videojs-mpd-parser/multiperiod.mpd").unwrap();
    assert!(p.periods.len() > 1);
    for w in p.periods.windows(2) {
        assert!((w[1].start_s - (w[0].start_s + w[0].duration_s.unwrap())).abs() < 1e-6);
    }
    let second = p.periods[1].tracks[0].renditions[0].segments().unwrap();
    assert!(second[0].discontinuity);
    assert!((second[0].start_s - p.periods[1].start_s).abs() < 1.0);
}

#[test]
fn dash_dynamic_live_window_depends_on_now() {
    let path = corpus_path("dash-mpd-rs/dashif-live-atoinf.mpd");
    let text = std::fs::read_to_string(&path).unwrap();
    let p = manifest::parse_dash(&text, &u("https://live.example/x.mpd")).unwrap();
    assert!(p.is_live());
    let live = p.live.clone().unwrap();
    let ast = live.availability_start_unix_s.unwrap();
    let template = p
        .renditions()
        .find_map(|r| match &r.index {
            manifest::SegmentIndex::LiveTemplate(t) => Some(t.clone()),
            _ => None,
        })
        .expect("a live SegmentTemplate with @duration");
    let seg = template.segment_duration_s();
    let now = ast + 3600.0;
    let at_now =
        manifest::parse_dash_at(&text, &u("https://live.example/x.mpd"), Some(now)).unwrap();
    let segs = at_now.renditions().find_map(|r| r.segments().filter(|s| !s.is_empty())).unwrap();
    let last = segs.last().unwrap();
    // The newest segment has ended by `now`, the next one has not.
    assert!(last.start_s + last.duration_s <= now - ast + 1e-6);
    assert!(last.start_s + 2.0 * last.duration_s > now - ast - 1e-6);
    if let Some(depth) = live.time_shift_buffer_depth_s {
        let window = segs.len() as f64 * seg;
        assert!(window <= depth + seg + 1e-6, "{window} > {depth}");
    }
    let later =
        manifest::parse_dash_at(&text, &u("https://live.example/x.mpd"), Some(now + 10.0 * seg))
            .unwrap();
    let later_last = later
        .renditions()
        .find_map(|r| r.segments().filter(|s| !s.is_empty()))
        .unwrap()
        .last()
        .unwrap()
        .number;
    assert_eq!(later_last, last.number + 10);
}

#[test]
fn ffmpeg_hls_ladder_and_media_playlists() {
    let (text, url) = load_fixture("ffmpeg/hls/master.m3u8");
    let mut p = manifest::parse_any(&text, &url).unwrap();
    assert_eq!(bandwidths(&p, 0), vec![Some(2_890_800), Some(1_460_800), Some(800_800)]);
    assert_eq!(p.tracks().filter(|t| t.media_type == manifest::MediaType::Audio).count(), 1);
    assert!(p.to_ladder().is_err(), "no segment durations before the media playlists load");
    let pending = p.pending_playlists();
    assert_eq!(pending.len(), 4);
    for (id, playlist) in &pending {
        let body = std::fs::read_to_string(playlist.to_file_path().unwrap()).unwrap();
        let upd = p.apply_media_playlist(id, &body, playlist).unwrap();
        assert_eq!(upd.added, body.matches("#EXTINF:").count());
        assert!(upd.added >= 4);
        assert!(upd.ended);
    }
    let v0 = p.rendition("v0").unwrap().segments().unwrap();
    assert_eq!(v0.len(), 4);
    let r0 = p.rendition("v0").unwrap();
    assert!(seg_url(r0, 0).ends_with("ffmpeg/hls/720p/seg_000.m4s"));
    assert!(init_url(r0, 3).ends_with("ffmpeg/hls/720p/init_0.mp4"));
    assert!(p.pending_playlists().is_empty());
    assert_eq!(p.presentation_type, manifest::PresentationType::Vod);
    assert!((p.duration_s.unwrap() - 8.0).abs() < 0.05);
    let ladder = p.to_ladder().unwrap();
    assert_eq!(ladder.bitrates_kbps(), &[800.8, 1460.8, 2890.8]);
    assert_eq!(ladder.segment_duration_s(), 2.0);
    assert_eq!(ladder.segment_count(), 4);
    assert_eq!(ladder.segment_size_bits(0, 2), 2_890_800.0 * 2.0);
}

#[test]
fn ffmpeg_hls_byte_ranges_give_real_sizes() {
    let (text, url) = load_fixture("ffmpeg/hls-single/master.m3u8");
    let mut p = manifest::parse_any(&text, &url).unwrap();
    for id in ["v0", "v1", "v2"] {
        let playlist = p.rendition(id).unwrap().playlist_url.clone().unwrap();
        let body = std::fs::read_to_string(playlist.to_file_path().unwrap()).unwrap();
        p.apply_media_playlist(id, &body, &playlist).unwrap();
    }
    let v0 = p.rendition("v0").unwrap().segments().unwrap();
    assert_eq!(
        v0[0].init.as_ref().unwrap().byte_range,
        Some(manifest::ByteRange { offset: 0, length: 846 })
    );
    assert_eq!(v0[1].byte_range, Some(manifest::ByteRange { offset: 619_345, length: 632_662 }));
    let ladder = p.to_ladder().unwrap();
    assert_eq!(ladder.segment_size_bits(0, 2), 618_499.0 * 8.0);
    // Real sizes differ from the nominal bandwidth × duration.
    assert_ne!(ladder.segment_size_bits(1, 2), 2_890_800.0 * 2.0);
}

#[test]
fn ffmpeg_dash_template_and_list() {
    let (text, url) = load_fixture("ffmpeg/dash/manifest.mpd");
    let p = manifest::parse_any(&text, &url).unwrap();
    assert_eq!(p.kind, manifest::ManifestKind::Dash);
    assert_eq!(p.duration_s, Some(8.0));
    let video = p.main_track().unwrap();
    assert_eq!(video.media_type, manifest::MediaType::Video);
    let r0 = &video.renditions[0];
    let segs = r0.segments().unwrap();
    assert_eq!(segs.len(), 4);
    assert!(seg_url(r0, 2).ends_with("ffmpeg/dash/chunk-0-00003.m4s"), "{}", seg_url(r0, 2));
    assert_eq!(segs[2].time, Some(61_440));
    assert!(init_url(r0, 0).ends_with("ffmpeg/dash/init-0.m4s"));
    assert_eq!(r0.frame_rate, None.or(Some(30.0)));
    let audio = p.tracks().find(|t| t.media_type == manifest::MediaType::Audio).unwrap();
    let asegs = audio.renditions[0].segments().unwrap();
    assert_eq!(asegs.len(), 5);
    let total: f64 = asegs.iter().map(|s| s.duration_s).sum();
    assert!((total - 8.0).abs() < 0.01, "{total}");
    let ladder = p.to_ladder().unwrap();
    assert_eq!(ladder.bitrates_kbps(), &[600.0, 1200.0, 2500.0]);
    assert_eq!(ladder.segment_duration_s(), 2.0);

    let (text, url) = load_fixture("ffmpeg/dash-single/manifest.mpd");
    let p = manifest::parse_any(&text, &url).unwrap();
    let r0 = p.rendition("0").unwrap();
    let segs = r0.segments().unwrap();
    assert_eq!(segs.len(), 4);
    assert_eq!(
        segs[0].byte_range,
        Some(manifest::ByteRange { offset: 834, length: 618_622 - 834 + 1 })
    );
    assert!(seg_url(r0, 0).ends_with("ffmpeg/dash-single/manifest-stream0.mp4"));
    assert_eq!(
        segs[0].init.as_ref().unwrap().byte_range,
        Some(manifest::ByteRange { offset: 0, length: 834 })
    );
    let ladder = p.to_ladder().unwrap();
    assert_eq!(ladder.segment_size_bits(0, 2), (618_622.0 - 834.0 + 1.0) * 8.0);
}

#[test]
fn hls_steering_and_pathways() {
    let (text, _) = load_fixture("steering/multivariant.m3u8");
    let p = manifest::parse_hls(&text, &u("https://origin.example.com/vod/master.m3u8")).unwrap();
    let ids: Vec<&str> = p.pathways.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(ids, ["oca", "cloudfront"]);
    let s = p.steering.as_ref().unwrap();
    assert_eq!(s.server_url, "https://origin.example.com/steering/manifest.json?video=00012");
    assert_eq!(s.default_pathways, ["oca"]);
    let video = &p.periods[0].tracks[0];
    assert_eq!(video.renditions.len(), 6);
    let cf: Vec<_> =
        video.renditions.iter().filter(|r| r.pathway_id.as_deref() == Some("cloudfront")).collect();
    assert_eq!(cf.len(), 3);
    assert_eq!(cf[2].stable_id.as_deref(), Some("720p"));
    assert_eq!(cf[2].average_bandwidth, Some(2_600_000));
    // Audio renditions inherit the pathway of the variants that use their group.
    let en = p.tracks().find(|t| t.language.as_deref() == Some("en")).unwrap();
    let paths: Vec<_> = en.renditions.iter().map(|r| r.pathway_id.as_deref()).collect();
    assert_eq!(paths, [Some("oca"), Some("cloudfront")]);
    assert_eq!(en.renditions[1].stable_id.as_deref(), Some("en"));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    // The ladder counts each bitrate once (the initial pathway's copy).
    let err = p.to_ladder().unwrap_err();
    assert!(err.to_string().contains("apply_media_playlist"), "{err}");
    let mut p = p;
    let media =
        "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.m4s\n#EXTINF:2,\nb.m4s\n#EXT-X-ENDLIST\n";
    for id in ["v0", "v1", "v2", "v3", "v4", "v5"] {
        p.apply_media_playlist(id, media, &u("https://x/index.m3u8")).unwrap();
    }
    assert_eq!(p.to_ladder().unwrap().bitrates_kbps(), &[800.8, 1460.8, 2890.8]);
}

#[test]
fn dash_steering_and_base_url_hierarchy() {
    let (text, _) = load_fixture("steering/manifest.mpd");
    let p = manifest::parse_dash(&text, &u("https://origin.example.com/vod/manifest.mpd")).unwrap();
    let ids: Vec<&str> = p.pathways.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(ids, ["oca", "cloudfront"]);
    let s = p.steering.as_ref().unwrap();
    assert_eq!(s.server_url, "https://steering.example.net/dash.dcsm?video=00012&v=1");
    assert_eq!(s.default_pathways, ["oca"]);
    assert!(s.query_before_start);
    assert!(s.client_requirement);
    assert_eq!(s.proxy_server_url.as_deref(), Some("https://proxy.example.net/steer"));

    let hd = p.rendition("720p").unwrap();
    let bases: Vec<(&str, &str)> =
        hd.bases.iter().map(|b| (b.pathway_id.as_deref().unwrap(), b.url.as_str())).collect();
    assert_eq!(
        bases,
        [
            ("oca", "https://oca.example.net/vod/period0/hd/"),
            ("cloudfront", "https://d111.cloudfront.net/vod/period0/hd/")
        ]
    );
    let segs = hd.segments().unwrap();
    assert_eq!(seg_url(hd, 0), "https://oca.example.net/vod/period0/hd/720p/chunk-00001.m4s");
    assert_eq!(
        hd.segment_url_on(&segs[0], "cloudfront").unwrap(),
        "https://d111.cloudfront.net/vod/period0/hd/720p/chunk-00001.m4s"
    );
    let sd = p.rendition("360p").unwrap();
    assert_eq!(seg_url(sd, 3), "https://oca.example.net/vod/period0/360p/chunk-00004.m4s");

    // S@r="-1" repeats to the end of the period (8 s at 96256/48000 s per segment).
    let aac = p.rendition("aac").unwrap().segments().unwrap();
    assert_eq!(aac.len(), 4);
    assert_eq!(
        seg_url(p.rendition("aac").unwrap(), 3),
        "https://oca.example.net/vod/period0/aac/chunk-288768.m4s"
    );
    let audio = p.tracks().find(|t| t.media_type == manifest::MediaType::Audio).unwrap();
    assert!(audio.default);
    assert_eq!(audio.language.as_deref(), Some("en"));
}

#[test]
fn corpus_ladders() {
    // Every static DASH file with a video track and explicit segments gives a valid
    // ladder; count how many so the test cannot pass vacuously.
    let mut built = 0;
    for e in corpus().into_iter().filter(|e| e.expect != "invalid") {
        let p = parse(&e.path).unwrap();
        if let Ok(l) = p.to_ladder() {
            assert!(l.bitrates_kbps().windows(2).all(|w| w[0] < w[1]), "{}", e.path);
            built += 1;
        }
    }
    assert!(built >= 20, "only {built} ladders");
}

#[test]
fn equal_bandwidths_are_deduplicated() {
    let text = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=500000,CODECS=\"avc1.4d401f\"\na.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=500000,CODECS=\"hvc1.1.6.L93\"\nb.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=200000\nc.m3u8\n";
    let mut p = manifest::parse_hls(text, &u("https://h/m.m3u8")).unwrap();
    let media =
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n1.ts\n#EXTINF:4,\n2.ts\n#EXT-X-ENDLIST\n";
    for id in ["v0", "v1", "v2"] {
        p.apply_media_playlist(id, media, &u("https://h/x.m3u8")).unwrap();
    }
    let l = p.to_ladder().unwrap();
    assert_eq!(l.bitrates_kbps(), &[200.0, 500.0]);
    assert_eq!(l.segment_count(), 2);
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    const HLS_LINES: &[&str] = &[
        "#EXTM3U",
        "#EXT-X-VERSION:",
        "#EXT-X-TARGETDURATION:",
        "#EXT-X-MEDIA-SEQUENCE:",
        "#EXT-X-DISCONTINUITY-SEQUENCE:",
        "#EXT-X-PLAYLIST-TYPE:",
        "#EXTINF:",
        "#EXT-X-BYTERANGE:",
        "#EXT-X-DISCONTINUITY",
        "#EXT-X-ENDLIST",
        "#EXT-X-MAP:URI=",
        "#EXT-X-KEY:METHOD=",
        "#EXT-X-SKIP:SKIPPED-SEGMENTS=",
        "#EXT-X-STREAM-INF:BANDWIDTH=",
        "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=",
        "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=",
        "#EXT-X-CONTENT-STEERING:SERVER-URI=",
        "#EXT-X-PROGRAM-DATE-TIME:",
        "#EXT-X-ALLOW-CACHE:",
        "seg.ts",
        "",
    ];
    const VALUES: &[&str] = &[
        "",
        "0",
        "10",
        "4.5,",
        "-1",
        "NaN",
        "18446744073709551615",
        "99999999999999999999",
        "\"x\"",
        "1@",
        "VOD",
        "12@34",
        ",PATHWAY-ID=\"p\"",
        "1x1",
    ];

    fn hls_text() -> impl Strategy<Value = String> {
        proptest::collection::vec((0..HLS_LINES.len(), 0..VALUES.len(), any::<bool>()), 0..40)
            .prop_map(|lines| {
                let mut s = String::from("#EXTM3U\n");
                for (l, v, with_value) in lines {
                    s.push_str(HLS_LINES[l]);
                    if with_value {
                        s.push_str(VALUES[v]);
                    }
                    s.push('\n');
                }
                s
            })
    }

    fn corpus_texts() -> Vec<String> {
        corpus()
            .into_iter()
            .map(|e| {
                String::from_utf8_lossy(&std::fs::read(corpus_path(&e.path)).unwrap()).into_owned()
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let text = String::from_utf8_lossy(&bytes);
            let _ = manifest::parse_any(&text, &u("https://h/x"));
            let _ = manifest::parse_hls(&text, &u("https://h/x"));
            let _ = manifest::parse_dash(&text, &u("https://h/x"));
        }

        #[test]
        fn hls_shaped_text(text in hls_text()) {
            if let Ok(mut p) = manifest::parse_hls(&text, &u("https://h/a/x.m3u8")) {
                let _ = p.to_ladder();
                let _ = p.apply_media_playlist("v0", &text, &u("https://h/b/y.m3u8"));
                let _ = serde_json::to_string(&p).unwrap();
            }
        }

        #[test]
        fn mutated_corpus_files(index in 0usize..125, cut in any::<prop::sample::Index>(), junk in "[<>\"=/ a-zA-Z0-9$%:#@-]{0,12}") {
            let texts = corpus_texts();
            let t = &texts[index % texts.len()];
            let mut at = cut.index(t.len() + 1);
            while !t.is_char_boundary(at) {
                at -= 1;
            }
            let mutated = format!("{}{}{}", &t[..at], junk, &t[at..]);
            for candidate in [&t[..at], mutated.as_str()] {
                if let Ok(p) = manifest::parse_any(candidate, &u("https://h/m")) {
                    let _ = p.to_ladder();
                }
                let _ = manifest::parse_dash_at(candidate, &u("https://h/m"), Some(2.0e9));
            }
        }
    }
}

#[test]
fn hostile_inputs_are_errors_not_crashes() {
    let huge_r = r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT10S"><Period><AdaptationSet mimeType="video/mp4"><Representation id="a" bandwidth="1"><SegmentTemplate media="$Number$" timescale="1"><SegmentTimeline><S t="0" d="1" r="1000000000000"/></SegmentTimeline></SegmentTemplate></Representation></AdaptationSet></Period></MPD>"#;
    let err = manifest::parse_dash(huge_r, &u("https://h/x")).unwrap_err().to_string();
    assert!(err.contains("SegmentTimeline/S[0]") && err.contains("more than"), "{err}");
    let long =
        r#"<MPD type="static" mediaPresentationDuration="PT9999999999999999H"><Period/></MPD>"#;
    let err = manifest::parse_dash(long, &u("https://h/x")).unwrap_err().to_string();
    assert!(err.contains("mediaPresentationDuration"), "{err}");
    let bad_template = r#"<MPD type="static" mediaPresentationDuration="PT4S"><Period><AdaptationSet><Representation id="r" bandwidth="5"><SegmentTemplate media="s-$Numbr$.m4s" duration="2"/></Representation></AdaptationSet></Period></MPD>"#;
    let err = manifest::parse_dash(bad_template, &u("https://h/x")).unwrap_err().to_string();
    assert!(err.contains("Representation[0]/SegmentTemplate") && err.contains("$Numbr$"), "{err}");
    assert!(matches!(
        manifest::parse_any("<html><body/></html>", &u("https://h/x")),
        Err(ManifestError::UnknownFormat)
    ));
}
