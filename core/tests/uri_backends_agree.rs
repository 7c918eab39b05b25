//! The two URL backends — `streamsteer::uri::Url` on the `url` crate, and
//! `streamsteer::uri::small::Url` on the crate's own parser (the browser build's
//! `Url`) — give the same answers: for each input both accept it with the same
//! serialization (and the same scheme, host, path and query), or both refuse it.
//!
//! Inputs: every URL and relative reference in the manifests of `../shared/manifests`
//! (HLS URI lines and `URI=` attributes; DASH `BaseURL`, `Location`,
//! `ContentSteering`, `@media`/`@initialization` templates with `$…$` left as text,
//! `@sourceURL`, `@xlink:href`…) joined against the manifest's notional URL and
//! other bases; the examples of RFC 3986 §5.4.1 and §5.4.2; hostile inputs; and
//! random references (proptest). The query and host setters are compared on the
//! results.
//!
//! The small backend refuses, by design (see `streamsteer::uri::small`), two things
//! the `url` crate accepts: hosts with an `xn--` label (IDNA, `UrlError::Idna`) and
//! Windows drive letters in `file:` URLs. Those are the only divergences allowed,
//! and each is counted and reported.
#![cfg(feature = "url-crate")]

use proptest::prelude::*;
use std::path::PathBuf;
use streamsteer::uri::{Url as Big, UrlError, small::Url as Small};

fn shared_dir() -> PathBuf {
    if let Ok(p) = std::env::var("STREAMSTEER_SHARED") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

/// The tallies of a run.
#[derive(Default, Debug)]
struct Tally {
    compared: usize,
    both_ok: usize,
    both_err: usize,
    /// Refused by the small backend only, as documented (IDNA, drive letters).
    documented: usize,
    /// Both refused, with different `UrlError` variants (reported, not a failure).
    other_error_kind: usize,
    failures: Vec<String>,
}

/// The documented refusals of the small backend, where the `url` crate accepts.
fn documented(small: &UrlError, big: &Result<Big, UrlError>) -> bool {
    match small {
        UrlError::Idna { .. } => big
            .as_ref()
            .is_ok_and(|u| u.host().is_some_and(|h| h.split('.').any(|l| l.starts_with("xn--")))),
        UrlError::Syntax { reason, .. } if reason.contains("drive letter") => {
            big.as_ref().is_ok_and(|u| u.is_local())
        }
        _ => false,
    }
}

impl Tally {
    fn check(&mut self, what: &str, big: Result<Big, UrlError>, small: Result<Small, UrlError>) {
        self.compared += 1;
        match (&big, &small) {
            (Ok(b), Ok(s)) => {
                let same = b.as_str() == s.as_str()
                    && b.scheme() == s.scheme()
                    && b.host() == s.host()
                    && b.path() == s.path()
                    && b.query() == s.query()
                    && b.is_local() == s.is_local()
                    && b.is_data() == s.is_data();
                if same {
                    self.both_ok += 1;
                } else {
                    let parts = |scheme: &str, host, path: &str, query| {
                        format!("scheme {scheme:?} host {host:?} path {path:?} query {query:?}")
                    };
                    self.failures.push(format!(
                        "{what}: url crate {b:?} ({}), small {s:?} ({})",
                        parts(b.scheme(), b.host(), b.path(), b.query()),
                        parts(s.scheme(), s.host(), s.path(), s.query()),
                    ));
                }
            }
            (Err(b), Err(s)) => {
                self.both_err += 1;
                if std::mem::discriminant(b) != std::mem::discriminant(s) {
                    if std::env::var_os("URI_KINDS").is_some() {
                        eprintln!("kind: {what}: {b:?} / {s:?}");
                    }
                    self.other_error_kind += 1;
                }
            }
            (_, Err(s)) if documented(s, &big) => self.documented += 1,
            _ => self.failures.push(format!("{what}: url crate {big:?}, small {small:?}")),
        }
    }

    /// Compares everything a reference can do against a base: both joins, then the
    /// setters on the result.
    fn join(&mut self, base: &str, reference: &str) {
        let (Ok(bb), Ok(sb)) = (Big::parse(base), Small::parse(base)) else {
            self.check(&format!("parse {base:?}"), Big::parse(base), Small::parse(base));
            return;
        };
        let what = format!("{base:?} join {reference:?}");
        self.check(&what, bb.join(reference), sb.join(reference));
        let what = format!("{base:?} join_allowing_data {reference:?}");
        let (b, s) = (bb.join_allowing_data(reference), sb.join_allowing_data(reference));
        if let (Ok(b), Ok(s)) = (&b, &s) {
            self.setters(&what, b, s);
        }
        self.check(&what, b, s);
    }

    /// `with_query_params`, `with_appended_query`, `with_host` on two equal URLs.
    fn setters(&mut self, what: &str, b: &Big, s: &Small) {
        let params = [
            vec![("token".to_string(), "a%2Fb~=".to_string()), ("x".to_string(), "2".to_string())],
            vec![("k".to_string(), "v w#'\"<>".to_string())],
        ];
        for p in &params {
            let w = format!("{what} with_query_params {p:?}");
            self.check(&w, Ok(b.with_query_params(p)), Ok(s.with_query_params(p)));
        }
        for pair in ["CMCD=br%3D300", "a=b c", "x='y'#z"] {
            let w = format!("{what} with_appended_query {pair:?}");
            self.check(&w, Ok(b.with_appended_query(pair)), Ok(s.with_appended_query(pair)));
        }
        for host in HOSTS {
            let w = format!("{what} with_host {host:?}");
            self.check(&w, b.with_host(host), s.with_host(host));
        }
    }

    fn finish(self, name: &str) -> usize {
        eprintln!(
            "{name}: {} compared: {} both accepted, equal; {} both refused ({} with another \
             error kind); {} refused by the small backend only, as documented; {} differ",
            self.compared,
            self.both_ok,
            self.both_err,
            self.other_error_kind,
            self.documented,
            self.failures.len()
        );
        assert!(
            self.failures.is_empty(),
            "{name}: {} of {} differ:\n{}",
            self.failures.len(),
            self.compared,
            self.failures.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
        );
        self.compared
    }
}

/// Hosts for `with_host`: pathway clones' `HOST` values and hostile ones.
const HOSTS: &[&str] = &[
    "b.example",
    "B.Example:9000",
    "b.example:443",
    "b.example:80",
    "b.example:65536",
    "b.example:",
    "[::1]",
    "[::1]:8443",
    "[0:0::1]",
    "127.0.0.1",
    "0x7f.1",
    "1.2.3.4.",
    "xn--nxasmq6b.example",
    "b.example/evil",
    "a@b",
    "",
    "b%2eexample",
    "b_example",
    "b.example.",
    "b^x",
];

/// The notional URLs a manifest is read from.
fn bases_for(rel: &str) -> Vec<String> {
    vec![
        format!("https://cdn.example/{rel}"),
        format!("http://[2001:db8::1]:8080/v/{rel}?token=a%2Fb&x=1#frag"),
        format!("file:///srv/media/{rel}"),
    ]
}

/// `name="value"` attribute values in `text`, XML entities decoded.
fn attributes(text: &str, name: &str) -> Vec<String> {
    let pat = format!("{name}=\"");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(&pat) {
        // Only a whole attribute name (`media=`, not `xmedia=`).
        let before = rest[..i].chars().next_back();
        rest = &rest[i + pat.len()..];
        let Some(end) = rest.find('"') else { break };
        if before.is_none_or(|c| c.is_whitespace()) {
            out.push(unescape(&rest[..end]));
        }
        rest = &rest[end..];
    }
    out
}

/// The text of `<tag …>text</tag>` elements.
fn elements(text: &str, tag: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (prefix, close) in
        [(format!("<{tag}>"), format!("</{tag}>")), (format!("<{tag} "), format!("</{tag}>"))]
    {
        let mut rest = text;
        while let Some(i) = rest.find(&prefix) {
            rest = &rest[i + prefix.len()..];
            let Some(gt) = rest.find('>') else { break };
            let body_from = if prefix.ends_with('>') { 0 } else { gt + 1 };
            if !prefix.ends_with('>') && rest[..gt].ends_with('/') {
                continue;
            }
            let Some(end) = rest.find(&close) else { break };
            if body_from <= end {
                out.push(unescape(&rest[body_from..end]));
            }
            rest = &rest[end..];
        }
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Every reference of a manifest: HLS URI lines and `URI=` attributes, DASH
/// elements and attributes that hold URLs.
fn references(text: &str) -> Vec<String> {
    let mut refs = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if !line.starts_with('#') && !line.starts_with('<') {
            refs.push(line.to_string());
        }
        if line.starts_with("#EXT") {
            refs.extend(attributes(line, "URI"));
            refs.extend(attributes(line, "SERVER-URI"));
        }
        // Attributes of HLS tags follow a comma, not white space.
        for attr in ["URI", "SERVER-URI"] {
            let pat = format!(",{attr}=\"");
            if let Some(i) = line.find(&pat) {
                let v = &line[i + pat.len()..];
                if let Some(end) = v.find('"') {
                    refs.push(v[..end].to_string());
                }
            }
        }
    }
    for tag in ["BaseURL", "Location", "PatchLocation", "ContentSteering"] {
        refs.extend(elements(text, tag));
    }
    for attr in
        ["media", "initialization", "sourceURL", "xlink:href", "href", "index", "serviceLocation"]
    {
        refs.extend(attributes(text, attr));
    }
    refs
}

#[test]
fn manifest_references_resolve_alike() {
    let dir = shared_dir().join("manifests");
    let index =
        std::fs::read_to_string(dir.join("index.tsv")).expect("the shared manifests' index.tsv");
    let mut tally = Tally::default();
    let mut manifests = 0;
    let mut refs_seen = 0;
    for line in index.lines().skip(1) {
        let Some(rel) = line.split('\t').next() else { continue };
        let Ok(text) = std::fs::read_to_string(dir.join(rel)) else { continue };
        manifests += 1;
        let refs = references(&text);
        refs_seen += refs.len();
        for base in bases_for(rel) {
            tally.check(&format!("parse {base:?}"), Big::parse(&base), Small::parse(&base));
            for r in &refs {
                tally.join(&base, r);
            }
            // A manifest's references resolved against its first BaseURL, as the
            // DASH reader resolves them.
            if let Some(first) = elements(&text, "BaseURL").first()
                && let (Ok(b), Ok(s)) = (
                    Big::parse(&base).and_then(|u| u.join(first)),
                    Small::parse(&base).and_then(|u| u.join(first)),
                )
            {
                tally.check(&format!("{base:?} BaseURL {first:?}"), Ok(b.clone()), Ok(s.clone()));
                for r in &refs {
                    tally.join(b.as_str(), r);
                }
            }
        }
    }
    assert!(manifests > 100, "only {manifests} manifests read from {}", dir.display());
    assert!(refs_seen > 1000, "only {refs_seen} references found");
    eprintln!("{manifests} manifests, {refs_seen} references");
    tally.finish("manifests");
}

#[test]
fn rfc3986_examples_resolve_alike() {
    let base = "http://a/b/c/d;p?q";
    // §5.4.1 (normal) and §5.4.2 (abnormal).
    let normal = [
        "g:h", "g", "./g", "g/", "/g", "//g", "?y", "g?y", "#s", "g#s", "g?y#s", ";x", "g;x",
        "g;x?y#s", "", ".", "./", "..", "../", "../g", "../..", "../../", "../../g",
    ];
    let abnormal = [
        "../../../g",
        "../../../../g",
        "/./g",
        "/../g",
        "g.",
        ".g",
        "g..",
        "..g",
        "./../g",
        "./g/.",
        "g/./h",
        "g/../h",
        "g;x=1/./y",
        "g;x=1/../y",
        "g?y/./x",
        "g?y/../x",
        "g#s/./x",
        "g#s/../x",
        "http:g",
    ];
    let mut tally = Tally::default();
    for r in normal.iter().chain(&abnormal) {
        tally.join(base, r);
        tally.join("https://a/b/c/d;p?q", r);
        tally.join("file:///b/c/d;p?q", r);
    }
    tally.finish("RFC 3986");
}

/// Inputs meant to part the parsers.
fn hostile() -> Vec<String> {
    let mut v: Vec<String> = [
        // Schemes.
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "vbscript:x",
        "ftp://h/x",
        "ws://h/x",
        "wss://h:443/x",
        "blob:https://h/uuid",
        "about:blank",
        "mailto:a@b",
        "urn:isbn:1",
        "HTTP://H.EXAMPLE/X",
        "hTTpS://Cdn.Example:443/",
        "https://cdn.example:0443/a",
        "https://cdn.example:/a",
        "http://cdn.example:80/",
        "https://cdn.example:80/",
        // data: where join refuses it and join_allowing_data takes it.
        "data:text/plain,x",
        "data:application/json,{\"a\":1}",
        "DATA:,x",
        "data:,a?b#c",
        "data:,a b?c d#e f",
        "data://host/x",
        "data:/x/../y",
        "data:,<>\"`{}",
        "data:,%zz",
        "data:;base64,SGVsbG8=",
        "data:text/plain,a\\b",
        // IPv6.
        "http://[::1]/",
        "http://[::1]:8080/x",
        "http://[0:0:0:0:0:0:0:1]/",
        "http://[::]/",
        "http://[1:2:3:4:5:6:7:8]/",
        "http://[1::]/",
        "http://[::ffff:1.2.3.4]/",
        "http://[::ffff:0102:0304]/",
        "http://[1:0:0:2::3]/",
        "http://[1:0:0:2:0:0:0:3]/",
        "http://[2001:DB8::1]/",
        "http://[::1/",
        "http://[::1]x/",
        "http://[1:2:3:4:5:6:7:8:9]/",
        "http://[1::2::3]/",
        "http://[::1.2.3]/",
        "http://[::01.2.3.4]/",
        "http://[g::1]/",
        "http://[12345::]/",
        "http://[]/",
        "http://[:1]/",
        "http://[1:]/",
        // IPv4 and hosts ending in numbers.
        "http://127.0.0.1/",
        "http://127.1/",
        "http://0x7f.1/",
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://1.2.3.4./",
        "http://1.2.3.256/",
        "http://256.1.1.1/",
        "http://1.2.3.4.5/",
        "http://a.1/",
        "http://a.0x/",
        "http://a.0x1g/",
        "http://09.1/",
        "http://1.2.3.09/",
        "http://0x100000000/",
        "http://4294967295/",
        "http://4294967296/",
        "http://cdn.example.123/",
        "http://123.example/",
        // Ports.
        "https://h:65535/",
        "https://h:65536/",
        "https://h:99999999999999999999/",
        "https://h:-1/",
        "https://h:1a/",
        "https://h: 80/",
        "https://h:+80/",
        "https://:80/",
        "https://h:00000000080/",
        // User information.
        "https://user@h/",
        "https://user:pass@h/",
        "https://@h/",
        "https://:@h/",
        "https://h@/",
        "//u@h/x",
        "https://a@b@c/",
        // Hosts.
        "https://xn--nxasmq6b.example/",
        "https://XN--NXASMQ6B.example/",
        "https://xn--a.example/",
        "https://a..b/",
        "https://.a/",
        "https://a./",
        "https://a_b.example/",
        "https://a-.example/",
        "https://-a.example/",
        "https://a*b/",
        "https://a!b$c&d'e(f)g+h,i;j=k~l/",
        "https://a^b/",
        "https://a|b/",
        "https://a%2eb/",
        "https://a%41/",
        "https://%/",
        "https://caf\u{e9}.example/",
        "https://\u{430}.example/",
        "https://h\u{0}/",
        "https:///x",
        "https:////x",
        "https:x",
        "https:/x",
        "//h/x",
        "///h/x",
        "////h/x",
        "https://localhost/",
        "file://localhost/etc/x",
        "file://server/share",
        "file:///etc/passwd",
        "file:/etc/passwd",
        "file:etc/passwd",
        "file:",
        "file://",
        "file:///",
        "file:////x",
        "file:///C:/x",
        "file:///c|/x",
        "file://C:/x",
        "/C:/x",
        "C|/x",
        "../C|/x",
        "file:?q",
        "file:#f",
        "file:///a/../../b",
        // Paths, queries, fragments.
        "a/%2e/b",
        "a/%2E%2e/b",
        "a/.%2e/b",
        "a/%2e./b",
        "a/%2e",
        "a/.%2E",
        "%2e%2e/%2e%2e/x",
        "a/./b/../../c",
        "/..",
        "/.",
        "/../..//x",
        "a//b",
        "a///..",
        "?",
        "#",
        "?#",
        "??",
        "##",
        "?a=b&c=d#e=f",
        "?'",
        "#'",
        "a?b?c",
        "a#b#c",
        "a%zz",
        "a%",
        "%41",
        "a^b",
        "a|b",
        "a[b]",
        "a@b",
        "a:b",
        "./a:b",
        "a;b=c",
        "~user",
        "!$&'()*+,;=",
        "%00",
        "%0a",
        "a'b",
        "?a'b",
        "a?x='1'",
        "https://h/it's/x",
        "seg-$Number$.m4s",
        "$RepresentationID$/$Time%05d$.m4s",
        "seg.ts?x=$Bandwidth$",
        "  seg.ts  ",
        "\tseg.ts\r\n",
        "a\tb",
        "a\nb",
        "a\rb",
        "a b",
        "a\u{1}b",
        "a\u{7f}b",
        "a\\b",
        "\\\\evil/x",
        "/\\evil/x",
        "a<b",
        "a>b",
        "a\"b",
        "a`b",
        "a{b}",
        "caf\u{e9}",
        "https://h/?q=caf\u{e9}",
        "https://h/#caf\u{e9}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Very long ones, around the limit.
    let limit = streamsteer::uri::MAX_URL_BYTES;
    for n in [limit - 40, limit - 20, limit, limit + 1, 4 * limit] {
        v.push(format!("https://h/{}", "a".repeat(n.saturating_sub(10))));
        v.push("a/".repeat(n / 2));
        v.push("../".repeat(n / 3));
        v.push(format!("x?{}", "q".repeat(n)));
    }
    v.push(format!("https://{}.example/", "a".repeat(300)));
    v.push(format!("https://{}/", "a.".repeat(200)));
    v
}

#[test]
fn hostile_inputs_resolve_alike() {
    let mut tally = Tally::default();
    let bases = [
        "https://cdn.example/v/master.m3u8",
        "http://[::1]:8080/a/b/?q=1#f",
        "https://cdn.example",
        "file:///srv/hls/master.m3u8",
        "file:///",
    ];
    for input in hostile() {
        tally.check(&format!("parse {input:?}"), Big::parse(&input), Small::parse(&input));
        // Deserialising admits any scheme the checks pass; its error is a string.
        let kind = |e: serde_json::Error| {
            let message = e.to_string();
            if message.contains("IDNA") {
                UrlError::Idna { uri: String::new() }
            } else if message.contains("drive letter") {
                UrlError::Syntax { uri: String::new(), reason: message }
            } else {
                UrlError::TooLong { len: 0 }
            }
        };
        let b = serde_json::from_value::<Big>(input.clone().into()).map_err(kind);
        let s = serde_json::from_value::<Small>(input.clone().into()).map_err(kind);
        tally.check(&format!("deserialize {input:?}"), b, s);
        for base in bases {
            tally.join(base, &input);
        }
    }
    // A data: URL as a base: only absolute references resolve.
    let data = "data:application/json,{}";
    let (b, s) = (
        Big::parse("https://h/").and_then(|u| u.join_allowing_data(data)),
        Small::parse("https://h/").and_then(|u| u.join_allowing_data(data)),
    );
    let (Ok(b), Ok(s)) = (b, s) else { panic!("data: steering URI refused") };
    for r in ["x.json", "#f", "?q", "https://s.example/x", "data:,y", ""] {
        tally.check(&format!("data base join {r:?}"), b.join(r), s.join(r));
    }
    tally.finish("hostile");
}

#[test]
fn file_paths_agree() {
    let mut tally = Tally::default();
    for p in [
        "/srv/hls/master.m3u8",
        "/",
        "/a b/c%d/e#f?g",
        "/a/./b",
        "/a//b",
        "/a/../b",
        "/caf\u{e9}/x",
        "relative/x.m3u8",
    ] {
        let path = std::path::Path::new(p);
        let (b, s) = (Big::from_file_path(path), Small::from_file_path(path));
        if let (Ok(b), Ok(s)) = (&b, &s) {
            assert_eq!(b.to_file_path(), s.to_file_path(), "{p:?}");
        }
        tally.check(&format!("from_file_path {p:?}"), b, s);
    }
    tally.finish("file paths");
}

/// Pieces random references are made of: the characters and tokens where URL
/// parsers differ.
const PIECES: &[&str] = &[
    "a",
    "B",
    "seg",
    "0",
    "9",
    ".",
    "..",
    "/",
    "//",
    "?",
    "#",
    "%2e",
    "%2E",
    "%41",
    "%",
    ":",
    "@",
    "[",
    "]",
    "[::1]",
    "=",
    "&",
    "'",
    "~",
    "^",
    "|",
    "!",
    "$",
    ";",
    ",",
    "+",
    "*",
    "-",
    "_",
    "x:",
    "C:",
    "c|",
    "http:",
    "https:",
    "HTTPS:",
    "file:",
    "data:",
    "javascript:",
    "//h",
    "//H.example",
    "//h:8080",
    "//h:99999",
    "//1.2.3.4",
    "//0x7f.1",
    "//[::1]",
    "//u@h",
    ":80",
    " ",
    "\t",
    "\\",
    "\"",
    "<",
    "`",
    "{",
    "é",
];

fn reference() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(prop::sample::select(PIECES), 0..12).prop_map(|v| v.concat()),
        "[ -~]{0,40}",
    ]
}

const PROP_BASES: &[&str] = &[
    "https://cdn.example/v/720p/index.m3u8?token=t#f",
    "http://[::1]:8080/a/b/c/",
    "https://cdn.example",
    "file:///srv/hls/master.m3u8",
];

proptest! {
    // 3000 cases by default; PROPTEST_CASES sets another number.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_references_resolve_alike(r in reference(), base in prop::sample::select(PROP_BASES)) {
        let mut tally = Tally::default();
        tally.check(&format!("parse {r:?}"), Big::parse(&r), Small::parse(&r));
        tally.join(base, &r);
        prop_assert!(tally.failures.is_empty(), "{}", tally.failures.join("\n"));
    }

    #[test]
    fn random_hosts_set_alike(h in prop::collection::vec(prop::sample::select(PIECES), 0..5).prop_map(|v| v.concat())) {
        let mut tally = Tally::default();
        let (b, s) = (Big::parse(PROP_BASES[0]).unwrap(), Small::parse(PROP_BASES[0]).unwrap());
        tally.check(&format!("with_host {h:?}"), b.with_host(&h), s.with_host(&h));
        let (b, s) = (Big::parse(&format!("https://{h}/x")), Small::parse(&format!("https://{h}/x")));
        tally.check(&format!("parse https://{h}/x"), b, s);
        prop_assert!(tally.failures.is_empty(), "{}", tally.failures.join("\n"));
    }
}

/// The harness itself: a test that can fail. A different serialization, or one
/// side refusing alone, is a failure.
#[test]
fn the_comparison_can_fail() {
    let mut tally = Tally::default();
    tally.check("differ", Big::parse("https://a/x"), Small::parse("https://a/y"));
    tally.check("one refuses", Big::parse("https://a/x"), Small::parse("javascript:x"));
    tally.check(
        "idna elsewhere",
        Big::parse("https://a/x"),
        Err(UrlError::Idna { uri: String::new() }),
    );
    assert_eq!(tally.failures.len(), 3);
}
