//! The decoding pipeline: one thread decodes audio and feeds the output (the master
//! clock), one decodes video and presents frames against that clock, rendering them
//! with wgpu. Segments arrive demuxed ([`Chunk`]); the caller (the player's
//! [`DecodingSink`](crate::sink::DecodingSink), a benchmark, a test) never blocks on
//! decoding.

mod audio;
mod chunk;
mod stats;
mod video;

pub use chunk::Chunk;
pub use stats::{MAX_UNDERRUN_POSITIONS, StatsHandle};

use crate::audio::AudioOutputConfig;
use crate::clock::Clock;
use crate::render::{RenderConfig, RenderError, Renderer};
use crate::sync::{MasterClock, PresenterConfig};
use crate::video::Decoders;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::thread::JoinHandle;
use streamsteer::qoe::PlaybackStats;
use thiserror::Error;

/// Where decoded pictures go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RenderMode {
    /// Decode and present (for timing and drops) but draw nothing.
    None,
    /// Draw into an offscreen texture (tests, frame dumps, headless machines).
    #[default]
    Offscreen,
    /// Draw into a window: the caller makes the renderer on the thread that owns the
    /// window and hands it over with [`Pipeline::with_renderer`].
    #[cfg(feature = "window")]
    Window,
}

/// Settings of the pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// Where pictures go (default offscreen).
    pub render: RenderMode,
    /// Renderer settings (output size, backend).
    pub renderer: RenderConfig,
    /// Frame timing.
    pub presenter: PresenterConfig,
    /// Audio output queue.
    pub audio_output: AudioOutputConfig,
    /// Write every `dump_every`-th shown frame as a PNG into this folder (default none).
    pub dump_dir: Option<PathBuf>,
    /// See `dump_dir` (default 30: about one picture a second at 30 fps).
    pub dump_every: u64,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            render: RenderMode::Offscreen,
            renderer: RenderConfig::default(),
            presenter: PresenterConfig::default(),
            audio_output: AudioOutputConfig::default(),
            dump_dir: None,
            dump_every: 30,
        }
    }
}

/// Why the pipeline could not start.
#[derive(Debug, Error)]
pub enum PipelineError {
    /// The renderer could not start (no GPU adapter, no device).
    #[error("renderer: {0}")]
    Render(#[from] RenderError),
    /// The frame dump folder could not be made.
    #[error("cannot create the frame dump folder {path}: {source}")]
    DumpDir {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A worker thread could not be spawned.
    #[error("cannot start a pipeline thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// What every worker thread shares with the pipeline handle.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) master: Arc<MasterClock>,
    pub(crate) stats: StatsHandle,
    /// Bumped by a flush: chunks of an older epoch are dropped unseen.
    pub(crate) epoch: Arc<AtomicU64>,
    /// Tells the workers to stop between packets, even with work queued.
    pub(crate) stop: Arc<AtomicBool>,
}

pub(crate) enum Msg {
    Chunk(Chunk),
    Play,
    Pause,
    Flush,
}

/// The running pipeline; dropping it stops and joins its threads.
pub struct Pipeline {
    audio_tx: Option<Sender<Msg>>,
    video_tx: Option<Sender<Msg>>,
    master: Arc<MasterClock>,
    stats: StatsHandle,
    epoch: Arc<AtomicU64>,
    /// Tells the workers to stop between packets, even with work queued.
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    audio_seen: bool,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").field("master", &self.master).finish_non_exhaustive()
    }
}

impl Pipeline {
    /// Starts the threads. The renderer is made here, so that a machine without a
    /// usable GPU fails now with a typed error rather than on the first frame.
    pub fn new(
        config: PipelineConfig,
        decoders: Decoders,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, PipelineError> {
        let renderer = match config.render {
            RenderMode::None => None,
            RenderMode::Offscreen => Some(Renderer::offscreen(config.renderer)?),
            #[cfg(feature = "window")]
            RenderMode::Window => {
                return Err(PipelineError::Render(RenderError::Config(
                    "RenderMode::Window needs a renderer: use Pipeline::with_renderer".into(),
                )));
            }
        };
        Self::start(config, decoders, clock, renderer)
    }

    /// Starts the threads with a renderer made by the caller (a window target, whose
    /// window must be created on the event-loop thread); `config.render` is not
    /// consulted. The renderer moves to the video thread.
    pub fn with_renderer(
        config: PipelineConfig,
        decoders: Decoders,
        clock: Arc<dyn Clock>,
        renderer: Renderer,
    ) -> Result<Self, PipelineError> {
        Self::start(config, decoders, clock, Some(renderer))
    }

    fn start(
        config: PipelineConfig,
        decoders: Decoders,
        clock: Arc<dyn Clock>,
        renderer: Option<Renderer>,
    ) -> Result<Self, PipelineError> {
        if let Some(dir) = &config.dump_dir {
            std::fs::create_dir_all(dir)
                .map_err(|source| PipelineError::DumpDir { path: dir.clone(), source })?;
        }
        let master = Arc::new(MasterClock::new(clock.clone()));
        let stats = StatsHandle::default();
        let epoch = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (audio_tx, audio_rx) = channel();
        let (video_tx, video_rx) = channel();
        let shared = Shared {
            master: master.clone(),
            stats: stats.clone(),
            epoch: epoch.clone(),
            stop: stop.clone(),
        };
        let audio =
            audio::AudioWorker::new(audio_rx, clock, shared.clone(), config.audio_output.clone());
        let video = video::VideoWorker::new(video_rx, decoders, renderer, shared, &config);
        let spawn = |name: &str| std::thread::Builder::new().name(name.to_string());
        let threads = vec![
            spawn("streamsteer-audio").spawn(move || audio.run()).map_err(PipelineError::Thread)?,
            spawn("streamsteer-video").spawn(move || video.run()).map_err(PipelineError::Thread)?,
        ];
        Ok(Self {
            audio_tx: Some(audio_tx),
            video_tx: Some(video_tx),
            master,
            stats,
            epoch,
            stop,
            threads,
            audio_seen: false,
        })
    }

    fn send_both(&self, make: impl Fn() -> Msg) {
        for tx in [&self.audio_tx, &self.video_tx].into_iter().flatten() {
            // A worker that exited (it only does when the pipeline drops) has nothing
            // left to tell.
            let _ = tx.send(make());
        }
    }

    /// Queue a demuxed segment for decoding.
    pub fn push(&mut self, chunk: Chunk) {
        let tx = if chunk.is_audio() {
            self.audio_seen = true;
            &self.audio_tx
        } else {
            &self.video_tx
        };
        if let Some(tx) = tx {
            let _ = tx.send(Msg::Chunk(chunk.with_epoch(self.epoch.load(Ordering::SeqCst))));
        }
    }

    /// Start or resume playback.
    pub fn play(&mut self) {
        if !self.audio_seen {
            // Video only: the clock runs free from where it stands.
            let now = self.master.media_us().unwrap_or(0);
            self.master.set(now, true, i64::MAX);
        }
        self.send_both(|| Msg::Play);
    }

    /// Pause playback.
    pub fn pause(&mut self) {
        if !self.audio_seen
            && let Some(now) = self.master.media_us()
        {
            self.master.set(now, false, i64::MAX);
        }
        self.send_both(|| Msg::Pause);
    }

    /// Drop everything queued and decoded (a seek); chunks pushed before this call
    /// are discarded even if their thread has not seen them yet.
    pub fn flush(&mut self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.master.clear();
        self.send_both(|| Msg::Flush);
    }

    /// The master clock: media time of what is being heard (seen, without audio).
    pub fn master(&self) -> &Arc<MasterClock> {
        &self.master
    }

    /// Figures so far.
    pub fn stats(&self) -> PlaybackStats {
        self.stats.snapshot()
    }

    /// The shared statistics (e.g. for a status line on another thread).
    pub fn stats_handle(&self) -> StatsHandle {
        self.stats.clone()
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.audio_tx = None;
        self.video_tx = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
