//! The wgpu instance, adapter, device and queue one renderer draws with, opened on the
//! configured backend, with errors and device loss turned into values instead of the
//! default panicking handler.

use std::sync::{Arc, Mutex};

use super::config::{BackendPreference, RenderConfig};
use super::error::RenderError;

/// An open graphics device. Render targets are created from it (a window surface needs
/// [`Gpu::instance`]), and a [`Renderer`](super::Renderer) owns it.
pub struct Gpu {
    instance: wgpu::Instance,
    adapter: wgpu::Adapter,
    device: wgpu::Device,
    queue: wgpu::Queue,
    errors: Arc<Mutex<Option<String>>>,
    lost: Arc<Mutex<Option<String>>>,
}

impl std::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let info = self.adapter.get_info();
        f.debug_struct("Gpu").field("adapter", &info.name).field("backend", &info.backend).finish()
    }
}

impl Gpu {
    /// Opens a device on the backend `config` asks for. Asks for
    /// `TEXTURE_FORMAT_16BIT_NORM` when the adapter has it and the configuration wants it.
    pub fn open(config: &RenderConfig) -> Result<Self, RenderError> {
        let attempts: Vec<wgpu::Backends> = match config.backend {
            BackendPreference::Auto => match wgpu::Backends::from_env() {
                Some(from_env) => vec![from_env],
                None => vec![wgpu::Backends::VULKAN, wgpu::Backends::GL],
            },
            BackendPreference::Vulkan => vec![wgpu::Backends::VULKAN],
            BackendPreference::Gl => vec![wgpu::Backends::GL],
        };
        let mut last = String::from("no backend tried");
        for backends in &attempts {
            // Flags and backend options from the environment (WGPU_VALIDATION,
            // WGPU_DEBUG, WGPU_GL_BACKEND…); the backends are ours to choose.
            let mut desc = wgpu::InstanceDescriptor::new_without_display_handle().with_env();
            desc.backends = *backends;
            let instance = wgpu::Instance::new(desc);
            let options = wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            };
            match pollster::block_on(instance.request_adapter(&options)) {
                Ok(adapter) => return Self::open_device(instance, adapter, config),
                Err(e) => {
                    tracing::debug!(?backends, error = %e, "no adapter");
                    last = e.to_string();
                }
            }
        }
        let names: Vec<String> = attempts.iter().map(|b| format!("{b:?}")).collect();
        Err(RenderError::NoAdapter { backends: names.join(" then "), reason: last })
    }

    fn open_device(
        instance: wgpu::Instance,
        adapter: wgpu::Adapter,
        config: &RenderConfig,
    ) -> Result<Self, RenderError> {
        let info = adapter.get_info();
        let mut features = wgpu::Features::empty();
        if config.prefer_16bit_norm
            && adapter.features().contains(wgpu::Features::TEXTURE_FORMAT_16BIT_NORM)
        {
            features |= wgpu::Features::TEXTURE_FORMAT_16BIT_NORM;
        }
        // The adapter's own limits: a 4K or 8K frame needs more than the downlevel
        // defaults allow, and nothing here depends on staying portable.
        let desc = wgpu::DeviceDescriptor {
            label: Some("streamsteer render"),
            required_features: features,
            required_limits: adapter.limits(),
            experimental_features: wgpu::ExperimentalFeatures::default(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&desc)).map_err(|e| {
            RenderError::RequestDevice { adapter: info.name.clone(), reason: e.to_string() }
        })?;
        let errors = Arc::new(Mutex::new(None));
        let sink = Arc::clone(&errors);
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            tracing::warn!(%error, "wgpu error");
            if let Ok(mut slot) = sink.lock() {
                slot.get_or_insert_with(|| error.to_string());
            }
        }));
        let lost = Arc::new(Mutex::new(None));
        let sink = Arc::clone(&lost);
        device.set_device_lost_callback(move |reason, message| {
            tracing::warn!(?reason, %message, "graphics device lost");
            if let Ok(mut slot) = sink.lock() {
                *slot = Some(if message.is_empty() {
                    format!("{reason:?}")
                } else {
                    format!("{reason:?}: {message}")
                });
            }
        });
        tracing::info!(
            adapter = %info.name,
            backend = ?info.backend,
            device_type = ?info.device_type,
            driver = %info.driver,
            unorm16 = features.contains(wgpu::Features::TEXTURE_FORMAT_16BIT_NORM),
            "render device open"
        );
        Ok(Self { instance, adapter, device, queue, errors, lost })
    }

    /// The instance (a window target creates its surface from it).
    pub fn instance(&self) -> &wgpu::Instance {
        &self.instance
    }

    /// The adapter.
    pub fn adapter(&self) -> &wgpu::Adapter {
        &self.adapter
    }

    /// The device.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// Name, backend, driver and type of the adapter.
    pub fn adapter_info(&self) -> wgpu::AdapterInfo {
        self.adapter.get_info()
    }

    /// Whether 16-bit normalised textures (`R16Unorm`, `Rg16Unorm`) are enabled.
    pub fn has_unorm16(&self) -> bool {
        self.device.features().contains(wgpu::Features::TEXTURE_FORMAT_16BIT_NORM)
    }

    /// Fails with [`RenderError::DeviceLost`] once the device is gone.
    pub fn check_lost(&self) -> Result<(), RenderError> {
        match self.lost.lock().ok().and_then(|slot| slot.clone()) {
            Some(why) => Err(RenderError::DeviceLost(why)),
            None => Ok(()),
        }
    }

    /// The first wgpu error since the last call, as [`RenderError::Gpu`] (or
    /// [`RenderError::DeviceLost`] when the device went away meanwhile).
    pub fn take_error(&self) -> Result<(), RenderError> {
        self.check_lost()?;
        match self.errors.lock().ok().and_then(|mut slot| slot.take()) {
            Some(error) => Err(RenderError::Gpu(error)),
            None => Ok(()),
        }
    }

    /// Blocks until the queue's submitted work is done.
    pub fn wait_idle(&self) -> Result<(), RenderError> {
        self.device
            .poll(wgpu::PollType::Wait { submission_index: None, timeout: Some(WAIT_LIMIT) })
            .map_err(|e| match e {
                wgpu::PollError::Timeout => {
                    RenderError::Gpu(format!("GPU work not done after {WAIT_LIMIT:?}"))
                }
                other => RenderError::DeviceLost(other.to_string()),
            })?;
        self.take_error()
    }
}

/// The longest any call waits for the GPU: a software rasteriser on a loaded machine
/// needs far less for one frame, so reaching it means the device is stuck.
pub const WAIT_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);
