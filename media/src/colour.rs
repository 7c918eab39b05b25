//! How a frame's YUV samples map to RGB: the matrix and the range, resolved from the
//! bitstream, the container, or (as every player does) the picture size.

use serde::{Deserialize, Serialize};
use streamsteer::container::{Colour, NclxColour};

/// YUV→RGB matrix coefficients (ITU-T H.273 `matrix_coefficients`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Matrix {
    /// BT.601 (H.273 code points 5 and 6): standard definition.
    Bt601,
    /// BT.709 (code point 1): high definition.
    Bt709,
    /// BT.2020 non-constant luminance (code point 9).
    Bt2020,
}

/// Sample range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Range {
    /// Luma 16–235, chroma 16–240 (scaled by 2^(depth−8)): broadcast ("TV") range.
    Limited,
    /// 0 to 2^depth − 1 ("PC" range, JPEG).
    Full,
}

/// How to convert a frame to RGB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ColourSpace {
    /// Matrix coefficients.
    pub matrix: Matrix,
    /// Range.
    pub range: Range,
}

impl ColourSpace {
    /// BT.709, limited range: what HD streams use.
    pub const BT709_LIMITED: Self = Self { matrix: Matrix::Bt709, range: Range::Limited };
    /// BT.601, limited range: what SD streams use.
    pub const BT601_LIMITED: Self = Self { matrix: Matrix::Bt601, range: Range::Limited };

    /// The guess players make when nothing says: BT.709 from 720 lines up, BT.601
    /// below, limited range.
    pub fn for_height(height: u32) -> Self {
        if height >= 720 { Self::BT709_LIMITED } else { Self::BT601_LIMITED }
    }

    /// From H.273 code points; `None` for "unspecified" (2) or a matrix we do not
    /// convert (RGB/identity, YCgCo, constant luminance…), so the caller falls back.
    pub fn from_h273(matrix: u16, full_range: bool) -> Option<Self> {
        let matrix = match matrix {
            1 => Matrix::Bt709,
            5 | 6 => Matrix::Bt601,
            9 => Matrix::Bt2020,
            _ => return None,
        };
        Some(Self { matrix, range: if full_range { Range::Full } else { Range::Limited } })
    }

    /// From a sample entry's `colr` box, when it is `nclx` with a known matrix.
    pub fn from_container(colour: Option<&Colour>) -> Option<Self> {
        match colour {
            Some(Colour::Nclx(NclxColour { matrix, full_range, .. })) => {
                Self::from_h273(*matrix, *full_range)
            }
            _ => None,
        }
    }

    /// The conversion as `(kr, kb)` luma weights; the rest of the matrix follows from
    /// them (kg = 1 − kr − kb).
    pub fn luma_weights(self) -> (f64, f64) {
        match self.matrix {
            Matrix::Bt601 => (0.299, 0.114),
            Matrix::Bt709 => (0.2126, 0.0722),
            Matrix::Bt2020 => (0.2627, 0.0593),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_points_map_and_unknown_ones_fall_back() {
        assert_eq!(ColourSpace::from_h273(1, false), Some(ColourSpace::BT709_LIMITED));
        assert_eq!(ColourSpace::from_h273(6, false), Some(ColourSpace::BT601_LIMITED));
        assert_eq!(
            ColourSpace::from_h273(9, true),
            Some(ColourSpace { matrix: Matrix::Bt2020, range: Range::Full })
        );
        assert_eq!(ColourSpace::from_h273(2, false), None);
        assert_eq!(ColourSpace::from_h273(0, true), None);
        assert_eq!(ColourSpace::for_height(1080), ColourSpace::BT709_LIMITED);
        assert_eq!(ColourSpace::for_height(360), ColourSpace::BT601_LIMITED);
    }
}
