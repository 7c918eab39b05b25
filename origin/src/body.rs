//! Response bodies as the network delivers them: paced by the pathway's link and by a
//! slow-drip fault, stalled, or cut short (connection closed or reset) by faults, and
//! logged when they end however they end.

use crate::connection::{ConnControl, Cut};
use crate::log::{RequestLog, RequestLogEntry};
use crate::shaping::Link;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Chunk size when the link is not shaped.
const UNSHAPED_CHUNK: usize = 64 * 1024;

/// How long to wait before cutting a connection, so that the bytes already handed to
/// the connection reach the socket first (hyper flushes when the body pauses).
const FLUSH_BEFORE_CUT: Duration = Duration::from_millis(50);

/// Writes a request's log entry when dropped: on completion, on a fault, or when the
/// connection goes away under it.
pub struct LogGuard {
    log: Arc<RequestLog>,
    entry: Option<RequestLogEntry>,
    started: Instant,
    /// The pathway's outage state, to label bodies an outage killed.
    down: watch::Receiver<bool>,
    /// Bytes the body holds (0 for HEAD).
    body_len: u64,
}

impl LogGuard {
    /// A guard for `entry`; the request arrived at `started`.
    pub fn new(
        log: Arc<RequestLog>,
        entry: RequestLogEntry,
        started: Instant,
        down: watch::Receiver<bool>,
    ) -> Self {
        let body_len = if entry.method == "HEAD" { 0 } else { entry.content_length };
        LogGuard { log, entry: Some(entry), started, down, body_len }
    }

    fn add_bytes(&mut self, n: usize) {
        if let Some(e) = &mut self.entry {
            e.bytes_sent += n as u64;
        }
    }

    fn set_complete(&mut self) {
        if let Some(e) = &mut self.entry {
            e.complete = true;
        }
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        if let Some(mut e) = self.entry.take() {
            e.duration_s = self.started.elapsed().as_secs_f64();
            // hyper stops polling a body once Content-Length bytes are out, so the
            // end of the stream is not always seen: count bytes instead.
            e.complete |= e.bytes_sent >= self.body_len;
            if !e.complete && e.fault.is_none() && *self.down.borrow() {
                e.fault = Some("outage".into());
            }
            self.log.record(e);
        }
    }
}

/// Everything that decides how a body is delivered.
pub struct BodyPlan {
    /// The bytes to send (already cut to the requested range).
    pub data: Bytes,
    /// Close or reset the connection once this many bytes are sent.
    pub cut: Option<(usize, Cut)>,
    /// Pause this long once this many bytes are sent.
    pub stall: Option<(usize, Duration)>,
    /// Send no faster than this, bytes per second.
    pub drip_bytes_per_s: Option<f64>,
    /// The pathway's shared link, if shaped.
    pub link: Option<Arc<Link>>,
    /// The origin's time zero (the link's clock).
    pub origin_start: Instant,
    /// The connection, to cut it.
    pub conn: Arc<ConnControl>,
    /// The log entry to write when the body ends.
    pub log: LogGuard,
}

struct Sender {
    plan: BodyPlan,
    pos: usize,
}

impl Sender {
    /// How many bytes the next chunk may hold, before pacing.
    fn chunk_limit(&self, now_s: f64) -> usize {
        let p = &self.plan;
        let mut n = p.link.as_ref().map_or(UNSHAPED_CHUNK, |l| l.chunk_bytes(now_s));
        if let Some(rate) = p.drip_bytes_per_s {
            // About 50 ms of drip per chunk.
            n = n.min((rate * 0.05).max(1.0) as usize);
        }
        for at in [p.cut.map(|c| c.0), p.stall.map(|s| s.0)].into_iter().flatten() {
            if at > self.pos {
                n = n.min(at - self.pos);
            }
        }
        n.min(p.data.len() - self.pos).max(1)
    }

    async fn next(mut self) -> Option<(Result<Bytes, std::io::Error>, Sender)> {
        if let Some((at, pause)) = self.plan.stall
            && self.pos >= at
        {
            self.plan.stall = None;
            tokio::time::sleep(pause).await;
        }
        if let Some((at, cut)) = self.plan.cut
            && self.pos >= at
        {
            tokio::time::sleep(FLUSH_BEFORE_CUT).await;
            self.plan.conn.cut(cut);
            // The connection task drops this body with the connection.
            std::future::pending::<()>().await;
        }
        if self.pos >= self.plan.data.len() {
            self.plan.log.set_complete();
            return None;
        }
        let now_s = self.plan.origin_start.elapsed().as_secs_f64();
        let n = self.chunk_limit(now_s);
        if let Some(link) = &self.plan.link {
            let done_s =
                if self.pos == 0 { link.book_first(now_s, n) } else { link.book(now_s, n) };
            tokio::time::sleep_until(self.plan.origin_start + Duration::from_secs_f64(done_s))
                .await;
        }
        if let Some(rate) = self.plan.drip_bytes_per_s.filter(|r| *r > 0.0) {
            tokio::time::sleep(Duration::from_secs_f64(n as f64 / rate)).await;
        }
        let chunk = self.plan.data.slice(self.pos..self.pos + n);
        self.pos += n;
        self.plan.log.add_bytes(n);
        Some((Ok(chunk), self))
    }
}

/// The body as a stream for `axum::body::Body::from_stream`.
pub fn stream(
    plan: BodyPlan,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::unfold(Sender { plan, pos: 0 }, Sender::next)
}
