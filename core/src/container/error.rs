//! Errors of the fMP4 parser, and the four-character code they name boxes by.

use std::fmt;

/// A four-character code: a box type, a handler type or a sample-entry (codec) type.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FourCc(pub [u8; 4]);

impl FourCc {
    /// The code as text; bytes outside printable ASCII become `?`.
    pub fn as_string(&self) -> String {
        self.0
            .iter()
            .map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '?' })
            .collect()
    }
}

impl fmt::Display for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_string())
    }
}

impl fmt::Debug for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FourCc({:?})", self.as_string())
    }
}

impl PartialEq<[u8; 4]> for FourCc {
    fn eq(&self, other: &[u8; 4]) -> bool {
        &self.0 == other
    }
}

impl From<[u8; 4]> for FourCc {
    fn from(code: [u8; 4]) -> Self {
        FourCc(code)
    }
}

/// Why an init or media segment could not be parsed. Offsets are in bytes from the
/// start of the buffer given to the parser.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Fmp4Error {
    /// A box, or a field inside one, runs past the end of the data (or of its parent).
    #[error(
        "`{box_type}` box truncated at byte {offset}: needs {needed} bytes, only {available} available"
    )]
    Truncated {
        /// The box being read.
        box_type: FourCc,
        /// Where the short read starts.
        offset: u64,
        /// Bytes needed from `offset`.
        needed: u64,
        /// Bytes there are from `offset`.
        available: u64,
    },
    /// A box whose content is invalid or unsupported.
    #[error("bad `{box_type}` box at byte {offset}: {reason}")]
    BadBox {
        /// The box.
        box_type: FourCc,
        /// Where its header starts.
        offset: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// A box required by the format is absent.
    #[error("no `{box_type}` box in `{parent}` (at byte {offset})")]
    MissingBox {
        /// The missing box.
        box_type: FourCc,
        /// Where it was looked for (`file` for the top level).
        parent: FourCc,
        /// Where `parent` starts.
        offset: u64,
    },
    /// A media segment's `tfhd` names a track the init segment does not declare.
    #[error("media segment refers to track {0}, which the init segment does not declare")]
    UnknownTrack(u32),
    /// A sample's bytes, as the `trun` data offset and sample sizes place them, are not
    /// inside one `mdat` of the segment.
    #[error(
        "track {track_id} sample {sample}: bytes {start}..{end} are not inside an `mdat` of the segment"
    )]
    SampleOutOfBounds {
        /// The sample's track.
        track_id: u32,
        /// Index of the sample among the track's samples in the segment, from 0.
        sample: u64,
        /// Where the sample would start (negative when a data offset points before
        /// the start of the buffer).
        start: i128,
        /// Where the sample would end.
        end: i128,
    },
}
