//! The live DASH MPDs of the shared corpus addressed by `SegmentTemplate@duration`
//! (which the session refused before it had a wall clock) start playing: given the
//! driver's wall clock an hour into each stream, and `UTCTiming` requests failing (no
//! network here), the session falls back to the driver's clock and asks for the
//! segment holding the live edge less the presentation delay.

use streamsteer::manifest::{self, SegmentIndex};
use streamsteer::session::{
    Action, Event, FetchKind, PlayerEvent, PlayerState, Session, SessionConfig,
};
use streamsteer::time::Instant;
use streamsteer::uri::Url;
use streamsteer_tests::shared_dir;

#[test]
fn every_live_template_mpd_of_the_corpus_starts_by_the_wall_clock() {
    let index = std::fs::read_to_string(shared_dir().join("manifests/index.tsv")).unwrap();
    let mut played = Vec::new();
    for line in index.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 5 || cols[2] != "dash-dynamic" || cols[4] == "broken" {
            continue;
        }
        let text = std::fs::read_to_string(shared_dir().join("manifests").join(cols[0])).unwrap();
        let url = Url::parse(&format!("https://corpus.example/{}", cols[0])).unwrap();
        let Ok(p) = manifest::parse_dash(&text, &url) else { continue };
        let template = p.main_track().and_then(|t| {
            t.renditions.iter().find_map(|r| match &r.index {
                SegmentIndex::LiveTemplate(t) => Some(t.clone()),
                _ => None,
            })
        });
        let Some(template) = template else { continue };
        let unix_s = template.availability_start_unix_s + 3600.0;
        let mut session = Session::new(p, SessionConfig::default()).unwrap();
        session.handle(Instant::ZERO, Event::WallClock { unix_s });
        session.handle(Instant::ZERO, Event::Tick);
        let mut media = None;
        for _ in 0..20 {
            let Some(a) = session.poll_action() else { break };
            match a {
                Action::Fetch(r) if matches!(r.kind, FetchKind::UtcTiming { .. }) => {
                    session.handle(
                        Instant::ZERO,
                        Event::FetchFailed { id: r.id, status: None, bytes: 0 },
                    );
                }
                Action::Fetch(r) if matches!(r.kind, FetchKind::Init | FetchKind::Media) => {
                    media = Some(r);
                    break;
                }
                Action::Emit(PlayerEvent::Error { kind, message, fatal: true }) => {
                    panic!("{}: {kind:?}: {message}", cols[0])
                }
                _ => {}
            }
        }
        assert_ne!(session.state(), PlayerState::Failed, "{}", cols[0]);
        assert!(media.is_some(), "{}: no segment requested", cols[0]);
        played.push(cols[0].to_string());
    }
    eprintln!("live template MPDs started: {played:?}");
    assert!(played.len() >= 2, "{played:?}");
}
