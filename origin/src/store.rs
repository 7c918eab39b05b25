//! The content the origin serves, held in memory: every init and media segment of a
//! content folder, checked against its `content.json`, plus each track's timescale and
//! each rendition assembled as one on-demand DASH file.
//! Test ladders are a few megabytes, and serving from memory keeps byte ranges,
//! faults and live rewrites simple.

use crate::boxes;
use crate::content::ContentInfo;
use crate::error::OriginError;
use crate::manifests::Timescales;
use crate::on_demand::{self, OnDemandFile};
use crate::renditions;
use bytes::Bytes;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// One rendition's files.
#[derive(Debug, Clone)]
pub struct StoredRendition {
    /// Media timescale from the init segment's `mdhd`.
    pub timescale: u32,
    /// The init segment.
    pub init: Bytes,
    /// Media segments in order.
    pub segments: Vec<Bytes>,
}

/// A loaded content folder.
#[derive(Debug, Clone)]
pub struct ContentStore {
    /// The description.
    pub info: ContentInfo,
    /// Files by rendition id.
    pub renditions: BTreeMap<String, StoredRendition>,
    /// Each rendition as one on-demand DASH file, by id.
    pub on_demand: BTreeMap<String, OnDemandFile>,
}

/// `rel` under `dir`, refusing absolute paths and `..` so a description cannot
/// point the origin at files outside its folder.
fn inside(dir: &Path, rel: &str) -> Result<PathBuf, OriginError> {
    let p = Path::new(rel);
    if p.components().any(|c| !matches!(c, Component::Normal(_) | Component::CurDir)) {
        return Err(OriginError::Invalid(format!("path {rel:?} leaves the content folder")));
    }
    Ok(dir.join(p))
}

fn read(dir: &Path, rel: &str) -> Result<Bytes, OriginError> {
    let path = inside(dir, rel)?;
    std::fs::read(&path).map(Bytes::from).map_err(|source| OriginError::Io { path, source })
}

impl ContentStore {
    /// Loads the folder `dir` (its `content.json` and every file it names).
    pub fn open(dir: &Path) -> Result<Self, OriginError> {
        let info = ContentInfo::load(dir)?;
        Self::load(dir, info)
    }

    /// Loads the files `info` names, relative to `dir`, after checking the folder
    /// against the description ([`ContentInfo::validate`]).
    pub fn load(dir: &Path, info: ContentInfo) -> Result<Self, OriginError> {
        info.validate(dir)?;
        let all = renditions::all(&info);
        if info.video.is_empty() {
            return Err(OriginError::Invalid("no video rungs".into()));
        }
        if !(info.segment_duration_s.is_finite() && info.segment_duration_s > 0.0) {
            return Err(OriginError::Invalid("segment_duration_s must be positive".into()));
        }
        let mut stored = BTreeMap::new();
        for r in &all {
            let legal = !r.id.is_empty()
                && r.id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
                && r.id != "."
                && r.id != "..";
            if !legal {
                return Err(OriginError::Invalid(format!(
                    "rendition id {:?} must be [A-Za-z0-9._-]+ (it is a URL path segment)",
                    r.id
                )));
            }
            if r.segments.is_empty() {
                return Err(OriginError::Invalid(format!("rendition {} has no segments", r.id)));
            }
            if r.segments.iter().any(|s| !(s.duration_s.is_finite() && s.duration_s > 0.0)) {
                return Err(OriginError::Invalid(format!(
                    "rendition {} has a segment without a positive duration",
                    r.id
                )));
            }
            let init = read(dir, r.init)?;
            let timescale = boxes::media_timescale(&init)
                .map_err(|source| OriginError::Mp4 { path: r.init.to_string(), source })?;
            let mut segments = Vec::with_capacity(r.segments.len());
            for s in r.segments {
                let data = read(dir, &s.path)?;
                if data.len() as u64 != s.bytes {
                    return Err(OriginError::Invalid(format!(
                        "{} is {} bytes, content.json says {}",
                        s.path,
                        data.len(),
                        s.bytes
                    )));
                }
                // Live serving rewrites tfdt: fail now, not on the first live request.
                boxes::first_decode_time(&data)
                    .map_err(|source| OriginError::Mp4 { path: s.path.clone(), source })?;
                segments.push(data);
            }
            if stored
                .insert(r.id.to_string(), StoredRendition { timescale, init, segments })
                .is_some()
            {
                return Err(OriginError::Invalid(format!("rendition id {} is not unique", r.id)));
            }
        }
        let on_demand = on_demand::build_all(&info, &stored)?;
        Ok(ContentStore { info, renditions: stored, on_demand })
    }

    /// Media timescales by rendition id.
    pub fn timescales(&self) -> Timescales {
        self.renditions.iter().map(|(id, r)| (id.clone(), r.timescale)).collect()
    }
}
