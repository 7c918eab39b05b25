//! Listeners and connections, with the power to kill them: an outage resets every
//! connection of a pathway at once (bodies in flight included) and refuses new ones,
//! and a fault can close or reset the one connection it happens on.
//!
//! axum's `serve` owns its connections, so the origin runs its own accept loop over
//! hyper-util and keeps, per connection, a duplicate of the socket's descriptor: to
//! reset a connection it sets `SO_LINGER` to zero on it and drops the connection, so
//! the peer sees an RST rather than a clean end.

use axum::body::Body as ResponseBody;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// How a fault ends a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Close cleanly (FIN): the client sees the body end early.
    Close,
    /// Reset (RST): the client sees a connection reset.
    Reset,
}

/// A handle on one connection, given to its requests.
#[derive(Debug)]
pub struct ConnControl {
    cut: watch::Sender<Option<Cut>>,
}

impl ConnControl {
    fn new() -> Self {
        ConnControl { cut: watch::channel(None).0 }
    }

    /// Ends the connection now.
    pub fn cut(&self, how: Cut) {
        self.cut.send_replace(Some(how));
    }
}

/// Resets `stream` now: linger zero, then close.
pub fn reset(stream: TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    drop(stream);
}

/// Serves one connection with `service` until it ends, the pathway goes down
/// (`down` becomes true), a request cuts it, or `shutdown` becomes true.
pub async fn serve<F, Fut>(
    stream: TcpStream,
    down: watch::Receiver<bool>,
    shutdown: watch::Receiver<bool>,
    service: F,
) where
    F: Fn(hyper::Request<Incoming>, Arc<ConnControl>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = hyper::Response<ResponseBody>> + Send + 'static,
{
    let _ = stream.set_nodelay(true);
    // A second descriptor for the same socket, to set SO_LINGER after hyper owns it.
    let (stream, guard) = match stream.into_std().and_then(|s| {
        let guard = s.try_clone()?;
        Ok((TcpStream::from_std(s)?, guard))
    }) {
        Ok(pair) => pair,
        Err(e) => {
            tracing::warn!(error = %e, "cannot take over an accepted connection");
            return;
        }
    };
    let ctl = Arc::new(ConnControl::new());
    let mut cut_rx = ctl.cut.subscribe();
    let service = Arc::new(service);
    let svc = {
        let ctl = Arc::clone(&ctl);
        hyper::service::service_fn(move |req| {
            let fut = service(req, Arc::clone(&ctl));
            async move { Ok::<_, Infallible>(fut.await) }
        })
    };
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection(TokioIo::new(stream), svc);
    let (mut down, mut shutdown) = (down, shutdown);
    let how = tokio::select! {
        result = conn => {
            if let Err(e) = result {
                tracing::trace!(error = %e, "connection ended with an error");
            }
            return;
        }
        _ = async { let _ = down.wait_for(|d| *d).await; } => Cut::Reset,
        _ = async { let _ = cut_rx.wait_for(Option::is_some).await; } => {
            let how = *cut_rx.borrow();
            how.unwrap_or(Cut::Close)
        }
        _ = async { let _ = shutdown.wait_for(|s| *s).await; } => Cut::Close,
    };
    if how == Cut::Reset {
        let _ = socket2::SockRef::from(&guard).set_linger(Some(Duration::ZERO));
    }
    // The connection (hyper's descriptor) is gone with the select; dropping the
    // duplicate closes the socket.
    drop(guard);
}

/// Accepts connections until `shutdown`; while `down` is true, resets each at once.
/// `on_refused` is told about every connection refused that way.
pub async fn accept_loop<F, Fut>(
    listener: TcpListener,
    down: watch::Receiver<bool>,
    mut shutdown: watch::Receiver<bool>,
    on_refused: impl Fn() + Send + 'static,
    service: F,
) where
    F: Fn(hyper::Request<Incoming>, Arc<ConnControl>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = hyper::Response<ResponseBody>> + Send + 'static,
{
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = async { let _ = shutdown.wait_for(|s| *s).await; } => break,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                // Out of descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        if *down.borrow() {
            on_refused();
            reset(stream);
            continue;
        }
        tokio::spawn(serve(stream, down.clone(), shutdown.clone(), service.clone()));
    }
}
