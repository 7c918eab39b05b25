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
    let mut out: Vec<(String, AttrValue)> = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let eq = rest.find('=').ok_or_else(|| format!("attribute without '=' in {:?}", rest))?;
        let name = rest[..eq].trim();
        if name.is_empty()
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!("bad attribute name {name:?}"));
        }
        let after = rest[eq + 1..].trim_start();
        let (value, remaining) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"').ok_or_else(|| format!("unterminated quoted value for {name}"))?;
            (AttrValue::Quoted(q[..end].to_string()), &q[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (AttrValue::Unquoted(after[..end].trim().to_string()), &after[end..])
        };
        if out.iter().any(|(k, _)| k == name) {
            return Err(format!("attribute {name} appears twice"));
        }
        out.push((name.to_string(), value));
        let remaining = remaining.trim_start();
        rest = match remaining.strip_prefix(',') {
            Some(r) => r.trim_start(),
            None if remaining.is_empty() => remaining,
            None => {
                return Err(format!("expected ',' after attribute {name}, found {remaining:?}"));
            }
        };
    }
    Ok(Attrs(out))
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
}
