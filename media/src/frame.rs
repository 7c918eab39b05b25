//! A decoded picture, as every decoder hands it to the renderer.

use crate::colour::ColourSpace;

/// Layout of a frame's planes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    /// Three planes Y, U, V; chroma halved in both directions (4:2:0).
    I420,
    /// Two planes Y and interleaved UV; chroma halved in both directions (4:2:0).
    Nv12,
}

impl PixelFormat {
    /// Number of planes.
    pub fn planes(self) -> usize {
        match self {
            Self::I420 => 3,
            Self::Nv12 => 2,
        }
    }
}

/// One plane of samples. Rows are `stride` bytes apart; a row holds the plane's width
/// in samples, one byte each at 8 bits, two (little-endian `u16`) above 8 bits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plane {
    /// The samples, `stride * rows` bytes (the last row may be shorter).
    pub data: Vec<u8>,
    /// Bytes from one row to the next.
    pub stride: usize,
}

/// A decoded picture with its presentation time.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoFrame {
    /// Visible width in luma samples (cropping applied).
    pub width: u32,
    /// Visible height in luma samples.
    pub height: u32,
    /// Plane layout.
    pub format: PixelFormat,
    /// Bits per sample: 8, or 10/12 stored in 16-bit little-endian words.
    pub bit_depth: u8,
    /// Planes in [`PixelFormat`] order (Y first).
    pub planes: Vec<Plane>,
    /// How to convert to RGB.
    pub colour: ColourSpace,
    /// Presentation time on the media timeline, microseconds.
    pub pts_us: i64,
    /// Sample aspect ratio (pixel width : pixel height), `(1, 1)` for square pixels.
    pub sample_aspect: (u32, u32),
}

impl VideoFrame {
    /// Bytes per sample (1 at 8 bits, 2 above).
    pub fn bytes_per_sample(&self) -> usize {
        if self.bit_depth > 8 { 2 } else { 1 }
    }

    /// Width and height of plane `index` in samples (an interleaved UV plane counts
    /// one sample per U/V pair).
    pub fn plane_size(&self, index: usize) -> (u32, u32) {
        if index == 0 {
            (self.width, self.height)
        } else {
            (self.width.div_ceil(2), self.height.div_ceil(2))
        }
    }

    /// Display aspect ratio: width over height, with the sample aspect applied.
    pub fn display_aspect(&self) -> f64 {
        let (n, d) = self.sample_aspect;
        let sar = if n == 0 || d == 0 { 1.0 } else { f64::from(n) / f64::from(d) };
        f64::from(self.width) * sar / f64::from(self.height.max(1))
    }

    /// Whether the planes hold at least the samples the size and format promise, so
    /// that a renderer can read them without bounds surprises.
    pub fn is_well_formed(&self) -> bool {
        if self.planes.len() != self.format.planes() || self.width == 0 || self.height == 0 {
            return false;
        }
        let bps = self.bytes_per_sample();
        self.planes.iter().enumerate().all(|(i, plane)| {
            let (w, h) = self.plane_size(i);
            let per_sample = if i > 0 && self.format == PixelFormat::Nv12 { 2 * bps } else { bps };
            let row = w as usize * per_sample;
            plane.stride >= row
                && h > 0
                && plane.data.len() >= plane.stride * (h as usize - 1) + row
        })
    }
}
