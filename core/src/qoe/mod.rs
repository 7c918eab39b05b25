//! Quality of experience: the per-segment event log, the serialisable report and the
//! accumulator that computes it as segments arrive.
//!
//! Metric definitions follow the MPC (Yin et al., SIGCOMM 2015) and Pensieve (Mao et
//! al., SIGCOMM 2017) papers so that our numbers compare with the literature:
//! per segment *n* with bitrate `R_n` (kbit/s) and rebuffering `T_n` (s) incurred while
//! fetching it,
//!
//! - QoE_lin: `R_n/1000 − 4.3·T_n − |R_n − R_{n−1}|/1000`
//! - QoE_log: `q(R_n) − 2.66·T_n − |q(R_n) − q(R_{n−1})|` with `q(R) = ln(R / R_min)`
//! - QoE_HD:  `h(R_n) − 8·T_n − |h(R_n) − h(R_{n−1})|` with Pensieve's HD reward map
//!
//! Reported as the mean over segments 2…N: the first segment's rebuffering is the
//! startup delay, which Pensieve excludes and we report separately.

mod accumulator;
mod playback;
mod report;

pub use accumulator::QoeAccumulator;
pub use playback::PlaybackStats;
pub use report::{PathwayUsage, QoeReport, QoeWeights, SegmentRecord};
