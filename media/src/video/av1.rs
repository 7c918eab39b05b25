//! AV1 decoding with rav1d, the Rust port of dav1d.
//!
//! rav1d exposes dav1d's C API only, so every `unsafe` call lives in the private
//! `sys` module below: owned wrappers for the context, an input buffer and a
//! picture, each releasing its resource on drop. The decoder above it is safe code.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use streamsteer::container::{DecoderConfig, TrackInfo};

use super::{DecodeError, Packet, VideoDecoder, VideoDecoderFactory, resolve_colour};
use crate::colour::{ColourSpace, Range};
use crate::frame::{PixelFormat, Plane, VideoFrame};

const BACKEND: &str = "rav1d";

/// Settings of the rav1d decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Av1Settings {
    /// Worker threads; 0 (the default) lets rav1d pick one per logical CPU.
    pub threads: u32,
    /// Frames decoded in parallel, which is also the output delay; 0 (the default)
    /// lets rav1d derive it from the thread count.
    pub max_frame_delay: u32,
    /// Whether to synthesise film grain the stream signals (default `true`, as the
    /// encoder intended; the reference decodes in the tests apply it too).
    pub apply_grain: bool,
}

impl Default for Av1Settings {
    fn default() -> Self {
        Self { threads: 0, max_frame_delay: 0, apply_grain: true }
    }
}

/// Opens [`Av1Decoder`]s for `av01` tracks.
#[derive(Debug, Clone, Default)]
pub struct Av1DecoderFactory {
    settings: Av1Settings,
}

impl Av1DecoderFactory {
    /// A factory whose decoders use `settings`.
    pub fn new(settings: Av1Settings) -> Self {
        Self { settings }
    }
}

impl VideoDecoderFactory for Av1DecoderFactory {
    fn supports(&self, track: &TrackInfo) -> bool {
        track.codec == *b"av01"
    }

    fn open(&self, track: &TrackInfo) -> Result<Box<dyn VideoDecoder>, DecodeError> {
        if !self.supports(track) {
            return Err(DecodeError::Unsupported(track.codecs_or_fourcc()));
        }
        Ok(Box::new(Av1Decoder::with_settings(track, self.settings)?))
    }
}

/// An AV1 decoder (rav1d). Frames come out as I420, 8-bit or 16-bit words for 10 and
/// 12 bits.
pub struct Av1Decoder {
    context: sys::Context,
    /// Input rav1d has not taken yet (it was busy: pictures had to be drained first).
    pending: Option<sys::Data>,
    /// The `av1C` configuration OBUs, fed once before the first packet.
    config_obus: Option<Vec<u8>>,
    /// The container's colour description, the fallback for the bitstream's.
    container_colour: Option<ColourSpace>,
    /// Pictures taken out of rav1d while it needed room for more input.
    ready: VecDeque<VideoFrame>,
    /// Whether `receive` has already asked rav1d for a picture since the last packet.
    /// One temporal unit shows at most one frame, so asking once per packet keeps up
    /// without forcing rav1d to drain its frame threads on every call.
    polled: bool,
    /// Set by `flush`: `receive` drains every held picture.
    draining: bool,
}

impl std::fmt::Debug for Av1Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Av1Decoder")
            .field("ready", &self.ready.len())
            .field("draining", &self.draining)
            .finish_non_exhaustive()
    }
}

impl Av1Decoder {
    /// A decoder for `track` (an `av01` track) with default settings.
    pub fn new(track: &TrackInfo) -> Result<Self, DecodeError> {
        Self::with_settings(track, Av1Settings::default())
    }

    /// A decoder for `track` with `settings`.
    pub fn with_settings(track: &TrackInfo, settings: Av1Settings) -> Result<Self, DecodeError> {
        let config_obus = match &track.config {
            DecoderConfig::Av1(config) if !config.config_obus.is_empty() => {
                Some(config.config_obus.clone())
            }
            DecoderConfig::Av1(_) => None,
            _ => {
                return Err(DecodeError::Config(format!(
                    "track {} ({}) has no av1C record",
                    track.track_id,
                    track.codecs_or_fourcc()
                )));
            }
        };
        let context = sys::Context::open(&settings).map_err(|code| backend_error("open", code))?;
        tracing::debug!(track = track.track_id, ?settings, "rav1d decoder opened");
        Ok(Self {
            context,
            pending: None,
            config_obus,
            container_colour: ColourSpace::from_container(track.colour.as_ref()),
            ready: VecDeque::new(),
            polled: true,
            draining: false,
        })
    }

    /// Hands `data` to rav1d, taking pictures out whenever it is too busy to accept
    /// more, until all of it is consumed.
    fn push(&mut self, mut data: sys::Data) -> Result<(), DecodeError> {
        // rav1d takes a temporal unit whole or asks for its output to be drained;
        // each round either consumes input or drains a picture, so the bound only
        // trips on a decoder that stalls.
        let mut idle = 0;
        for _ in 0..64 {
            match self.context.send(&mut data) {
                Ok(()) if data.is_empty() => return Ok(()),
                Ok(()) => idle = 0,
                Err(code) if code == sys::EAGAIN => match self.next_picture()? {
                    Some(frame) => {
                        idle = 0;
                        self.ready.push_back(frame);
                    }
                    // rav1d answers a first request with "again" while its frame
                    // threads are busy, and waits for them on the second.
                    None if idle == 0 => idle += 1,
                    None => {
                        self.pending = Some(data);
                        return Ok(());
                    }
                },
                Err(code) => return Err(decode_error(code)),
            }
        }
        self.pending = Some(data);
        Ok(())
    }

    fn next_picture(&mut self) -> Result<Option<VideoFrame>, DecodeError> {
        match self.context.picture() {
            Ok(Some(picture)) => self.to_frame(&picture).map(Some),
            Ok(None) => Ok(None),
            Err(code) => Err(decode_error(code)),
        }
    }

    fn to_frame(&self, picture: &sys::Picture) -> Result<VideoFrame, DecodeError> {
        let (width, height) = picture.size();
        let bit_depth = picture.bit_depth();
        if width == 0 || height == 0 || !matches!(bit_depth, 8 | 10 | 12) {
            return Err(DecodeError::Corrupt(format!(
                "rav1d returned a {width}x{height} picture at {bit_depth} bits"
            )));
        }
        let bps = if bit_depth > 8 { 2 } else { 1 };
        let (chroma_w, chroma_h) = (width.div_ceil(2), height.div_ceil(2));
        let mut planes = Vec::with_capacity(3);
        planes.push(copy_plane(picture, 0, width, height, bps)?);
        match picture.layout() {
            sys::Layout::I420 => {
                planes.push(copy_plane(picture, 1, chroma_w, chroma_h, bps)?);
                planes.push(copy_plane(picture, 2, chroma_w, chroma_h, bps)?);
            }
            sys::Layout::I400 => {
                // Monochrome: neutral chroma so that the frame renders grey.
                let mid = 1u16 << (bit_depth - 1);
                for _ in 0..2 {
                    planes.push(neutral_plane(chroma_w, chroma_h, bps, mid));
                }
            }
            sys::Layout::I422 | sys::Layout::I444 => {
                return Err(DecodeError::Unsupported(format!(
                    "AV1 with {:?} chroma (only 4:2:0 and monochrome are rendered)",
                    picture.layout()
                )));
            }
        }
        let (matrix, full_range) = picture.colour();
        let matrix = ColourSpace::from_h273(matrix, full_range).map(|c| c.matrix);
        // AV1 always codes color_range (outside sRGB), so it stands even when the
        // matrix is left unspecified.
        let range = Some(if full_range { Range::Full } else { Range::Limited });
        let colour = resolve_colour(matrix, range, self.container_colour, height);
        Ok(VideoFrame {
            width,
            height,
            format: PixelFormat::I420,
            bit_depth,
            planes,
            colour,
            pts_us: picture.timestamp(),
            sample_aspect: sample_aspect(width, height, picture.render_size()),
        })
    }
}

impl VideoDecoder for Av1Decoder {
    fn name(&self) -> &str {
        BACKEND
    }

    fn send(&mut self, packet: &Packet<'_>) -> Result<(), DecodeError> {
        if packet.data.is_empty() {
            return Err(DecodeError::Corrupt("empty AV1 sample".into()));
        }
        self.draining = false;
        self.polled = false;
        if let Some(data) = self.pending.take() {
            self.push(data)?;
        }
        if let Some(obus) = self.config_obus.take() {
            // The av1C OBUs (a sequence header) let rav1d check the stream up front;
            // keyframes repeat them, so a failure here is only worth a log line.
            match sys::Data::copy_from(&obus, packet.pts_us, 0) {
                Ok(data) => {
                    if let Err(e) = self.push(data) {
                        tracing::debug!(error = %e, "rav1d rejected the av1C config OBUs");
                        self.context.flush();
                        self.pending = None;
                    }
                }
                Err(code) => return Err(backend_error("allocate", code)),
            }
        }
        let data = sys::Data::copy_from(packet.data, packet.pts_us, packet.duration_us)
            .map_err(|code| backend_error("allocate", code))?;
        if self.pending.is_some() {
            // rav1d still holds earlier input it could not take: the caller has not
            // been receiving. Refuse rather than drop or reorder data.
            return Err(DecodeError::Backend {
                backend: BACKEND,
                message: "decoder full: receive frames before sending more".into(),
            });
        }
        self.push(data)
    }

    fn receive(&mut self) -> Result<Option<VideoFrame>, DecodeError> {
        if let Some(frame) = self.ready.pop_front() {
            return Ok(Some(frame));
        }
        if self.draining {
            if let Some(data) = self.pending.take() {
                self.push(data)?;
                if let Some(frame) = self.ready.pop_front() {
                    return Ok(Some(frame));
                }
            }
            return self.next_picture();
        }
        if self.polled {
            return Ok(None);
        }
        self.polled = true;
        self.next_picture()
    }

    fn flush(&mut self) -> Result<(), DecodeError> {
        self.draining = true;
        Ok(())
    }

    fn reset(&mut self) {
        self.context.flush();
        self.pending = None;
        self.ready.clear();
        self.polled = true;
        self.draining = false;
    }
}

/// The visible rows of plane `index`, packed (stride = row bytes).
fn copy_plane(
    picture: &sys::Picture,
    index: usize,
    width: u32,
    height: u32,
    bps: usize,
) -> Result<Plane, DecodeError> {
    let row_bytes = width as usize * bps;
    let mut data = Vec::with_capacity(row_bytes * height as usize);
    for row in 0..height as usize {
        let src = picture.row(index, row, row_bytes).ok_or_else(|| {
            DecodeError::Corrupt(format!("rav1d picture plane {index} lacks row {row}"))
        })?;
        data.extend_from_slice(src);
    }
    if bps == 2 && cfg!(target_endian = "big") {
        // rav1d stores native-endian words; frames carry little-endian ones.
        for pair in data.chunks_exact_mut(2) {
            pair.swap(0, 1);
        }
    }
    Ok(Plane { data, stride: row_bytes })
}

fn neutral_plane(width: u32, height: u32, bps: usize, mid: u16) -> Plane {
    let samples = width as usize * height as usize;
    let data = if bps == 2 {
        mid.to_le_bytes().repeat(samples)
    } else {
        vec![u8::try_from(mid).unwrap_or(128); samples]
    };
    Plane { data, stride: width as usize * bps }
}

/// The pixel aspect that stretches the coded size to the render size, as libavcodec's
/// libdav1d wrapper reports it.
fn sample_aspect(width: u32, height: u32, render: Option<(u32, u32)>) -> (u32, u32) {
    let Some((rw, rh)) = render else { return (1, 1) };
    if rw == 0 || rh == 0 {
        return (1, 1);
    }
    let num = u64::from(height) * u64::from(rw);
    let den = u64::from(width) * u64::from(rh);
    let g = gcd(num, den).max(1);
    match (u32::try_from(num / g), u32::try_from(den / g)) {
        (Ok(n), Ok(d)) => (n, d),
        _ => (1, 1),
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn decode_error(code: i32) -> DecodeError {
    match -code {
        libc::EINVAL | libc::ERANGE => {
            DecodeError::Corrupt(format!("rav1d could not decode the data (error {code})"))
        }
        libc::ENOPROTOOPT => {
            DecodeError::Unsupported(format!("AV1 feature rav1d does not support (error {code})"))
        }
        _ => backend_error("decode", code),
    }
}

fn backend_error(what: &str, code: i32) -> DecodeError {
    DecodeError::Backend {
        backend: BACKEND,
        message: format!("{what} failed: {}", std::io::Error::from_raw_os_error(-code)),
    }
}

/// Owned handles over rav1d's C API. Everything `unsafe` in the AV1 decoder is here;
/// each wrapper releases what it holds exactly once, on drop.
mod sys {
    use std::mem::MaybeUninit;
    use std::ptr::NonNull;

    use rav1d::include::dav1d::data::Dav1dData;
    use rav1d::include::dav1d::dav1d::{Dav1dContext, Dav1dLogger, Dav1dSettings};
    use rav1d::include::dav1d::headers::{
        DAV1D_PIXEL_LAYOUT_I400, DAV1D_PIXEL_LAYOUT_I420, DAV1D_PIXEL_LAYOUT_I422,
    };
    use rav1d::include::dav1d::picture::Dav1dPicture;
    use rav1d::src::lib as dav1d;

    use super::Av1Settings;

    /// dav1d's "try again" result (a negative errno, as all its errors).
    pub(super) const EAGAIN: i32 = -libc::EAGAIN;

    /// A rav1d decoder context.
    pub(super) struct Context(Option<Dav1dContext>);

    // SAFETY: a Dav1dContext is an `Arc` of rav1d's context, whose state sits behind
    // mutexes and whose worker threads it manages itself; dav1d allows using it from
    // any thread as long as calls are not concurrent, which `&mut self` guarantees.
    unsafe impl Send for Context {}

    impl Context {
        pub(super) fn open(settings: &Av1Settings) -> Result<Self, i32> {
            let mut s = MaybeUninit::<Dav1dSettings>::uninit();
            // SAFETY: `s` is valid for writes; dav1d_default_settings initialises
            // every field.
            let mut s = unsafe {
                dav1d::dav1d_default_settings(NonNull::from(&mut s).cast());
                s.assume_init()
            };
            s.n_threads = i32::try_from(settings.threads.min(256)).unwrap_or(0);
            s.max_frame_delay = i32::try_from(settings.max_frame_delay.min(256)).unwrap_or(0);
            s.apply_grain = i32::from(settings.apply_grain);
            // SAFETY: a logger without a callback is never called; it turns off
            // rav1d's direct writes to stderr (errors come back as result codes).
            s.logger = unsafe { Dav1dLogger::new(None, None) };
            let mut context: Option<Dav1dContext> = None;
            // SAFETY: both pointers are valid for the call; dav1d_open reads the
            // settings and writes the context (or None on failure).
            let result = unsafe {
                dav1d::dav1d_open(Some(NonNull::from(&mut context)), Some(NonNull::from(&mut s)))
            };
            match (result.0, context) {
                (0, Some(context)) => Ok(Self(Some(context))),
                (0, None) => Err(-libc::ENOMEM),
                (code, _) => Err(code),
            }
        }

        /// Hands `data` to rav1d; on success it takes all of it or part of it
        /// (`data.is_empty()` tells); `Err(EAGAIN)` asks for pictures to be taken first.
        pub(super) fn send(&mut self, data: &mut Data) -> Result<(), i32> {
            let Some(context) = self.0 else { return Err(-libc::EINVAL) };
            // SAFETY: the context came from dav1d_open and is not closed (Drop is the
            // only place that closes it); `data.0` is a valid Dav1dData that rav1d
            // reads and updates in place.
            let result =
                unsafe { dav1d::dav1d_send_data(Some(context), Some(NonNull::from(&mut data.0))) };
            if result.0 == 0 { Ok(()) } else { Err(result.0) }
        }

        /// The next picture in output order; `Ok(None)` when none is ready.
        pub(super) fn picture(&mut self) -> Result<Option<Picture>, i32> {
            let Some(context) = self.0 else { return Err(-libc::EINVAL) };
            let mut picture = Picture(Dav1dPicture::default());
            // SAFETY: the context is open (see `send`); `picture.0` is valid for
            // writes. On failure rav1d writes an empty picture, which Picture's drop
            // unrefs harmlessly.
            let result = unsafe {
                dav1d::dav1d_get_picture(Some(context), Some(NonNull::from(&mut picture.0)))
            };
            match result.0 {
                0 if picture.0.data[0].is_some() => Ok(Some(picture)),
                0 => Err(-libc::EINVAL),
                EAGAIN => Ok(None),
                code => Err(code),
            }
        }

        /// Drops all queued input and held pictures (a seek).
        pub(super) fn flush(&mut self) {
            if let Some(context) = self.0 {
                // SAFETY: the context is open (see `send`).
                unsafe { dav1d::dav1d_flush(context) }
            }
        }
    }

    impl Drop for Context {
        fn drop(&mut self) {
            // SAFETY: `self.0` came from dav1d_open; dav1d_close frees it, joins its
            // threads and leaves None behind, so it cannot be closed twice.
            unsafe { dav1d::dav1d_close(Some(NonNull::from(&mut self.0))) }
        }
    }

    /// An input buffer owned by rav1d's allocator (a copy of a sample).
    pub(super) struct Data(Dav1dData);

    // SAFETY: the buffer is a heap allocation reference-counted atomically by rav1d
    // (`CArc`); this handle is its only owner outside the decoder.
    unsafe impl Send for Data {}

    impl Data {
        /// A copy of `bytes`, stamped with the presentation time and duration that
        /// rav1d carries to the picture.
        pub(super) fn copy_from(bytes: &[u8], pts: i64, duration: i64) -> Result<Self, i32> {
            if bytes.is_empty() {
                return Err(-libc::EINVAL);
            }
            let mut data = Data(Dav1dData::default());
            // SAFETY: `data.0` is valid for writes; on success the returned pointer is
            // the start of a fresh buffer of `bytes.len()` bytes owned by `data.0`.
            let dst =
                unsafe { dav1d::dav1d_data_create(Some(NonNull::from(&mut data.0)), bytes.len()) };
            if dst.is_null() {
                return Err(-libc::ENOMEM);
            }
            // SAFETY: `dst` points to `bytes.len()` writable bytes that do not
            // overlap `bytes` (a new allocation).
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len()) };
            data.0.m.timestamp = pts;
            data.0.m.duration = duration;
            Ok(data)
        }

        /// Whether rav1d has consumed all of it.
        pub(super) fn is_empty(&self) -> bool {
            self.0.sz == 0 || self.0.data.is_none()
        }
    }

    impl Drop for Data {
        fn drop(&mut self) {
            // SAFETY: `self.0` is a valid Dav1dData (created by dav1d_data_create,
            // possibly consumed by dav1d_send_data); unref releases what is left and
            // zeroes it.
            unsafe { dav1d::dav1d_data_unref(Some(NonNull::from(&mut self.0))) }
        }
    }

    /// Chroma layout of a picture.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(super) enum Layout {
        I400,
        I420,
        I422,
        I444,
    }

    /// A decoded picture, referenced until drop.
    pub(super) struct Picture(Dav1dPicture);

    impl Picture {
        pub(super) fn size(&self) -> (u32, u32) {
            let p = &self.0.p;
            (u32::try_from(p.w).unwrap_or(0), u32::try_from(p.h).unwrap_or(0))
        }

        pub(super) fn bit_depth(&self) -> u8 {
            u8::try_from(self.0.p.bpc).unwrap_or(0)
        }

        pub(super) fn layout(&self) -> Layout {
            match self.0.p.layout {
                DAV1D_PIXEL_LAYOUT_I400 => Layout::I400,
                DAV1D_PIXEL_LAYOUT_I420 => Layout::I420,
                DAV1D_PIXEL_LAYOUT_I422 => Layout::I422,
                _ => Layout::I444,
            }
        }

        pub(super) fn timestamp(&self) -> i64 {
            self.0.m.timestamp
        }

        /// `(matrix_coefficients, full_range)` from the sequence header.
        pub(super) fn colour(&self) -> (u16, bool) {
            match self.0.seq_hdr {
                // SAFETY: the sequence header is reference-counted with the picture,
                // so it lives as long as `self`.
                Some(seq) => {
                    let seq = unsafe { seq.as_ref() };
                    (u16::try_from(seq.mtrx).unwrap_or(2), seq.color_range != 0)
                }
                None => (2, false),
            }
        }

        /// The frame header's render size, which the coded size is stretched to.
        pub(super) fn render_size(&self) -> Option<(u32, u32)> {
            // SAFETY: the frame header is reference-counted with the picture.
            let header = unsafe { self.0.frame_hdr?.as_ref() };
            Some((
                u32::try_from(header.render_width).ok()?,
                u32::try_from(header.render_height).ok()?,
            ))
        }

        /// The first `len` bytes of row `row` of plane `plane` (0 = Y, 1 = U, 2 = V);
        /// `None` outside the picture.
        pub(super) fn row(&self, plane: usize, row: usize, len: usize) -> Option<&[u8]> {
            let (w, h) = self.size();
            let bps = if self.bit_depth() > 8 { 2 } else { 1 };
            let (plane_w, plane_h) = match (plane, self.layout()) {
                (0, _) => (w as usize, h as usize),
                (1 | 2, Layout::I420) => (w.div_ceil(2) as usize, h.div_ceil(2) as usize),
                (1 | 2, Layout::I422) => (w.div_ceil(2) as usize, h as usize),
                (1 | 2, Layout::I444) => (w as usize, h as usize),
                _ => return None,
            };
            if row >= plane_h || len > plane_w * bps {
                return None;
            }
            let base = self.0.data.get(plane).copied().flatten()?;
            let stride = *self.0.stride.get(usize::from(plane > 0))?;
            let offset = isize::try_from(row).ok()?.checked_mul(stride)?;
            // SAFETY: rav1d allocates each plane with `plane_h` rows `stride` bytes
            // apart (a negative stride walks backwards from `base`), each holding at
            // least `plane_w` samples; `row < plane_h` and `len <= plane_w * bps`
            // keep the slice inside the allocation, which lives as long as `self`.
            Some(unsafe {
                std::slice::from_raw_parts(base.cast::<u8>().as_ptr().offset(offset), len)
            })
        }
    }

    impl Drop for Picture {
        fn drop(&mut self) {
            // SAFETY: `self.0` is a picture from dav1d_get_picture (or the empty
            // default); unref drops its references once and zeroes it.
            unsafe { dav1d::dav1d_picture_unref(Some(NonNull::from(&mut self.0))) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_size_gives_the_pixel_aspect() {
        assert_eq!(sample_aspect(1920, 1080, Some((1920, 1080))), (1, 1));
        assert_eq!(sample_aspect(1440, 1080, Some((1920, 1080))), (4, 3));
        assert_eq!(sample_aspect(640, 360, None), (1, 1));
        assert_eq!(sample_aspect(640, 360, Some((0, 360))), (1, 1));
    }
}
