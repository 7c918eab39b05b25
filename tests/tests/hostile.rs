//! The hostile corpus (`tests/hostile/`): crafted manifests and steering responses,
//! each of which must end in a typed error or a warning — never a panic, a hang or
//! unbounded memory. `expect.tsv` says which, and a piece of the message. Generated
//! cases (deep nesting, oversized bodies) are built here. Peak heap is measured per
//! case with a counting allocator and bounded; the figures print with `--nocapture`.
//!
//! HTTP behaviours (redirects, endless bodies) are tested against a loopback server
//! in `net/tests/hostile_http.rs`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use streamsteer::allowlist::HostAllowlist;
use streamsteer::manifest::{self, Presentation};
use streamsteer::session::{Action, Event, Session, SessionConfig};
use streamsteer::steering::{Protocol, Steering, SteeringConfig};
use streamsteer::time::Instant;
use streamsteer::uri::Url;

/// Counts live heap bytes and their high-water mark.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Peak heap above the level at the start of `f`, bytes. Tests in this binary run one
/// at a time (see `one_at_a_time`), so the figure is this case's.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

/// The tests of this binary share the counters: run them one at a time.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Most heap any single hostile case may use. The worst is a presentation just under
/// `MAX_SEGMENTS_PER_PRESENTATION` (about 130 bytes a segment).
const MAX_PEAK_BYTES: usize = 96 * 1024 * 1024;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("hostile")
}

#[derive(Debug)]
struct Case {
    path: String,
    outcome: String,
    text: String,
}

fn cases() -> Vec<Case> {
    let index = std::fs::read_to_string(corpus_dir().join("expect.tsv")).unwrap();
    index
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut f = l.split('\t');
            Case {
                path: f.next().unwrap().to_string(),
                outcome: f.next().unwrap().to_string(),
                text: f.next().unwrap_or("").to_string(),
            }
        })
        .collect()
}

fn base_for(path: &str) -> Url {
    let ext = if path.ends_with(".mpd") { "mpd" } else { "m3u8" };
    Url::parse(&format!("https://cdn.allowed/v/master.{ext}")).unwrap()
}

fn allowlist() -> HostAllowlist {
    HostAllowlist::only(["steer.allowed", "cdn.allowed", "*.cdn.allowed"])
}

/// Parses a manifest as the player would and, when it parses, starts a session on
/// it: every request the session then asks for must be on an allowed host.
fn run_manifest(text: &str, base: &Url) -> Result<Presentation, String> {
    let p = manifest::parse_any(text, base).map_err(|e| e.to_string())?;
    let _ = p.to_ladder();
    let mut config = SessionConfig::default();
    config.allowed_hosts = allowlist();
    if let Ok(mut session) = Session::new(p.clone(), config) {
        session.handle(Instant::ZERO, Event::Tick);
        while let Some(a) = session.poll_action() {
            if let Action::Fetch(f) = a {
                assert!(allowlist().allows_url(&f.url), "{} requested", f.url);
            }
        }
    }
    Ok(p)
}

fn run_steering(body: &str) -> Result<(), String> {
    let server = Url::parse("https://steer.allowed/steer.json").unwrap();
    let mut s = Steering::new(
        Protocol::Hls,
        SteeringConfig::default(),
        &["a".to_string(), "b".to_string()],
        None,
        Some(server),
    )
    .with_allowed_hosts(allowlist());
    s.start(Instant::ZERO);
    s.poll(Instant::ZERO, None);
    s.on_loaded(Instant::ZERO, body).map(|_| ()).map_err(|e| e.to_string())
}

#[test]
fn every_hostile_file_ends_in_its_typed_error_or_warning() {
    let _serial = one_at_a_time();
    let mut failures = Vec::new();
    let mut worst = (String::new(), 0usize);
    for case in cases() {
        let bytes = std::fs::read(corpus_dir().join(&case.path)).unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let (result, peak) = peak_during(|| {
            if case.path.starts_with("steering/") {
                run_steering(&text).map(|()| Vec::new())
            } else {
                run_manifest(&text, &base_for(&case.path)).map(|p| p.warnings)
            }
        });
        println!("{:<55} {:>9.1} KiB  {:?}", case.path, peak as f64 / 1024.0, result);
        if peak > worst.1 {
            worst = (case.path.clone(), peak);
        }
        let ok = match (case.outcome.as_str(), &result) {
            ("error", Err(e)) => e.contains(&case.text),
            ("warning", Ok(w)) => w.iter().any(|w| w.contains(&case.text)),
            ("ok", Ok(_)) => true,
            _ => false,
        };
        if !ok || peak > MAX_PEAK_BYTES {
            failures.push(format!(
                "{}: expected {} {:?}, got {result:?}",
                case.path, case.outcome, case.text
            ));
        }
    }
    println!("worst peak heap: {} ({:.1} MiB)", worst.0, worst.1 as f64 / 1048576.0);
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let _serial = one_at_a_time();
    let open = "<x>".repeat(50_000);
    let close = "</x>".repeat(50_000);
    let mpd = format!(
        r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT4S"><Period><AdaptationSet mimeType="video/mp4">{open}{close}<Representation id="a" bandwidth="1"><SegmentTemplate media="$Number$.m4s" duration="2"/></Representation></AdaptationSet></Period></MPD>"#
    );
    // Unknown elements are skipped, however deep: the MPD still parses.
    let (r, peak) = peak_during(|| run_manifest(&mpd, &base_for("x.mpd")));
    println!(
        "deep MPD: {:?} in {:.1} KiB",
        r.as_ref().map(|p| p.warnings.len()),
        peak as f64 / 1024.0
    );
    assert!(peak < MAX_PEAK_BYTES);
    let json = "[".repeat(60_000);
    let e = run_steering(&json).unwrap_err();
    assert!(e.contains("not valid JSON"), "{e}");
    let deep_object = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    assert!(run_steering(&deep_object).is_err());
}

#[test]
fn a_small_mpd_cannot_become_gigabytes() {
    let _serial = one_at_a_time();
    // 1 KB in: 10 representations inheriting one timeline of 100,000 segments each.
    let text =
        std::fs::read_to_string(corpus_dir().join("manifests/representations-bomb.mpd")).unwrap();
    assert!(text.len() <= 1024, "{} bytes", text.len());
    let (r, peak) = peak_during(|| manifest::parse_any(&text, &base_for("x.mpd")));
    let e = r.unwrap_err();
    assert!(matches!(e, manifest::ManifestError::TooManySegments { max: 500_000, .. }), "{e}");
    println!("representations bomb: {e} — peak heap {:.1} MiB", peak as f64 / 1048576.0);
    assert!(peak < MAX_PEAK_BYTES, "{peak} bytes");
    // Under the cap the same shape parses, and every segment shares its rendition's
    // init segment rather than carrying its own copy.
    let fits = text.replace("r=\"99999\"", "r=\"999\"");
    let fits = fits.replace("media=", "initialization=\"$RepresentationID$/init.mp4\" media=");
    let (p, peak) = peak_during(|| manifest::parse_any(&fits, &base_for("x.mpd")).unwrap());
    let segments: usize = p.renditions().filter_map(|r| r.segments()).map(<[_]>::len).sum();
    assert_eq!(segments, 10 * 1000);
    let r0 = p.renditions().next().unwrap().segments().unwrap();
    assert!(std::sync::Arc::ptr_eq(r0[0].init.as_ref().unwrap(), r0[999].init.as_ref().unwrap()));
    let per_segment = peak / segments;
    println!(
        "10,000 segments parse in {:.1} MiB peak, {per_segment} bytes a segment",
        peak as f64 / 1048576.0
    );
    assert!(per_segment < 400, "{per_segment} bytes a segment");
}

#[test]
fn process_peak_rss_is_reported() {
    let _serial = one_at_a_time();
    // Printed for the issue note; bounded loosely (the test binary and its data).
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status.lines().find(|l| l.starts_with("VmHWM")).unwrap_or("VmHWM: ?");
    println!("hostile corpus process {hwm}");
}
