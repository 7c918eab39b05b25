//! Plane textures: created once per frame geometry, refilled every frame with
//! `queue.write_texture` straight from the decoder's rows (any stride), and recreated
//! only when the size, layout or sample storage changes.

use serde::{Deserialize, Serialize};

use super::gpu::Gpu;
use super::planes::samples_per_texel;
use crate::frame::{PixelFormat, VideoFrame};

/// How one sample is stored on the GPU.
///
/// Frames above 8 bits use 16-bit normalised textures where the device has them
/// (exact, no CPU work: the decoder's little-endian words are the texels). Otherwise
/// the codes are converted on the CPU to half floats, which hold every integer up to
/// 2048 exactly, so 10-bit video stays exact and keeps the same shader and hardware
/// bilinear filtering; an integer texture would need `textureLoad` and filtering by
/// hand in the shader, a second code path for the same result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleStorage {
    /// 8-bit frames: `R8Unorm` / `Rg8Unorm`.
    Unorm8,
    /// Above 8 bits with `TEXTURE_FORMAT_16BIT_NORM`: `R16Unorm` / `Rg16Unorm`.
    Unorm16,
    /// Above 8 bits without it: `R16Float` / `Rg16Float` holding the code values.
    Float16,
}

impl SampleStorage {
    /// The storage for a frame of `bit_depth` on a device with or without 16-bit
    /// normalised textures.
    pub fn for_depth(bit_depth: u8, unorm16: bool) -> Self {
        match (bit_depth > 8, unorm16) {
            (false, _) => Self::Unorm8,
            (true, true) => Self::Unorm16,
            (true, false) => Self::Float16,
        }
    }

    /// What a texture read returns for code value 1: the shader's input scale.
    pub fn input_scale(self) -> f64 {
        match self {
            Self::Unorm8 => 255.0,
            Self::Unorm16 => 65535.0,
            Self::Float16 => 1.0,
        }
    }

    fn texture_format(self, samples_per_texel: usize) -> wgpu::TextureFormat {
        use wgpu::TextureFormat as F;
        match (self, samples_per_texel) {
            (Self::Unorm8, 1) => F::R8Unorm,
            (Self::Unorm8, _) => F::Rg8Unorm,
            (Self::Unorm16, 1) => F::R16Unorm,
            (Self::Unorm16, _) => F::Rg16Unorm,
            (Self::Float16, 1) => F::R16Float,
            (Self::Float16, _) => F::Rg16Float,
        }
    }
}

/// What forces new textures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Geometry {
    width: u32,
    height: u32,
    format: PixelFormat,
    storage: SampleStorage,
}

/// The bindings a frame's draw needs besides its planes.
pub(crate) struct Bindings<'a> {
    pub(crate) layout: &'a wgpu::BindGroupLayout,
    pub(crate) sampler: &'a wgpu::Sampler,
    pub(crate) params: &'a wgpu::Buffer,
}

/// The plane textures and the bind group that reads them.
#[derive(Default)]
pub(crate) struct PlaneTextures {
    geometry: Option<Geometry>,
    textures: Vec<wgpu::Texture>,
    bind_group: Option<wgpu::BindGroup>,
    /// Reused for half-float conversion, so steady state allocates nothing on the CPU
    /// either.
    staging: Vec<u8>,
    allocations: u64,
}

impl PlaneTextures {
    /// Makes sure textures for `frame`'s geometry exist; returns whether they were
    /// (re)created.
    pub(crate) fn prepare(
        &mut self,
        gpu: &Gpu,
        frame: &VideoFrame,
        storage: SampleStorage,
        bindings: &Bindings<'_>,
    ) -> bool {
        let geometry =
            Geometry { width: frame.width, height: frame.height, format: frame.format, storage };
        if self.geometry == Some(geometry) && self.bind_group.is_some() {
            return false;
        }
        tracing::debug!(?geometry, "creating plane textures");
        let device = gpu.device();
        self.textures = (0..frame.format.planes())
            .map(|i| {
                let (w, h) = frame.plane_size(i);
                device.create_texture(&wgpu::TextureDescriptor {
                    label: Some("yuv plane"),
                    size: wgpu::Extent3d { width: w, height: h, depth_or_array_layers: 1 },
                    mip_level_count: 1,
                    sample_count: 1,
                    dimension: wgpu::TextureDimension::D2,
                    format: storage.texture_format(samples_per_texel(frame.format, i)),
                    usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
                    view_formats: &[],
                })
            })
            .collect();
        let views: Vec<wgpu::TextureView> = self
            .textures
            .iter()
            .map(|t| t.create_view(&wgpu::TextureViewDescriptor::default()))
            .collect();
        // NV12 has no third plane: its UV view fills the V slot too, so both formats
        // share one bind group layout.
        let view = |i: usize| &views[i.min(views.len() - 1)];
        self.bind_group = Some(device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("yuv planes"),
            layout: bindings.layout,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: bindings.params.as_entire_binding() },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::Sampler(bindings.sampler),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: wgpu::BindingResource::TextureView(view(0)),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: wgpu::BindingResource::TextureView(view(1)),
                },
                wgpu::BindGroupEntry {
                    binding: 4,
                    resource: wgpu::BindingResource::TextureView(view(2)),
                },
            ],
        }));
        self.geometry = Some(geometry);
        self.allocations += 1;
        true
    }

    /// Copies `frame`'s planes into the textures [`prepare`](Self::prepare) made.
    pub(crate) fn upload(&mut self, gpu: &Gpu, frame: &VideoFrame, storage: SampleStorage) {
        for (i, (texture, plane)) in self.textures.iter().zip(&frame.planes).enumerate() {
            let (w, h) = frame.plane_size(i);
            let samples_per_row = w as usize * samples_per_texel(frame.format, i);
            let destination = wgpu::TexelCopyTextureInfo {
                texture,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            };
            let size = wgpu::Extent3d { width: w, height: h, depth_or_array_layers: 1 };
            let (data, bytes_per_row) = match storage {
                // The decoder's rows go as they are: write_texture takes any stride
                // (no 256-byte rule, unlike buffer-to-texture copies).
                SampleStorage::Unorm8 | SampleStorage::Unorm16 => (&plane.data[..], plane.stride),
                SampleStorage::Float16 => {
                    let row_bytes = samples_per_row * 2;
                    self.staging.clear();
                    self.staging.reserve(row_bytes * h as usize);
                    for row in plane.data.chunks(plane.stride).take(h as usize) {
                        for word in row[..(samples_per_row * 2).min(row.len())].chunks_exact(2) {
                            let code = u16::from_le_bytes([word[0], word[1]]);
                            self.staging.extend_from_slice(&f16_bits(code).to_le_bytes());
                        }
                    }
                    (&self.staging[..], row_bytes)
                }
            };
            gpu.queue().write_texture(
                destination,
                data,
                wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(bytes_per_row as u32),
                    rows_per_image: Some(h),
                },
                size,
            );
        }
    }

    /// The bind group for the last prepared geometry.
    pub(crate) fn bind_group(&self) -> Option<&wgpu::BindGroup> {
        self.bind_group.as_ref()
    }

    /// How many times textures and bind group were (re)created.
    pub(crate) fn allocations(&self) -> u64 {
        self.allocations
    }
}

/// IEEE half-float bits for the integer `value`: exact up to 2048, rounded to nearest
/// above, saturating at the largest finite half (65504).
pub fn f16_bits(value: u16) -> u16 {
    if value == 0 {
        return 0;
    }
    let value = u32::from(value.min(65504));
    let exponent = 31 - value.leading_zeros(); // floor(log2(value)), 0..=15
    let mantissa = if exponent <= 10 {
        (value << (10 - exponent)) & 0x3ff
    } else {
        let shift = exponent - 10;
        let rounded = (value + (1 << (shift - 1))) >> shift;
        if rounded >= 0x800 {
            // Rounded up to the next power of two.
            return (((exponent + 1 + 15) << 10) as u16).min(0x7bff);
        }
        rounded & 0x3ff
    };
    (((exponent + 15) << 10) | mantissa) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn half_to_f64(bits: u16) -> f64 {
        let exponent = i32::from((bits >> 10) & 0x1f);
        let mantissa = f64::from(bits & 0x3ff);
        if exponent == 0 {
            return mantissa * 2f64.powi(-24);
        }
        (1.0 + mantissa / 1024.0) * 2f64.powi(exponent - 15)
    }

    #[test]
    fn half_floats_hold_every_ten_and_eleven_bit_code_exactly() {
        for code in 0..=2048u16 {
            assert_eq!(half_to_f64(f16_bits(code)), f64::from(code), "code {code}");
        }
    }

    #[test]
    fn larger_codes_round_to_nearest() {
        for code in [2049u16, 4095, 40000, 65504, 65535] {
            let back = half_to_f64(f16_bits(code));
            let spacing = 2f64.powi(((f64::from(code)).log2().floor() as i32) - 10);
            assert!((back - f64::from(code.min(65504))).abs() <= spacing / 2.0, "{code} → {back}");
        }
    }

    #[test]
    fn storage_choice() {
        assert_eq!(SampleStorage::for_depth(8, true), SampleStorage::Unorm8);
        assert_eq!(SampleStorage::for_depth(10, true), SampleStorage::Unorm16);
        assert_eq!(SampleStorage::for_depth(10, false), SampleStorage::Float16);
    }
}
