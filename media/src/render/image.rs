//! A rendered picture on the CPU: what a readback or the reference conversion gives.

/// Tightly packed RGBA, 8 bits per channel, rows top to bottom. Colour values are the
/// gamma-encoded (BT.709 transfer) code values, as in ffmpeg's `rgb24`; not sRGB-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbaImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 4` bytes.
    pub data: Vec<u8>,
}

impl RgbaImage {
    /// An opaque black image.
    pub fn black(width: u32, height: u32) -> Self {
        let mut data = vec![0u8; width as usize * height as usize * 4];
        for px in data.chunks_exact_mut(4) {
            px[3] = 255;
        }
        Self { width, height, data }
    }

    /// An opaque image from packed `rgb24` bytes (ffmpeg's `-pix_fmt rgb24`); `None`
    /// when the length does not match the size.
    pub fn from_rgb24(width: u32, height: u32, rgb: &[u8]) -> Option<Self> {
        if rgb.len() != width as usize * height as usize * 3 {
            return None;
        }
        let data = rgb.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect();
        Some(Self { width, height, data })
    }

    /// The pixel at (`x`, `y`), `None` outside the image.
    pub fn pixel(&self, x: u32, y: u32) -> Option<[u8; 4]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = (y as usize * self.width as usize + x as usize) * 4;
        self.data.get(i..i + 4).and_then(|p| p.try_into().ok())
    }

    /// Peak signal-to-noise ratio over the R, G and B channels, in dB (alpha ignored);
    /// infinite for identical images, `None` when the sizes differ.
    pub fn psnr_rgb(&self, other: &RgbaImage) -> Option<f64> {
        if self.width != other.width
            || self.height != other.height
            || self.data.len() != other.data.len()
        {
            return None;
        }
        let (mut sum, mut n) = (0u64, 0u64);
        for (a, b) in self.data.chunks_exact(4).zip(other.data.chunks_exact(4)) {
            for c in 0..3 {
                let d = i64::from(a[c]) - i64::from(b[c]);
                sum += (d * d) as u64;
            }
            n += 3;
        }
        if sum == 0 {
            return Some(f64::INFINITY);
        }
        let mse = sum as f64 / n.max(1) as f64;
        Some(10.0 * (255.0 * 255.0 / mse).log10())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psnr_of_a_known_error() {
        let a = RgbaImage::black(4, 4);
        let mut b = a.clone();
        assert_eq!(a.psnr_rgb(&b), Some(f64::INFINITY));
        // Every R off by 3 → MSE 3 over R,G,B = 3 → 10·log10(65025/3).
        for px in b.data.chunks_exact_mut(4) {
            px[0] = 3;
        }
        let expected = 10.0 * (65025.0_f64 / 3.0).log10();
        assert!((a.psnr_rgb(&b).unwrap() - expected).abs() < 1e-9);
        assert_eq!(a.psnr_rgb(&RgbaImage::black(4, 5)), None);
    }

    #[test]
    fn rgb24_conversion_checks_length() {
        assert!(RgbaImage::from_rgb24(2, 1, &[1, 2, 3, 4, 5, 6]).is_some());
        assert!(RgbaImage::from_rgb24(2, 2, &[1, 2, 3]).is_none());
        let img = RgbaImage::from_rgb24(2, 1, &[1, 2, 3, 4, 5, 6]).unwrap();
        assert_eq!(img.pixel(1, 0), Some([4, 5, 6, 255]));
        assert_eq!(img.pixel(2, 0), None);
    }
}
