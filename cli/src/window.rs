//! `streamsteer play URL --window`: the picture in an X11 window.
//!
//! winit wants its event loop on the main thread, so the roles are split: the main
//! thread owns the window and runs the event loop; a background thread runs the tokio
//! runtime and the player, whose video thread draws into the window's surface. Resizes
//! reach the renderer through a shared [`WindowSize`] it reads before each frame;
//! closing the window stops the player, and the player finishing closes the window.

use crate::play::{self, Args};
use std::sync::Arc;
use std::thread::JoinHandle;
use streamsteer_media::render::{Gpu, RenderError, Renderer, WindowSize, WindowTarget};
use streamsteer_media::video::Decoders;
use streamsteer_media::{Pipeline, PipelineError, RenderMode, SystemClock};
use thiserror::Error;
use tokio::sync::Notify;
use winit::application::ApplicationHandler;
use winit::dpi::PhysicalSize;
use winit::event::WindowEvent;
use winit::event_loop::{ActiveEventLoop, EventLoop, EventLoopProxy};
use winit::window::{Window, WindowId};

/// Why the window could not be shown.
#[derive(Debug, Error)]
pub enum WindowError {
    /// Neither `DISPLAY` nor `WAYLAND_DISPLAY` names a display to open the window on.
    #[error("no display (DISPLAY is not set): use --render offscreen")]
    NoDisplay,
    /// Only the X11 backend is built in; a Wayland session needs XWayland's `DISPLAY`.
    #[error(
        "no X11 display (only WAYLAND_DISPLAY is set; this build speaks X11): use --render offscreen"
    )]
    WaylandOnly,
    /// winit could not connect to the display or run its event loop.
    #[error("window system: {0}")]
    EventLoop(#[from] winit::error::EventLoopError),
    /// The window could not be created.
    #[error("cannot create the window: {0}")]
    Create(#[from] winit::error::OsError),
    /// The GPU, the surface or the renderer could not be set up.
    #[error("renderer: {0}")]
    Render(#[from] RenderError),
    /// The decoding pipeline did not start.
    #[error("pipeline: {0}")]
    Pipeline(#[from] PipelineError),
    /// The player thread could not be started.
    #[error("cannot start the player thread: {0}")]
    Thread(#[source] std::io::Error),
    /// The player thread panicked.
    #[error("the player thread panicked")]
    PlayerPanicked,
}

/// Messages from the player thread to the event loop.
#[derive(Debug)]
enum UserEvent {
    /// Playback is over (ended, `--duration`, window closed or failed); the renderer
    /// and its surface are already dropped.
    Done,
}

/// Plays `args.url` in a window; returns when playback ends or the window is closed.
pub fn run(args: Args) -> Result<(), String> {
    run_window(args).map_err(|e| e.to_string())?
}

fn run_window(args: Args) -> Result<Result<(), String>, WindowError> {
    check_display()?;
    let event_loop = EventLoop::<UserEvent>::with_user_event().build()?;
    let mut app = App {
        args: Some(args),
        proxy: event_loop.create_proxy(),
        window: None,
        size: WindowSize::default(),
        close: Arc::new(Notify::new()),
        player: None,
        error: None,
    };
    event_loop.run_app(&mut app)?;
    if let Some(error) = app.error.take() {
        app.close.notify_one();
        if let Some(player) = app.player.take() {
            let _ = player.join();
        }
        return Err(error);
    }
    match app.player.take() {
        Some(player) => player.join().map_err(|_| WindowError::PlayerPanicked),
        None => Ok(Ok(())),
    }
}

/// Fails fast, with a hint, where winit would otherwise fail with an opaque message.
fn check_display() -> Result<(), WindowError> {
    let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    match (set("DISPLAY"), set("WAYLAND_DISPLAY")) {
        (true, _) => Ok(()),
        (false, true) => Err(WindowError::WaylandOnly),
        (false, false) => Err(WindowError::NoDisplay),
    }
}

struct App {
    /// Taken when the player starts.
    args: Option<Args>,
    proxy: EventLoopProxy<UserEvent>,
    window: Option<Arc<Window>>,
    size: WindowSize,
    /// Notified when the window is closed: the player stops.
    close: Arc<Notify>,
    player: Option<JoinHandle<Result<(), String>>>,
    error: Option<WindowError>,
}

impl App {
    fn start(&mut self, event_loop: &ActiveEventLoop) -> Result<(), WindowError> {
        let Some(args) = self.args.take() else { return Ok(()) };
        let attributes = Window::default_attributes()
            .with_title(format!("streamsteer — {}", args.url))
            .with_inner_size(PhysicalSize::new(args.width.max(16), args.height.max(16)));
        let window = Arc::new(event_loop.create_window(attributes)?);
        self.window = Some(Arc::clone(&window));
        let mut config = play::pipeline_config(&args);
        config.render = RenderMode::Window;
        let gpu = Gpu::open(&config.renderer)?;
        let target = WindowTarget::new(&gpu, window, self.size.clone())?;
        let renderer = Renderer::new(gpu, Box::new(target), config.renderer)?;
        let pipeline = Pipeline::with_renderer(
            config,
            Decoders::default(),
            Arc::new(SystemClock::new()),
            renderer,
        )?;
        let close = Arc::clone(&self.close);
        let proxy = self.proxy.clone();
        let player = std::thread::Builder::new()
            .name("streamsteer-player".into())
            .spawn(move || {
                let result = play::play(args, pipeline, async move { close.notified().await });
                // The event loop is gone only if it already exited; nothing to tell.
                let _ = proxy.send_event(UserEvent::Done);
                result
            })
            .map_err(WindowError::Thread)?;
        self.player = Some(player);
        Ok(())
    }
}

impl ApplicationHandler<UserEvent> for App {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if let Err(error) = self.start(event_loop) {
            self.error = Some(error);
            event_loop.exit();
        }
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, _id: WindowId, event: WindowEvent) {
        match event {
            WindowEvent::CloseRequested => {
                // `notify_one` keeps a permit, so the player stops even if it is not
                // waiting yet. The loop exits on `Done`, once the surface is dropped.
                self.close.notify_one();
                if self.player.is_none() {
                    event_loop.exit();
                }
            }
            WindowEvent::Resized(size) => self.size.set(size.width, size.height),
            _ => {}
        }
    }

    fn user_event(&mut self, event_loop: &ActiveEventLoop, event: UserEvent) {
        match event {
            UserEvent::Done => event_loop.exit(),
        }
    }
}
