//! Files that are not traces or ladders (real ones, from the shared data and the
//! fixtures) are refused with messages that say what was expected and what was found.

use std::path::{Path, PathBuf};
use streamsteer_sim::ladder_io::{LadderLoadError, load_ladder};
use streamsteer_sim::trace::{Trace, TraceError};

fn shared(rel: &str) -> PathBuf {
    let root = match std::env::var("STREAMSTEER_SHARED") {
        Ok(p) => PathBuf::from(p),
        Err(_) => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    };
    root.join(rel)
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(rel)
}

const EXPECTED_TRACE: &str = "expected a network trace: lines of `time_s Mbps` (Pensieve cooked), lines of `ms` (Mahimahi) or a Sabre network JSON array";

fn trace_error(path: &Path) -> (Option<usize>, String) {
    match Trace::load_file(path) {
        Ok(t) => panic!("{}: parsed as a trace: {:?}", path.display(), t.name),
        Err(e) => {
            let line = match &e {
                TraceError::Parse { line, .. } => Some(*line),
                _ => None,
            };
            (line, e.to_string())
        }
    }
}

#[test]
fn non_trace_files_say_what_was_expected() {
    // Markdown: 13 whitespace-separated words on line 1 (this used to read "expected
    // 13 column(s) ... found 13").
    let (line, msg) = trace_error(&shared("traces/fcc/SOURCE.md"));
    assert_eq!(line, Some(1));
    assert!(
        msg.starts_with(&format!(
            "SOURCE.md: line 1: {EXPECTED_TRACE}, found 13 fields: \"# fcc — FCC broadband"
        )),
        "{msg}"
    );
    assert!(!msg.contains("expected 13"), "{msg}");

    // A CSV with 17 comma-separated columns: one whitespace-separated field.
    let (line, msg) = trace_error(&shared("golden/sabre-09b03bb/example.csv"));
    assert_eq!(line, Some(1));
    assert!(
        msg.starts_with(&format!("example.csv: line 1: {EXPECTED_TRACE}, found \"config,network,")),
        "{msg}"
    );
    assert!(msg.ends_with("…\""), "long lines are cut: {msg}");

    // A TSV: 6 columns.
    let (_, msg) = trace_error(&shared("manifests/index.tsv"));
    assert!(msg.contains(", found 6 fields: \"path\\tsource\\tkind"), "{msg}");

    // JSON that is not a Sabre network: a Sabre movie (an object), and an array of
    // something else (the movie's segment sizes).
    let (line, msg) = trace_error(&shared("ladders/sabre/movie.json"));
    assert_eq!(line, Some(1));
    assert_eq!(msg, format!("movie.json: line 1: {EXPECTED_TRACE}, found a JSON object"));
    let movie: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(shared("ladders/sabre/movie.json")).unwrap())
            .unwrap();
    let sizes = movie["segment_sizes_bits"].to_string();
    assert!(sizes.starts_with("[["));
    let msg = Trace::parse("sizes", &sizes).unwrap_err().to_string();
    assert_eq!(
        msg,
        "sizes: expected a Sabre network JSON array of {duration_ms, bandwidth_kbps, latency_ms} objects, found an array of arrays"
    );
    let msg = Trace::parse("bw", r#"[{"duration_ms": 1000, "bandwidth_kbps": 500, "latency_ms": 20}, {"duration_ms": 1000, "bandwidth": 500}]"#)
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        "bw: period 1: expected {duration_ms, bandwidth_kbps, latency_ms}, found missing field `bandwidth_kbps`"
    );

    // An HLS playlist.
    let (_, msg) = trace_error(&shared("manifests/m3u8-rs/master.m3u8"));
    assert_eq!(msg, format!("master.m3u8: line 1: {EXPECTED_TRACE}, found \"#EXTM3U\""));

    // An empty file, and an empty Sabre network.
    let empty = shared("manifests/videojs-m3u8-parser/empty.m3u8");
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);
    let (line, msg) = trace_error(&empty);
    assert_eq!(line, None);
    assert_eq!(msg, format!("empty.m3u8: {EXPECTED_TRACE}, found no samples"));
    assert!(matches!(Trace::parse("[]", " [] "), Err(TraceError::Empty(_))));

    // Binary: an MP4 initialisation segment.
    let (line, msg) = trace_error(&fixture("cmaf/audio/a0/init.mp4"));
    assert_eq!(line, Some(1));
    assert!(
        msg.starts_with(&format!(
            "init.mp4: line 1: expected a text file ({}), found binary data (byte 0x",
            &EXPECTED_TRACE["expected ".len()..]
        )),
        "{msg}"
    );
}

#[test]
fn broken_traces_say_what_was_expected() {
    let cooked = std::fs::read_to_string(shared("traces/hsdpa/norway_bus_1")).unwrap();
    let lines = cooked.lines().count();
    assert!(lines > 10);
    let msg = Trace::parse("bus", &format!("{cooked}\n1234\n")).unwrap_err().to_string();
    assert_eq!(
        msg,
        format!(
            "bus: line {}: expected 2 fields (Pensieve cooked `time_s Mbps`) as on line 1, found 1 field(s): \"1234\"",
            lines + 2
        )
    );
    let msg = Trace::parse("bus", &format!("{cooked}\n0.5 1.0\n")).unwrap_err().to_string();
    assert!(msg.contains("expected times in non-decreasing order, found 0.5 s after"), "{msg}");
    let msg = Trace::parse("bus", &format!("{cooked}9999 fast\n")).unwrap_err().to_string();
    assert_eq!(
        msg,
        format!("bus: line {}: expected a throughput in Mbit/s, found \"fast\"", lines + 1)
    );

    let mahimahi =
        std::fs::read_to_string(shared("traces/mahimahi/Verizon-LTE-short.down")).unwrap();
    let first = mahimahi.lines().next().unwrap().trim();
    let msg = Trace::parse("lte", &format!("1.0 2.0\n{mahimahi}")).unwrap_err().to_string();
    assert_eq!(
        msg,
        format!(
            "lte: line 2: expected 2 fields (Pensieve cooked `time_s Mbps`) as on line 1, found 1 field(s): {first:?}"
        )
    );
    let msg = Trace::parse("lte", &format!("{mahimahi}\n2.5\n")).unwrap_err().to_string();
    assert!(
        msg.contains("expected a Mahimahi timestamp (a whole number of ms), found \"2.5\""),
        "{msg}"
    );
    let msg = Trace::parse("zero", "0\n0\n").unwrap_err().to_string();
    assert_eq!(msg, "zero: expected Mahimahi timestamps reaching past 0 ms, found 2 at 0 ms");
    let msg = Trace::parse("one", "3.0 1.5\n").unwrap_err().to_string();
    assert_eq!(
        msg,
        "one: expected cooked samples spanning a positive time, found 1 sample(s) all at 3 s"
    );
}

#[test]
fn non_ladder_files_say_what_was_expected() {
    let expected = "expected a ladder (a Sabre movie JSON object, a Pensieve folder of video_size_N files, an HLS playlist or a DASH MPD), found";
    let cases = [
        (shared("traces/hsdpa/norway_bus_1"), "\""),
        (shared("traces/sabre-example/network.json"), "a JSON array"),
        (shared("traces/fcc/SOURCE.md"), "\"# fcc — FCC broadband"),
        (shared("manifests/videojs-m3u8-parser/empty.m3u8"), "an empty file"),
        (fixture("cmaf/audio/a0/init.mp4"), "binary data (byte 0x"),
    ];
    for (path, found) in cases {
        let e = load_ladder(&path).unwrap_err();
        assert!(matches!(e, LadderLoadError::NotALadder { .. }), "{}: {e:?}", path.display());
        let msg = e.to_string();
        assert!(msg.starts_with(&format!("{}: {expected} {found}", path.display())), "{msg}");
    }
    // A JSON object that is not a Sabre movie: Pensieve's ladder.json.
    let path = shared("ladders/pensieve-envivio-dash3/ladder.json");
    let msg = load_ladder(&path).unwrap_err().to_string();
    let prefix = format!(
        "{}: expected a Sabre movie JSON object {{segment_duration_ms, bitrates_kbps, segment_sizes_bits}}: missing field `segment_duration_ms`",
        path.display()
    );
    assert!(msg.starts_with(&prefix), "{msg}");
    // A folder that is not a Pensieve ladder.
    let dir = shared("traces/sabre-example");
    let msg = load_ladder(&dir).unwrap_err().to_string();
    assert_eq!(
        msg,
        format!(
            "{}: expected a Pensieve ladder folder (video_size_0 … video_size_N), found no video_size_0",
            dir.display()
        )
    );
}
