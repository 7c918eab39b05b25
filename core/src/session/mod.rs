//! Session state machine (placeholder).
