//! Checking a frame's planes before anything reads them, and reading samples from them.

use super::error::RenderError;
use crate::frame::{PixelFormat, VideoFrame};

/// Checks that `frame` can be read without surprises: the plane count, sizes and
/// strides of [`VideoFrame::is_well_formed`], and a bit depth from 8 to 16.
pub fn check_frame(frame: &VideoFrame) -> Result<(), RenderError> {
    if !(8..=16).contains(&frame.bit_depth) {
        return Err(RenderError::MalformedFrame(format!(
            "bit depth {} (8 to 16 supported)",
            frame.bit_depth
        )));
    }
    // Strides come from decoders and bindings; refuse ones whose arithmetic would
    // overflow (or not fit a copy's u32 row pitch) before anything multiplies them.
    for (i, plane) in frame.planes.iter().enumerate() {
        let rows = frame.plane_size(i).1 as usize;
        if plane.stride.checked_mul(rows.max(1)).is_none() || u32::try_from(plane.stride).is_err() {
            return Err(RenderError::MalformedFrame(format!(
                "plane {i}: stride {} out of range",
                plane.stride
            )));
        }
    }
    if frame.is_well_formed() {
        return Ok(());
    }
    // Say which promise is broken: the plain boolean does not.
    let why = if frame.width == 0 || frame.height == 0 {
        format!("empty picture {}x{}", frame.width, frame.height)
    } else if frame.planes.len() != frame.format.planes() {
        format!(
            "{:?} needs {} planes, got {}",
            frame.format,
            frame.format.planes(),
            frame.planes.len()
        )
    } else {
        let bad = (0..frame.planes.len())
            .find(|&i| {
                let (w, h) = frame.plane_size(i);
                let row =
                    w as usize * samples_per_texel(frame.format, i) * frame.bytes_per_sample();
                let plane = &frame.planes[i];
                plane.stride < row || plane.data.len() < plane.stride * (h as usize - 1) + row
            })
            .unwrap_or(0);
        let plane = &frame.planes[bad];
        format!(
            "plane {bad}: {} bytes with stride {} too small for {:?} at {}x{}, {} bits",
            plane.data.len(),
            plane.stride,
            frame.format,
            frame.width,
            frame.height,
            frame.bit_depth
        )
    };
    Err(RenderError::MalformedFrame(why))
}

/// Samples per texel in plane `index`: 2 for NV12's interleaved UV plane, else 1.
pub fn samples_per_texel(format: PixelFormat, index: usize) -> usize {
    if index > 0 && format == PixelFormat::Nv12 { 2 } else { 1 }
}

/// Reads code values out of a checked frame's planes.
pub(crate) struct SampleReader<'a> {
    frame: &'a VideoFrame,
    wide: bool,
}

impl<'a> SampleReader<'a> {
    /// A reader over `frame`, which [`check_frame`] accepted.
    pub(crate) fn new(frame: &'a VideoFrame) -> Self {
        Self { frame, wide: frame.bytes_per_sample() == 2 }
    }

    /// Component `c` (Y = 0, U = 1, V = 2) at (`x`, `y`) of its plane, clamped to the
    /// plane's edges (the GPU samplers clamp the same way).
    pub(crate) fn sample(&self, c: usize, x: i64, y: i64) -> f64 {
        let (plane, offset) = match (self.frame.format, c) {
            (_, 0) => (0, 0),
            (PixelFormat::I420, c) => (c.min(2), 0),
            (PixelFormat::Nv12, c) => (1, c.min(2) - 1),
        };
        let (w, h) = self.frame.plane_size(plane);
        let x = x.clamp(0, i64::from(w) - 1) as usize;
        let y = y.clamp(0, i64::from(h) - 1) as usize;
        let per_texel = samples_per_texel(self.frame.format, plane);
        let Some(p) = self.frame.planes.get(plane) else { return 0.0 };
        let index = x * per_texel + offset;
        if self.wide {
            let at = y * p.stride + index * 2;
            p.data.get(at..at + 2).map_or(0.0, |b| f64::from(u16::from_le_bytes([b[0], b[1]])))
        } else {
            p.data.get(y * p.stride + index).map_or(0.0, |&b| f64::from(b))
        }
    }
}
