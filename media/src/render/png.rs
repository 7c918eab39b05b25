//! Frame dumps as PNG (`streamsteer play --dump-frames DIR`), so anyone can look.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::error::RenderError;
use super::image::RgbaImage;

/// Encodes `image` as an 8-bit RGBA PNG into `out`.
pub fn encode_png<W: Write>(image: &RgbaImage, out: W) -> Result<(), String> {
    let mut encoder = png::Encoder::new(out, image.width, image.height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    // Fast compression: dumps are for looking at, and a 1080p frame should not cost
    // more than its render.
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&image.data).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())
}

/// Writes `image` to `path` as PNG.
pub fn write_png(image: &RgbaImage, path: &Path) -> Result<(), RenderError> {
    let fail = |reason: String| RenderError::Png { path: path.to_path_buf(), reason };
    let file = File::create(path).map_err(|e| fail(e.to_string()))?;
    let mut out = BufWriter::new(file);
    encode_png(image, &mut out).map_err(fail)?;
    out.flush().map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_decodes_back() {
        let mut image = RgbaImage::black(3, 2);
        image.data[4..8].copy_from_slice(&[10, 20, 30, 255]);
        let mut bytes = Vec::new();
        encode_png(&image, &mut bytes).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height, info.color_type), (3, 2, png::ColorType::Rgba));
        assert_eq!(&buf[..image.data.len()], &image.data[..]);
    }

    #[test]
    fn a_bad_path_is_a_typed_error() {
        let err = write_png(&RgbaImage::black(1, 1), Path::new("/nonexistent-dir/x.png"));
        assert!(matches!(err, Err(RenderError::Png { .. })));
    }
}
