//! The built-in ladder and trace set, so that `streamsteer simulate` runs with no data.
//!
//! See `sim/data/SOURCE.md` for provenance: the Pensieve (EnvivioDash3) ladder and the
//! 80 Norway HSDPA traces, the pair most RL-ABR papers report on.

use crate::ladder_io::{LoadedLadder, parse_sabre_movie};
use crate::trace::{Trace, TraceError};
use std::path::Path;

const LADDER_JSON: &str = include_str!("../data/envivio-48x4s.json");
const HSDPA_BUNDLE: &str = include_str!("../data/hsdpa.traces");

/// The bundled Pensieve ladder (6 rungs, 48 × 4 s).
pub fn ladder() -> LoadedLadder {
    let ladder = parse_sabre_movie(Path::new("envivio-48x4s.json"), LADDER_JSON);
    // The bundled file is validated by this crate's tests; a failure here is a build defect.
    match ladder {
        Ok(ladder) => LoadedLadder { name: "envivio-48x4s (built-in)".into(), ladder },
        Err(e) => unreachable!("built-in ladder is invalid: {e}"),
    }
}

/// The bundled HSDPA trace set.
pub fn traces() -> Result<Vec<Trace>, TraceError> {
    parse_bundle(HSDPA_BUNDLE)
}

/// Splits a bundle of traces, each introduced by a `## name` line.
pub fn parse_bundle(text: &str) -> Result<Vec<Trace>, TraceError> {
    let mut out = Vec::new();
    for chunk in text.split("## ").filter(|c| !c.trim().is_empty()) {
        let (name, body) = chunk.split_once('\n').unwrap_or((chunk, ""));
        out.push(Trace::parse(name.trim(), body)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn built_ins_load() {
        assert_eq!(super::ladder().ladder.segment_count(), 48);
        assert_eq!(super::ladder().ladder.len(), 6);
        let traces = super::traces().unwrap();
        assert_eq!(traces.len(), 80);
        assert_eq!(traces[0].name, "norway_bus_1");
    }
}
