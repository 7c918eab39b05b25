//! Which of the real DASH MPDs in `../shared/manifests` a session refuses outright.
//!
//! A session refuses a presentation when it fails before asking for any media: the
//! plan cannot be built (an addressing mode it does not play, no playable track). Each
//! MPD the corpus index calls `ok` or `lenient` is parsed at the HTTP URL it would be
//! served from, given to a session with the default configuration, and started; the
//! test prints how many were refused and why, and checks that an on-demand one
//! (`SegmentBase` with `@indexRange`) is never refused and asks for its indexes
//! first. Before the session played `SegmentBase`, 12 of the 42 were refused (6 for
//! `SegmentBase`).

use std::path::PathBuf;
use streamsteer::manifest::{self, SegmentIndex};
use streamsteer::session::{
    Action, ErrorKind, Event, FetchKind, PlayerEvent, Session, SessionConfig,
};
use streamsteer::time::Instant;
use streamsteer::uri::Url;

fn shared_dir() -> PathBuf {
    if let Ok(p) = std::env::var("STREAMSTEER_SHARED") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

/// `(path, expect)` of every DASH MPD of the corpus index.
fn dash_corpus() -> Vec<(String, String)> {
    let index = shared_dir().join("manifests/index.tsv");
    let text = std::fs::read_to_string(&index).unwrap();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.len() > 4 && cols[2].starts_with("dash"))
                .then(|| (cols[0].to_string(), cols[4].to_string()))
        })
        .collect()
}

/// What a started session did with an MPD.
#[derive(Debug)]
enum Outcome {
    /// Refused, with the fatal error's message.
    Refused(ErrorKind, String),
    /// Asked for these kinds of fetch first.
    Fetching(Vec<FetchKind>),
}

/// Whether the main track of `p` is on demand with an index range to fetch.
fn indexed_on_demand(p: &manifest::Presentation) -> bool {
    p.main_track().is_some_and(|t| {
        t.renditions
            .iter()
            .all(|r| matches!(&r.index, SegmentIndex::Base(b) if b.index_range.is_some()))
    })
}

fn start(rel: &str) -> Option<(Outcome, bool)> {
    let text = std::fs::read_to_string(shared_dir().join("manifests").join(rel)).unwrap();
    let url = Url::parse(&format!("https://corpus.example/{rel}")).unwrap();
    let p = manifest::parse_any(&text, &url).ok()?;
    let on_demand = indexed_on_demand(&p);
    Some((run(p)?, on_demand))
}

fn run(p: manifest::Presentation) -> Option<Outcome> {
    let mut session = match Session::new(p, SessionConfig::default()) {
        Ok(s) => s,
        Err(e) => return Some(Outcome::Refused(e.kind(), e.to_string())),
    };
    session.handle(Instant::ZERO, Event::Tick);
    let mut kinds = Vec::new();
    while let Some(a) = session.poll_action() {
        match a {
            Action::Fetch(r) => kinds.push(r.kind),
            Action::Emit(PlayerEvent::Error { kind, message, fatal: true }) => {
                return Some(Outcome::Refused(kind, message));
            }
            _ => {}
        }
    }
    Some(Outcome::Fetching(kinds))
}

#[test]
fn dash_corpus_refusals() {
    let corpus = dash_corpus();
    assert!(corpus.len() >= 40, "the corpus lists {} DASH MPDs", corpus.len());
    let mut refused = Vec::new();
    let mut played = 0;
    for (rel, expect) in &corpus {
        if expect == "invalid" {
            continue;
        }
        let Some((outcome, on_demand)) = start(rel) else {
            panic!("{rel} ({expect}) does not parse")
        };
        match outcome {
            Outcome::Refused(kind, why) => {
                assert!(!on_demand, "{rel}: on demand with an index range, refused: {why}");
                // No network here: a refusal is about the document, typed as such.
                assert!(
                    matches!(kind, ErrorKind::Manifest | ErrorKind::Unsupported),
                    "{rel}: {kind:?} {why}"
                );
                refused.push((rel.clone(), why));
            }
            Outcome::Fetching(kinds) => {
                assert!(!kinds.is_empty(), "{rel}: the session asks for nothing");
                // On demand: the indexes come first, before any segment.
                assert_eq!(on_demand, kinds.contains(&FetchKind::SegmentIndex), "{rel}: {kinds:?}");
                if on_demand {
                    assert!(
                        kinds.iter().all(|k| *k == FetchKind::SegmentIndex),
                        "{rel}: {kinds:?}"
                    );
                }
                played += 1;
            }
        }
    }
    println!("DASH MPDs refused by the session: {} of {}", refused.len(), refused.len() + played);
    for (rel, why) in &refused {
        println!("  {rel}: {why}");
        // SegmentBase is refused only when it names no index range to fetch.
        assert!(!why.contains("SegmentBase") || why.contains("@indexRange"), "{rel}: {why}");
    }
}
