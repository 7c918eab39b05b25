//! The `streamsteer` binary end to end, on real data.

use serde_json::Value;
use std::process::{Command, Output};
use streamsteer_tests::shared_dir;

const FCC: &str = "trace_10022_http---www.yahoo.com";

fn streamsteer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_streamsteer")).args(args).output().expect("run streamsteer")
}

fn stdout_json(out: &Output) -> Value {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON summary on stdout")
}

#[test]
fn simulate_defaults_print_the_summary_schema() {
    let out = streamsteer(&["simulate", "--abr", "bba,robustmpc", "--model", "pensieve", "--json"]);
    let v = stdout_json(&out);
    for rule in ["bba", "robustmpc"] {
        let r = &v["rules"][rule];
        assert_eq!(r["sessions"], 80, "{rule}: the built-in set has 80 HSDPA traces");
        for k in ["mean", "median", "p10"] {
            assert!(r["qoe_lin"][k].is_f64(), "{rule}.qoe_lin.{k}");
        }
        let kbps = r["avg_bitrate_kbps"].as_f64().unwrap();
        assert!((300.0..=4300.0).contains(&kbps), "{rule}: bitrate {kbps} within the ladder");
        assert!(r["rebuffer_s"].as_f64().unwrap() >= 0.0);
        assert!(r["switches"].as_f64().unwrap() >= 0.0);
        assert!(r["qoe_lin"]["p10"].as_f64() <= r["qoe_lin"]["median"].as_f64());
    }
}

#[test]
fn simulate_table_is_the_default_output() {
    let out = streamsteer(&["simulate", "--abr", "throughput", "--segments", "10"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("QoE mean") && text.contains("throughput"), "{text}");
    assert!(text.contains("80 sessions"), "{text}");
}

#[test]
fn simulate_reads_every_trace_and_ladder_format() {
    let shared = shared_dir();
    let pensieve_ladder = shared.join("ladders/pensieve-envivio-dash3");
    let sabre_movie = shared.join("ladders/sabre/movie.json");
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    let cases = [
        (
            pensieve_ladder.clone(),
            shared.join("traces/mahimahi/Verizon-LTE-short.down"),
            "pensieve",
        ),
        (sabre_movie.clone(), shared.join("traces/sabre-example/network.json"), "sabre"),
        (pensieve_ladder, shared.join("traces/hsdpa/norway_bus_1"), "streamsteer"),
        (fixtures.join("ffmpeg/hls/master.m3u8"), shared.join("traces/fcc").join(FCC), "pensieve"),
        (
            fixtures.join("ffmpeg/dash/manifest.mpd"),
            shared.join("traces/hsdpa/norway_car_2"),
            "sabre",
        ),
    ];
    for (ladder, trace, model) in cases {
        let out = streamsteer(&[
            "simulate",
            "--ladder",
            ladder.to_str().unwrap(),
            "--traces",
            trace.to_str().unwrap(),
            "--abr",
            "default,bola",
            "--model",
            model,
            "--json",
        ]);
        let v = stdout_json(&out);
        assert_eq!(v["rules"]["default"]["sessions"], 1, "{model} {}", trace.display());
        assert_eq!(v["rules"]["bola"]["sessions"], 1);
    }
}

#[test]
fn simulate_writes_plots_and_session_lines() {
    let dir = std::env::temp_dir().join(format!("streamsteer-cli-{}", std::process::id()));
    let trace = shared_dir().join("traces/hsdpa/norway_tram_10");
    let out = streamsteer(&[
        "simulate",
        "--traces",
        trace.to_str().unwrap(),
        "--abr",
        "default,bba",
        "--model",
        "pensieve",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = std::fs::read_to_string(dir.join("sessions.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 2);
    for line in lines.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["trace"], "norway_tram_10");
        assert_eq!(v["segments"].as_array().unwrap().len(), 48);
    }
    for svg in ["qoe_cdf.svg", "timeline_0.svg"] {
        let s = std::fs::read_to_string(dir.join(svg)).unwrap();
        assert!(s.starts_with("<svg") && s.contains("<path"), "{svg}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_inputs_fail_with_clear_errors() {
    let cases: [(&[&str], &str); 5] = [
        (&["simulate", "--traces", "/nonexistent/trace"], "/nonexistent/trace"),
        (&["simulate", "--on-demand"], "--on-demand and --periods need a content folder"),
        (&["simulate", "--abr", "nosuchrule"], "unknown ABR rule"),
        (&["simulate", "--buffer=-3"], "--buffer"),
        (&["simulate", "--ladder", "/nonexistent/ladder.json"], "/nonexistent/ladder.json"),
    ];
    for (args, needle) in cases {
        let out = streamsteer(args);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn simulate_plays_a_content_folder_on_demand() {
    // The committed ladder as the origin serves it on demand: the model fetches each
    // rendition's sidx, so the session knows (and records) every segment's real size.
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/cmaf");
    let trace = shared_dir().join("traces/hsdpa/norway_tram_10");
    let out = streamsteer(&[
        "simulate",
        "--ladder",
        fixture.to_str().unwrap(),
        "--on-demand",
        "--traces",
        trace.to_str().unwrap(),
        "--abr",
        "default",
        "--jsonl",
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let session: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let content: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture.join("content.json")).unwrap())
            .unwrap();
    let segments = session["segments"].as_array().unwrap();
    assert_eq!(segments.len(), content["segment_count"].as_u64().unwrap() as usize);
    // A segment that starts a rung carries that rung's init segment too.
    let mut previous = None;
    for s in segments {
        let (i, r) = (s["index"].as_u64().unwrap(), s["rendition"].as_u64().unwrap());
        let rung = &content["video"][r as usize];
        let mut bytes = rung["segments"][i as usize]["bytes"].as_f64().unwrap();
        if previous != Some(r) {
            let init = fixture.join(rung["init"].as_str().unwrap());
            bytes += std::fs::metadata(init).unwrap().len() as f64;
        }
        previous = Some(r);
        assert_eq!(s["size_bits"].as_f64().unwrap(), bytes * 8.0, "segment {i} of rung {r}");
    }
}

#[test]
fn simulate_plays_a_content_folder_as_two_periods() {
    // The committed ladder as the origin's two-period VOD: the content twice, the
    // second period without the top rung; every segment of both periods is played.
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/cmaf");
    let trace = shared_dir().join("traces/hsdpa/norway_tram_10");
    let out = streamsteer(&[
        "simulate",
        "--ladder",
        fixture.to_str().unwrap(),
        "--periods",
        "--traces",
        trace.to_str().unwrap(),
        "--jsonl",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let session: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let content: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture.join("content.json")).unwrap())
            .unwrap();
    let n = content["segment_count"].as_u64().unwrap();
    let indices: Vec<u64> = session["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indices, (0..2 * n).collect::<Vec<_>>());
    let out = streamsteer(&["simulate", "--periods", "--on-demand", "--ladder", "x"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("--periods"), "{err}");
}

#[test]
fn malformed_trace_names_file_and_line() {
    let dir = std::env::temp_dir().join(format!("streamsteer-badtrace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad_trace");
    std::fs::write(&bad, "0.0 1.0\n1.0 abc\n").unwrap();
    let out = streamsteer(&["simulate", "--traces", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad_trace") && err.contains("line 2"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn inspect_describes_and_refuses() {
    let shared = shared_dir();
    let good = shared.join("manifests/m3u8-rs/master.m3u8");
    let out = streamsteer(&["inspect", good.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!out.stdout.is_empty());
    let json = streamsteer(&["inspect", good.to_str().unwrap(), "--json"]);
    assert!(json.status.success());
    let _: Value = serde_json::from_slice(&json.stdout).expect("inspect --json is JSON");
    let bad = shared.join("manifests/dash-mpd-rs/incomplete.mpd");
    let out = streamsteer(&["inspect", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error:") && !err.contains("panicked"), "{err}");
}

#[test]
fn inspect_shows_what_was_tolerated() {
    let shared = shared_dir();
    let dir = std::env::temp_dir().join(format!("streamsteer-lenient-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A real media playlist, its EXT-X-PLAYLIST-TYPE quoted and one tag line indented.
    let original =
        std::fs::read_to_string(shared.join("manifests/videojs-m3u8-parser/playlist.m3u8"))
            .unwrap();
    let sloppy = original
        .replace("#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-PLAYLIST-TYPE:\"VOD\"")
        .replace("#EXT-X-VERSION:4", "  #EXT-X-VERSION:4");
    assert_ne!(sloppy, original);
    let path = dir.join("sloppy.m3u8");
    std::fs::write(&path, &sloppy).unwrap();

    let out = streamsteer(&["inspect", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("type: Vod"), "{text}");
    let quoted = "rendition v0: line 5: EXT-X-PLAYLIST-TYPE:\"VOD\" is quoted, but RFC 8216 makes it an enumerated-string: read as EXT-X-PLAYLIST-TYPE:VOD";
    let (_, warnings) = text.split_once("warnings:\n").expect("a warnings section");
    assert!(warnings.contains(&format!("  - {quoted}\n")), "{text}");
    assert!(warnings.contains("with leading or trailing whitespace (first on line 3)"), "{text}");

    let json = streamsteer(&["inspect", path.to_str().unwrap(), "--json"]);
    let v = stdout_json(&json);
    let listed: Vec<&str> =
        v["warnings"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(listed.contains(&quoted), "{listed:?}");
    assert_eq!(v["presentation_type"], "vod");

    // Ambiguous: refused, with the line.
    std::fs::write(&path, original.replace("PLAYLIST-TYPE:VOD", "PLAYLIST-TYPE:\"vod\"")).unwrap();
    let out = streamsteer(&["inspect", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("HLS line 5: EXT-X-PLAYLIST-TYPE must be VOD or EVENT"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn simulate_live_plays_the_ladder_by_a_virtual_wall_clock() {
    let trace = shared_dir().join("traces/fcc").join(FCC);
    let trace = trace.to_str().unwrap();
    // The player's clock 25 s fast; UTCTiming corrects it: nothing asked too early.
    let out = streamsteer(&[
        "simulate",
        "--live",
        "--live-clock-error-s",
        "25",
        "--traces",
        trace,
        "--abr",
        "default",
        "--jsonl",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let session: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(session["metrics"]["too_early_requests"], 0.0, "{session}");
    // Joined a minute into the 48-segment Pensieve ladder, 6 s behind the edge: 13
    // segments had gone by, the other 35 were played.
    assert_eq!(session["segments"].as_array().map(Vec::len), Some(35), "{session}");
    let refused = streamsteer(&["simulate", "--live", "--model", "pensieve"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--live"));
}
