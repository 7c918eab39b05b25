//! GPU rendering of decoded frames with wgpu: planes uploaded to textures, YUV→RGB in a
//! WGSL shader (BT.601/709/2020, limited/full range, 8 to 16 bits), scaled into the
//! target with the display aspect ratio and black bars.
//!
//! - [`Renderer`]: the entry point; [`Renderer::offscreen`] for tests and frame dumps.
//! - [`RenderTarget`]: where frames are drawn; [`OffscreenTarget`] here, a window
//!   surface next to it later.
//! - [`reference`](mod@reference): the same conversion on the CPU in `f64`, for tests and as a fallback.
//! - [`write_png`]: frame dumps.
//!
//! Runs on Mesa's lavapipe (Vulkan) where there is no GPU, with GL (EGL) as the
//! fallback (`WGPU_BACKEND=gl` or [`BackendPreference::Gl`]). The output is
//! `Rgba8Unorm` holding the gamma-encoded values, as ffmpeg's `rgb24` does.

mod config;
mod conversion;
mod error;
mod gpu;
mod image;
mod layout;
mod planes;
mod png;
pub mod reference;
mod renderer;
mod target;
mod upload;
#[cfg(feature = "window")]
mod window;

pub use config::{BackendPreference, RenderConfig};
pub use conversion::{ChromaSiting, YuvToRgb, chroma_position};
pub use error::RenderError;
pub use gpu::Gpu;
pub use image::RgbaImage;
pub use layout::{PictureRect, fit};
pub use planes::check_frame;
pub use png::{encode_png, write_png};
pub use renderer::Renderer;
pub use target::{OFFSCREEN_FORMAT, OffscreenTarget, RenderTarget};
pub use upload::{SampleStorage, f16_bits};
#[cfg(feature = "window")]
pub use window::{WindowSize, WindowTarget};
