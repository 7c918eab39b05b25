//! A small, forgiving scan over an MPD's XML, for what dash-mpd-core does not give:
//! the root element's name, the `ContentSteering` element (not in its model), and a
//! guard on `xs:duration` values it would overflow on.
//!
//! It only reads start tags and their attributes; it never builds a tree and never
//! fails: malformed markup simply ends the scan.

/// One start tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StartTag<'a> {
    /// The qualified name as written (`MPD`, `dash:MPD`).
    pub name: &'a str,
    /// Attributes with raw (still escaped) values.
    pub attrs: Vec<(&'a str, &'a str)>,
    /// `<x/>`.
    pub self_closing: bool,
    /// Byte offset just after the tag's `>`.
    pub end: usize,
    /// The attributes could not be read (`attrs` is then empty); only
    /// [`crate::manifest`]'s pull reader makes such tags, for elements it may skip.
    pub malformed: bool,
}

impl StartTag<'_> {
    /// The name without its namespace prefix.
    pub fn local_name(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(self.name)
    }

    /// An attribute by local name, unescaped.
    pub fn attr(&self, local: &str) -> Option<String> {
        self.attrs
            .iter()
            .find(|(k, _)| k.rsplit(':').next() == Some(local))
            .map(|(_, v)| unescape(v))
    }
}

/// Replaces the five predefined entities and numeric character references.
pub(crate) fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let Some(semi) = after.find(';').filter(|&n| n <= 12) else {
            out.push('&');
            rest = &after[1..];
            continue;
        };
        let entity = &after[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => {
                let code = if let Some(hex) =
                    entity.strip_prefix("#x").or_else(|| entity.strip_prefix("#X"))
                {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = entity.strip_prefix('#') {
                    dec.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
            }
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Iterates over the start tags of `xml`, skipping comments, CDATA, processing
/// instructions, declarations and end tags.
pub(crate) fn start_tags(xml: &str) -> impl Iterator<Item = StartTag<'_>> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        loop {
            let lt = pos + xml.get(pos..)?.find('<')?;
            let rest = &xml[lt..];
            let skip_to = |end: &str, from: usize| {
                rest.get(from..)?.find(end).map(|i| lt + from + i + end.len())
            };
            if rest.starts_with("<!--") {
                pos = skip_to("-->", 4)?;
                continue;
            }
            if rest.starts_with("<![CDATA[") {
                pos = skip_to("]]>", 9)?;
                continue;
            }
            if rest.starts_with("<?") {
                pos = skip_to("?>", 2)?;
                continue;
            }
            if rest.starts_with("<!") || rest.starts_with("</") {
                pos = skip_to(">", 1)?;
                continue;
            }
            return parse_start_tag(xml, lt).inspect(|tag| pos = tag.end);
        }
    })
}

pub(crate) fn parse_start_tag(xml: &str, lt: usize) -> Option<StartTag<'_>> {
    let body_start = lt + 1;
    let bytes = xml.as_bytes();
    let mut i = body_start;
    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' && bytes[i] != b'/'
    {
        i += 1;
    }
    let name = xml.get(body_start..i)?;
    if name.is_empty() {
        return None;
    }
    let mut attrs = Vec::new();
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        match bytes.get(i)? {
            b'>' => {
                return Some(StartTag {
                    name,
                    attrs,
                    self_closing: false,
                    end: i + 1,
                    malformed: false,
                });
            }
            b'/' => {
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                return (bytes.get(i)? == &b'>').then_some(StartTag {
                    name,
                    attrs,
                    self_closing: true,
                    end: i + 1,
                    malformed: false,
                });
            }
            _ => {}
        }
        let key_start = i;
        while i < bytes.len()
            && bytes[i] != b'='
            && !bytes[i].is_ascii_whitespace()
            && bytes[i] != b'>'
        {
            i += 1;
        }
        let key = xml.get(key_start..i)?;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if bytes.get(i)? != &b'=' {
            return None;
        }
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let quote = *bytes.get(i)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let value_start = i + 1;
        let len = xml.get(value_start..)?.find(quote as char)?;
        attrs.push((key, xml.get(value_start..value_start + len)?));
        i = value_start + len + 1;
    }
}

/// The text directly inside an element that starts at `tag` (up to the next `<`).
pub(crate) fn text_after<'a>(xml: &'a str, tag: &StartTag<'_>) -> Option<&'a str> {
    if tag.self_closing {
        return None;
    }
    let rest = xml.get(tag.end..)?;
    Some(&rest[..rest.find('<').unwrap_or(rest.len())])
}

/// The first `xs:duration` attribute value with a component so large that converting
/// it to seconds would overflow: `(element, attribute, value)`.
pub(crate) fn oversized_duration(xml: &str) -> Option<(String, String, String)> {
    for tag in start_tags(xml) {
        for (k, v) in &tag.attrs {
            let t = v.trim();
            if !(t.starts_with('P') || t.starts_with("-P")) {
                continue;
            }
            // Integer runs (not fractions) of more than 9 digits: even years × 10^9 fits
            // in u64 seconds, 10^10 weeks does not reliably.
            let mut run = 0;
            let mut after_dot = false;
            for c in t.chars() {
                if c.is_ascii_digit() {
                    if !after_dot {
                        run += 1;
                    }
                    if run > 9 {
                        return Some((
                            tag.name.to_string(),
                            k.to_string(),
                            t.chars().take(40).collect(),
                        ));
                    }
                } else {
                    after_dot = c == '.' || c == ',';
                    run = 0;
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_start_tags_and_text() {
        let xml = r#"<?xml version="1.0"?><!-- c --><dash:MPD a="1" b='x&amp;y'><ContentSteering q="true">https://s/x?a=1&amp;b=2</ContentSteering><X/></dash:MPD>"#;
        let tags: Vec<_> = start_tags(xml).collect();
        assert_eq!(
            tags.iter().map(|t| t.local_name()).collect::<Vec<_>>(),
            vec!["MPD", "ContentSteering", "X"]
        );
        assert_eq!(tags[0].attr("b").as_deref(), Some("x&y"));
        assert_eq!(text_after(xml, &tags[1]).map(unescape).as_deref(), Some("https://s/x?a=1&b=2"));
        assert!(tags[2].self_closing);
    }

    #[test]
    fn survives_garbage() {
        for s in ["<", "<a b", "<a b=", "<a b='", "<!--", "&#xFFFFFFFF;", "<a/ x>", "<\u{e9}>"] {
            let _ = start_tags(s).count();
            let _ = unescape(s);
        }
        assert_eq!(unescape("&#233;&bogus;&"), "\u{e9}&bogus;&");
    }

    #[test]
    fn flags_overflowing_durations() {
        assert!(
            oversized_duration(r#"<MPD mediaPresentationDuration="PT99999999999999H"/>"#).is_some()
        );
        assert!(
            oversized_duration(r#"<MPD mediaPresentationDuration="PT1H2M3.0000000000001S"/>"#)
                .is_none()
        );
    }
}
