//! HLS attribute lists (RFC 8216 §4.2), for the tags m3u8-rs does not model and for
//! the strict validator.

/// One attribute value, with its quoting kept: RFC 8216 types depend on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AttrValue {
    Quoted(String),
    Unquoted(String),
}

impl AttrValue {
    pub(crate) fn quoted(&self) -> Option<&str> {
        match self {
            AttrValue::Quoted(s) => Some(s),
            AttrValue::Unquoted(_) => None,
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            AttrValue::Quoted(s) | AttrValue::Unquoted(s) => s,
        }
    }
}

/// A parsed attribute list, in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Attrs(pub Vec<(String, AttrValue)>);

impl Attrs {
    pub(crate) fn get(&self, name: &str) -> Option<&AttrValue> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The value of a quoted-string attribute.
    pub(crate) fn quoted(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(AttrValue::Quoted(s)) => Some(s),
            _ => None,
        }
    }
}

/// Parses `NAME=value,NAME="quoted",…`. Whitespace around names and values is
/// tolerated (real playlists have it); a missing `=`, an unterminated quote or a
/// repeated name is an error.
pub(crate) fn parse_attributes(text: &str) -> Result<Attrs, String> {
    parse_attribute_list(text).map(|(attrs, _)| attrs)
}

/// [`parse_attributes`], also telling whether whitespace outside quoted values had to
/// be skipped (around `=` or `,`, or at either end). RFC 8216 §4.2 allows none there.
pub(crate) fn parse_attribute_list(text: &str) -> Result<(Attrs, bool), String> {
    let mut spaced = false;
    let mut out: Vec<(String, AttrValue)> = Vec::new();
    let mut rest = trim_end(trim_start(text, &mut spaced), &mut spaced);
    while !rest.is_empty() {
        let eq = rest.find('=').ok_or_else(|| format!("attribute without '=' in {:?}", rest))?;
        let name = trim_end(trim_start(&rest[..eq], &mut spaced), &mut spaced);
        if name.is_empty()
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!("bad attribute name {name:?}"));
        }
        let after = trim_start(&rest[eq + 1..], &mut spaced);
        let (value, remaining) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"').ok_or_else(|| format!("unterminated quoted value for {name}"))?;
            (AttrValue::Quoted(q[..end].to_string()), &q[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (AttrValue::Unquoted(trim_end(&after[..end], &mut spaced).to_string()), &after[end..])
        };
        if out.iter().any(|(k, _)| k == name) {
            return Err(format!("attribute {name} appears twice"));
        }
        out.push((name.to_string(), value));
        let remaining = trim_start(remaining, &mut spaced);
        rest = match remaining.strip_prefix(',') {
            Some(r) => trim_start(r, &mut spaced),
            None if remaining.is_empty() => remaining,
            None => {
                return Err(format!("expected ',' after attribute {name}, found {remaining:?}"));
            }
        };
    }
    Ok((Attrs(out), spaced))
}

fn trim_start<'a>(s: &'a str, trimmed: &mut bool) -> &'a str {
    let t = s.trim_start();
    *trimmed |= t.len() != s.len();
    t
}

fn trim_end<'a>(s: &'a str, trimmed: &mut bool) -> &'a str {
    let t = s.trim_end();
    *trimmed |= t.len() != s.len();
    t
}

impl Attrs {
    /// The list as RFC 8216 writes it: `NAME=value,NAME="quoted"`, no whitespace.
    pub(crate) fn to_text(&self) -> String {
        let mut out = String::new();
        for (i, (name, value)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(name);
            out.push('=');
            match value {
                AttrValue::Quoted(s) => {
                    out.push('"');
                    out.push_str(s);
                    out.push('"');
                }
                AttrValue::Unquoted(s) => out.push_str(s),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_and_unquoted() {
        let a = parse_attributes(
            r#"BANDWIDTH=1280000,CODECS="avc1.4d401f,mp4a.40.2", RESOLUTION=640x360"#,
        )
        .unwrap();
        assert_eq!(a.get("BANDWIDTH"), Some(&AttrValue::Unquoted("1280000".into())));
        assert_eq!(a.quoted("CODECS"), Some("avc1.4d401f,mp4a.40.2"));
        assert_eq!(a.get("RESOLUTION").map(AttrValue::as_str), Some("640x360"));
    }

    #[test]
    fn rejects_broken_lists() {
        assert!(parse_attributes("BANDWIDTH").is_err());
        assert!(parse_attributes(r#"URI="x"#).is_err());
        assert!(parse_attributes("A=1,A=2").is_err());
        assert!(parse_attributes(r#"URI="a"B=1"#).is_err());
        assert_eq!(parse_attributes("").unwrap(), Attrs::default());
    }

    #[test]
    fn reports_stray_whitespace_and_writes_canonical_text() {
        let clean = r#"TYPE=AUDIO,GROUP-ID="a b",NAME="x",DEFAULT=YES"#;
        let (a, spaced) = parse_attribute_list(clean).unwrap();
        assert!(!spaced);
        assert_eq!(a.to_text(), clean);
        for messy in [
            r#"TYPE=AUDIO, GROUP-ID="a b",NAME="x",DEFAULT=YES"#,
            r#"TYPE = AUDIO,GROUP-ID="a b",NAME="x",DEFAULT=YES"#,
            r#"TYPE=AUDIO ,GROUP-ID= "a b",NAME="x",DEFAULT=YES"#,
            "\tTYPE=AUDIO,GROUP-ID=\"a b\",NAME=\"x\",DEFAULT=YES ",
        ] {
            let (b, spaced) = parse_attribute_list(messy).unwrap();
            assert!(spaced, "{messy:?}");
            assert_eq!(b, a, "{messy:?}");
            assert_eq!(b.to_text(), clean);
        }
        // Whitespace inside quotes is the value's own.
        let (c, spaced) = parse_attribute_list(r#"CODECS="mp4a.40.2, avc1.64001e""#).unwrap();
        assert!(!spaced);
        assert_eq!(c.quoted("CODECS"), Some("mp4a.40.2, avc1.64001e"));
    }
}
