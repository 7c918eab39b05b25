//! Content steering (placeholder).
