//! Network traces: the three recorded formats the simulator reads.
//!
//! - **Pensieve cooked**: one `time_s throughput_Mbps` pair per line.
//! - **Mahimahi**: one integer per line, a millisecond timestamp at which one 1500-byte
//!   packet may cross the bottleneck.
//! - **Sabre network JSON**: an array of `{duration_ms, bandwidth_kbps, latency_ms}`.
//!
//! The format is detected from the content. Each trace keeps its native form because
//! the reference models interpret them differently (Pensieve steps through cooked
//! samples; Sabre through periods), and conversions between them follow documented
//! rules rather than silently resampling.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// What a trace file may hold, for error messages.
const TRACE_FORMATS: &str = "a network trace: lines of `time_s Mbps` (Pensieve cooked), lines of `ms` (Mahimahi) or a Sabre network JSON array";

const SABRE_NETWORK: &str =
    "expected a Sabre network JSON array of {duration_ms, bandwidth_kbps, latency_ms} objects";

/// Errors reading a trace. Each says what was expected and what was found.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TraceError {
    /// The file or folder could not be read.
    #[error("{path}: {source}")]
    Io {
        /// Path that failed.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The content is not in any known format, or breaks its format.
    #[error("{name}: {}{message}", at_line(*.line))]
    Parse {
        /// Trace name.
        name: String,
        /// 1-based line (0 for whole-file problems).
        line: usize,
        /// What was expected and what was found.
        message: String,
    },
    /// Text that starts like a Sabre network JSON array but is not valid JSON.
    #[error("{name}: {SABRE_NETWORK}: {source}")]
    Json {
        /// Trace name.
        name: String,
        /// Underlying error.
        source: serde_json::Error,
    },
    /// The file holds no samples: empty, only whitespace, or `[]`.
    #[error("{0}: expected {TRACE_FORMATS}, found no samples")]
    Empty(String),
    /// A folder held no trace files.
    #[error(
        "{0}: expected trace files in this folder, found none (*.md, LICENSE and hidden files are skipped)"
    )]
    NoTraces(PathBuf),
}

fn at_line(line: usize) -> String {
    if line == 0 { String::new() } else { format!("line {line}: ") }
}

/// `text` for an error message: at most 60 characters.
fn shown(text: &str) -> String {
    let mut out: String = text.chars().take(60).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    format!("{out:?}")
}

/// One constant-rate stretch of a Sabre-style trace.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Period {
    /// Length in milliseconds.
    pub duration_ms: f64,
    /// Bandwidth in kbit/s.
    pub bandwidth_kbps: f64,
    /// Latency (time to first byte) in milliseconds.
    pub latency_ms: f64,
}

/// The samples of a trace in its native form.
#[derive(Debug, Clone, PartialEq)]
pub enum TraceData {
    /// Pensieve cooked: sample times (s) and throughput (Mbit/s) over `(t[i-1], t[i]]`.
    Cooked {
        /// Sample timestamps, seconds.
        time_s: Vec<f64>,
        /// Throughput per sample, Mbit/s.
        mbps: Vec<f64>,
    },
    /// Mahimahi packet-delivery opportunities, milliseconds from the trace start.
    Mahimahi {
        /// One entry per 1500-byte delivery opportunity, non-decreasing.
        opportunities_ms: Vec<u64>,
    },
    /// Sabre periods.
    Periods(Vec<Period>),
}

/// A named network trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// File name (without folders).
    pub name: String,
    /// The samples.
    pub data: TraceData,
}

/// Longest Mahimahi trace accepted (7 days): converting one to per-second samples
/// allocates a bin per second, so a hostile timestamp must not size that allocation.
pub const MAX_MAHIMAHI_MS: u64 = 7 * 24 * 3600 * 1000;

/// Bytes in one Mahimahi delivery opportunity.
pub const MAHIMAHI_PACKET_BYTES: f64 = 1500.0;

impl Trace {
    /// Parses `text`, detecting the format.
    pub fn parse(name: &str, text: &str) -> Result<Trace, TraceError> {
        let err = |line: usize, message: String| TraceError::Parse {
            name: name.to_string(),
            line,
            message,
        };
        let trimmed = text.trim_start();
        let data = if trimmed.is_empty() {
            return Err(TraceError::Empty(name.to_string()));
        } else if trimmed.starts_with('{') {
            let line = text.len() - trimmed.len();
            let line = text[..line].matches('\n').count() + 1;
            return Err(err(line, format!("expected {TRACE_FORMATS}, found a JSON object")));
        } else if trimmed.starts_with('[') {
            let items: Vec<serde_json::Value> = serde_json::from_str(trimmed)
                .map_err(|source| TraceError::Json { name: name.to_string(), source })?;
            if items.is_empty() {
                return Err(TraceError::Empty(name.to_string()));
            }
            if let Some(other) = items.iter().find(|v| !v.is_object()) {
                let kind = match other {
                    serde_json::Value::Array(_) => "arrays",
                    serde_json::Value::String(_) => "strings",
                    serde_json::Value::Number(_) => "numbers",
                    serde_json::Value::Bool(_) => "booleans",
                    _ => "nulls",
                };
                return Err(err(0, format!("{SABRE_NETWORK}, found an array of {kind}")));
            }
            let mut periods = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let p: Period = serde_json::from_value(item).map_err(|e| {
                    err(
                        0,
                        format!(
                            "period {i}: expected {{duration_ms, bandwidth_kbps, latency_ms}}, found {e}"
                        ),
                    )
                })?;
                periods.push(p);
            }
            for (i, p) in periods.iter().enumerate() {
                let ok = |v: f64| v.is_finite() && v >= 0.0;
                if !(ok(p.duration_ms) && ok(p.bandwidth_kbps) && ok(p.latency_ms)) {
                    return Err(err(
                        0,
                        format!(
                            "period {i}: expected duration_ms, bandwidth_kbps and latency_ms ≥ 0, found {}, {} and {}",
                            p.duration_ms, p.bandwidth_kbps, p.latency_ms
                        ),
                    ));
                }
            }
            if periods.iter().map(|p| p.duration_ms).sum::<f64>() <= 0.0 {
                return Err(err(
                    0,
                    format!(
                        "expected a positive total duration_ms, found {} period(s) of 0 ms",
                        periods.len()
                    ),
                ));
            }
            TraceData::Periods(periods)
        } else {
            Self::parse_lines(name, text)?
        };
        Ok(Trace { name: name.to_string(), data })
    }

    fn parse_lines(name: &str, text: &str) -> Result<TraceData, TraceError> {
        let err = |line: usize, message: String| TraceError::Parse {
            name: name.to_string(),
            line,
            message,
        };
        let mut time_s = Vec::new();
        let mut mbps = Vec::new();
        let mut opportunities_ms = Vec::new();
        // The format and the line it was decided on: 1 or 2 columns.
        let mut format: Option<(usize, usize)> = None;
        let mut last_line = 0;
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.is_empty() {
                continue;
            }
            last_line = n;
            let (columns, first) = match format {
                Some(f) => f,
                None => {
                    // The first line decides, if it is one of the two line formats.
                    let numbers = fields.iter().all(|f| f.parse::<f64>().is_ok());
                    match fields.len() {
                        1 if numbers => *format.insert((1, n)),
                        2 if numbers => *format.insert((2, n)),
                        1 | 2 => {
                            return Err(err(
                                n,
                                format!("expected {TRACE_FORMATS}, found {}", shown(line.trim())),
                            ));
                        }
                        k => {
                            return Err(err(
                                n,
                                format!(
                                    "expected {TRACE_FORMATS}, found {k} fields: {}",
                                    shown(line.trim())
                                ),
                            ));
                        }
                    }
                }
            };
            if fields.len() != columns {
                let what = if columns == 1 {
                    "1 field (a Mahimahi timestamp in ms)"
                } else {
                    "2 fields (Pensieve cooked `time_s Mbps`)"
                };
                return Err(err(
                    n,
                    format!(
                        "expected {what} as on line {first}, found {} field(s): {}",
                        fields.len(),
                        shown(line.trim())
                    ),
                ));
            }
            if columns == 1 {
                let ms: u64 = fields[0].parse().map_err(|_| {
                    err(
                        n,
                        format!(
                            "expected a Mahimahi timestamp (a whole number of ms), found {}",
                            shown(fields[0])
                        ),
                    )
                })?;
                if let Some(&last) = opportunities_ms.last()
                    && ms < last
                {
                    return Err(err(
                        n,
                        format!(
                            "expected Mahimahi timestamps in non-decreasing order, found {ms} ms after {last} ms"
                        ),
                    ));
                }
                opportunities_ms.push(ms);
            } else {
                let t: f64 = fields[0].parse().map_err(|_| {
                    err(n, format!("expected a time in seconds, found {}", shown(fields[0])))
                })?;
                let b: f64 = fields[1].parse().map_err(|_| {
                    err(n, format!("expected a throughput in Mbit/s, found {}", shown(fields[1])))
                })?;
                if !t.is_finite() || !b.is_finite() || b < 0.0 {
                    return Err(err(
                        n,
                        format!(
                            "expected a finite time and a finite throughput ≥ 0 Mbit/s, found {} {}",
                            fields[0], fields[1]
                        ),
                    ));
                }
                if let Some(&last) = time_s.last()
                    && t < last
                {
                    return Err(err(
                        n,
                        format!(
                            "expected times in non-decreasing order, found {t} s after {last} s"
                        ),
                    ));
                }
                time_s.push(t);
                mbps.push(b);
            }
        }
        match format {
            None => Err(TraceError::Empty(name.to_string())),
            Some((1, _)) => {
                let last = opportunities_ms.last().copied().unwrap_or(0);
                if last > MAX_MAHIMAHI_MS {
                    Err(err(
                        last_line,
                        format!(
                            "expected a Mahimahi trace of at most {} s, found one of {} s",
                            MAX_MAHIMAHI_MS / 1000,
                            last / 1000
                        ),
                    ))
                } else if last == 0 {
                    Err(err(
                        0,
                        format!(
                            "expected Mahimahi timestamps reaching past 0 ms, found {} at 0 ms",
                            opportunities_ms.len()
                        ),
                    ))
                } else {
                    Ok(TraceData::Mahimahi { opportunities_ms })
                }
            }
            Some(_) => match (time_s.first(), time_s.last()) {
                (Some(&a), Some(&b)) if b > a => Ok(TraceData::Cooked { time_s, mbps }),
                _ => Err(err(
                    0,
                    format!(
                        "expected cooked samples spanning a positive time, found {} sample(s) all at {} s",
                        time_s.len(),
                        time_s.first().copied().unwrap_or(0.0)
                    ),
                )),
            },
        }
    }

    /// Reads one file.
    pub fn load_file(path: &Path) -> Result<Trace, TraceError> {
        let bytes = std::fs::read(path)
            .map_err(|source| TraceError::Io { path: path.to_path_buf(), source })?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            let at = e.valid_up_to();
            TraceError::Parse {
                line: bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1,
                message: format!(
                    "expected a text file ({TRACE_FORMATS}), found binary data (byte 0x{:02x} at offset {at} is not UTF-8)",
                    bytes.get(at).copied().unwrap_or(0)
                ),
                name: name.clone(),
            }
        })?;
        Self::parse(&name, text)
    }

    /// Reads a file, or every trace file of a folder (sorted by name; `*.md` and hidden
    /// files skipped).
    pub fn load_path(path: &Path) -> Result<Vec<Trace>, TraceError> {
        let meta = std::fs::metadata(path)
            .map_err(|source| TraceError::Io { path: path.to_path_buf(), source })?;
        if !meta.is_dir() {
            return Ok(vec![Self::load_file(path)?]);
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|source| TraceError::Io { path: path.to_path_buf(), source })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .filter(|p| {
                let n = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                !n.starts_with('.') && !n.ends_with(".md") && n != "LICENSE"
            })
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(TraceError::NoTraces(path.to_path_buf()));
        }
        files.iter().map(|p| Self::load_file(p)).collect()
    }

    /// The trace as Pensieve cooked samples `(time_s, Mbit/s)`.
    ///
    /// Periods become cumulative end times with their bandwidth; Mahimahi
    /// opportunities are binned per second (as Pensieve's converters do in reverse).
    pub fn to_cooked(&self) -> (Vec<f64>, Vec<f64>) {
        match &self.data {
            TraceData::Cooked { time_s, mbps } => (time_s.clone(), mbps.clone()),
            TraceData::Periods(periods) => {
                let mut t = 0.0;
                let mut times = vec![0.0];
                let mut rates = vec![periods.first().map_or(0.0, |p| p.bandwidth_kbps / 1000.0)];
                for p in periods.iter().filter(|p| p.duration_ms > 0.0) {
                    t += p.duration_ms / 1000.0;
                    times.push(t);
                    rates.push(p.bandwidth_kbps / 1000.0);
                }
                (times, rates)
            }
            TraceData::Mahimahi { opportunities_ms } => {
                let end_s = opportunities_ms.last().map_or(0, |&ms| ms.div_ceil(1000)).max(1);
                let mut counts = vec![0u64; end_s as usize];
                for &ms in opportunities_ms {
                    let bin = ((ms / 1000) as usize).min(counts.len() - 1);
                    counts[bin] += 1;
                }
                let mut times = vec![0.0];
                let mut rates = vec![0.0];
                for (i, c) in counts.iter().enumerate() {
                    times.push((i + 1) as f64);
                    rates.push(*c as f64 * MAHIMAHI_PACKET_BYTES * 8.0 / 1e6);
                }
                rates[0] = rates.get(1).copied().unwrap_or(0.0);
                (times, rates)
            }
        }
    }

    /// The trace as Sabre periods.
    ///
    /// Cooked samples follow the conversion used for the `hsdpa(converted)` golden
    /// files: sample *i ≥ 1* becomes a period of `t[i] − t[i−1]` seconds at
    /// `bw[i] × payload` with `latency_ms`; non-positive durations are dropped. Sabre
    /// periods are returned as they are (their own latency kept).
    pub fn to_periods(&self, payload_fraction: f64, latency_ms: f64) -> Vec<Period> {
        if let TraceData::Periods(p) = &self.data {
            return p.clone();
        }
        let (t, bw) = self.to_cooked();
        (1..t.len())
            .filter(|&i| t[i] - t[i - 1] > 0.0)
            .map(|i| Period {
                duration_ms: (t[i] - t[i - 1]) * 1000.0,
                bandwidth_kbps: bw[i] * 1000.0 * payload_fraction,
                latency_ms,
            })
            .collect()
    }

    /// Mean throughput over the trace, kbit/s (time-weighted).
    pub fn mean_kbps(&self) -> f64 {
        let periods = self.to_periods(1.0, 0.0);
        let total: f64 = periods.iter().map(|p| p.duration_ms).sum();
        if total <= 0.0 {
            return 0.0;
        }
        periods.iter().map(|p| p.duration_ms * p.bandwidth_kbps).sum::<f64>() / total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_cooked() {
        let t = Trace::parse("x", "0.0\t1.5\n1.0\t2.0\n2.5\t0.5\n").unwrap();
        let TraceData::Cooked { time_s, mbps } = &t.data else { panic!("not cooked") };
        assert_eq!(time_s, &vec![0.0, 1.0, 2.5]);
        assert_eq!(mbps, &vec![1.5, 2.0, 0.5]);
        let p = t.to_periods(0.95, 80.0);
        assert_eq!(p.len(), 2);
        assert!((p[1].duration_ms - 1500.0).abs() < 1e-9);
        assert!((p[1].bandwidth_kbps - 475.0).abs() < 1e-9);
    }

    #[test]
    fn detects_mahimahi_and_bins_per_second() {
        let t = Trace::parse("m", "1\n1\n500\n1500\n").unwrap();
        let (times, rates) = t.to_cooked();
        assert_eq!(times, vec![0.0, 1.0, 2.0]);
        assert!((rates[1] - 3.0 * 1500.0 * 8.0 / 1e6).abs() < 1e-12);
        assert!((rates[2] - 1500.0 * 8.0 / 1e6).abs() < 1e-12);
    }

    #[test]
    fn detects_sabre_json() {
        let t = Trace::parse(
            "s",
            r#"[{"duration_ms": 1000, "bandwidth_kbps": 500, "latency_ms": 20}]"#,
        )
        .unwrap();
        assert_eq!(t.to_periods(1.0, 0.0)[0].latency_ms, 20.0);
        assert!((t.mean_kbps() - 500.0).abs() < 1e-9);
    }

    #[test]
    fn rejects_garbage_with_line_number() {
        let e = Trace::parse("g", "0 1\n1 x\n").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        assert!(matches!(Trace::parse("e", ""), Err(TraceError::Empty(_))));
        assert!(Trace::parse("b", "0 1\n2 1\n1 1\n").is_err());
        assert!(Trace::parse("j", "[{\"duration_ms\": -1}]").is_err());
        // Found by the `trace` fuzz target: one far-future opportunity used to size a
        // per-second allocation of gigabytes.
        let e = Trace::parse("oom", "1111182228822").unwrap_err();
        assert!(e.to_string().contains("at most 604800 s, found one of 1111182228 s"), "{e}");
    }
}
