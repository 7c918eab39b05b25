//! A plain CPU YUV→RGB conversion in `f64`: the yardstick the GPU path is tested
//! against, and a fallback where no adapter exists.
//!
//! Semantics match the shader exactly: the same [`YuvToRgb`] matrix and range, the
//! same chroma siting ([`ChromaSiting`]), the same fit of the picture into the output
//! (letterbox/pillarbox with black bars), bilinear luma with clamp-to-edge, and
//! R′G′B′ rounded to the nearest 8-bit code. Chroma upsampling is either
//! [`ChromaUpsampling::Bilinear`] (what the GPU's filtering sampler does: the weighted
//! mean of the 2×2 nearest chroma samples at the luma position) or
//! [`ChromaUpsampling::Nearest`] (the chroma sample closest to the luma position,
//! ties to the lower index, i.e. plain 2×2 replication with left siting).

use serde::{Deserialize, Serialize};

use super::conversion::{ChromaSiting, YuvToRgb, chroma_position};
use super::error::RenderError;
use super::image::RgbaImage;
use super::layout::{PictureRect, fit};
use super::planes::{SampleReader, check_frame};
use crate::frame::VideoFrame;

/// How chroma is brought up to luma resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChromaUpsampling {
    /// The nearest chroma sample.
    Nearest,
    /// Bilinear interpolation between the four nearest chroma samples (the default,
    /// as the GPU path).
    #[default]
    Bilinear,
}

/// Options of the reference conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ReferenceOptions {
    /// Chroma upsampling. Default bilinear.
    pub upsampling: ChromaUpsampling,
    /// Chroma siting. Default [`ChromaSiting::Center`], as the renderer's.
    pub siting: ChromaSiting,
}

/// Converts `frame` at its own size (`width` × `height`, no aspect correction).
pub fn convert(frame: &VideoFrame, options: &ReferenceOptions) -> Result<RgbaImage, RenderError> {
    let rect = PictureRect { x: 0, y: 0, width: frame.width, height: frame.height };
    draw(frame, frame.width, frame.height, rect, options)
}

/// Converts `frame` into a `width` × `height` image the way the GPU renderer does:
/// scaled with its display aspect ratio, centred, black bars around.
pub fn render(
    frame: &VideoFrame,
    width: u32,
    height: u32,
    options: &ReferenceOptions,
) -> Result<RgbaImage, RenderError> {
    if width == 0 || height == 0 {
        return Err(RenderError::Config(format!("output size {width}x{height}")));
    }
    draw(frame, width, height, fit(frame.display_aspect(), width, height), options)
}

fn draw(
    frame: &VideoFrame,
    width: u32,
    height: u32,
    rect: PictureRect,
    options: &ReferenceOptions,
) -> Result<RgbaImage, RenderError> {
    check_frame(frame)?;
    let reader = SampleReader::new(frame);
    let matrix = YuvToRgb::new(frame.colour, frame.bit_depth);
    let (sx, sy) = options.siting.shift();
    let mut image = RgbaImage::black(width, height);
    let (fw, fh) = (f64::from(frame.width), f64::from(frame.height));
    let row_len = width as usize * 4;
    for oy in rect.y..rect.y + rect.height {
        // Output pixel centre → normalised picture coordinate → luma sample position.
        let v = (f64::from(oy - rect.y) + 0.5) / f64::from(rect.height);
        let py = v * fh - 0.5;
        let qy = chroma_position(py, sy);
        let row = &mut image.data[oy as usize * row_len..(oy as usize + 1) * row_len];
        for ox in rect.x..rect.x + rect.width {
            let u = (f64::from(ox - rect.x) + 0.5) / f64::from(rect.width);
            let px = u * fw - 0.5;
            let qx = chroma_position(px, sx);
            let y = bilinear(&reader, 0, px, py);
            let (cb, cr) = match options.upsampling {
                ChromaUpsampling::Bilinear => {
                    (bilinear(&reader, 1, qx, qy), bilinear(&reader, 2, qx, qy))
                }
                ChromaUpsampling::Nearest => {
                    let (nx, ny) = ((qx - 0.5).ceil() as i64, (qy - 0.5).ceil() as i64);
                    (reader.sample(1, nx, ny), reader.sample(2, nx, ny))
                }
            };
            let rgb = matrix.apply(y, cb, cr);
            let at = ox as usize * 4;
            for (c, value) in rgb.iter().enumerate() {
                row[at + c] = (value.clamp(0.0, 1.0) * 255.0).round() as u8;
            }
        }
    }
    Ok(image)
}

/// Bilinear sample of component `c` at continuous position (`x`, `y`) in samples,
/// clamped to the plane's edges.
fn bilinear(reader: &SampleReader<'_>, c: usize, x: f64, y: f64) -> f64 {
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (x0, y0) = (x0 as i64, y0 as i64);
    let top = reader.sample(c, x0, y0) * (1.0 - fx) + reader.sample(c, x0 + 1, y0) * fx;
    let bottom = reader.sample(c, x0, y0 + 1) * (1.0 - fx) + reader.sample(c, x0 + 1, y0 + 1) * fx;
    top * (1.0 - fy) + bottom * fy
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::colour::ColourSpace;
    use crate::frame::{PixelFormat, Plane};

    fn flat(width: u32, height: u32, y: u8, u: u8, v: u8) -> VideoFrame {
        let (cw, ch) = (width.div_ceil(2) as usize, height.div_ceil(2) as usize);
        VideoFrame {
            width,
            height,
            format: PixelFormat::I420,
            bit_depth: 8,
            planes: vec![
                Plane { data: vec![y; (width * height) as usize], stride: width as usize },
                Plane { data: vec![u; cw * ch], stride: cw },
                Plane { data: vec![v; cw * ch], stride: cw },
            ],
            colour: ColourSpace::BT709_LIMITED,
            pts_us: 0,
            sample_aspect: (1, 1),
        }
    }

    #[test]
    fn flat_white_and_black() {
        let white = convert(&flat(6, 4, 235, 128, 128), &ReferenceOptions::default()).unwrap();
        assert!(white.data.iter().all(|&b| b == 255));
        let black = convert(&flat(6, 4, 16, 128, 128), &ReferenceOptions::default()).unwrap();
        assert!(black.data.chunks_exact(4).all(|p| p == [0, 0, 0, 255]));
    }

    #[test]
    fn nearest_upsampling_replicates_two_by_two_with_left_siting() {
        let mut frame = flat(4, 2, 126, 128, 128);
        frame.planes[2].data = vec![128, 240]; // Cr: neutral, then strongly red
        let options =
            ReferenceOptions { upsampling: ChromaUpsampling::Nearest, siting: ChromaSiting::Left };
        let img = convert(&frame, &options).unwrap();
        let red = |x| img.pixel(x, 0).unwrap()[0];
        assert_eq!(red(0), red(1));
        assert_eq!(red(2), red(3));
        assert!(red(2) > red(1) + 50);
        // Bilinear with left siting: column 1 sits halfway between the two chroma samples.
        let left = ReferenceOptions { siting: ChromaSiting::Left, ..Default::default() };
        let bilinear = convert(&frame, &left).unwrap();
        let r = |x| bilinear.pixel(x, 0).unwrap()[0];
        assert_eq!(r(0), red(0));
        assert_eq!(r(2), red(2));
        assert!(r(1) > r(0) && r(1) < r(2));
    }

    #[test]
    fn letterboxed_render_leaves_black_bars() {
        let img =
            render(&flat(16, 9, 180, 128, 128), 16, 16, &ReferenceOptions::default()).unwrap();
        // 16:9 into 16x16 → 9 rows of picture from row 3.
        assert_eq!(img.pixel(0, 2), Some([0, 0, 0, 255]));
        assert_eq!(img.pixel(0, 12), Some([0, 0, 0, 255]));
        assert_ne!(img.pixel(0, 3), Some([0, 0, 0, 255]));
        assert_ne!(img.pixel(15, 11), Some([0, 0, 0, 255]));
    }

    #[test]
    fn malformed_frames_are_refused() {
        let mut frame = flat(8, 8, 16, 128, 128);
        frame.planes.pop();
        assert!(matches!(
            convert(&frame, &ReferenceOptions::default()),
            Err(RenderError::MalformedFrame(_))
        ));
        let mut frame = flat(8, 8, 16, 128, 128);
        frame.planes[1].data.truncate(5);
        assert!(matches!(
            convert(&frame, &ReferenceOptions::default()),
            Err(RenderError::MalformedFrame(_))
        ));
    }
}
