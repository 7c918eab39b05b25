//! # streamsteer examples
//!
//! Nothing to link against: this package exists for its runnable examples, each a
//! complete program an app developer can copy (see `examples/` beside this file and the
//! README's "Examples" section):
//!
//! - `session_by_hand`: the sans-IO engine driven by a blocking loop and a tiny
//!   HTTP/1.1 client, every action and event printed;
//! - `native_player`: `streamsteer_net::Player`, its events and the QoE report;
//! - `custom_abr`: an ABR rule written in user code, compared with the built-in ones
//!   by the simulator over real network traces;
//! - `two_cdn_steering`: two CDN pathways, content steering and a failover when the
//!   preferred CDN goes down.
//!
//! `cargo run -p streamsteer-examples --example <name>`; each finishes by itself and
//! exits non-zero when what it demonstrates did not happen, so CI runs them all.
#![forbid(unsafe_code)]
