//! How a [`Renderer`](super::Renderer) is set up: output size, backend, and the
//! conversion choices that have more than one defensible answer.

use serde::{Deserialize, Serialize};

use super::conversion::ChromaSiting;

/// Which graphics API wgpu runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendPreference {
    /// `WGPU_BACKEND` when it is set (`vulkan`, `gl`, …); otherwise Vulkan, then GL when
    /// no Vulkan adapter opens. The default.
    #[default]
    Auto,
    /// Vulkan only (Mesa's lavapipe on a machine without a GPU).
    Vulkan,
    /// OpenGL / GLES through EGL only: the fallback where Vulkan is missing.
    Gl,
}

/// Renderer settings. Every field has a default, so `{}` is a valid configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RenderConfig {
    /// Output width in pixels. Default 1280.
    pub width: u32,
    /// Output height in pixels. Default 720.
    pub height: u32,
    /// Graphics API. Default [`BackendPreference::Auto`].
    pub backend: BackendPreference,
    /// Upload frames above 8 bits to `R16Unorm`/`Rg16Unorm` textures when the adapter
    /// has `TEXTURE_FORMAT_16BIT_NORM`; when it does not (or this is `false`) the
    /// samples are converted on the CPU to `R16Float`/`Rg16Float`, which holds every
    /// 10-bit code exactly. Default `true`.
    pub prefer_16bit_norm: bool,
    /// Where 4:2:0 chroma samples sit relative to luma. Default
    /// [`ChromaSiting::Center`], as FFmpeg assumes (see [`ChromaSiting`]).
    pub chroma_siting: ChromaSiting,
}

impl Default for RenderConfig {
    fn default() -> Self {
        Self {
            width: 1280,
            height: 720,
            backend: BackendPreference::Auto,
            prefer_16bit_norm: true,
            chroma_siting: ChromaSiting::Center,
        }
    }
}

impl RenderConfig {
    /// The default configuration at another output size.
    pub fn with_size(width: u32, height: u32) -> Self {
        Self { width, height, ..Self::default() }
    }
}
