//! A two-CDN test origin for streamsteer (see the README).
#![warn(missing_docs)]

pub mod body;
pub mod boxes;
pub mod config;
pub mod connection;
pub mod content;
pub mod content_spec;
pub mod control;
pub mod error;
pub mod faults;
mod ffmpeg;
pub mod live;
pub mod log;
pub mod manifests;
pub mod on_demand;
pub mod paths;
pub mod renditions;
pub mod responder;
pub mod server;
pub mod shaping;
pub mod sim_model;
pub mod steering_server;
pub mod store;

pub use config::{
    CloneConfig, LiveConfig, LogConfig, OriginConfig, PathwayConfig, PriorityStep, SteeringConfig,
    SteeringStatus, TraceSource,
};
pub use error::OriginError;
pub use faults::{Fault, FaultKind, RequestKind, TimeWindow};
pub use log::RequestLogEntry;
pub use paths::{SteeringProtocol, Stream};
pub use server::{ContentSource, Origin, OriginHandle};
