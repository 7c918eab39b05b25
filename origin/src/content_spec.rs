//! What test content to make: duration, segment length, the video ladder, the audio
//! rendition and the video codec. A spec's [`tag`](ContentSpec::tag) names its cache
//! folder, and the spec is stored in `content.json` so a folder is reused only for the
//! exact spec that made it.

use serde::{Deserialize, Serialize};

/// The video codec of every rung.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VideoCodec {
    /// H.264 High profile with libx264 (`veryfast`, capped VBR via maxrate/bufsize).
    H264,
    /// AV1 with libsvtav1 (preset 12, VBR).
    Av1,
}

impl VideoCodec {
    /// Short lowercase name (`h264`, `av1`), as in the spec tag.
    pub fn name(self) -> &'static str {
        match self {
            VideoCodec::H264 => "h264",
            VideoCodec::Av1 => "av1",
        }
    }
}

/// One video rung to encode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RungSpec {
    /// Width in pixels (even).
    pub width: u32,
    /// Height in pixels (even).
    pub height: u32,
    /// Target bitrate, kbit/s.
    pub bitrate_kbps: u32,
}

/// The audio rendition to encode (AAC-LC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AudioSpec {
    /// Target bitrate, kbit/s. Default 128.
    pub bitrate_kbps: u32,
    /// Sample rate, Hz. Default 48000.
    pub sample_rate: u32,
    /// Channels. Default 2.
    pub channels: u32,
}

impl Default for AudioSpec {
    fn default() -> Self {
        AudioSpec { bitrate_kbps: 128, sample_rate: 48_000, channels: 2 }
    }
}

/// What [`ensure_content`](crate::content::ensure_content) makes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContentSpec {
    /// Total duration, seconds; a whole number of segments. Default 60.
    pub duration_s: f64,
    /// Segment (and GOP) duration, seconds. Default 2.
    pub segment_duration_s: f64,
    /// Frames per second; `frame_rate × segment_duration_s` must be whole (the GOP
    /// length). Default 30.
    pub frame_rate: u32,
    /// Video codec of every rung. Default AV1: on the 2-core reference machine the
    /// default ladder took 57 s with libsvtav1 (preset 12) against 86 s with x264
    /// `veryfast` (about 51 MB either way), and the native media pipeline wants
    /// AV1 + AAC content.
    pub video_codec: VideoCodec,
    /// Video rungs in ascending bitrate. Default 640x360 @ 400, 960x540 @ 900,
    /// 1280x720 @ 1800 and 1920x1080 @ 3500 kbit/s.
    pub rungs: Vec<RungSpec>,
    /// The audio rendition. Default AAC 128 kbit/s, 48 kHz stereo.
    pub audio: AudioSpec,
    /// H.264 only: let x264 use B-frames (its default; true). They delay every frame's
    /// presentation by two frames, which the init segment's edit list takes back; Media
    /// Source Extensions in Chromium ignore that edit list, so the media starts 0.067 s
    /// after the manifests' timeline, and dash.js 5.2 then stalls 0.5 s before the end
    /// (seen in `web/compare`). False makes content every browser player plays alike.
    /// Left out of the JSON (and so of [`tag`](Self::tag)) when true.
    #[serde(skip_serializing_if = "is_true")]
    pub b_frames: bool,
}

fn is_true(value: &bool) -> bool {
    *value
}

impl Default for ContentSpec {
    fn default() -> Self {
        let rung = |width, height, bitrate_kbps| RungSpec { width, height, bitrate_kbps };
        ContentSpec {
            duration_s: 60.0,
            segment_duration_s: 2.0,
            frame_rate: 30,
            video_codec: VideoCodec::Av1,
            rungs: vec![
                rung(640, 360, 400),
                rung(960, 540, 900),
                rung(1280, 720, 1800),
                rung(1920, 1080, 3500),
            ],
            audio: AudioSpec::default(),
            b_frames: true,
        }
    }
}

impl ContentSpec {
    /// The end-to-end test ladder: 40 s of H.264 High (x264 `veryfast`, so with
    /// B-frames) + AAC, 2 s segments, four small rungs (180p–480p at 400–3,500 kbit/s),
    /// quick to make and to decode. One definition, so that every test and benchmark
    /// that uses it shares one cached copy.
    pub fn e2e_h264() -> Self {
        let rung = |width, height, bitrate_kbps| RungSpec { width, height, bitrate_kbps };
        ContentSpec {
            duration_s: 40.0,
            segment_duration_s: 2.0,
            video_codec: VideoCodec::H264,
            rungs: vec![
                rung(320, 180, 400),
                rung(480, 270, 900),
                rung(640, 360, 1800),
                rung(854, 480, 3500),
            ],
            ..ContentSpec::default()
        }
    }

    /// The media pipeline's end-to-end ladder: 40 s of AV1 + AAC, 2 s segments, three
    /// rungs (144p–360p at 200–1,000 kbit/s), small so that decoding and drawing in real
    /// time leaves a loaded 2-core machine room.
    pub fn e2e_av1_small() -> Self {
        let rung = |width, height, bitrate_kbps| RungSpec { width, height, bitrate_kbps };
        ContentSpec {
            duration_s: 40.0,
            segment_duration_s: 2.0,
            video_codec: VideoCodec::Av1,
            rungs: vec![rung(256, 144, 200), rung(426, 240, 500), rung(640, 360, 1000)],
            ..ContentSpec::default()
        }
    }

    /// The demo's committed asset (`origin/assets/demo/`): 20 s of AV1 + AAC, 2 s
    /// segments at 24 fps, four rungs from 144p to 480p at 120–1,000 kbit/s and 64 kbit/s
    /// audio — about 5 MB, small enough to commit, and looped by
    /// [`loop_content`](crate::content::loop_content) into a longer presentation.
    /// Bitrates low enough that a real 3G trace moves the ABR rule between rungs.
    pub fn demo_asset() -> Self {
        let rung = |width, height, bitrate_kbps| RungSpec { width, height, bitrate_kbps };
        ContentSpec {
            duration_s: 20.0,
            segment_duration_s: 2.0,
            frame_rate: 24,
            video_codec: VideoCodec::Av1,
            rungs: vec![
                rung(256, 144, 120),
                rung(426, 240, 280),
                rung(640, 360, 550),
                rung(854, 480, 1000),
            ],
            audio: AudioSpec { bitrate_kbps: 64, ..AudioSpec::default() },
            b_frames: true,
        }
    }

    /// Segments per rendition.
    pub fn segment_count(&self) -> usize {
        // `check` guarantees a positive whole number; the rounding absorbs float noise.
        (self.duration_s / self.segment_duration_s).round() as usize
    }

    /// Frames per GOP (= per segment).
    pub fn gop_frames(&self) -> u32 {
        (f64::from(self.frame_rate) * self.segment_duration_s).round() as u32
    }

    /// A folder name that identifies this spec: codec, duration, segment length, rung
    /// count and a hash of the whole spec (`av1-60s-2s-4r-1a2b3c4d`).
    pub fn tag(&self) -> String {
        // FNV-1a over the JSON form: stable across runs and platforms, unlike std's
        // randomly keyed hasher.
        let json = serde_json::to_string(self).unwrap_or_default();
        let hash =
            json.bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
        format!(
            "{}-{}s-{}s-{}r-{hash:08x}",
            self.video_codec.name(),
            self.duration_s,
            self.segment_duration_s,
            self.rungs.len()
        )
    }

    /// Checks the spec can be encoded as asked; the error says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        if !(self.segment_duration_s > 0.0 && self.segment_duration_s.is_finite()) {
            return Err(format!(
                "segment_duration_s must be positive, not {}",
                self.segment_duration_s
            ));
        }
        if !(self.duration_s >= self.segment_duration_s && self.duration_s <= 86_400.0) {
            return Err(format!(
                "duration_s must be at least one segment ({} s) and at most a day, not {}",
                self.segment_duration_s, self.duration_s
            ));
        }
        let segments = self.duration_s / self.segment_duration_s;
        if (segments - segments.round()).abs() > 1e-9 {
            return Err(format!(
                "duration_s {} is not a whole number of {} s segments",
                self.duration_s, self.segment_duration_s
            ));
        }
        if self.frame_rate == 0 || self.frame_rate > 240 {
            return Err(format!("frame_rate must be 1..=240, not {}", self.frame_rate));
        }
        let gop = f64::from(self.frame_rate) * self.segment_duration_s;
        if (gop - gop.round()).abs() > 1e-9 {
            return Err(format!(
                "{} fps × {} s segments is not a whole number of frames, so GOPs cannot align",
                self.frame_rate, self.segment_duration_s
            ));
        }
        if self.rungs.is_empty() {
            return Err("at least one video rung is needed".into());
        }
        for (i, r) in self.rungs.iter().enumerate() {
            if r.width < 16 || r.height < 16 || r.width % 2 != 0 || r.height % 2 != 0 {
                return Err(format!(
                    "rung {i}: {}x{} must be even and at least 16x16",
                    r.width, r.height
                ));
            }
            if r.width > 7680 || r.height > 4320 {
                return Err(format!("rung {i}: {}x{} is larger than 8K", r.width, r.height));
            }
            if r.bitrate_kbps == 0 {
                return Err(format!("rung {i}: bitrate_kbps must be positive"));
            }
        }
        if self.rungs.windows(2).any(|w| w[0].bitrate_kbps >= w[1].bitrate_kbps) {
            return Err("rungs must be in strictly ascending bitrate".into());
        }
        let a = &self.audio;
        if a.bitrate_kbps == 0
            || a.channels == 0
            || a.channels > 8
            || !(8_000..=96_000).contains(&a.sample_rate)
        {
            return Err(format!(
                "audio needs a positive bitrate, 1..=8 channels and 8..96 kHz, not {} kbit/s, {} ch, {} Hz",
                a.bitrate_kbps, a.channels, a.sample_rate
            ));
        }
        Ok(())
    }
}
