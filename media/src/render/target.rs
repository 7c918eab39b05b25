//! Where a renderer draws: the [`RenderTarget`] abstraction and its offscreen
//! implementation (a texture plus a reusable readback buffer). A window surface target
//! implements the same trait (acquire the swapchain texture, present after submit).

use std::sync::mpsc;

use super::error::RenderError;
use super::gpu::{Gpu, WAIT_LIMIT};
use super::image::RgbaImage;

/// A surface the renderer draws frames into.
pub trait RenderTarget: Send {
    /// Size in pixels.
    fn size(&self) -> (u32, u32);

    /// Texture format the pipelines must render to.
    fn format(&self) -> wgpu::TextureFormat;

    /// The view to draw the next frame into.
    fn acquire(&mut self, gpu: &Gpu) -> Result<wgpu::TextureView, RenderError>;

    /// Called once the frame's commands are submitted (a window presents here).
    fn present(&mut self, gpu: &Gpu) -> Result<(), RenderError>;

    /// Changes the size; a no-op when it is unchanged.
    fn resize(&mut self, gpu: &Gpu, width: u32, height: u32) -> Result<(), RenderError>;

    /// Copies the last drawn image to `image` (resized to fit), reusing its buffer.
    fn read_rgba_into(&mut self, gpu: &Gpu, image: &mut RgbaImage) -> Result<(), RenderError>;

    /// How many times the target created GPU resources (textures, buffers).
    fn allocations(&self) -> u64;
}

/// A texture nobody sees, read back on demand: for tests, frame dumps and benchmarks.
pub struct OffscreenTarget {
    width: u32,
    height: u32,
    texture: wgpu::Texture,
    view: wgpu::TextureView,
    readback: wgpu::Buffer,
    padded_row: u32,
    allocations: u64,
}

impl std::fmt::Debug for OffscreenTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OffscreenTarget")
            .field("width", &self.width)
            .field("height", &self.height)
            .finish()
    }
}

/// The offscreen format: 8-bit RGBA holding the gamma-encoded values as they are
/// (not sRGB, which would re-encode on write).
pub const OFFSCREEN_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

impl OffscreenTarget {
    /// A `width` × `height` target on `gpu`.
    pub fn new(gpu: &Gpu, width: u32, height: u32) -> Result<Self, RenderError> {
        let (texture, view, readback, padded_row) = Self::create(gpu, width, height)?;
        Ok(Self { width, height, texture, view, readback, padded_row, allocations: 1 })
    }

    fn create(
        gpu: &Gpu,
        width: u32,
        height: u32,
    ) -> Result<(wgpu::Texture, wgpu::TextureView, wgpu::Buffer, u32), RenderError> {
        let max = gpu.device().limits().max_texture_dimension_2d;
        if width == 0 || height == 0 || width > max || height > max {
            return Err(RenderError::Config(format!(
                "output size {width}x{height} (1 to {max} per side on this device)"
            )));
        }
        let texture = gpu.device().create_texture(&wgpu::TextureDescriptor {
            label: Some("offscreen target"),
            size: wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: OFFSCREEN_FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        // Texture-to-buffer copies need rows padded to 256 bytes.
        let padded_row = (width * 4).next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
        let readback = gpu.device().create_buffer(&wgpu::BufferDescriptor {
            label: Some("offscreen readback"),
            size: u64::from(padded_row) * u64::from(height),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        gpu.take_error()?;
        Ok((texture, view, readback, padded_row))
    }
}

impl RenderTarget for OffscreenTarget {
    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn format(&self) -> wgpu::TextureFormat {
        OFFSCREEN_FORMAT
    }

    fn acquire(&mut self, _gpu: &Gpu) -> Result<wgpu::TextureView, RenderError> {
        Ok(self.view.clone())
    }

    fn present(&mut self, _gpu: &Gpu) -> Result<(), RenderError> {
        Ok(())
    }

    fn resize(&mut self, gpu: &Gpu, width: u32, height: u32) -> Result<(), RenderError> {
        if (width, height) == (self.width, self.height) {
            return Ok(());
        }
        let (texture, view, readback, padded_row) = Self::create(gpu, width, height)?;
        *self = Self {
            width,
            height,
            texture,
            view,
            readback,
            padded_row,
            allocations: self.allocations + 1,
        };
        Ok(())
    }

    fn read_rgba_into(&mut self, gpu: &Gpu, image: &mut RgbaImage) -> Result<(), RenderError> {
        gpu.check_lost()?;
        let mut encoder = gpu
            .device()
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("readback") });
        encoder.copy_texture_to_buffer(
            wgpu::TexelCopyTextureInfo {
                texture: &self.texture,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            wgpu::TexelCopyBufferInfo {
                buffer: &self.readback,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(self.padded_row),
                    rows_per_image: Some(self.height),
                },
            },
            wgpu::Extent3d { width: self.width, height: self.height, depth_or_array_layers: 1 },
        );
        let submission = gpu.queue().submit([encoder.finish()]);
        let (tx, rx) = mpsc::channel();
        self.readback.map_async(wgpu::MapMode::Read, .., move |result| {
            // The receiver only goes away if this call already failed.
            let _ = tx.send(result);
        });
        gpu.device()
            .poll(wgpu::PollType::Wait {
                submission_index: Some(submission),
                timeout: Some(WAIT_LIMIT),
            })
            .map_err(|e| RenderError::Readback(e.to_string()))?;
        gpu.take_error()?;
        match rx.recv_timeout(WAIT_LIMIT) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(RenderError::Readback(e.to_string())),
            Err(e) => return Err(RenderError::Readback(format!("map callback: {e}"))),
        }
        let row = self.width as usize * 4;
        image.width = self.width;
        image.height = self.height;
        image.data.clear();
        image.data.reserve(row * self.height as usize);
        {
            let mapped = self
                .readback
                .get_mapped_range(..)
                .map_err(|e| RenderError::Readback(e.to_string()))?;
            for padded in mapped.chunks(self.padded_row as usize).take(self.height as usize) {
                image.data.extend_from_slice(&padded[..row.min(padded.len())]);
            }
        }
        self.readback.unmap();
        Ok(())
    }

    fn allocations(&self) -> u64 {
        self.allocations
    }
}
