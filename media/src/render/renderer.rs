//! The renderer: decoded frames in, RGB pictures out, with every GPU object created
//! once and reused while the frame geometry and the target stay the same.

use super::config::RenderConfig;
use super::conversion::{ShaderParams, YuvToRgb};
use super::error::RenderError;
use super::gpu::Gpu;
use super::image::RgbaImage;
use super::layout::fit;
use super::planes::check_frame;
use super::target::{OffscreenTarget, RenderTarget};
use super::upload::{Bindings, PlaneTextures, SampleStorage};
use crate::frame::{PixelFormat, VideoFrame};

/// Converts [`VideoFrame`]s (I420 or NV12, 8 to 16 bits) to RGB on the GPU and draws
/// them, aspect-correct with black bars, into a [`RenderTarget`].
pub struct Renderer {
    gpu: Gpu,
    target: Box<dyn RenderTarget>,
    config: RenderConfig,
    pipelines: Pipelines,
    planes: PlaneTextures,
    /// The uniform's current contents, so it is written only when they change.
    params: Option<ShaderParams>,
    storage: Option<SampleStorage>,
    frames: u64,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("gpu", &self.gpu)
            .field("size", &self.target.size())
            .field("frames", &self.frames)
            .finish()
    }
}

/// The fixed GPU objects: one pipeline per plane layout, the bind group layout they
/// share, the sampler and the uniform buffer.
struct Pipelines {
    layout: wgpu::BindGroupLayout,
    i420: wgpu::RenderPipeline,
    nv12: wgpu::RenderPipeline,
    sampler: wgpu::Sampler,
    params: wgpu::Buffer,
}

impl Renderer {
    /// A renderer drawing into an offscreen `config.width` × `config.height` texture,
    /// read back with [`read_rgba`](Self::read_rgba).
    pub fn offscreen(config: RenderConfig) -> Result<Self, RenderError> {
        if config.width == 0 || config.height == 0 {
            return Err(RenderError::Config(format!(
                "output size {}x{}",
                config.width, config.height
            )));
        }
        let gpu = Gpu::open(&config)?;
        let target = OffscreenTarget::new(&gpu, config.width, config.height)?;
        Self::new(gpu, Box::new(target), config)
    }

    /// A renderer drawing into `target` on `gpu` (`config.width`/`height` are the
    /// target's business here).
    pub fn new(
        gpu: Gpu,
        target: Box<dyn RenderTarget>,
        config: RenderConfig,
    ) -> Result<Self, RenderError> {
        let pipelines = Pipelines::new(&gpu, target.format())?;
        Ok(Self {
            gpu,
            target,
            config,
            pipelines,
            planes: PlaneTextures::default(),
            params: None,
            storage: None,
            frames: 0,
        })
    }

    /// Uploads `frame` and draws it into the target. Does not wait for the GPU.
    pub fn render(&mut self, frame: &VideoFrame) -> Result<(), RenderError> {
        self.gpu.check_lost()?;
        check_frame(frame)?;
        let max = self.gpu.device().limits().max_texture_dimension_2d;
        if frame.width > max || frame.height > max {
            return Err(RenderError::FrameTooLarge {
                width: frame.width,
                height: frame.height,
                max,
            });
        }
        let storage = SampleStorage::for_depth(frame.bit_depth, self.gpu.has_unorm16());
        let bindings = Bindings {
            layout: &self.pipelines.layout,
            sampler: &self.pipelines.sampler,
            params: &self.pipelines.params,
        };
        self.planes.prepare(&self.gpu, frame, storage, &bindings);
        self.planes.upload(&self.gpu, frame, storage);
        self.storage = Some(storage);

        let params = ShaderParams::new(
            YuvToRgb::new(frame.colour, frame.bit_depth),
            storage.input_scale(),
            (frame.width, frame.height),
            frame.plane_size(1),
            self.config.chroma_siting,
        );
        if self.params != Some(params) {
            self.gpu.queue().write_buffer(&self.pipelines.params, 0, &params.to_bytes());
            self.params = Some(params);
        }

        let Some(bind_group) = self.planes.bind_group() else {
            return Err(RenderError::Gpu("plane bind group missing".into()));
        };
        let (tw, th) = self.target.size();
        let rect = fit(frame.display_aspect(), tw, th);
        let view = self.target.acquire(&self.gpu)?;
        let mut encoder = self
            .gpu
            .device()
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("yuv frame") });
        {
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("yuv to rgb"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &view,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        // The clear is what paints the letterbox/pillarbox bars.
                        load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: None,
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            pass.set_viewport(
                rect.x as f32,
                rect.y as f32,
                rect.width as f32,
                rect.height as f32,
                0.0,
                1.0,
            );
            pass.set_pipeline(match frame.format {
                PixelFormat::I420 => &self.pipelines.i420,
                PixelFormat::Nv12 => &self.pipelines.nv12,
            });
            pass.set_bind_group(0, bind_group, &[]);
            pass.draw(0..3, 0..1);
        }
        self.gpu.queue().submit([encoder.finish()]);
        self.target.present(&self.gpu)?;
        // Reclaim finished submissions without blocking, so a caller that never reads
        // back does not pile up work.
        self.gpu
            .device()
            .poll(wgpu::PollType::Poll)
            .map_err(|e| RenderError::DeviceLost(e.to_string()))?;
        self.gpu.take_error()?;
        self.frames += 1;
        Ok(())
    }

    /// The target's current image (the last rendered frame).
    pub fn read_rgba(&mut self) -> Result<RgbaImage, RenderError> {
        let mut image = RgbaImage { width: 0, height: 0, data: Vec::new() };
        self.read_rgba_into(&mut image)?;
        Ok(image)
    }

    /// [`read_rgba`](Self::read_rgba) into an existing image, reusing its allocation.
    pub fn read_rgba_into(&mut self, image: &mut RgbaImage) -> Result<(), RenderError> {
        self.target.read_rgba_into(&self.gpu, image)
    }

    /// Changes the output size (offscreen: new texture and readback buffer, counted
    /// in [`allocations`](Self::allocations)).
    pub fn resize(&mut self, width: u32, height: u32) -> Result<(), RenderError> {
        self.target.resize(&self.gpu, width, height)
    }

    /// Output size.
    pub fn size(&self) -> (u32, u32) {
        self.target.size()
    }

    /// Blocks until everything submitted so far has finished on the GPU.
    pub fn wait_idle(&self) -> Result<(), RenderError> {
        self.gpu.wait_idle()
    }

    /// How many times GPU resources were (re)created since construction, plane
    /// textures with their bind group and the target's texture and readback buffer.
    /// Constant while frames keep their size and format.
    pub fn allocations(&self) -> u64 {
        self.planes.allocations() + self.target.allocations()
    }

    /// Frames rendered so far.
    pub fn frames_rendered(&self) -> u64 {
        self.frames
    }

    /// How the last frame's samples were stored on the GPU (`None` before the first).
    pub fn sample_storage(&self) -> Option<SampleStorage> {
        self.storage
    }

    /// The device this renderer draws with.
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// The configuration it was made with.
    pub fn config(&self) -> &RenderConfig {
        &self.config
    }
}

impl Pipelines {
    fn new(gpu: &Gpu, format: wgpu::TextureFormat) -> Result<Self, RenderError> {
        let device = gpu.device();
        let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("yuv.wgsl"),
            source: wgpu::ShaderSource::Wgsl(include_str!("yuv.wgsl").into()),
        });
        let texture_entry = |binding| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::FRAGMENT,
            ty: wgpu::BindingType::Texture {
                sample_type: wgpu::TextureSampleType::Float { filterable: true },
                view_dimension: wgpu::TextureViewDimension::D2,
                multisampled: false,
            },
            count: None,
        };
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("yuv planes"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: wgpu::BufferSize::new(ShaderParams::SIZE),
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                    count: None,
                },
                texture_entry(2),
                texture_entry(3),
                texture_entry(4),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("yuv"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = |entry: &str| {
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some(entry),
                layout: Some(&pipeline_layout),
                vertex: wgpu::VertexState {
                    module: &shader,
                    entry_point: Some("vs_main"),
                    compilation_options: Default::default(),
                    buffers: &[],
                },
                primitive: wgpu::PrimitiveState::default(),
                depth_stencil: None,
                multisample: wgpu::MultisampleState::default(),
                fragment: Some(wgpu::FragmentState {
                    module: &shader,
                    entry_point: Some(entry),
                    compilation_options: Default::default(),
                    targets: &[Some(wgpu::ColorTargetState {
                        format,
                        blend: None,
                        write_mask: wgpu::ColorWrites::ALL,
                    })],
                }),
                multiview_mask: None,
                cache: None,
            })
        };
        let i420 = pipeline("fs_i420");
        let nv12 = pipeline("fs_nv12");
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("yuv bilinear"),
            address_mode_u: wgpu::AddressMode::ClampToEdge,
            address_mode_v: wgpu::AddressMode::ClampToEdge,
            address_mode_w: wgpu::AddressMode::ClampToEdge,
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
        });
        let params = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("yuv params"),
            size: ShaderParams::SIZE,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        gpu.take_error()?;
        Ok(Self { layout, i420, nv12, sampler, params })
    }
}
