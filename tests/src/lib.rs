//! Helpers shared by the integration tests: where the shared data lives.

use std::path::PathBuf;

/// The `shared/` folder beside the checkout (`STREAMSTEER_SHARED` overrides).
pub fn shared_dir() -> PathBuf {
    if let Ok(p) = std::env::var("STREAMSTEER_SHARED") {
        return PathBuf::from(p);
    }
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    repo.join("..").join("shared")
}

/// The repository root.
pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}
