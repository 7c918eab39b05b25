//! `--model sabre` against Sabre's own outputs: every row of every CSV in
//! `shared/golden/sabre-09b03bb/` is replayed (same trace, movie and flags) and every
//! metric column compared.
//!
//! Sabre prints six decimals, so a value matches when it is within `REL_TOL` (1e-6)
//! relative or `ABS_TOL` (1e-6) absolute (the latter covers the printing and values
//! near zero). Every cell must match so, but for the four documented in
//! [`KNOWN_UNIT_ROUNDTRIP`], which must differ exactly as documented there: the README's
//! "2,159 of 2,163 rows on every column to 1e-6". The test prints, per golden file,
//! how many rows match and the worst relative error; it fails listing every cell
//! that does not.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use streamsteer::Ladder;
use streamsteer::abr::{AbrConfig, build_rule};
use streamsteer_sim::sabre::SabreModel;
use streamsteer_sim::trace::Trace;
use streamsteer_sim::{Model, SimConfig, ladder_io};
use streamsteer_tests::shared_dir;

/// Required relative agreement of every cell (but the known four).
const REL_TOL: f64 = 1e-6;
/// Absolute slack: Sabre prints six decimals.
const ABS_TOL: f64 = 1e-6;
/// Golden rows, and those that must match on every column (the README's figures).
const GOLDEN_ROWS: usize = 2_163;
const ROWS_MATCHING: usize = 2_159;

/// Metric columns (everything after `sabre_args`).
const FIRST_METRIC_COLUMN: usize = 4;

/// Cells that cannot match through a seconds-based rule interface, as
/// `(file, line, column)`.
///
/// Sabre keeps time in milliseconds; our rules receive the buffer level in seconds and
/// return delays in seconds, and about 1 % of millisecond values do not survive
/// `ms / 1000 × 1000` exactly (they come back one ulp off). In these four sessions
/// (all with `-ao` delays) that ulp decides one of Sabre's floating-point artefacts:
/// a stall of 4.5e-13 ms at the final play-out (or after a delay) that Sabre counts as
/// a rebuffer event, or a bandwidth step-up that matures exactly at the buffer-size
/// cutoff of the reaction-time bookkeeping (one reaction-time term, 16 s in row 277).
/// A re-statement of Sabre in Python with that one round trip added reproduces our
/// numbers exactly on all four; every other column of these rows matches to 1e-6.
const KNOWN_UNIT_ROUNDTRIP: &[(&str, usize, &str)] = &[
    ("paper_fig8_fig11.csv", 34, "total_rebuffer_events"),
    ("paper_fig8_fig11.csv", 152, "total_rebuffer_events"),
    ("paper_fig8_fig11.csv", 277, "total_reaction_time"),
    ("paper_fig8_fig11.csv", 377, "total_rebuffer_events"),
];

struct Row {
    file: String,
    line: usize,
    config: String,
    network: String,
    movie: String,
    args: String,
    metrics: Vec<(String, f64)>,
}

/// Sabre's command-line flags that the golden files use, mapped onto our configuration.
struct Flags {
    abr: String,
    config: SimConfig,
}

fn parse_flags(args: &str) -> Result<Flags, String> {
    let mut abr = None;
    let mut cfg = AbrConfig::default();
    let mut buffer_s = 25.0;
    let mut it = args.split_whitespace();
    while let Some(flag) = it.next() {
        let mut value = |name: &str| {
            it.next().map(str::to_string).ok_or_else(|| format!("{name} needs a value"))
        };
        match flag {
            "-a" | "--abr" => abr = Some(value(flag)?),
            "-b" | "--max-buffer" => {
                buffer_s = value(flag)?.parse().map_err(|e| format!("{flag}: {e}"))?;
            }
            "-gp" | "--gamma-p" => {
                cfg.bola_gp = value(flag)?.parse().map_err(|e| format!("{flag}: {e}"))?;
            }
            "-ao" | "--abr-osc" => cfg.bola_oscillation_delay = true,
            "-ab" | "--abr-basic" => cfg.bola_basic = true,
            "-noibr" | "--no-insufficient-buffer-rule" => {
                cfg.bolae_insufficient_buffer_rule = false;
            }
            "-noa" | "--no-abandon" => cfg.abandon = false,
            other => return Err(format!("unsupported Sabre flag {other:?} in {args:?}")),
        }
    }
    cfg.buffer_max_s = buffer_s;
    Ok(Flags {
        // Sabre's default rule is BOLA-E.
        abr: abr.unwrap_or_else(|| "bolae".to_string()),
        config: {
            let mut c = SimConfig::default();
            c.buffer_max_s = Some(buffer_s);
            c.abr = cfg;
            c
        },
    })
}

fn golden_dir() -> PathBuf {
    shared_dir().join("golden").join("sabre-09b03bb")
}

fn read_rows() -> Vec<Row> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 4, "expected the four Sabre golden CSVs, found {files:?}");
    let mut rows = Vec::new();
    for path in files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines().enumerate();
        let (_, header) = lines.next().unwrap();
        let header: Vec<&str> = header.split(',').collect();
        assert_eq!(&header[..FIRST_METRIC_COLUMN], ["config", "network", "movie", "sabre_args"]);
        for (i, line) in lines {
            if line.trim().is_empty() {
                continue;
            }
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), header.len(), "{file}:{}: column count", i + 1);
            let metrics = header[FIRST_METRIC_COLUMN..]
                .iter()
                .zip(&f[FIRST_METRIC_COLUMN..])
                .map(|(k, v)| {
                    let v: f64 =
                        v.parse().unwrap_or_else(|e| panic!("{file}:{}: {k}={v}: {e}", i + 1));
                    (k.to_string(), v)
                })
                .collect();
            rows.push(Row {
                file: file.clone(),
                line: i + 1,
                config: f[0].to_string(),
                network: f[1].to_string(),
                movie: f[2].to_string(),
                args: f[3].to_string(),
                metrics,
            });
        }
    }
    rows
}

/// `hsdpa(converted)/X.json` is the cooked trace `traces/hsdpa/X` (the model converts
/// it); anything else is a path under `traces/`.
fn trace_path(network: &str) -> PathBuf {
    let traces = shared_dir().join("traces");
    match network.strip_prefix("hsdpa(converted)/") {
        Some(rest) => traces.join("hsdpa").join(rest.strip_suffix(".json").unwrap_or(rest)),
        None => traces.join(network),
    }
}

fn movie_path(movie: &str) -> PathBuf {
    let ladders = shared_dir().join("ladders");
    ["sabre", "pensieve-envivio-dash3"]
        .iter()
        .map(|d| ladders.join(d).join(movie))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("movie {movie} not found under {}", ladders.display()))
}

/// A row's index and its metrics (or why it could not run).
type RowOutcome = (usize, Result<BTreeMap<String, f64>, String>);

#[derive(Default)]
struct FileStats {
    rows: usize,
    rows_matching: usize,
    worst_rel: f64,
    worst_at: String,
}

fn rel_err(ours: f64, gold: f64) -> f64 {
    let d = (ours - gold).abs();
    if d <= ABS_TOL {
        0.0
    } else if gold.abs() < 1.0 {
        // Near zero a relative error means nothing: compare absolutely.
        d
    } else {
        d / gold.abs()
    }
}

#[test]
fn sabre_model_matches_golden_outputs() {
    let rows = read_rows();
    assert_eq!(rows.len(), GOLDEN_ROWS, "golden rows");

    // Load each trace and movie once.
    let mut traces: BTreeMap<String, Trace> = BTreeMap::new();
    let mut movies: BTreeMap<String, Ladder> = BTreeMap::new();
    for r in &rows {
        if !traces.contains_key(&r.network) {
            let t = Trace::load_file(&trace_path(&r.network))
                .unwrap_or_else(|e| panic!("{}: {e}", r.network));
            traces.insert(r.network.clone(), t);
        }
        if !movies.contains_key(&r.movie) {
            let l = ladder_io::load_sabre_movie(&movie_path(&r.movie)).unwrap();
            movies.insert(r.movie.clone(), l);
        }
    }

    let results: Mutex<Vec<RowOutcome>> = Mutex::new(Vec::with_capacity(rows.len()));
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(r) = rows.get(i) else { break };
                    let out = parse_flags(&r.args).and_then(|flags| {
                        let ladder = &movies[&r.movie];
                        let mut rule = build_rule(&flags.abr, &flags.config.abr, ladder)
                            .map_err(|e| e.to_string())?;
                        SabreModel
                            .run(ladder, &traces[&r.network], rule.as_mut(), &flags.config)
                            .map(|o| o.metrics)
                            .map_err(|e| e.to_string())
                    });
                    results.lock().unwrap().push((i, out));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _)| *i);
    assert_eq!(results.len(), rows.len());

    let mut stats: BTreeMap<String, FileStats> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut known_seen = Vec::new();
    for (i, out) in results {
        let r = &rows[i];
        let st = stats.entry(r.file.clone()).or_default();
        st.rows += 1;
        let where_ = format!("{}:{} {} {} [{}]", r.file, r.line, r.config, r.network, r.args);
        let metrics = match out {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{where_}: did not run: {e}"));
                continue;
            }
        };
        let mut row_worst: f64 = 0.0;
        for (k, gold) in &r.metrics {
            let Some(&ours) = metrics.get(k) else {
                failures.push(format!("{where_}: metric {k} missing"));
                row_worst = f64::INFINITY;
                continue;
            };
            let e = rel_err(ours, *gold);
            row_worst = row_worst.max(e);
            if e > st.worst_rel {
                st.worst_rel = e;
                st.worst_at = format!("{where_} {k}: ours {ours} vs {gold}");
            }
            let known =
                KNOWN_UNIT_ROUNDTRIP.iter().any(|(f, l, c)| *f == r.file && *l == r.line && c == k);
            if known {
                // The artefact must be there, and be what is documented: one epsilon
                // stall counted as a rebuffer event (same rebuffer seconds), or one
                // reaction-time term. Anything else is a regression; its absence
                // makes the README's count wrong.
                let same_rebuffer = (metrics["total_rebuffer"]
                    - r.metrics
                        .iter()
                        .find(|(c, _)| c == "total_rebuffer")
                        .map_or(f64::NAN, |m| m.1))
                .abs()
                    <= ABS_TOL;
                let as_documented = match k.as_str() {
                    "total_rebuffer_events" => (ours - gold).abs() == 1.0 && same_rebuffer,
                    _ => (ours - gold).abs() <= 25.0,
                };
                if e <= REL_TOL {
                    failures.push(format!(
                        "{where_}: {k}: the documented artefact is gone (ours {ours} = Sabre \
                         {gold}): update KNOWN_UNIT_ROUNDTRIP and the README's row count"
                    ));
                } else if as_documented {
                    known_seen.push(format!("{where_}: {k}: ours {ours} vs Sabre {gold}"));
                } else {
                    failures.push(format!(
                        "{where_}: {k}: ours {ours} vs Sabre {gold}, not the documented artefact"
                    ));
                }
            } else if e > REL_TOL {
                failures.push(format!(
                    "{where_}: {k}: ours {ours:.6} vs Sabre {gold:.6} (rel {e:.2e})"
                ));
            }
        }
        if row_worst <= REL_TOL {
            st.rows_matching += 1;
        }
    }
    for (file, st) in &stats {
        eprintln!(
            "{file}: {} rows, {} within 1e-6 on every column; worst rel {:.2e}{}",
            st.rows,
            st.rows_matching,
            st.worst_rel,
            if st.worst_rel > 0.0 { format!(" at {}", st.worst_at) } else { String::new() }
        );
    }
    eprintln!(
        "{} known unit round-trip artefacts (see KNOWN_UNIT_ROUNDTRIP):\n{}",
        known_seen.len(),
        known_seen.join("\n")
    );
    assert!(failures.is_empty(), "{} mismatching cells:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(known_seen.len(), KNOWN_UNIT_ROUNDTRIP.len(), "every documented artefact seen");
    let matching: usize = stats.values().map(|st| st.rows_matching).sum();
    assert_eq!(matching, ROWS_MATCHING, "rows matching Sabre on every column to 1e-6");
}

#[test]
fn flags_map_onto_config() {
    let f = parse_flags("-a bolae -ao -noibr -b 10").unwrap();
    assert_eq!(f.abr, "bolae");
    assert_eq!(f.config.buffer_max_s, Some(10.0));
    assert_eq!(f.config.abr.buffer_max_s, 10.0);
    assert!(f.config.abr.bola_oscillation_delay);
    assert!(!f.config.abr.bolae_insufficient_buffer_rule);
    assert!(!f.config.abr.bola_basic);
    assert!(parse_flags("-a bola -r left").is_err());
    assert_eq!(
        trace_path("hsdpa(converted)/norway_bus_1.json"),
        shared_dir().join("traces/hsdpa/norway_bus_1")
    );
    assert!(Path::new(&movie_path("sabre_movie_48x4s.json")).exists());
}
