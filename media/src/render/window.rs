//! A window on screen as a [`RenderTarget`]: a wgpu surface over a winit window.
//!
//! The window lives on the thread that runs the event loop (winit requires the main
//! thread); the target is `Send` and is driven from the video thread. Resizes travel
//! through a [`WindowSize`] the event loop writes and [`acquire`](RenderTarget::acquire)
//! reads, so the video thread never waits on the event loop.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::RenderError;
use super::gpu::Gpu;
use super::image::RgbaImage;
use super::target::RenderTarget;

/// The size the window wants, shared between the event loop (writer) and the render
/// target (reader). Width and height are packed into one atomic so a reader never sees
/// the width of one resize with the height of another.
#[derive(Debug, Clone, Default)]
pub struct WindowSize(Arc<AtomicU64>);

impl WindowSize {
    /// A size holding `width` × `height`.
    pub fn new(width: u32, height: u32) -> Self {
        let size = Self::default();
        size.set(width, height);
        size
    }

    /// Records a new size (from a resize event).
    pub fn set(&self, width: u32, height: u32) {
        self.0.store((u64::from(width) << 32) | u64::from(height), Ordering::Release);
    }

    /// The latest size.
    pub fn get(&self) -> (u32, u32) {
        let packed = self.0.load(Ordering::Acquire);
        ((packed >> 32) as u32, packed as u32)
    }
}

/// Draws into a window through a wgpu surface. Readback is not supported.
pub struct WindowTarget {
    window: Arc<winit::window::Window>,
    surface: wgpu::Surface<'static>,
    config: wgpu::SurfaceConfiguration,
    /// The format the renderer draws in: the surface format without sRGB encoding,
    /// because the shader already writes gamma-encoded values.
    view_format: wgpu::TextureFormat,
    wanted: WindowSize,
    frame: Option<wgpu::SurfaceTexture>,
    allocations: u64,
}

impl std::fmt::Debug for WindowTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WindowTarget")
            .field("width", &self.config.width)
            .field("height", &self.config.height)
            .field("format", &self.config.format)
            .field("present_mode", &self.config.present_mode)
            .finish()
    }
}

impl WindowTarget {
    /// A target drawing into `window`, with a surface made from `gpu`'s instance.
    /// `wanted` carries later resizes from the event loop; its initial value is ignored
    /// in favour of the window's current inner size.
    pub fn new(
        gpu: &Gpu,
        window: Arc<winit::window::Window>,
        wanted: WindowSize,
    ) -> Result<Self, RenderError> {
        let surface = gpu
            .instance()
            .create_surface(Arc::clone(&window))
            .map_err(|e| RenderError::Surface(e.to_string()))?;
        let caps = surface.get_capabilities(gpu.adapter());
        let Some(&format) =
            caps.formats.iter().find(|f| !f.is_srgb()).or_else(|| caps.formats.first())
        else {
            return Err(RenderError::Surface(format!(
                "adapter {} cannot present to this window",
                gpu.adapter_info().name
            )));
        };
        let view_format = format.remove_srgb_suffix();
        // Mailbox when offered (no tearing, no blocking on vblank, so the video thread
        // keeps its own timing); Fifo is always there.
        let present_mode = if caps.present_modes.contains(&wgpu::PresentMode::Mailbox) {
            wgpu::PresentMode::Mailbox
        } else {
            wgpu::PresentMode::Fifo
        };
        let alpha_mode = caps
            .alpha_modes
            .iter()
            .copied()
            .find(|m| *m == wgpu::CompositeAlphaMode::Opaque)
            .or_else(|| caps.alpha_modes.first().copied())
            .unwrap_or(wgpu::CompositeAlphaMode::Auto);
        let inner = window.inner_size();
        let (width, height) = (inner.width.max(1), inner.height.max(1));
        wanted.set(width, height);
        let config = wgpu::SurfaceConfiguration {
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
            format,
            width,
            height,
            present_mode,
            desired_maximum_frame_latency: 2,
            alpha_mode,
            color_space: wgpu::SurfaceColorSpace::Auto,
            view_formats: if view_format == format { vec![] } else { vec![view_format] },
        };
        surface.configure(gpu.device(), &config);
        gpu.take_error()?;
        tracing::info!(width, height, ?format, ?present_mode, "window surface configured");
        Ok(Self { window, surface, config, view_format, wanted, frame: None, allocations: 1 })
    }

    /// The window drawn into.
    pub fn window(&self) -> &Arc<winit::window::Window> {
        &self.window
    }

    /// The shared size the event loop updates on resize.
    pub fn wanted_size(&self) -> &WindowSize {
        &self.wanted
    }

    fn reconfigure(&mut self, gpu: &Gpu) -> Result<(), RenderError> {
        self.frame = None;
        self.surface.configure(gpu.device(), &self.config);
        self.allocations += 1;
        gpu.take_error()
    }
}

impl RenderTarget for WindowTarget {
    fn size(&self) -> (u32, u32) {
        (self.config.width, self.config.height)
    }

    fn format(&self) -> wgpu::TextureFormat {
        self.view_format
    }

    fn acquire(&mut self, gpu: &Gpu) -> Result<wgpu::TextureView, RenderError> {
        let (width, height) = self.wanted.get();
        // A minimised window reports 0×0; the surface keeps its last size meanwhile.
        if width > 0 && height > 0 {
            self.resize(gpu, width, height)?;
        }
        // A frame acquired but never presented (a failed render) is dropped first.
        self.frame = None;
        let texture = match self.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(t)
            | wgpu::CurrentSurfaceTexture::Suboptimal(t) => t,
            wgpu::CurrentSurfaceTexture::Outdated | wgpu::CurrentSurfaceTexture::Lost => {
                // The window changed under us: configure again and retry once.
                self.reconfigure(gpu)?;
                match self.surface.get_current_texture() {
                    wgpu::CurrentSurfaceTexture::Success(t)
                    | wgpu::CurrentSurfaceTexture::Suboptimal(t) => t,
                    other => {
                        return Err(RenderError::Surface(format!("acquire: {other:?}")));
                    }
                }
            }
            other => return Err(RenderError::Surface(format!("acquire: {other:?}"))),
        };
        let view = texture.texture.create_view(&wgpu::TextureViewDescriptor {
            format: Some(self.view_format),
            ..Default::default()
        });
        self.frame = Some(texture);
        Ok(view)
    }

    fn present(&mut self, gpu: &Gpu) -> Result<(), RenderError> {
        if let Some(frame) = self.frame.take() {
            self.window.pre_present_notify();
            gpu.queue().present(frame);
        }
        Ok(())
    }

    fn resize(&mut self, gpu: &Gpu, width: u32, height: u32) -> Result<(), RenderError> {
        if (width, height) == (self.config.width, self.config.height) {
            return Ok(());
        }
        let max = gpu.device().limits().max_texture_dimension_2d;
        if width == 0 || height == 0 || width > max || height > max {
            return Err(RenderError::Config(format!(
                "window size {width}x{height} (1 to {max} per side on this device)"
            )));
        }
        self.config.width = width;
        self.config.height = height;
        tracing::debug!(width, height, "window surface resized");
        self.reconfigure(gpu)
    }

    fn read_rgba_into(&mut self, _gpu: &Gpu, _image: &mut RgbaImage) -> Result<(), RenderError> {
        Err(RenderError::ReadbackUnsupported)
    }

    fn allocations(&self) -> u64 {
        self.allocations
    }
}
