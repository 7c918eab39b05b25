//! One request, run as its own task: send, follow checked redirects, time, stream the
//! body within its size limit, retry.
//!
//! Each attempt is timed on the tokio clock: TTFB is the time to the final response's
//! headers, duration the time to the last body byte. Redirects are followed here, not
//! by the HTTP client: each `Location` is parsed by the engine's URL rules
//! ([`streamsteer::uri`]) and must be on an allowed host, at most
//! [`NetConfig::max_redirects`](crate::NetConfig::max_redirects) hops, never from
//! `https` to `http`. Failures are classified (see [`FetchError`]); retryable ones are
//! retried under the kind's [`RetryPolicy`](crate::RetryPolicy) after a seeded,
//! jittered backoff. The task reports to the driver through a channel; aborting the
//! task (on the engine's `Cancel`) stops it at its next await, and the driver drops
//! anything it had already queued.

use crate::config::{PlayerConfig, RequestPolicy};
use crate::event::RequestTiming;
use crate::retry::{Backoff, read_retry_after};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use std::time::{Duration, SystemTime};
use streamsteer::allowlist::HostAllowlist;
use streamsteer::session::{BodyLimits, FetchKind, FetchRequest, RequestId};
use streamsteer::uri::Url;
use thiserror::Error;
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

/// Largest body buffer reserved up front from a `Content-Length`: a lying header must
/// not make the player allocate gigabytes before any byte arrives.
const MAX_RESERVE: u64 = 16 * 1024 * 1024;

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum FetchError {
    /// Connection refused or reset, DNS failure, protocol error…
    #[error("network error: {0}")]
    Network(String),
    /// No response headers within the TTFB timeout.
    #[error("no response within {0:.3} s (TTFB timeout)")]
    TtfbTimeout(f64),
    /// The body stopped arriving for longer than the idle timeout.
    #[error("body stalled for {0:.3} s (idle timeout)")]
    IdleTimeout(f64),
    /// The whole request took longer than the total timeout.
    #[error("request exceeded {0:.3} s (total timeout)")]
    TotalTimeout(f64),
    /// The server answered with an error status.
    #[error("HTTP status {0}")]
    Status(u16),
    /// The body ended before its announced length.
    #[error("truncated body: {got} of {expected} bytes")]
    Truncated {
        /// Bytes received.
        got: u64,
        /// Bytes announced (`Content-Length` or the byte range).
        expected: u64,
    },
    /// A manifest body that is not UTF-8.
    #[error("the body is not UTF-8 text")]
    NotText,
    /// The body (or its announced length) is over the limit for this request.
    #[error("body over the {limit}-byte limit for this request")]
    TooLarge {
        /// The limit, bytes.
        limit: u64,
    },
    /// A redirect that is not followed: its `Location` is refused by the URL rules,
    /// names a host outside the allowlist, or goes from `https` to `http`.
    #[error("redirect to {location:?} refused: {reason}")]
    RedirectRefused {
        /// The `Location` as sent.
        location: String,
        /// Why.
        reason: String,
    },
    /// More redirects than allowed.
    #[error("more than {0} redirects")]
    TooManyRedirects(u32),
}

impl FetchError {
    /// What kind of failure this is, for counting and matching.
    pub fn kind(&self) -> FailureKind {
        match self {
            Self::Network(_) => FailureKind::Connection,
            Self::TtfbTimeout(_) => FailureKind::TtfbTimeout,
            Self::IdleTimeout(_) | Self::TotalTimeout(_) => FailureKind::BodyTimeout,
            Self::Status(_) => FailureKind::Status,
            Self::Truncated { .. } => FailureKind::Truncated,
            Self::NotText | Self::TooLarge { .. } => FailureKind::Body,
            Self::RedirectRefused { .. } | Self::TooManyRedirects(_) => FailureKind::Redirect,
        }
    }

    /// Whether trying again may help.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Status(s) => *s >= 500 || *s == 408 || *s == 429,
            Self::NotText
            | Self::TooLarge { .. }
            | Self::RedirectRefused { .. }
            | Self::TooManyRedirects(_) => false,
            _ => true,
        }
    }
}

/// What kind of failure a request attempt met ([`FetchError::kind`]; the
/// [`RequestTiming::failure`] of a failed attempt).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FailureKind {
    /// No response: the connection was refused or reset, DNS failed, the protocol
    /// broke. Before any byte of a response, this is a dead or unreachable CDN.
    Connection,
    /// No response headers within the TTFB timeout.
    TtfbTimeout,
    /// The body stalled, or the whole request took too long.
    BodyTimeout,
    /// An HTTP error status.
    Status,
    /// The body ended before its announced length.
    Truncated,
    /// The body was unusable (over its size limit, or a manifest that is not text).
    Body,
    /// A redirect was refused, or there were too many.
    Redirect,
}

/// What the request task is given.
#[derive(Debug, Clone)]
pub(crate) struct FetchJob {
    pub req: FetchRequest,
    /// The URL to request (the engine's, plus any CMCD query argument).
    pub url: Url,
    /// Extra headers (CMCD headers).
    pub headers: Vec<(&'static str, String)>,
    pub policy: RequestPolicy,
    pub seed: u64,
    pub progress_bytes: u64,
    pub progress_interval: Duration,
    /// Largest bodies read ([`BodyLimits::for_request`], or
    /// [`BodyLimits::for_range`] for a byte range).
    pub limits: BodyLimits,
    /// Hosts redirects may go to.
    pub allowed_hosts: HostAllowlist,
    /// Redirects followed at most.
    pub max_redirects: u32,
}

impl FetchJob {
    /// The job for `req` under `config` (timeouts, retries, limits, redirects).
    pub(crate) fn new(
        req: FetchRequest,
        url: Url,
        headers: Vec<(&'static str, String)>,
        config: &PlayerConfig,
    ) -> Self {
        let net = &config.net;
        Self {
            url,
            headers,
            policy: net.policy(req.kind).clone(),
            seed: config.jitter_seed,
            progress_bytes: net.progress_bytes,
            progress_interval: secs(net.progress_interval_s).unwrap_or(Duration::from_millis(100)),
            limits: net.limits.clone(),
            allowed_hosts: config.session.allowed_hosts.clone(),
            max_redirects: net.max_redirects,
            req,
        }
    }
}

fn secs(s: f64) -> Option<Duration> {
    (s.is_finite() && s > 0.0).then(|| Duration::from_secs_f64(s))
}

/// A successful fetch.
#[derive(Debug, Clone)]
pub(crate) struct Fetched {
    pub body: Bytes,
    /// Where the body came from, after redirects.
    pub final_url: Url,
    pub ttfb: Duration,
    pub duration: Duration,
    /// The `Date` response header, when it had one (what an `http-head` clock
    /// source answers with).
    pub date: Option<String>,
}

/// A document fetched by [`fetch_document`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The text.
    pub text: String,
    /// Where it came from, after redirects: relative references resolve against it.
    pub url: Url,
}

/// Fetches one manifest (or media playlist) the way the player does: the manifest
/// request policy's timeouts and retries, checked redirects, the manifest body limit,
/// UTF-8 text. `streamsteer inspect` and [`Player::load`](crate::Player::load) use it.
pub async fn fetch_document(
    client: &reqwest::Client,
    config: &PlayerConfig,
    url: &Url,
) -> Result<Document, FetchError> {
    let req = FetchRequest::document(0, url.clone(), FetchKind::Manifest, None);
    let job = FetchJob::new(req, url.clone(), Vec::new(), config);
    let f = fetch(client, &job, None).await.map_err(|f| f.error)?;
    let text = String::from_utf8(f.body.to_vec()).map_err(|_| FetchError::NotText)?;
    Ok(Document { text, url: f.final_url })
}

/// A failed fetch (after its retries).
#[derive(Debug, Clone)]
pub(crate) struct Failed {
    pub status: Option<u16>,
    pub bytes: u64,
    pub retry_after: Option<Duration>,
    pub error: FetchError,
}

/// What a request task tells the driver.
#[derive(Debug)]
pub(crate) enum FetchMsg {
    Started { id: RequestId },
    Progress { id: RequestId, bytes: u64, ttfb: Duration },
    Timing(RequestTiming),
    Done { id: RequestId, outcome: Result<Fetched, Failed> },
}

/// Runs `job` to completion (retries included) and reports the outcome.
pub(crate) async fn run(client: reqwest::Client, job: FetchJob, tx: UnboundedSender<FetchMsg>) {
    let outcome = fetch(&client, &job, Some(&tx)).await;
    // The driver may be gone (player stopped): nothing left to tell.
    let _ = tx.send(FetchMsg::Done { id: job.req.id, outcome });
}

/// Fetches with retries; `tx` receives start, progress and per-attempt timing.
pub(crate) async fn fetch(
    client: &reqwest::Client,
    job: &FetchJob,
    tx: Option<&UnboundedSender<FetchMsg>>,
) -> Result<Fetched, Failed> {
    let mut backoff = Backoff::for_request(&job.policy.retry, job.seed, job.req.id);
    let mut attempt = 1u32;
    loop {
        let started = Instant::now();
        let mut meter = Meter { tx, job, last_bytes: 0, last_at: started, started_sent: false };
        let result = attempt_once(client, job, started, &mut meter).await;
        let duration_s = started.elapsed().as_secs_f64();
        let (status, bytes, ttfb_s, error) = match &result {
            Ok((f, status)) => {
                (Some(*status), f.body.len() as u64, Some(f.ttfb.as_secs_f64()), None)
            }
            Err((fail, ttfb)) => {
                (fail.status, fail.bytes, ttfb.map(|t| t.as_secs_f64()), Some(fail.error.clone()))
            }
        };
        let will_retry = error.as_ref().is_some_and(FetchError::retryable)
            && backoff.may_retry(attempt)
            // A steering 429 is the controller's to honour, not ours to retry.
            && !(job.req.kind == FetchKind::Steering && status == Some(429));
        if let Some(tx) = tx {
            let _ = tx.send(FetchMsg::Timing(RequestTiming {
                id: job.req.id,
                attempt,
                url: job.url.to_string(),
                pathway: job.req.pathway.clone(),
                kind: job.req.kind,
                status,
                bytes,
                ttfb_s,
                duration_s,
                error: error.as_ref().map(ToString::to_string),
                failure: error.as_ref().map(FetchError::kind),
                will_retry,
            }));
        }
        match result {
            Ok((f, _)) => return Ok(f),
            Err((fail, _)) if will_retry => {
                let delay = backoff.delay(attempt, fail.retry_after);
                tracing::debug!(id = job.req.id, attempt, ?delay, error = %fail.error, "retrying");
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            Err((fail, _)) => return Err(fail),
        }
    }
}

/// Throttled progress reporting.
struct Meter<'a> {
    tx: Option<&'a UnboundedSender<FetchMsg>>,
    job: &'a FetchJob,
    last_bytes: u64,
    last_at: Instant,
    started_sent: bool,
}

impl Meter<'_> {
    fn started(&mut self) {
        if !self.started_sent {
            self.started_sent = true;
            if let Some(tx) = self.tx {
                let _ = tx.send(FetchMsg::Started { id: self.job.req.id });
            }
        }
    }

    fn progress(&mut self, bytes: u64, ttfb: Duration) {
        if !matches!(self.job.req.kind, FetchKind::Media | FetchKind::Init) {
            return;
        }
        let now = Instant::now();
        if bytes.saturating_sub(self.last_bytes) >= self.job.progress_bytes.max(1)
            || now.duration_since(self.last_at) >= self.job.progress_interval
        {
            self.last_bytes = bytes;
            self.last_at = now;
            if let Some(tx) = self.tx {
                let _ = tx.send(FetchMsg::Progress { id: self.job.req.id, bytes, ttfb });
            }
        }
    }
}

fn limit(s: f64) -> Option<Duration> {
    (s.is_finite() && s > 0.0).then(|| Duration::from_secs_f64(s))
}

type AttemptError = (Failed, Option<Duration>);

fn failed(status: Option<u16>, bytes: u64, error: FetchError) -> Failed {
    Failed { status, bytes, retry_after: None, error }
}

fn describe(e: &reqwest::Error) -> String {
    // reqwest's Display omits the cause ("error sending request"): chain the sources.
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// The URL a redirect response points at, if it is to be followed.
fn redirect_target(
    from: &Url,
    location: Option<&reqwest::header::HeaderValue>,
    allowed: &HostAllowlist,
) -> Result<Url, FetchError> {
    let raw = location.ok_or_else(|| FetchError::RedirectRefused {
        location: String::new(),
        reason: "no Location header".into(),
    })?;
    let location = raw.to_str().map_err(|_| FetchError::RedirectRefused {
        location: String::from_utf8_lossy(raw.as_bytes()).into_owned(),
        reason: "the Location header is not ASCII".into(),
    })?;
    let refused =
        |reason: String| FetchError::RedirectRefused { location: location.to_string(), reason };
    let next = from.join(location).map_err(|e| refused(e.to_string()))?;
    if from.scheme() == "https" && next.scheme() != "https" {
        return Err(refused("a redirect from https to http is not followed".into()));
    }
    if !allowed.allows_url(&next) {
        return Err(refused(format!("{} is not an allowed host", next.host().unwrap_or(""))));
    }
    Ok(next)
}

async fn attempt_once(
    client: &reqwest::Client,
    job: &FetchJob,
    started: Instant,
    meter: &mut Meter<'_>,
) -> Result<(Fetched, u16), AttemptError> {
    let policy = &job.policy;
    let total = limit(policy.total_timeout_s);
    let deadline = total.map(|t| started + t);
    let ttfb_limit = match (limit(policy.ttfb_timeout_s), total) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let ttfb_deadline = ttfb_limit.map(|l| started + l);
    let mut url = job.url.clone();
    let mut redirects = 0u32;
    let resp = loop {
        // Only an `http-head` clock source is a HEAD: its answer is the Date header.
        let mut rb = if job.req.kind.is_head() {
            client.head(url.as_url().clone())
        } else {
            client.get(url.as_url().clone())
        };
        if let Some(range) = job.req.byte_range.and_then(|b| b.http_range()) {
            rb = rb.header(reqwest::header::RANGE, range);
        }
        for (name, value) in &job.headers {
            rb = rb.header(*name, value);
        }
        let sent = match ttfb_deadline {
            Some(at) => match tokio::time::timeout_at(at, rb.send()).await {
                Ok(r) => r,
                Err(_) => {
                    let l = ttfb_limit.unwrap_or_default();
                    let err = if Some(l) == total && limit(policy.ttfb_timeout_s) != Some(l) {
                        FetchError::TotalTimeout(l.as_secs_f64())
                    } else {
                        FetchError::TtfbTimeout(l.as_secs_f64())
                    };
                    return Err((failed(None, 0, err), None));
                }
            },
            None => rb.send().await,
        };
        let resp = sent.map_err(|e| (failed(None, 0, FetchError::Network(describe(&e))), None))?;
        if !matches!(resp.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
            break resp;
        }
        let status = Some(resp.status().as_u16());
        let ttfb = Some(started.elapsed());
        if redirects >= job.max_redirects {
            let err = FetchError::TooManyRedirects(job.max_redirects);
            return Err((failed(status, 0, err), ttfb));
        }
        let location = resp.headers().get(reqwest::header::LOCATION);
        url = redirect_target(&url, location, &job.allowed_hosts)
            .map_err(|e| (failed(status, 0, e), ttfb))?;
        redirects += 1;
        tracing::debug!(id = job.req.id, to = %url, "redirect");
    };
    let ttfb = started.elapsed();
    let status = resp.status().as_u16();
    let date = resp
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(64).collect::<String>());
    // A caller's own client may follow redirects before we see them: what it ended on
    // must pass the same rules, or the body is not used.
    let final_url = Url::from_fetched(resp.url().clone())
        .map_err(|e| e.to_string())
        .and_then(|u| {
            if job.allowed_hosts.allows_url(&u) {
                Ok(u)
            } else {
                Err(format!("{} is not an allowed host", u.host().unwrap_or("")))
            }
        })
        .map_err(|reason| {
            let location = resp.url().to_string();
            (failed(Some(status), 0, FetchError::RedirectRefused { location, reason }), Some(ttfb))
        })?;
    if !resp.status().is_success() {
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| read_retry_after(v, SystemTime::now()));
        let fail = Failed {
            status: Some(status),
            bytes: 0,
            retry_after,
            error: FetchError::Status(status),
        };
        return Err((fail, Some(ttfb)));
    }
    meter.started();
    let announced = resp.content_length();
    let range = job.req.byte_range.filter(|r| r.length > 0);
    // A server that ignores Range sends the whole resource: read up to the end of the
    // range and stop. Otherwise the body may not pass its limit.
    let (cap, stop_at_cap) = match range {
        Some(r) if status == 200 => (job.limits.for_range(r, false), true),
        Some(r) => (job.limits.for_range(r, true), false),
        None => (job.limits.for_request(&job.req), false),
    };
    let too_large =
        |got: u64| (failed(Some(status), got, FetchError::TooLarge { limit: cap }), Some(ttfb));
    if !stop_at_cap && announced.is_some_and(|n| n > cap) {
        return Err(too_large(0));
    }
    let reserve = announced.unwrap_or(0).min(cap).min(MAX_RESERVE);
    let mut buf = BytesMut::with_capacity(usize::try_from(reserve).unwrap_or(0));
    let mut stream = resp.bytes_stream();
    let idle = limit(policy.idle_timeout_s);
    let mut stopped_early = false;
    loop {
        let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let wait = match (idle, remaining) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let next = match wait {
            Some(w) => match tokio::time::timeout(w, stream.next()).await {
                Ok(n) => n,
                Err(_) => {
                    let err = if remaining == Some(w) {
                        FetchError::TotalTimeout(total.map_or(0.0, |t| t.as_secs_f64()))
                    } else {
                        FetchError::IdleTimeout(w.as_secs_f64())
                    };
                    return Err((failed(Some(status), buf.len() as u64, err), Some(ttfb)));
                }
            },
            None => stream.next().await,
        };
        match next {
            None => break,
            Some(Err(e)) => {
                let err = FetchError::Network(describe(&e));
                return Err((failed(Some(status), buf.len() as u64, err), Some(ttfb)));
            }
            Some(Ok(chunk)) => {
                let room = cap.saturating_sub(buf.len() as u64);
                if chunk.len() as u64 > room {
                    if !stop_at_cap {
                        return Err(too_large(buf.len() as u64));
                    }
                    buf.extend_from_slice(&chunk[..usize::try_from(room).unwrap_or(0)]);
                    stopped_early = true;
                    meter.progress(buf.len() as u64, ttfb);
                    break;
                }
                buf.extend_from_slice(&chunk);
                meter.progress(buf.len() as u64, ttfb);
            }
        }
    }
    let got = buf.len() as u64;
    if let Some(expected) = announced.filter(|n| got < *n && !stopped_early) {
        let err = FetchError::Truncated { got, expected };
        return Err((failed(Some(status), got, err), Some(ttfb)));
    }
    let mut body = buf.freeze();
    if let Some(range) = range {
        if status == 200 {
            // The server ignored the Range header and sent the whole resource.
            let end = range.offset.saturating_add(range.length);
            if got < end {
                let err = FetchError::Truncated { got, expected: end };
                return Err((failed(Some(status), got, err), Some(ttfb)));
            }
            body = body.slice(range.offset as usize..end as usize);
        } else if got < range.length {
            let err = FetchError::Truncated { got, expected: range.length };
            return Err((failed(Some(status), got, err), Some(ttfb)));
        }
    }
    let fetched = Fetched { body, final_url, ttfb, duration: started.elapsed(), date };
    Ok((fetched, status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn target(from: &str, location: &[u8], allowed: &HostAllowlist) -> Result<Url, FetchError> {
        let from = Url::parse(from).unwrap();
        let value = HeaderValue::from_bytes(location).unwrap();
        redirect_target(&from, Some(&value), allowed)
    }

    #[test]
    fn redirect_targets_follow_the_url_rules() {
        let any = HostAllowlist::any();
        let ok = target("https://a.example/v/m.m3u8", b"../w/m.m3u8", &any).unwrap();
        assert_eq!(ok, "https://a.example/w/m.m3u8");
        let refused = |from: &str, to: &[u8], allowed: &HostAllowlist, why: &str| match target(
            from, to, allowed,
        ) {
            Err(FetchError::RedirectRefused { reason, .. }) => {
                assert!(reason.contains(why), "{reason}")
            }
            other => panic!("{other:?}"),
        };
        refused("https://a.example/x", b"http://a.example/x", &any, "https to http");
        refused("https://a.example/x", b"https://e\\@a.example/x", &any, "backslash");
        refused("https://a.example/x", b"file:///etc/passwd", &any, "local file");
        refused("https://a.example/x", "https://caf\u{e9}.example/".as_bytes(), &any, "ASCII");
        let only = HostAllowlist::only(["a.example"]);
        refused("https://a.example/x", b"https://b.example/x", &only, "not an allowed host");
        assert!(matches!(
            redirect_target(&Url::parse("https://a.example/").unwrap(), None, &any),
            Err(FetchError::RedirectRefused { .. })
        ));
    }
}
