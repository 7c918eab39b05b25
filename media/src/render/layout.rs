//! Where the picture goes in the output: fitted with its display aspect ratio,
//! centred, the rest left black (letterbox or pillarbox).

/// The output rectangle the picture covers, in whole pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PictureRect {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width (≥ 1).
    pub width: u32,
    /// Height (≥ 1).
    pub height: u32,
}

/// The largest centred rectangle of aspect `display_aspect` (width / height) inside an
/// `out_width` × `out_height` output. A non-finite or non-positive aspect fills the
/// output. Edges are rounded to whole pixels so that bars are exactly black.
pub fn fit(display_aspect: f64, out_width: u32, out_height: u32) -> PictureRect {
    let (ow, oh) = (out_width.max(1), out_height.max(1));
    let full = PictureRect { x: 0, y: 0, width: ow, height: oh };
    if !display_aspect.is_finite() || display_aspect <= 0.0 {
        return full;
    }
    let out_aspect = f64::from(ow) / f64::from(oh);
    if (out_aspect - display_aspect).abs() < 1e-9 {
        return full;
    }
    if out_aspect > display_aspect {
        // Output wider than the picture: full height, bars left and right.
        let width = (f64::from(oh) * display_aspect).round().clamp(1.0, f64::from(ow)) as u32;
        PictureRect { x: (ow - width) / 2, y: 0, width, height: oh }
    } else {
        let height = (f64::from(ow) / display_aspect).round().clamp(1.0, f64::from(oh)) as u32;
        PictureRect { x: 0, y: (oh - height) / 2, width: ow, height }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_nine_into_four_three_is_letterboxed() {
        assert_eq!(fit(16.0 / 9.0, 640, 480), PictureRect { x: 0, y: 60, width: 640, height: 360 });
    }

    #[test]
    fn four_three_into_sixteen_nine_is_pillarboxed() {
        assert_eq!(
            fit(4.0 / 3.0, 1920, 1080),
            PictureRect { x: 240, y: 0, width: 1440, height: 1080 }
        );
    }

    #[test]
    fn same_aspect_and_nonsense_fill_the_output() {
        let full = PictureRect { x: 0, y: 0, width: 1280, height: 720 };
        assert_eq!(fit(1280.0 / 720.0, 1280, 720), full);
        assert_eq!(fit(f64::NAN, 1280, 720), full);
        assert_eq!(fit(0.0, 1280, 720), full);
        assert_eq!(fit(1e-12, 1280, 720).width, 1);
    }
}
