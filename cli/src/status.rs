//! The one-line live status the interactive commands print.

use streamsteer_net::Status;

/// `time  bitrate  buffer  pathway  throughput  state`, fixed width for `\r` updates.
pub fn status_line(s: &Status) -> String {
    format!(
        "{:>6.1} s  {:>5} kbit/s  buffer {:>5.1} s  {:<12} {:>7} kbit/s  {:?}   ",
        s.time_s,
        s.bitrate_kbps.map_or("-".into(), |b| format!("{b:.0}")),
        s.buffer_s,
        s.pathway,
        s.throughput_kbps.map_or("-".into(), |t| format!("{t:.0}")),
        s.state
    )
}
