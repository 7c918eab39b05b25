//! Buffer policy (placeholder).
