//! Everything that can go wrong between a decoded frame and pixels, as one typed error.

use std::path::PathBuf;
use thiserror::Error;

/// Why rendering failed. Every GPU-side failure (validation, out of memory, a lost
/// device) arrives here instead of as a panic.
#[derive(Debug, Error)]
pub enum RenderError {
    /// No adapter on the allowed backends (no Vulkan ICD, no EGL, or all of them refused).
    #[error("no graphics adapter on backends {backends}: {reason}")]
    NoAdapter {
        /// The backends that were tried.
        backends: String,
        /// What the last attempt said.
        reason: String,
    },
    /// The adapter refused to open a device with the features and limits asked for.
    #[error("cannot open a device on {adapter}: {reason}")]
    RequestDevice {
        /// The adapter's name.
        adapter: String,
        /// What wgpu said.
        reason: String,
    },
    /// The configuration cannot be honoured (zero or oversized output, say).
    #[error("bad render configuration: {0}")]
    Config(String),
    /// The frame's planes do not hold what its size, format and bit depth promise.
    #[error("malformed frame: {0}")]
    MalformedFrame(String),
    /// The frame is larger than the device's textures can be.
    #[error("frame {width}x{height} exceeds the device's texture limit of {max}")]
    FrameTooLarge {
        /// Frame width.
        width: u32,
        /// Frame height.
        height: u32,
        /// `max_texture_dimension_2d` of the device.
        max: u32,
    },
    /// The device went away (driver reset, GPU removed, destroyed); a new renderer is
    /// needed.
    #[error("the graphics device was lost: {0}")]
    DeviceLost(String),
    /// wgpu reported an error (validation, out of memory, internal) while rendering.
    #[error("GPU error: {0}")]
    Gpu(String),
    /// Copying the rendered image back to the CPU failed.
    #[error("reading the rendered image back failed: {0}")]
    Readback(String),
    /// A window surface could not be made, configured or drawn into.
    #[error("window surface: {0}")]
    Surface(String),
    /// This render target has no CPU-readable image.
    #[error("this render target cannot be read back")]
    ReadbackUnsupported,
    /// Writing a PNG failed.
    #[error("writing PNG {path}: {reason}")]
    Png {
        /// The file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
}
