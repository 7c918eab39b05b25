//! What the media pipeline adds to a session's QoE: frames shown and dropped, decode
//! cost, and how well video kept to the audio clock.

use serde::{Deserialize, Serialize};

/// Playback figures from a decoding pipeline (absent from simulated sessions and from
/// players whose sink does not decode).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlaybackStats {
    /// Video frames out of the decoder.
    pub frames_decoded: u64,
    /// Video frames shown.
    pub frames_presented: u64,
    /// Video frames dropped because they were late (a later frame was already due).
    pub frames_dropped: u64,
    /// Video frames the decoder could not decode (corrupt input), skipped.
    pub decode_errors: u64,
    /// Mean video decode time per frame, milliseconds.
    pub decode_ms_mean: f64,
    /// 95th percentile of video decode time per frame, milliseconds.
    pub decode_ms_p95: f64,
    /// Mean render time per shown frame (upload, convert, draw), milliseconds.
    pub render_ms_mean: f64,
    /// Largest |audio clock − frame time| when a frame was shown, milliseconds.
    pub av_drift_ms_max: f64,
    /// 99th percentile of |audio clock − frame time| over shown frames, milliseconds.
    pub av_drift_ms_p99: f64,
    /// Mean |audio clock − frame time| over shown frames, milliseconds.
    pub av_drift_ms_mean: f64,
    /// Audio frames (per channel) decoded.
    pub audio_frames_decoded: u64,
    /// Times the audio output ran dry while playing.
    pub audio_underruns: u64,
    /// Where each audio underrun happened: the media position (presentation
    /// seconds) at which the output ran dry, in the order they happened. Bounded (the
    /// media pipeline keeps the first 100) so that a report stays small however often
    /// a session starves; `audio_underruns` counts them all. Absent (empty) in
    /// reports written before it existed.
    #[serde(default)]
    pub audio_underrun_at_s: Vec<f64>,
    /// Decoders opened (one per rendition switch that changed the configuration).
    pub decoders_opened: u64,
    /// Frames written as images (`--dump-frames`).
    pub frames_dumped: u64,
}
