//! The YUV→RGB arithmetic, computed once on the CPU from a frame's [`ColourSpace`] and
//! bit depth: the GPU path gets it as a uniform, the CPU reference applies it directly,
//! so both follow one definition (ITU-T H.273 / BT.601 / BT.709 / BT.2020 equations).

use serde::{Deserialize, Serialize};

use crate::colour::{ColourSpace, Range};

/// Where 4:2:0 chroma samples sit relative to the luma grid (H.273
/// `chroma_sample_loc_type`). Only matters for upsampling; it shifts chroma by a
/// quarter of a chroma sample.
///
/// The default is [`Center`](Self::Center), although H.264/HEVC call "left" their
/// default: frames do not carry the location yet, FFmpeg's swscale (which made the
/// test ladder, and whose conversion is the yardstick) reads and writes 4:2:0 as
/// centred, and measured on the ladder centred siting matches ffmpeg's `rgb24`
/// conversion by 39 dB against 32 dB for left siting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChromaSiting {
    /// Co-sited with the left luma column, centred vertically (type 0: MPEG-2, H.264
    /// and HEVC's nominal default for 4:2:0 video).
    Left,
    /// Centred in each 2×2 luma block (type 1: JPEG, MPEG-1, and what swscale assumes).
    #[default]
    Center,
    /// Co-sited with the top-left luma sample (type 2: BT.2020/UHD).
    TopLeft,
}

impl ChromaSiting {
    /// Offset of the chroma grid, in chroma samples, from the centred position
    /// (horizontal, vertical). See [`chroma_position`].
    pub fn shift(self) -> (f64, f64) {
        match self {
            Self::Left => (0.25, 0.0),
            Self::Center => (0.0, 0.0),
            Self::TopLeft => (0.25, 0.25),
        }
    }
}

/// Where luma sample position `luma_pos` (in luma samples, sample `i`'s centre at `i`)
/// falls on the chroma grid (chroma sample `j`'s centre at `j`), with `shift` from
/// [`ChromaSiting::shift`]. With left siting luma sample `2j` lands exactly on chroma
/// sample `j`. Odd sizes need no special case: the chroma plane is rounded up, and
/// its grid still starts at the picture's left/top edge.
pub fn chroma_position(luma_pos: f64, shift: f64) -> f64 {
    // The GPU samples chroma at normalised (u * luma_len / 2 + shift) / chroma_len for
    // u = (luma_pos + 0.5) / luma_len; this is the same point in chroma samples.
    (luma_pos + 0.5) * 0.5 + shift - 0.5
}

/// An affine YUV→RGB map: `rgb[i] = rows[i] · (y, u, v, 1)`, in code values of the
/// frame's bit depth, giving R'G'B' in 0..1 (before clamping).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct YuvToRgb {
    /// One row per output channel R, G, B: Y, U (Cb), V (Cr) coefficients and the
    /// constant term.
    pub rows: [[f64; 4]; 3],
}

impl YuvToRgb {
    /// The conversion for `colour` at `bit_depth` bits (8 to 16), inputs in code values.
    ///
    /// Limited range: Y′ = (Y − 16·2ⁿ⁻⁸) / (219·2ⁿ⁻⁸), Pb = (Cb − 128·2ⁿ⁻⁸) / (224·2ⁿ⁻⁸).
    /// Full range: Y′ = Y / (2ⁿ − 1), Pb = (Cb − 2ⁿ⁻¹) / (2ⁿ − 1). Then
    /// R = Y′ + 2(1−Kr)·Pr, B = Y′ + 2(1−Kb)·Pb, G = (Y′ − Kr·R − Kb·B) / Kg.
    pub fn new(colour: ColourSpace, bit_depth: u8) -> Self {
        let depth = i32::from(bit_depth.clamp(8, 16));
        let step = f64::from(2_i32.pow((depth - 8) as u32));
        let (y_off, y_range, c_off, c_range) = match colour.range {
            Range::Limited => (16.0 * step, 219.0 * step, 128.0 * step, 224.0 * step),
            Range::Full => {
                let max = f64::from(2_u32.pow(depth as u32) - 1);
                (0.0, max, f64::from(2_u32.pow(depth as u32 - 1)), max)
            }
        };
        let (kr, kb) = colour.luma_weights();
        let kg = 1.0 - kr - kb;
        // Y' = ay·Y + by ; Pb = ac·Cb + bc ; Pr = ac·Cr + bc
        let (ay, by) = (1.0 / y_range, -y_off / y_range);
        let (ac, bc) = (1.0 / c_range, -c_off / c_range);
        let cr_r = 2.0 * (1.0 - kr); // R from Pr
        let cb_b = 2.0 * (1.0 - kb); // B from Pb
        let cb_g = -kb * cb_b / kg; // G from Pb
        let cr_g = -kr * cr_r / kg; // G from Pr
        Self {
            rows: [
                [ay, 0.0, cr_r * ac, by + cr_r * bc],
                [ay, cb_g * ac, cr_g * ac, by + (cb_g + cr_g) * bc],
                [ay, cb_b * ac, 0.0, by + cb_b * bc],
            ],
        }
    }

    /// The same map for inputs that are code values divided by `scale` (a `Unorm`
    /// texture returns code / 255 or code / 65535).
    pub fn for_input_scale(self, scale: f64) -> Self {
        let mut rows = self.rows;
        for row in &mut rows {
            for c in row.iter_mut().take(3) {
                *c *= scale;
            }
        }
        Self { rows }
    }

    /// R′G′B′ for one sample triple (unclamped).
    pub fn apply(&self, y: f64, u: f64, v: f64) -> [f64; 3] {
        self.rows.map(|r| r[0] * y + r[1] * u + r[2] * v + r[3])
    }
}

/// The shader's uniform block (`Params` in yuv.wgsl): three conversion rows, then the
/// chroma coordinate transform `uv_c = uv * scale + offset`. 64 bytes, std140-compatible.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ShaderParams {
    pub(crate) rows: [[f32; 4]; 3],
    pub(crate) chroma: [f32; 4],
}

impl ShaderParams {
    pub(crate) const SIZE: u64 = 64;

    /// Parameters for a frame of `luma` size with `chroma` plane size, whose textures
    /// return code values divided by `input_scale`.
    pub(crate) fn new(
        conversion: YuvToRgb,
        input_scale: f64,
        luma: (u32, u32),
        chroma: (u32, u32),
        siting: ChromaSiting,
    ) -> Self {
        let m = conversion.for_input_scale(input_scale);
        let (sx, sy) = siting.shift();
        let cw = f64::from(chroma.0.max(1));
        let ch = f64::from(chroma.1.max(1));
        Self {
            rows: m.rows.map(|r| r.map(|c| c as f32)),
            chroma: [
                (f64::from(luma.0) * 0.5 / cw) as f32,
                (f64::from(luma.1) * 0.5 / ch) as f32,
                (sx / cw) as f32,
                (sy / ch) as f32,
            ],
        }
    }

    pub(crate) fn to_bytes(self) -> [u8; Self::SIZE as usize] {
        let mut out = [0u8; Self::SIZE as usize];
        let values = self.rows.iter().flatten().chain(self.chroma.iter());
        for (chunk, v) in out.chunks_exact_mut(4).zip(values) {
            chunk.copy_from_slice(&v.to_le_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::colour::Matrix;

    fn close(a: [f64; 3], b: [f64; 3]) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
    }

    #[test]
    fn limited_range_black_white_and_grey() {
        for matrix in [Matrix::Bt601, Matrix::Bt709, Matrix::Bt2020] {
            let c = ColourSpace { matrix, range: Range::Limited };
            let m8 = YuvToRgb::new(c, 8);
            assert!(close(m8.apply(16.0, 128.0, 128.0), [0.0; 3]));
            assert!(close(m8.apply(235.0, 128.0, 128.0), [1.0; 3]));
            let m10 = YuvToRgb::new(c, 10);
            assert!(close(m10.apply(64.0, 512.0, 512.0), [0.0; 3]));
            assert!(close(m10.apply(940.0, 512.0, 512.0), [1.0; 3]));
        }
    }

    #[test]
    fn full_range_extremes() {
        let c = ColourSpace { matrix: Matrix::Bt709, range: Range::Full };
        let m = YuvToRgb::new(c, 8);
        assert!(close(m.apply(0.0, 128.0, 128.0), [0.0; 3]));
        assert!(close(m.apply(255.0, 128.0, 128.0), [1.0; 3]));
    }

    #[test]
    fn primaries_round_trip_through_the_forward_matrix() {
        // Encode pure red with the forward equations and check the inverse gives it back.
        for matrix in [Matrix::Bt601, Matrix::Bt709, Matrix::Bt2020] {
            let c = ColourSpace { matrix, range: Range::Limited };
            let (kr, kb) = c.luma_weights();
            let (r, g, b) = (1.0, 0.0, 0.0);
            let y = kr * r + (1.0 - kr - kb) * g + kb * b;
            let pb = (b - y) / (2.0 * (1.0 - kb));
            let pr = (r - y) / (2.0 * (1.0 - kr));
            let m = YuvToRgb::new(c, 8);
            let rgb = m.apply(16.0 + 219.0 * y, 128.0 + 224.0 * pb, 128.0 + 224.0 * pr);
            assert!(close(rgb, [r, g, b]), "{matrix:?}: {rgb:?}");
        }
    }

    #[test]
    fn left_siting_lands_even_luma_on_chroma_samples() {
        let (s, _) = ChromaSiting::Left.shift();
        assert!((chroma_position(4.0, s) - 2.0).abs() < 1e-12);
        assert!((chroma_position(5.0, s) - 2.5).abs() < 1e-12);
        let (c, _) = ChromaSiting::Center.shift();
        assert!((chroma_position(4.5, c) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn shader_params_pack_to_64_bytes() {
        let p = ShaderParams::new(
            YuvToRgb::new(ColourSpace::BT709_LIMITED, 8),
            255.0,
            (1280, 720),
            (640, 360),
            ChromaSiting::Left,
        );
        let bytes = p.to_bytes();
        assert_eq!(bytes.len(), 64);
        assert_eq!(f32::from_le_bytes([bytes[48], bytes[49], bytes[50], bytes[51]]), 1.0);
        assert_eq!(f32::from_le_bytes([bytes[56], bytes[57], bytes[58], bytes[59]]), 0.25 / 640.0);
    }
}
