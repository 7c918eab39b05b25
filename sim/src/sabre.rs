//! Sabre's network and player model (UMass-LIDS/sabre `src/sabre.py`, MMSys'18).
//!
//! Reproduces Sabre's semantics closely enough that its printed metrics come out the
//! same (the parity test checks every row of `shared/golden/sabre-09b03bb/`). Units
//! inside are Sabre's: milliseconds, bits and kbit/s (= bit/ms); rules see seconds.
//!
//! **Network.** The trace is a list of periods `{duration, bandwidth, latency}` played
//! back to back and wrapped around. A request first waits one latency (which consumes
//! trace time, possibly across periods), then transfers at each period's bandwidth.
//! With abandonment on (the default) the transfer advances in steps of at least
//! 12 000 bits and 50 ms (the first step counts the latency towards the 50 ms) and the
//! rule is asked after every step whether to give up. Pensieve cooked and Mahimahi
//! traces are converted with [`Trace::to_periods`]`(0.95, 80.0)`, the rule used for the
//! golden `hsdpa(converted)` files.
//!
//! **Player.** The first segment is fetched at the rule's startup rung with no
//! abandonment; playback starts as soon as it arrives (that wait is play time but not
//! rebuffering). Then, per segment: if the buffer cannot take another segment, wait
//! (playing) until it can and tell the rule ([`AbrRule::on_delay`]); ask the rule; wait
//! the delay it asked for; fetch; play out the fetch time. An abandoned fetch appends
//! nothing, feeds no throughput sample, and the rule is asked again for the same
//! segment (Sabre's loop does exactly this). Playing a segment counts its bitrate and
//! utility `ln(b/b₀)` when it starts. A stall is counted once the buffer runs dry
//! during a fetch; time spent with an already-empty buffer adds to the rebuffer time
//! without a new event.
//!
//! **Metrics** (Sabre's printed names, spaces → `_`): totals over played segments;
//! `time_average_*` divide by play time in segments; `rampup_time` is the play time
//! at which a segment at or above the rung the current network period sustains
//! (bandwidth × (1 − latency/segment) ≥ bitrate) first starts playing (the movie length
//! if never); `total_reaction_time` sums, over upward steps of that sustainable rung,
//! the time until a segment of that rung played (capped at the buffer size), for the
//! steps that matured by the end.

use crate::model::{Model, ModelKind, SessionOutcome, SimConfig, SimError};
use crate::trace::{Period, Trace};
use std::collections::{BTreeMap, VecDeque};
use streamsteer::Ladder;
use streamsteer::abr::estimator::{DualEwma, Estimator, Sample};
use streamsteer::abr::{AbrContext, AbrRule, DownloadReport, FetchProgress};
use streamsteer::qoe::{QoeReport, SegmentRecord};

/// Payload fraction used to convert Pensieve/Mahimahi traces (Pensieve's
/// `PACKET_PAYLOAD_PORTION`).
pub const CONVERT_PAYLOAD_FRACTION: f64 = 0.95;
/// Latency given to converted Pensieve/Mahimahi traces, ms (Pensieve's `LINK_RTT`).
pub const CONVERT_LATENCY_MS: f64 = 80.0;
/// Minimum bits transferred between two abandonment checks.
const MIN_PROGRESS_BITS: f64 = 12_000.0;
/// Minimum time between two abandonment checks, ms.
const MIN_PROGRESS_MS: f64 = 50.0;
/// Bound on simulated time (30 days), so that a nearly dead trace ends in an error
/// instead of running for hours.
const MAX_SIMULATED_MS: f64 = 30.0 * 86_400_000.0;
/// Pathway name in the segment log (Sabre has a single server).
const PATHWAY: &str = "default";

/// Sabre's network and player model (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct SabreModel;

/// A pending upward step of the sustainable rung, for the reaction-time metric.
#[derive(Debug, Clone, Copy)]
struct QualityUp {
    /// Network time of the step, ms.
    at_ms: f64,
    /// The new sustainable rung.
    rung: usize,
    /// Play time when a segment of that rung started (or the step was cancelled).
    done_ms: Option<f64>,
}

/// One fetch as the network model delivered it.
#[derive(Debug, Clone, Copy)]
struct Fetch {
    downloaded: f64,
    time_ms: f64,
    ttfb_ms: f64,
    abandoned: bool,
}

/// Everything the rule needs to judge a fetch in flight.
struct AbandonCheck<'r, 'c> {
    rule: &'r mut dyn AbrRule,
    ctx: AbrContext<'c>,
    segment_index: usize,
    rendition: usize,
}

/// The combined network and player state (Sabre keeps it in globals; the network's
/// period changes read the buffer for the reaction-time bookkeeping).
struct Sim<'a> {
    name: &'a str,
    periods: &'a [Period],
    rates: &'a [f64],
    utilities: Vec<f64>,
    segment_ms: f64,
    buffer_ms: f64,

    // Network.
    index: usize,
    time_to_next: f64,
    network_ms: f64,
    sustainable: Option<usize>,

    // Player.
    buffer: VecDeque<usize>,
    /// Milliseconds already played of the segment at the head of the buffer.
    fcc: f64,
    rebuffer_events: u64,
    rebuffer_ms: f64,
    played_utility: f64,
    played_bitrate: f64,
    play_ms: f64,
    bitrate_change: f64,
    log_bitrate_change: f64,
    last_played: Option<usize>,
    rampup_ms: Option<f64>,
    pending_up: VecDeque<QualityUp>,
    reaction_ms: f64,
}

impl<'a> Sim<'a> {
    fn new(name: &'a str, periods: &'a [Period], ladder: &'a Ladder, buffer_ms: f64) -> Self {
        let rates = ladder.bitrates_kbps();
        let offset = 0.0 - rates[0].ln();
        let mut sim = Sim {
            name,
            periods,
            rates,
            utilities: rates.iter().map(|b| b.ln() + offset).collect(),
            segment_ms: ladder.segment_duration_s() * 1000.0,
            buffer_ms,
            index: 0,
            time_to_next: 0.0,
            network_ms: 0.0,
            sustainable: None,
            buffer: VecDeque::new(),
            fcc: 0.0,
            rebuffer_events: 0,
            rebuffer_ms: 0.0,
            played_utility: 0.0,
            played_bitrate: 0.0,
            play_ms: 0.0,
            bitrate_change: 0.0,
            log_bitrate_change: 0.0,
            last_played: None,
            rampup_ms: None,
            pending_up: VecDeque::new(),
            reaction_ms: 0.0,
        };
        sim.enter_period(0);
        sim
    }

    fn level_ms(&self) -> f64 {
        self.segment_ms * self.buffer.len() as f64 - self.fcc
    }

    // ---- player -------------------------------------------------------------------

    /// Plays `time` ms: partial head segment first, then whole segments, then stall.
    fn deplete(&mut self, mut time: f64) {
        if self.buffer.is_empty() {
            self.rebuffer_ms += time;
            self.play_ms += time;
            return;
        }
        if self.fcc > 0.0 {
            if time + self.fcc < self.segment_ms {
                self.fcc += time;
                self.play_ms += time;
                return;
            }
            time -= self.segment_ms - self.fcc;
            self.play_ms += self.segment_ms - self.fcc;
            self.buffer.pop_front();
            self.fcc = 0.0;
        }
        while time > 0.0 {
            let Some(&q) = self.buffer.front() else { break };
            self.played_utility += self.utilities[q];
            self.played_bitrate += self.rates[q];
            if let Some(last) = self.last_played
                && last != q
            {
                self.bitrate_change += (self.rates[q] - self.rates[last]).abs();
                self.log_bitrate_change += (self.rates[q] / self.rates[last]).ln().abs();
            }
            self.last_played = Some(q);
            if self.rampup_ms.is_none() && q >= self.sustainable.unwrap_or(0) {
                self.rampup_ms = Some(self.play_ms);
            }
            for p in &mut self.pending_up {
                if p.done_ms.is_none() && q >= p.rung {
                    p.done_ms = Some(self.play_ms);
                }
            }
            if time >= self.segment_ms {
                self.buffer.pop_front();
                self.play_ms += self.segment_ms;
                time -= self.segment_ms;
            } else {
                self.fcc = time;
                self.play_ms += time;
                time = 0.0;
            }
        }
        if time > 0.0 {
            self.rebuffer_ms += time;
            self.play_ms += time;
            self.rebuffer_events += 1;
        }
        self.process_quality_up(self.play_ms);
    }

    /// Settles the upward steps older than one buffer size.
    fn process_quality_up(&mut self, now: f64) {
        let cutoff = now - self.buffer_ms;
        while let Some(p) = self.pending_up.front().copied() {
            if p.at_ms >= cutoff {
                break;
            }
            self.pending_up.pop_front();
            self.reaction_ms += match p.done_ms {
                None => self.buffer_ms,
                Some(done) => self.buffer_ms.min(done - p.at_ms),
            };
        }
    }

    /// Records a change of the sustainable rung from `previous` to `rung`.
    fn advertise(&mut self, rung: usize, previous: usize) {
        self.process_quality_up(self.network_ms);
        for p in &mut self.pending_up {
            if p.done_ms.is_none() && p.rung > rung {
                p.done_ms = Some(self.network_ms);
            }
        }
        // Only genuine upward steps: above the previous rung, everything buffered and
        // every step still pending.
        if rung <= previous
            || self.buffer.iter().any(|&q| rung <= q)
            || self.pending_up.iter().any(|p| rung <= p.rung)
        {
            return;
        }
        self.pending_up.push_back(QualityUp { at_ms: self.network_ms, rung, done_ms: None });
    }

    // ---- network ------------------------------------------------------------------

    fn enter_period(&mut self, index: usize) {
        self.index = index;
        let p = self.periods[index];
        self.time_to_next = p.duration_ms;
        let effective = p.bandwidth_kbps * (1.0 - p.latency_ms / self.segment_ms);
        let mut rung = 0;
        for i in 1..self.rates.len() {
            if self.rates[i] > effective {
                break;
            }
            rung = i;
        }
        let previous = self.sustainable.replace(rung);
        if let Some(prev) = previous
            && prev != rung
        {
            self.advertise(rung, prev);
        }
    }

    fn next_period(&mut self) -> Result<(), SimError> {
        if self.network_ms > MAX_SIMULATED_MS {
            return Err(SimError::Timeout {
                trace: self.name.to_string(),
                limit_s: MAX_SIMULATED_MS / 1000.0,
            });
        }
        let next = if self.index + 1 == self.periods.len() { 0 } else { self.index + 1 };
        self.enter_period(next);
        Ok(())
    }

    fn bandwidth(&self) -> f64 {
        self.periods[self.index].bandwidth_kbps
    }

    fn latency(&self) -> f64 {
        self.periods[self.index].latency_ms
    }

    /// Waits one request latency (each period's own), returning the time taken.
    fn latency_delay(&mut self) -> Result<f64, SimError> {
        let mut units = 1.0;
        let mut total = 0.0;
        while units > 0.0 {
            let latency = self.latency();
            let time = units * latency;
            if time <= self.time_to_next {
                total += time;
                self.network_ms += time;
                self.time_to_next -= time;
                units = 0.0;
            } else {
                total += self.time_to_next;
                self.network_ms += self.time_to_next;
                units -= self.time_to_next / latency;
                self.next_period()?;
            }
        }
        Ok(total)
    }

    /// Transfers `size` bits, returning the time taken.
    fn transfer(&mut self, mut size: f64) -> Result<f64, SimError> {
        let mut total = 0.0;
        while size > 0.0 {
            let bw = self.bandwidth();
            if size <= self.time_to_next * bw {
                let time = size / bw;
                total += time;
                self.network_ms += time;
                self.time_to_next -= time;
                size = 0.0;
            } else {
                total += self.time_to_next;
                self.network_ms += self.time_to_next;
                size -= self.time_to_next * bw;
                self.next_period()?;
            }
        }
        Ok(total)
    }

    /// Transfers at least `min_size` bits and `min_time` ms (or all of `size`),
    /// returning `(bits, ms)`.
    fn transfer_step(
        &mut self,
        mut size: f64,
        mut min_size: f64,
        mut min_time: f64,
    ) -> Result<(f64, f64), SimError> {
        let (mut total_bits, mut total_time) = (0.0, 0.0);
        while size > 0.0 && (min_size > 0.0 || min_time > 0.0) {
            let bw = self.bandwidth();
            let (bits, time);
            if bw > 0.0 {
                let min_bits = min_size.max(min_time * bw);
                let bits_to_next = self.time_to_next * bw;
                if size <= min_bits && size <= bits_to_next {
                    bits = size;
                    time = bits / bw;
                    self.time_to_next -= time;
                    self.network_ms += time;
                } else if min_bits <= bits_to_next {
                    bits = min_bits;
                    time = bits / bw;
                    // Done with this step; zeroing guards against rounding keeping the
                    // loop alive.
                    min_size = 0.0;
                    min_time = 0.0;
                    self.time_to_next -= time;
                    self.network_ms += time;
                } else {
                    bits = bits_to_next;
                    time = self.time_to_next;
                    self.network_ms += time;
                    self.next_period()?;
                }
            } else {
                bits = 0.0;
                if min_size > 0.0 || min_time > self.time_to_next {
                    time = self.time_to_next;
                    self.network_ms += time;
                    self.next_period()?;
                } else {
                    time = min_time;
                    self.time_to_next -= time;
                    self.network_ms += time;
                }
            }
            total_bits += bits;
            total_time += time;
            size -= bits;
            min_size -= bits;
            min_time -= time;
        }
        Ok((total_bits, total_time))
    }

    /// Lets `time` ms of trace pass with nothing transferred.
    fn idle(&mut self, mut time: f64) -> Result<(), SimError> {
        while time > self.time_to_next {
            time -= self.time_to_next;
            self.network_ms += self.time_to_next;
            self.next_period()?;
        }
        self.time_to_next -= time;
        self.network_ms += time;
        Ok(())
    }

    /// Fetches `size` bits; with `check`, in steps, asking the rule after each step.
    /// `level_ms` is the buffer level when the request is issued.
    fn fetch(
        &mut self,
        size: f64,
        level_ms: f64,
        check: Option<AbandonCheck<'_, '_>>,
    ) -> Result<Fetch, SimError> {
        if size <= 0.0 {
            return Ok(Fetch { downloaded: 0.0, time_ms: 0.0, ttfb_ms: 0.0, abandoned: false });
        }
        let Some(check) = check else {
            let latency = self.latency_delay()?;
            let time_ms = latency + self.transfer(size)?;
            return Ok(Fetch { downloaded: size, time_ms, ttfb_ms: latency, abandoned: false });
        };
        let latency = self.latency_delay()?;
        let mut total_time = latency;
        let mut total_size = 0.0;
        let mut min_time = MIN_PROGRESS_MS - total_time;
        let mut min_size = MIN_PROGRESS_BITS;
        let mut abandoned = false;
        while total_size < size && !abandoned {
            let (bits, time) = self.transfer_step(size - total_size, min_size, min_time)?;
            total_time += time;
            total_size += bits;
            if total_size < size {
                let ctx = AbrContext {
                    buffer_level_s: (level_ms - total_time).max(0.0) / 1000.0,
                    now_s: (self.play_ms + total_time) / 1000.0,
                    ..check.ctx
                };
                let progress = FetchProgress {
                    segment_index: check.segment_index,
                    rendition: check.rendition,
                    size_bits: size,
                    downloaded_bits: total_size,
                    elapsed_s: total_time / 1000.0,
                    ttfb_s: Some(latency / 1000.0),
                };
                abandoned = check.rule.check_abandon(&ctx, &progress).is_some();
                min_time = MIN_PROGRESS_MS;
                min_size = MIN_PROGRESS_BITS;
            }
        }
        Ok(Fetch { downloaded: total_size, time_ms: total_time, ttfb_ms: latency, abandoned })
    }
}

/// Per-segment bookkeeping across abandoned attempts.
#[derive(Debug, Clone, Copy, Default)]
struct Attempts {
    request_ms: Option<f64>,
    bits: f64,
    time_ms: f64,
    rebuffer_ms: f64,
}

impl Model for SabreModel {
    fn kind(&self) -> ModelKind {
        ModelKind::Sabre
    }

    fn run(
        &self,
        ladder: &Ladder,
        trace: &Trace,
        rule: &mut dyn AbrRule,
        config: &SimConfig,
    ) -> Result<SessionOutcome, SimError> {
        let truncated;
        let ladder = match config.segments {
            Some(n) => {
                truncated = ladder.with_segment_count(n);
                &truncated
            }
            None => ladder,
        };
        let segments = ladder.segment_count();
        if segments == 0 {
            return Err(SimError::NoSegments);
        }
        let periods = trace.to_periods(CONVERT_PAYLOAD_FRACTION, CONVERT_LATENCY_MS);
        if !periods.iter().any(|p| p.duration_ms > 0.0 && p.bandwidth_kbps > 0.0) {
            return Err(SimError::DeadTrace(trace.name.clone()));
        }
        let buffer_s = config.buffer_s(ModelKind::Sabre);
        if !(buffer_s.is_finite() && buffer_s > 0.0) {
            return Err(SimError::Unsupported(format!(
                "buffer size {buffer_s} s is not a positive number"
            )));
        }
        let buffer_ms = buffer_s * 1000.0;
        let rungs = ladder.len();
        let segment_s = ladder.segment_duration_s();
        let mut sim = Sim::new(&trace.name, &periods, ladder, buffer_ms);
        let mut estimator = DualEwma::default();
        let mut records: Vec<SegmentRecord> = Vec::with_capacity(segments);
        let mut timeline: Vec<(f64, f64)> = Vec::with_capacity(3 * segments + 2);
        timeline.push((0.0, 0.0));

        let context = |sim: &Sim<'_>, est: &DualEwma, index: usize, level_ms: f64| AbrContext {
            ladder,
            segment_index: index,
            buffer_level_s: level_ms / 1000.0,
            buffer_max_s: buffer_s,
            last_rendition: records_last(&sim.buffer, index),
            throughput_kbps: est.throughput_kbps(),
            latency_s: est.latency_s(),
            now_s: sim.play_ms / 1000.0,
            playing: index > 0,
        };

        // First segment: startup rung, no abandonment, playback starts on arrival.
        let ctx = context(&sim, &estimator, 0, 0.0);
        let decision = rule.choose(&ctx);
        let quality = decision.rendition.min(rungs - 1);
        let size = ladder.segment_size_bits(0, quality);
        let first = sim.fetch(size, 0.0, None)?;
        sim.buffer.push_back(quality);
        sim.play_ms += first.time_ms;
        let report = DownloadReport {
            segment_index: 0,
            rendition: quality,
            size_bits: first.downloaded,
            ttfb_s: first.ttfb_ms / 1000.0,
            duration_s: first.time_ms / 1000.0,
            buffer_level_s: 0.0,
            abandoned: false,
        };
        rule.on_download(&context(&sim, &estimator, 0, sim.level_ms()), &report);
        estimator.add_sample(&sample(&first, segment_s));
        records.push(SegmentRecord {
            index: 0,
            rendition: quality,
            bitrate_kbps: sim.rates[quality],
            size_bits: first.downloaded,
            request_s: 0.0,
            download_s: first.time_ms / 1000.0,
            rebuffer_s: 0.0,
            buffer_after_s: sim.level_ms() / 1000.0,
            pathway: PATHWAY.to_string(),
            reason: decision.reason,
        });
        timeline.push((sim.play_ms / 1000.0, sim.level_ms() / 1000.0));
        let startup_delay_s = first.time_ms / 1000.0;

        let mut next = 1;
        let mut attempts = Attempts::default();
        while next < segments {
            let full_delay = sim.level_ms() + sim.segment_ms - buffer_ms;
            if full_delay > 0.0 {
                sim.deplete(full_delay);
                sim.idle(full_delay)?;
                rule.on_delay(full_delay / 1000.0);
                timeline.push((sim.play_ms / 1000.0, sim.level_ms() / 1000.0));
            }

            let ctx = context(&sim, &estimator, next, sim.level_ms());
            let decision = rule.choose(&ctx);
            let quality = decision.rendition.min(rungs - 1);
            let size = ladder.segment_size_bits(next, quality);
            let delay_ms = decision.delay_s * 1000.0;
            if delay_ms > 0.0 && delay_ms.is_finite() {
                sim.deplete(delay_ms);
                sim.idle(delay_ms)?;
                timeline.push((sim.play_ms / 1000.0, sim.level_ms() / 1000.0));
            }

            let level_ms = sim.level_ms();
            let request_ms = sim.play_ms;
            let check = config.abr.abandon.then(|| AbandonCheck {
                ctx: context(&sim, &estimator, next, level_ms),
                segment_index: next,
                rendition: quality,
                rule: &mut *rule,
            });
            let fetch = sim.fetch(size, level_ms, check)?;
            let rebuffer_before = sim.rebuffer_ms;
            sim.deplete(fetch.time_ms);
            attempts.request_ms.get_or_insert(request_ms);
            attempts.bits += fetch.downloaded;
            attempts.time_ms += fetch.time_ms;
            attempts.rebuffer_ms += sim.rebuffer_ms - rebuffer_before;
            let level_before_append = sim.level_ms();
            if !fetch.abandoned {
                sim.buffer.push_back(quality);
            }
            let report = DownloadReport {
                segment_index: next,
                rendition: quality,
                size_bits: fetch.downloaded,
                ttfb_s: fetch.ttfb_ms / 1000.0,
                duration_s: fetch.time_ms / 1000.0,
                buffer_level_s: level_before_append / 1000.0,
                abandoned: fetch.abandoned,
            };
            rule.on_download(&context(&sim, &estimator, next, sim.level_ms()), &report);
            timeline.push((sim.play_ms / 1000.0, sim.level_ms() / 1000.0));
            if fetch.abandoned {
                continue;
            }
            estimator.add_sample(&sample(&fetch, segment_s));
            records.push(SegmentRecord {
                index: next,
                rendition: quality,
                bitrate_kbps: sim.rates[quality],
                size_bits: attempts.bits,
                request_s: attempts.request_ms.unwrap_or(request_ms) / 1000.0,
                download_s: attempts.time_ms / 1000.0,
                rebuffer_s: attempts.rebuffer_ms / 1000.0,
                buffer_after_s: sim.level_ms() / 1000.0,
                pathway: PATHWAY.to_string(),
                reason: decision.reason,
            });
            attempts = Attempts::default();
            next += 1;
        }

        // Play out what is left.
        sim.deplete(sim.level_ms());
        sim.buffer.clear();
        sim.fcc = 0.0;
        timeline.push((sim.play_ms / 1000.0, 0.0));

        let metrics = sabre_metrics(&sim, segments, config.abr.bola_gp);
        let report = QoeReport::from_segments(&records, startup_delay_s, config.qoe);
        Ok(SessionOutcome {
            trace: trace.name.clone(),
            rule: rule.name().to_string(),
            model: ModelKind::Sabre,
            report,
            segments: records,
            buffer_timeline: timeline,
            metrics,
        })
    }
}

/// The rung of the most recently appended segment, if any.
fn records_last(buffer: &VecDeque<usize>, index: usize) -> Option<usize> {
    if index == 0 { None } else { buffer.back().copied() }
}

/// An estimator sample from a completed fetch.
fn sample(fetch: &Fetch, segment_s: f64) -> Sample {
    Sample {
        bits: fetch.downloaded,
        ttfb_s: fetch.ttfb_ms / 1000.0,
        duration_s: fetch.time_ms / 1000.0,
        media_s: segment_s,
    }
}

/// Sabre's printed metrics, under its names with spaces turned into `_`.
fn sabre_metrics(sim: &Sim<'_>, segments: usize, gp: f64) -> BTreeMap<String, f64> {
    let to_avg = 1.0 / (sim.play_ms / sim.segment_ms);
    let rampup_ms = sim.rampup_ms.unwrap_or(segments as f64 * sim.segment_ms);
    let score = to_avg * (sim.played_utility - gp * sim.rebuffer_ms / sim.segment_ms);
    let values: [(&str, f64); 18] = [
        ("total_played_utility", sim.played_utility),
        ("time_average_played_utility", sim.played_utility * to_avg),
        ("total_played_bitrate", sim.played_bitrate),
        ("time_average_played_bitrate", sim.played_bitrate * to_avg),
        ("total_play_time", sim.play_ms / 1000.0),
        ("total_play_time_chunks", sim.play_ms / sim.segment_ms),
        ("total_rebuffer", sim.rebuffer_ms / 1000.0),
        ("rebuffer_ratio", sim.rebuffer_ms / sim.play_ms),
        ("time_average_rebuffer", sim.rebuffer_ms / 1000.0 * to_avg),
        ("total_rebuffer_events", sim.rebuffer_events as f64),
        ("time_average_rebuffer_events", sim.rebuffer_events as f64 * to_avg),
        ("total_bitrate_change", sim.bitrate_change),
        ("time_average_bitrate_change", sim.bitrate_change * to_avg),
        ("total_log_bitrate_change", sim.log_bitrate_change),
        ("time_average_log_bitrate_change", sim.log_bitrate_change * to_avg),
        ("time_average_score", score),
        ("rampup_time", rampup_ms / 1000.0),
        ("total_reaction_time", sim.reaction_ms / 1000.0),
    ];
    values.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use streamsteer::abr::{AbrConfig, build_rule};

    fn ladder() -> Ladder {
        Ladder::constant_bitrate(vec![1000.0, 2000.0], 3.0, 10).unwrap()
    }

    fn trace(json: &str) -> Trace {
        Trace::parse("t", json).unwrap()
    }

    #[test]
    fn constant_network_hand_computed() {
        // 3000 kbps, 100 ms latency; rung 0 is 3 Mbit per segment, rung 1 6 Mbit.
        // First fetch: 100 ms + 1000 ms.
        let t = trace(r#"[{"duration_ms": 1000000, "bandwidth_kbps": 3000, "latency_ms": 100}]"#);
        let l = ladder();
        let cfg = SimConfig::default();
        let mut rule = build_rule("throughput", &cfg.abr, &l).unwrap();
        let out = SabreModel.run(&l, &t, rule.as_mut(), &cfg).unwrap();
        assert_eq!(out.segments.len(), 10);
        assert!((out.report.startup_delay_s - 1.1).abs() < 1e-9);
        assert!((out.segments[0].download_s - 1.1).abs() < 1e-9);
        // No stalls on a network 1.5× the top rung.
        assert_eq!(out.metrics["total_rebuffer"], 0.0);
        assert_eq!(out.metrics["total_rebuffer_events"], 0.0);
        // Play time: startup + 30 s of media.
        let played = out.metrics["total_play_time"];
        assert!((played - (1.1 + 30.0)).abs() < 1e-9, "{played}");
        // 2000 kbps sustains at 0.9 × 3000 with 0.1 s latency: 0.1 + 3×2000/2700 ≤ 3.
        assert_eq!(out.segments[9].rendition, 1);
    }

    #[test]
    fn dead_trace_is_an_error() {
        let t = trace(r#"[{"duration_ms": 1000, "bandwidth_kbps": 0, "latency_ms": 10}]"#);
        let l = ladder();
        let cfg = SimConfig::default();
        let mut rule = build_rule("bola", &AbrConfig::default(), &l).unwrap();
        assert!(matches!(SabreModel.run(&l, &t, rule.as_mut(), &cfg), Err(SimError::DeadTrace(_))));
    }

    #[test]
    fn slow_trace_stalls_and_counts_events() {
        // 500 kbps against a 1000 kbps lowest rung: every segment takes 6 s to fetch,
        // so each of the 9 fetches after the first stalls for 3 s (+ latency).
        let t = trace(r#"[{"duration_ms": 1000, "bandwidth_kbps": 500, "latency_ms": 0}]"#);
        let l = ladder();
        let cfg = SimConfig::default();
        let mut rule = build_rule("throughput", &cfg.abr, &l).unwrap();
        let out = SabreModel.run(&l, &t, rule.as_mut(), &cfg).unwrap();
        assert_eq!(out.metrics["total_rebuffer_events"], 9.0);
        assert!((out.metrics["total_rebuffer"] - 27.0).abs() < 1e-6);
        assert_eq!(out.report.rebuffer_count, 9);
        assert!((out.report.rebuffer_s - 27.0).abs() < 1e-6);
    }
}
