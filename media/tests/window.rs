//! The window render target on a real X11 display: a real decoded AV1 picture drawn
//! into a winit window through a wgpu surface, resized, and presented.
//!
//! Needs an X server: run it as
//! `xvfb-run -a cargo test -p streamsteer-media --features window --test window`
//! (it fails, rather than skipping, where `DISPLAY` is unset).
#![cfg(feature = "window")]

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use streamsteer_media::render::{
    Gpu, RenderConfig, RenderError, RenderTarget, Renderer, WindowSize, WindowTarget,
};
use streamsteer_media::{ColourSpace, PixelFormat, Plane, VideoFrame};
use streamsteer_origin::content::{ContentSpec, default_content_dir, ensure_content};
use winit::application::ApplicationHandler;
use winit::dpi::PhysicalSize;
use winit::event::WindowEvent;
use winit::event_loop::{ActiveEventLoop, EventLoop};
use winit::platform::pump_events::EventLoopExtPumpEvents;
use winit::platform::x11::EventLoopBuilderExtX11;
use winit::window::{Window, WindowId};

/// The first picture of the lowest rung of the default AV1 ladder, decoded by ffmpeg.
fn real_frame() -> VideoFrame {
    let dir = default_content_dir();
    let info = ensure_content(&dir, &ContentSpec::default(), &mut |m| eprintln!("content: {m}"))
        .unwrap_or_else(|e| panic!("test content in {}: {e}", dir.display()));
    let rung = &info.video[0];
    let scratch = std::env::temp_dir().join(format!("streamsteer-window-{}", std::process::id()));
    fs::create_dir_all(&scratch).unwrap();
    let input = scratch.join("input.mp4");
    let mut bytes = fs::read(dir.join(&rung.init)).unwrap();
    bytes.extend(fs::read(dir.join(&rung.segments[0].path)).unwrap());
    fs::write(&input, bytes).unwrap();
    let out: PathBuf = scratch.join("frame.yuv");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&input)
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "yuv420p"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg failed");
    let data = fs::read(&out).unwrap();
    fs::remove_dir_all(&scratch).unwrap();
    let (w, h) = (rung.width as usize, rung.height as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    assert_eq!(data.len(), w * h + 2 * cw * ch);
    let plane = |from: usize, stride: usize, rows: usize| Plane {
        data: data[from..from + stride * rows].to_vec(),
        stride,
    };
    VideoFrame {
        width: rung.width,
        height: rung.height,
        format: PixelFormat::I420,
        bit_depth: 8,
        planes: vec![plane(0, w, h), plane(w * h, cw, ch), plane(w * h + cw * ch, cw, ch)],
        colour: ColourSpace::for_height(rung.height),
        pts_us: 0,
        sample_aspect: (1, 1),
    }
}

#[derive(Default)]
struct App {
    window: Option<Arc<Window>>,
    resized: Vec<(u32, u32)>,
    error: Option<String>,
}

impl ApplicationHandler for App {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if self.window.is_some() {
            return;
        }
        let attributes = Window::default_attributes()
            .with_title("streamsteer window test")
            .with_inner_size(PhysicalSize::new(640u32, 360u32));
        match event_loop.create_window(attributes) {
            Ok(window) => self.window = Some(Arc::new(window)),
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    fn window_event(&mut self, _: &ActiveEventLoop, _: WindowId, event: WindowEvent) {
        if let WindowEvent::Resized(size) = event {
            self.resized.push((size.width, size.height));
        }
    }
}

/// Pumps events until `done` holds, for at most 10 s.
fn pump_until(event_loop: &mut EventLoop<()>, app: &mut App, done: impl Fn(&App) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(app) {
        assert!(Instant::now() < deadline, "the window system did not answer in 10 s");
        let _ = event_loop.pump_app_events(Some(Duration::from_millis(20)), app);
        assert!(app.error.is_none(), "window: {:?}", app.error);
    }
}

#[test]
fn a_real_frame_is_drawn_into_a_resizable_window() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "this test needs an X display: run it under `xvfb-run -a`"
    );
    let frame = real_frame();
    // The test harness runs tests off the main thread; X11 allows that.
    let mut event_loop = EventLoop::builder().with_any_thread(true).build().unwrap();
    let mut app = App::default();
    pump_until(&mut event_loop, &mut app, |a| a.window.is_some());
    let window = Arc::clone(app.window.as_ref().unwrap());

    let config = RenderConfig::default();
    let gpu = Gpu::open(&config).unwrap();
    let size = WindowSize::default();
    let target = WindowTarget::new(&gpu, Arc::clone(&window), size.clone()).unwrap();
    let inner = window.inner_size();
    assert_eq!(target.size(), (inner.width, inner.height));
    assert_eq!(size.get(), (inner.width, inner.height));
    assert!(!target.format().is_srgb(), "the shader writes gamma-encoded values");
    let mut renderer = Renderer::new(gpu, Box::new(target), config).unwrap();
    for _ in 0..3 {
        renderer.render(&frame).unwrap();
        let _ = event_loop.pump_app_events(Some(Duration::ZERO), &mut app);
    }
    renderer.wait_idle().unwrap();
    assert_eq!(renderer.frames_rendered(), 3);
    let before = renderer.allocations();
    assert!(matches!(renderer.read_rgba(), Err(RenderError::ReadbackUnsupported)));

    // A resize from the window system reaches the renderer through the shared size.
    let _ = window.request_inner_size(PhysicalSize::new(800u32, 600u32));
    pump_until(&mut event_loop, &mut app, |a| a.resized.contains(&(800, 600)));
    size.set(800, 600);
    renderer.render(&frame).unwrap();
    renderer.wait_idle().unwrap();
    assert_eq!(renderer.size(), (800, 600));
    assert_eq!(renderer.frames_rendered(), 4);
    assert!(renderer.allocations() > before, "a resize reconfigures the surface");

    // An unchanged size reconfigures nothing.
    let after = renderer.allocations();
    renderer.render(&frame).unwrap();
    assert_eq!(renderer.allocations(), after);
    drop(renderer);
}
