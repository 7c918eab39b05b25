//! The ISO BMFF box walker: box headers (32-bit, 64-bit and to-the-end sizes, `uuid`
//! types) and a bounds-checked big-endian reader over one box's body.
//!
//! Offsets are absolute (from the start of the buffer handed to the parser) so that
//! every error can point at the exact byte.

use super::error::{Fmp4Error, FourCc};

/// One box: its type, where it starts, and its body (the bytes after the header).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mp4Box<'a> {
    pub kind: FourCc,
    /// Absolute offset of the box header.
    pub offset: u64,
    /// Absolute offset of the first body byte.
    pub body_offset: u64,
    pub body: &'a [u8],
}

impl<'a> Mp4Box<'a> {
    /// The boxes nested in this one (for containers such as `moov` or `traf`).
    pub fn children(&self) -> Boxes<'a> {
        Boxes::new(self.body, self.body_offset)
    }

    /// The boxes nested in this one after `skip` bytes of the box's own fields (for
    /// sample entries and `stsd`, whose children follow fixed fields).
    pub fn children_after(&self, skip: usize) -> Result<Boxes<'a>, Fmp4Error> {
        let rest = self.body.get(skip..).ok_or_else(|| self.truncated(skip))?;
        Ok(Boxes::new(rest, self.body_offset + skip as u64))
    }

    /// A reader over the body.
    pub fn reader(&self) -> Reader<'a> {
        Reader { data: self.body, pos: 0, kind: self.kind, base: self.body_offset }
    }

    /// The first child of type `kind`, or a [`Fmp4Error::MissingBox`].
    pub fn child(&self, kind: &[u8; 4]) -> Result<Mp4Box<'a>, Fmp4Error> {
        self.find_child(kind)?.ok_or(Fmp4Error::MissingBox {
            box_type: FourCc(*kind),
            parent: self.kind,
            offset: self.offset,
        })
    }

    /// The first child of type `kind`, if any.
    pub fn find_child(&self, kind: &[u8; 4]) -> Result<Option<Mp4Box<'a>>, Fmp4Error> {
        for child in self.children() {
            let child = child?;
            if child.kind == *kind {
                return Ok(Some(child));
            }
        }
        Ok(None)
    }

    /// A [`Fmp4Error::BadBox`] about this box.
    pub fn bad(&self, reason: impl Into<String>) -> Fmp4Error {
        Fmp4Error::BadBox { box_type: self.kind, offset: self.offset, reason: reason.into() }
    }

    fn truncated(&self, needed: usize) -> Fmp4Error {
        Fmp4Error::Truncated {
            box_type: self.kind,
            offset: self.body_offset,
            needed: needed as u64,
            available: self.body.len() as u64,
        }
    }
}

/// Iterates over the boxes laid end to end in a buffer. Stops after the first error,
/// since nothing after a broken header can be located.
#[derive(Debug, Clone)]
pub(crate) struct Boxes<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
    failed: bool,
}

impl<'a> Boxes<'a> {
    /// Boxes in `data`, whose first byte sits at absolute offset `base`.
    pub fn new(data: &'a [u8], base: u64) -> Self {
        Boxes { data, pos: 0, base, failed: false }
    }

    fn next_box(&mut self) -> Result<Mp4Box<'a>, Fmp4Error> {
        let rest = &self.data[self.pos..];
        let offset = self.base + self.pos as u64;
        let mut r = Reader { data: rest, pos: 0, kind: FourCc(*b"????"), base: offset };
        let size32 = r.u32()?;
        let kind = FourCc(r.array4()?);
        r.kind = kind;
        let size: u64 = match size32 {
            // Size 0: the box runs to the end of its container (only legal last).
            0 => rest.len() as u64,
            // Size 1: a 64-bit size follows the type.
            1 => r.u64()?,
            n => u64::from(n),
        };
        if kind == *b"uuid" {
            r.skip(16)?;
        }
        let header_len = r.pos as u64;
        if size < header_len {
            return Err(Fmp4Error::BadBox {
                box_type: kind,
                offset,
                reason: format!("size {size} is smaller than its {header_len}-byte header"),
            });
        }
        if size > rest.len() as u64 {
            return Err(Fmp4Error::Truncated {
                box_type: kind,
                offset,
                needed: size,
                available: rest.len() as u64,
            });
        }
        // Both fit in `rest.len()`, so the casts are lossless.
        let (size, header_len) = (size as usize, header_len as usize);
        let body = &rest[header_len..size];
        self.pos += size;
        Ok(Mp4Box { kind, offset, body_offset: offset + header_len as u64, body })
    }
}

impl<'a> Iterator for Boxes<'a> {
    type Item = Result<Mp4Box<'a>, Fmp4Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.data.len() {
            return None;
        }
        let item = self.next_box();
        if item.is_err() {
            self.failed = true;
        }
        Some(item)
    }
}

/// A big-endian reader over one box's body; every read is bounds-checked and a short
/// read names the box and the absolute offset.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    kind: FourCc,
    base: u64,
}

impl<'a> Reader<'a> {
    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// Absolute offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Fmp4Error> {
        if n > self.remaining() {
            return Err(Fmp4Error::Truncated {
                box_type: self.kind,
                offset: self.offset(),
                needed: n as u64,
                available: self.remaining() as u64,
            });
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// A reader over the next `n` bytes, which this reader then skips.
    pub fn sub(&mut self, n: usize) -> Result<Reader<'a>, Fmp4Error> {
        let base = self.offset();
        let data = self.take(n)?;
        Ok(Reader { data, pos: 0, kind: self.kind, base })
    }

    pub fn skip(&mut self, n: usize) -> Result<(), Fmp4Error> {
        self.take(n).map(|_| ())
    }

    pub fn u8(&mut self) -> Result<u8, Fmp4Error> {
        Ok(self.take(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16, Fmp4Error> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u24(&mut self) -> Result<u32, Fmp4Error> {
        let b = self.take(3)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    pub fn u32(&mut self) -> Result<u32, Fmp4Error> {
        Ok(u32::from_be_bytes(self.array4()?))
    }

    pub fn u64(&mut self) -> Result<u64, Fmp4Error> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    pub fn array4(&mut self) -> Result<[u8; 4], Fmp4Error> {
        let b = self.take(4)?;
        Ok([b[0], b[1], b[2], b[3]])
    }

    /// The version byte and 24 flag bits of a full box.
    pub fn full_box(&mut self) -> Result<(u8, u32), Fmp4Error> {
        let version = self.u8()?;
        let flags = self.u24()?;
        Ok((version, flags))
    }

    /// A field that is 32 bits in version 0 and 64 bits in version 1.
    pub fn u32_or_u64(&mut self, version: u8) -> Result<u64, Fmp4Error> {
        if version == 1 { self.u64() } else { self.u32().map(u64::from) }
    }
}
