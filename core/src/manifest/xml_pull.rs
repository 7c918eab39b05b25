//! A small pull reader over XML text, for the lite MPD reader: start tags (with raw
//! attributes), end tags, character data and CDATA, in document order.
//!
//! It is deliberately strict where the serde front end (quick-xml) is strict on the
//! same input, so that both readers refuse the same malformed documents: an
//! unterminated comment, CDATA section, declaration or tag, a reference to an
//! entity other than the five predefined ones, or an invalid character reference
//! is an error. It never expands entities declared in a DTD (the internal subset is
//! skipped), so "billion laughs" documents fail instead of growing.
//!
//! Not covered: namespaces beyond prefix stripping, encodings other than UTF-8
//! (the input is a `&str`), and well-formedness rules nothing here depends on
//! (e.g. name characters, one root element).

use super::xml_scan::{StartTag, parse_start_tag};

/// One piece of an XML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    /// `<name attr="v">` or `<name/>`; attribute values still escaped.
    Start(StartTag<'a>),
    /// `</name>`: the qualified name as written.
    End(&'a str),
    /// Character data between tags, still escaped.
    Text(&'a str),
    /// The content of a `<![CDATA[…]]>` section, verbatim.
    CData(&'a str),
}

/// Why the XML could not be read, at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XmlError {
    /// Byte offset where the problem starts.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl XmlError {
    fn at(offset: usize, message: impl Into<String>) -> Self {
        Self { offset, message: message.into() }
    }
}

/// The pull reader: call [`next`](Pull::next) until it gives `Ok(None)`.
pub(crate) struct Pull<'a> {
    xml: &'a str,
    pos: usize,
}

impl<'a> Pull<'a> {
    /// Starts at the beginning of `xml`, after a byte order mark if any.
    pub fn new(xml: &'a str) -> Self {
        let pos = if xml.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
        Self { xml, pos }
    }

    /// The byte offset of the next token.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// The next token; comments, processing instructions and declarations are
    /// skipped. `Ok(None)` at the end of the text.
    pub fn next(&mut self) -> Result<Option<Token<'a>>, XmlError> {
        loop {
            let start = self.pos;
            let Some(rest) = self.xml.get(start..).filter(|r| !r.is_empty()) else {
                return Ok(None);
            };
            if !rest.starts_with('<') {
                let len = rest.find('<').unwrap_or(rest.len());
                self.pos = start + len;
                return Ok(Some(Token::Text(&rest[..len])));
            }
            let until = |end: &str, from: usize, what: &str| {
                rest.get(from..)
                    .and_then(|r| r.find(end))
                    .map(|i| (from + i, from + i + end.len()))
                    .ok_or_else(|| XmlError::at(start, format!("unterminated {what}")))
            };
            if rest.starts_with("<!--") {
                self.pos = start + until("-->", 4, "comment")?.1;
            } else if rest.starts_with("<![CDATA[") {
                let (inner_end, next) = until("]]>", 9, "CDATA section")?;
                self.pos = start + next;
                return Ok(Some(Token::CData(&rest[9..inner_end])));
            } else if rest.starts_with("<?") {
                self.pos = start + until("?>", 2, "processing instruction")?.1;
            } else if rest.starts_with("<!") {
                self.pos = start
                    + declaration_end(rest).ok_or_else(|| {
                        XmlError::at(start, "unterminated declaration (<!DOCTYPE …>)")
                    })?;
            } else if rest.starts_with("</") {
                let (close, next) = until(">", 2, "end tag")?;
                self.pos = start + next;
                return Ok(Some(Token::End(rest[2..close].trim_end())));
            } else {
                let tag = match parse_start_tag(self.xml, start) {
                    Some(tag) => tag,
                    None => malformed_tag(self.xml, start)
                        .ok_or_else(|| XmlError::at(start, "unterminated start tag"))?,
                };
                self.pos = tag.end;
                return Ok(Some(Token::Start(tag)));
            }
        }
    }
}

/// A start tag whose attributes do not parse, found by its closing `>` (outside
/// quotes, as quick-xml finds it): an element the reader skips may have one, as the
/// serde reader never reads a skipped element's attributes.
fn malformed_tag(xml: &str, lt: usize) -> Option<StartTag<'_>> {
    let rest = xml.get(lt + 1..)?;
    let name_len = rest.find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')?;
    let mut quote = None;
    for (i, b) in rest.bytes().enumerate() {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => {
                return (name_len > 0).then(|| StartTag {
                    name: &rest[..name_len],
                    attrs: Vec::new(),
                    self_closing: rest[..i].ends_with('/'),
                    end: lt + 1 + i + 1,
                    malformed: true,
                });
            }
            _ => {}
        }
    }
    None
}

/// The length of a `<!…>` declaration, whose internal subset (`[…]`) and quoted
/// strings may hold `>`.
fn declaration_end(rest: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote = None;
    for (i, b) in rest.bytes().enumerate().skip(2) {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'[') => depth += 1,
            (None, b']') => depth = depth.saturating_sub(1),
            (None, b'>') if depth == 0 => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// XML white space (the only characters quick-xml trims).
pub(crate) fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Character data as a parser reports it: line ends normalised to `\n`, the five
/// predefined entities and character references replaced.
pub(crate) fn decode_text(raw: &str) -> Result<String, String> {
    let eol;
    let raw = if raw.contains('\r') {
        eol = raw.replace("\r\n", "\n").replace('\r', "\n");
        eol.as_str()
    } else {
        raw
    };
    decode(raw, false)
}

/// An attribute value after XML attribute-value normalisation (XML 1.0 §3.3.3, as
/// quick-xml applies it): each literal tab, line end (`\r\n` counts once) or newline
/// becomes a space, then references are replaced (a `&#10;` stays a newline).
pub(crate) fn decode_attr(raw: &str) -> Result<String, String> {
    decode(raw, true)
}

fn decode(raw: &str, attr: bool) -> Result<String, String> {
    let needs_work = raw.contains('&') || (attr && raw.contains(['\t', '\r', '\n']));
    if !needs_work {
        return Ok(raw.to_string());
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '&' => {
                let rest = &raw[i + 1..];
                let semi = rest
                    .find(';')
                    .ok_or_else(|| format!("unterminated reference {:?}", clip(&raw[i..])))?;
                let name = &rest[..semi];
                out.push(reference(name)?);
                // Skip the reference's characters (all before the `;`, and the `;`).
                let end = i + 1 + semi + 1;
                while chars.peek().is_some_and(|(j, _)| *j < end) {
                    chars.next();
                }
            }
            '\r' if attr => {
                if chars.peek().is_some_and(|(_, n)| *n == '\n') {
                    chars.next();
                }
                out.push(' ');
            }
            '\t' | '\n' if attr => out.push(' '),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// The character a reference `&name;` stands for.
fn reference(name: &str) -> Result<char, String> {
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => {
            let Some(num) = name.strip_prefix('#') else {
                return Err(format!("unknown entity &{};", clip(name)));
            };
            // Like quick-xml: `x` (lower case only) for hexadecimal, no sign, not 0.
            let (digits, radix) = match num.strip_prefix('x') {
                Some(hex) => (hex, 16),
                None => (num, 10),
            };
            let code = (!digits.starts_with(['+', '-']))
                .then(|| u32::from_str_radix(digits, radix).ok())
                .flatten()
                .filter(|c| *c != 0);
            code.and_then(char::from_u32)
                .ok_or_else(|| format!("invalid character reference &{};", clip(name)))?
        }
    };
    Ok(c)
}

/// At most 40 characters of `s`, for messages about hostile input.
fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(xml: &str) -> Result<Vec<Token<'_>>, XmlError> {
        let mut p = Pull::new(xml);
        let mut out = Vec::new();
        while let Some(t) = p.next()? {
            out.push(t);
        }
        Ok(out)
    }

    #[test]
    fn reads_tags_text_and_cdata() {
        let xml = "\u{feff}<?xml version=\"1.0\"?><!DOCTYPE MPD [<!ENTITY x \"a>b\">]><!-- c --><a k='v'>t<![CDATA[<x>]]><b/></a >";
        let t = tokens(xml).unwrap();
        assert!(matches!(&t[0], Token::Start(s) if s.name == "a" && s.attrs == vec![("k", "v")]));
        assert_eq!(t[1], Token::Text("t"));
        assert_eq!(t[2], Token::CData("<x>"));
        assert!(matches!(&t[3], Token::Start(s) if s.name == "b" && s.self_closing));
        assert_eq!(t[4], Token::End("a"));
        assert_eq!(t.len(), 5);
    }

    #[test]
    fn unterminated_constructs_are_errors() {
        for xml in ["<a><!-- x", "<a><![CDATA[x", "<?xml", "<!DOCTYPE [", "<a></a", "<a b='1"] {
            assert!(tokens(xml).is_err(), "{xml}");
        }
        // Attributes that do not parse leave a tag marked malformed, found by its `>`.
        let t = tokens("<a b c='>'/>").unwrap();
        assert!(matches!(&t[0], Token::Start(s) if s.malformed && s.self_closing && s.name == "a"));
    }

    #[test]
    fn decodes_references_like_quick_xml() {
        assert_eq!(decode_text("a&amp;b&#233;&#x41;\r\nz").unwrap(), "a&b\u{e9}A\nz");
        assert_eq!(decode_attr("a\tb\r\nc&#10;").unwrap(), "a b c\n");
        for bad in ["&bogus;", "&#0;", "&#X41;", "&#-1;", "&#xD800;", "a & b", "&#99999999999;"] {
            assert!(decode_text(bad).is_err(), "{bad}");
        }
    }
}
