//! The two MPD readers (dash-mpd-core's serde reader behind `parse_dash`, the lite
//! reader of the browser build behind `parse_dash_lite`) feed one converter; this
//! checks that they give equal presentations, or errors of the same kind, on real
//! MPDs: every DASH manifest of `../shared/manifests`, the repository's MPD fixtures
//! (ffmpeg output, the steering fixture, the hostile set) and the shapes the test
//! origin serves (multi-period, SegmentTimeline, SegmentBase, SegmentList, live
//! templates, ContentSteering with a BaseURL per pathway). Dynamic MPDs are also
//! compared as seen at a wall-clock time, which expands live templates.
//!
//! The inputs the fuzzer keeps (`fuzz/corpus/dash`) are mostly malformed, and there
//! the readers may part: the lite reader accepts what the serde reader refuses only
//! for elements the player never reads (it does not check them), and the serde
//! reader accepts some documents that are not well-formed XML by silently dropping
//! the element that holds the fault (quick-xml's look-ahead for non-adjacent list
//! items swallows the error: a whole Period or AdaptationSet disappears), which the
//! lite reader refuses. So there, "both read it, so both agree" is asserted, and
//! that the lite reader refuses what the serde reader reads only for broken XML.
#![cfg(feature = "dash")]

use std::mem::discriminant;
use std::path::{Path, PathBuf};
use streamsteer::manifest::{self, ManifestError, Presentation, parse_dash_at, parse_dash_lite_at};
use streamsteer::uri::Url;

fn shared_dir() -> PathBuf {
    if let Ok(p) = std::env::var("STREAMSTEER_SHARED") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every DASH manifest the corpus index lists, as `(path, text)`.
fn shared_mpds() -> Vec<(String, String)> {
    let dir = shared_dir().join("manifests");
    let index = std::fs::read_to_string(dir.join("index.tsv")).expect("index.tsv");
    index
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.len() > 2 && cols[2].starts_with("dash")).then(|| cols[0].to_string())
        })
        .map(|rel| {
            let text = std::fs::read_to_string(dir.join(&rel)).expect("corpus file");
            (rel, text)
        })
        .collect()
}

/// `*.mpd` files under `dir`, recursively.
fn mpd_files(dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            mpd_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "mpd") {
            let text = std::fs::read_to_string(&p).expect("fixture");
            out.push((p.display().to_string(), text));
        }
    }
}

/// What the two readers gave for one document at one wall-clock time.
#[derive(Debug)]
enum Verdict {
    BothOk,
    BothErr,
    /// The serde reader refused it, the lite one read it.
    OnlyLiteOk(ManifestError),
    /// The lite reader refused it, the serde one read it.
    OnlySerdeOk(ManifestError),
    Differ(String),
}

fn compare(text: &str, url: &Url, now: Option<f64>) -> Verdict {
    let full = parse_dash_at(text, url, now);
    let lite = parse_dash_lite_at(text, url, now);
    match (full, lite) {
        (Ok(a), Ok(b)) if a == b => Verdict::BothOk,
        (Ok(a), Ok(b)) => Verdict::Differ(first_difference(&a, &b)),
        (Err(a), Err(b)) if discriminant(&a) == discriminant(&b) => Verdict::BothErr,
        (Err(a), Ok(_)) => Verdict::OnlyLiteOk(a),
        (Ok(_), Err(b)) => Verdict::OnlySerdeOk(b),
        (a, b) => Verdict::Differ(format!(
            "serde reader: {:?}\nlite reader: {:?}",
            a.map(|_| "ok"),
            b.map(|_| "ok")
        )),
    }
}

/// The first field where two presentations differ, for a readable failure.
fn first_difference(a: &Presentation, b: &Presentation) -> String {
    let (a, b) = (format!("{a:#?}"), format!("{b:#?}"));
    let line = a.lines().zip(b.lines()).position(|(x, y)| x != y).unwrap_or(0);
    let around =
        |s: &str| s.lines().skip(line.saturating_sub(3)).take(6).collect::<Vec<_>>().join("\n");
    format!("serde reader:\n{}\nlite reader:\n{}", around(&a), around(&b))
}

/// Compares at parse time and, for a dynamic MPD, at a wall clock 10 minutes after
/// its availability start (or a fixed instant without one).
fn check(name: &str, text: &str) -> Vec<Verdict> {
    let url = Url::parse("https://corpus.example/dir/manifest.mpd").expect("url");
    let mut out = vec![compare(text, &url, None)];
    if text.contains("dynamic") {
        let now = parse_dash_at(text, &url, None)
            .ok()
            .and_then(|p| p.live.and_then(|l| l.availability_start_unix_s))
            .map_or(1.7e9, |ast| ast + 600.0);
        out.push(compare(text, &url, Some(now)));
    }
    for v in &out {
        if let Verdict::Differ(d) = v {
            eprintln!("{name}: readers differ\n{d}");
        }
    }
    out
}

/// Checks that every document gives the same outcome from both readers; returns
/// (documents read by both, refused by both).
fn assert_agree(docs: &[(String, String)]) -> (usize, usize) {
    let (mut ok, mut err) = (0, 0);
    let mut failures = Vec::new();
    for (name, text) in docs {
        let verdicts = check(name, text);
        for v in &verdicts {
            match v {
                Verdict::BothOk => {}
                Verdict::BothErr => {}
                Verdict::OnlyLiteOk(e) => {
                    failures.push(format!("{name}: only the serde reader refused it: {e}"))
                }
                Verdict::OnlySerdeOk(e) => {
                    failures.push(format!("{name}: only the lite reader refused it: {e}"))
                }
                Verdict::Differ(_) => failures.push(format!("{name}: readers differ (see above)")),
            }
        }
        match verdicts[0] {
            Verdict::BothOk => ok += 1,
            Verdict::BothErr => err += 1,
            _ => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} documents:\n{}",
        failures.len(),
        docs.len(),
        failures.join("\n")
    );
    (ok, err)
}

#[test]
fn every_shared_mpd_gives_the_same_presentation() {
    let docs = shared_mpds();
    assert_eq!(docs.len(), 43, "the corpus index lists 43 MPDs");
    let (ok, err) = assert_agree(&docs);
    eprintln!("shared corpus: {ok} read to equal presentations, {err} refused by both");
    // The corpus's one deliberately broken MPD (a truncated document) must be refused by
    // both; everything else is read.
    assert_eq!((ok, err), (42, 1));
}

#[test]
fn repository_fixtures_give_the_same_presentation() {
    let mut docs = Vec::new();
    mpd_files(&repo_dir().join("tests/fixtures"), &mut docs);
    mpd_files(&repo_dir().join("tests/hostile/manifests"), &mut docs);
    assert!(docs.len() >= 14, "found only {} fixture MPDs", docs.len());
    let (ok, err) = assert_agree(&docs);
    eprintln!("fixtures: {ok} read to equal presentations, {err} refused by both");
    assert!(ok >= 3 && err >= 3, "fixtures: {ok} read, {err} refused");
}

const ORIGIN_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011""#;

const LOCATIONS: &str = r#"  <BaseURL serviceLocation="alpha">http://127.0.0.1:8001/vod/</BaseURL>
  <BaseURL serviceLocation="beta">http://127.0.0.1:8002/vod/</BaseURL>
  <ContentSteering defaultServiceLocation="beta" queryBeforeStart="true" proxyServerURL="http://127.0.0.1:8003/proxy?a=1&amp;b=2">http://127.0.0.1:8000/steering/dash</ContentSteering>
"#;

fn period(id: &str, start: &str, duration: Option<&str>, timeline: &str) -> String {
    let duration = duration.map(|d| format!(" duration=\"{d}\"")).unwrap_or_default();
    format!(
        r#"  <Period id="{id}" start="{start}"{duration}>
    <AdaptationSet id="0" contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1" maxWidth="1280" maxHeight="720">
      <Representation id="v720" bandwidth="2400000" width="1280" height="720" sar="1:1" frameRate="30000/1001" codecs="avc1.64001f">
        <SegmentTemplate timescale="90000" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/$Number$.m4s" startNumber="1">
          <SegmentTimeline>
{timeline}          </SegmentTimeline>
        </SegmentTemplate>
      </Representation>
    </AdaptationSet>
    <AdaptationSet id="1" contentType="audio" mimeType="audio/mp4" segmentAlignment="true" startWithSAP="1" lang="en">
      <Label>English</Label>
      <Role schemeIdUri="urn:mpeg:dash:role:2011" value="main"/>
      <Representation id="a128" bandwidth="128000" audioSamplingRate="48000" codecs="mp4a.40.2">
        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2"/>
        <SegmentTemplate timescale="48000" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/$Time$.m4s">
          <SegmentTimeline>
            <S t="0" d="96000" r="4"/>
          </SegmentTimeline>
        </SegmentTemplate>
      </Representation>
    </AdaptationSet>
  </Period>
"#
    )
}

/// MPDs in the shapes `streamsteer-origin` serves, plus the addressing modes it does
/// not (SegmentBase, SegmentList, `@duration` templates).
fn origin_shapes() -> Vec<(String, String)> {
    let tl = "            <S t=\"0\" d=\"180000\" r=\"4\"/>\n";
    let live_tl = "            <S t=\"900000\" d=\"180000\" r=\"-1\"/>\n";
    let mut docs = vec![
        (
            "static, one period, two pathways".to_string(),
            format!(
                "{ORIGIN_HEAD} type=\"static\" mediaPresentationDuration=\"PT10.000S\" minBufferTime=\"PT4.000S\">\n{LOCATIONS}{}</MPD>\n",
                period("0", "PT0S", None, tl)
            ),
        ),
        (
            "static, three periods".to_string(),
            format!(
                "{ORIGIN_HEAD} type=\"static\" mediaPresentationDuration=\"PT30.000S\" minBufferTime=\"PT4.000S\">\n{LOCATIONS}{}{}{}</MPD>\n",
                period("main", "PT0S", Some("PT10.000S"), tl),
                period("ad", "PT10.000S", Some("PT10.000S"), tl),
                period("main-2", "PT20.000S", None, tl)
            ),
        ),
        (
            "dynamic, timeline to the live edge, UTCTiming".to_string(),
            format!(
                "{ORIGIN_HEAD} type=\"dynamic\" availabilityStartTime=\"2024-05-01T12:00:00.250Z\" publishTime=\"2024-05-01T12:10:00Z\" minimumUpdatePeriod=\"PT2.000S\" timeShiftBufferDepth=\"PT60.000S\" suggestedPresentationDelay=\"PT6.000S\" minBufferTime=\"PT4.000S\">\n{LOCATIONS}{}  <UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:http-iso:2014\" value=\"http://127.0.0.1:8000/time http://127.0.0.1:8001/time\"/>\n  <UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:direct:2014\" value=\"2024-05-01T12:10:00Z\"/>\n</MPD>\n",
                period("live", "PT0S", None, live_tl)
            ),
        ),
    ];
    docs.push((
        "dynamic, @duration template".to_string(),
        format!(
            r#"{ORIGIN_HEAD} type="dynamic" availabilityStartTime="2024-05-01T12:00:00Z" minimumUpdatePeriod="PT2S" timeShiftBufferDepth="PT30S">
  <Period id="0" start="PT0S">
    <AdaptationSet mimeType="video/mp4" codecs="avc1.64001f">
      <SegmentTemplate timescale="1000" duration="2000" startNumber="10" initialization="init-$RepresentationID$.mp4" media="seg-$RepresentationID$-$Number%05d$.m4s"/>
      <Representation id="low" bandwidth="500000" width="640" height="360"/>
      <Representation id="high" bandwidth="3000000" width="1920" height="1080"/>
    </AdaptationSet>
  </Period>
</MPD>
"#
        ),
    ));
    docs.push((
        "static, SegmentBase on demand".to_string(),
        format!(
            r#"{ORIGIN_HEAD} type="static" mediaPresentationDuration="PT1M0.5S">
  <Period>
    <AdaptationSet contentType="video">
      <Representation id="v" bandwidth="1000000" mimeType="video/mp4" codecs="hev1.1.6.L93.B0">
        <BaseURL>video/v.mp4</BaseURL>
        <SegmentBase indexRange="800-1999" timescale="12800" presentationTimeOffset="1024"><Initialization range="0-799"/></SegmentBase>
      </Representation>
    </AdaptationSet>
    <AdaptationSet contentType="text" mimeType="application/mp4" codecs="stpp">
      <Representation id="t" bandwidth="1000"><BaseURL>text/en.mp4</BaseURL></Representation>
    </AdaptationSet>
  </Period>
</MPD>
"#
        ),
    ));
    docs.push((
        "static, SegmentList with ranges".to_string(),
        format!(
            r#"{ORIGIN_HEAD} type="static" mediaPresentationDuration="PT6S">
  <BaseURL>https://cdn.example/list/</BaseURL>
  <Period duration="PT6S">
    <AdaptationSet mimeType="audio/mp4" lang="fr">
      <Representation id="a" bandwidth="64000" codecs="mp4a.40.5">
        <SegmentList timescale="1000" duration="2000">
          <Initialization sourceURL="a.mp4" range="0-499"/>
          <SegmentURL media="a.mp4" mediaRange="500-9999"/>
          <SegmentURL media="a.mp4" mediaRange="10000-19999"/>
          <SegmentURL media="a.mp4" mediaRange="20000-29999"/>
        </SegmentList>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>
"#
        ),
    ));
    docs
}

#[test]
fn origin_shapes_give_the_same_presentation() {
    let docs = origin_shapes();
    let (ok, err) = assert_agree(&docs);
    assert_eq!((ok, err), (docs.len(), 0));
    // The comparison is over real content: the shapes carry what they claim.
    let url = Url::parse("https://corpus.example/dir/manifest.mpd").expect("url");
    let three = parse_dash_lite_at(&docs[1].1, &url, None).expect("three periods");
    assert_eq!(three.periods.len(), 3);
    assert_eq!(three.pathways.len(), 2);
    assert_eq!(
        three.steering.as_ref().map(|s| s.default_pathways.clone()),
        Some(vec!["beta".into()])
    );
    let live = parse_dash_lite_at(&docs[2].1, &url, None).expect("live");
    assert_eq!(live.live.as_ref().map(|l| l.utc_timing.len()), Some(3));
}

/// Small edits of a valid MPD that each break it in one way: both readers must
/// refuse each with the same kind of error.
#[test]
fn both_readers_refuse_the_same_broken_documents() {
    let good = &origin_shapes()[0].1;
    let broken: Vec<(String, String)> = [
        ("@bandwidth not a number", "bandwidth=\"2400000\"", "bandwidth=\"fast\""),
        ("@timescale empty", "timescale=\"90000\"", "timescale=\"\""),
        ("negative duration", "PT10.000S", "-PT10.000S"),
        ("end tag mismatch", "</AdaptationSet>", "</Adaptation>"),
        ("duplicate attribute", "id=\"v720\"", "id=\"v720\" id=\"x\""),
        ("unknown entity", "codecs=\"avc1.64001f\"", "codecs=\"&avc;\""),
        ("bad S@d", "d=\"180000\"", "d=\"1.5\""),
        ("bad S@r", "r=\"4\"", "r=\"four\""),
        ("two templates", "</SegmentTemplate>", "</SegmentTemplate><SegmentTemplate/>"),
        ("truncated", "</MPD>", ""),
        ("not a period start", "start=\"PT0S\"", "start=\"soon\""),
        ("@type", "type=\"static\"", "type=\"vod\""),
    ]
    .iter()
    .map(|(name, from, to)| {
        assert!(good.contains(from), "{name}: {from} not in the document");
        (name.to_string(), good.replacen(from, to, 1))
    })
    .collect();
    let (ok, err) = assert_agree(&broken);
    assert_eq!((ok, err), (0, broken.len()));
}

/// The fuzzer's kept inputs: what both read must agree, and the lite reader must not
/// refuse what the serde reader reads.
#[test]
fn fuzz_corpus_inputs_agree_where_both_read_them() {
    let dir = repo_dir().join("fuzz/corpus/dash");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        panic!("no fuzz corpus at {}", dir.display());
    };
    let (mut both_ok, mut both_err, mut lenient, mut differ) = (0, 0, 0, Vec::new());
    let mut broken_xml = 0;
    for e in entries.flatten() {
        let bytes = std::fs::read(e.path()).expect("corpus input");
        let text = String::from_utf8_lossy(&bytes);
        let name = e.file_name().to_string_lossy().to_string();
        for v in check(&name, &text) {
            match v {
                Verdict::BothOk => both_ok += 1,
                Verdict::BothErr => both_err += 1,
                Verdict::OnlyLiteOk(e) => {
                    eprintln!("{name}: only the serde reader refused it: {e}");
                    lenient += 1;
                }
                Verdict::OnlySerdeOk(e) => {
                    eprintln!("{name}: only the lite reader refused it: {e}");
                    let m = e.to_string();
                    if ["does not close", "malformed attributes", "unterminated"]
                        .iter()
                        .any(|w| m.contains(w))
                    {
                        broken_xml += 1;
                    } else {
                        differ.push(format!("{name} ({m})"));
                    }
                }
                Verdict::Differ(_) => differ.push(name.clone()),
            }
        }
    }
    eprintln!(
        "fuzz corpus: {both_ok} equal, {both_err} refused by both, {lenient} read only by the \
         lite reader, {broken_xml} (not well-formed) read only by the serde reader"
    );
    assert!(differ.is_empty(), "readers differ on {differ:?}");
    assert!(both_ok > 0 && both_err > 0);
}

#[test]
fn parse_any_uses_the_serde_reader_when_both_are_built() {
    // With both features the default front end is the serde reader: an MPD that only
    // it refuses (an unread attribute that is not a number) shows which one ran.
    let doc = origin_shapes()[0].1.replacen("startWithSAP=\"1\"", "startWithSAP=\"one\"", 1);
    let url = Url::parse("https://corpus.example/dir/manifest.mpd").expect("url");
    assert!(manifest::parse_any(&doc, &url).is_err());
    assert!(parse_dash_lite_at(&doc, &url, None).is_ok());
}
