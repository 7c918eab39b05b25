//! The `Retry-After` parser on arbitrary header values, at the epoch, a recent "now"
//! and the end of the clock, against two oracles: delay seconds (any number of digits)
//! give the number capped at the largest date; and any instant up to 9999-12-31, printed
//! as an IMF-fixdate, parses back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamsteer::http::{MAX_HTTP_DATE_UNIX_S, parse_http_date, parse_retry_after};

const CAP_US: u64 = MAX_HTTP_DATE_UNIX_S * 1_000_000;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for now in [0, 1_700_000_000, MAX_HTTP_DATE_UNIX_S, u64::MAX] {
        if let Some(d) = parse_retry_after(&text, now) {
            assert!(d.0 <= CAP_US, "{text:?} at {now}: {d:?} beyond the cap");
            assert_eq!(d.0 % 1_000_000, 0, "whole seconds");
        }
    }
    let v = text.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        // u128 holds 38 digits: enough to tell every value above the cap.
        let n = v.trim_start_matches('0');
        let expected = if n.len() > 30 {
            MAX_HTTP_DATE_UNIX_S
        } else {
            n.parse::<u128>().unwrap_or(0).min(u128::from(MAX_HTTP_DATE_UNIX_S)) as u64
        };
        assert_eq!(parse_retry_after(&text, 12345).map(|d| d.0 / 1_000_000), Some(expected));
    }
    if let Some(t) = parse_http_date(&text) {
        assert!(t <= MAX_HTTP_DATE_UNIX_S + 1, "{text:?}: {t}");
        let back = imf_fixdate(t.min(MAX_HTTP_DATE_UNIX_S));
        if t <= MAX_HTTP_DATE_UNIX_S && !v.contains(":60 ") {
            assert_eq!(parse_http_date(&back), Some(t), "{text:?} -> {t} -> {back:?}");
        }
        // Relative to the date itself: zero; to a second before: one.
        assert_eq!(parse_retry_after(&text, t).map(|d| d.0), Some(0));
        if t > 0 {
            assert_eq!(parse_retry_after(&text, t - 1).map(|d| d.0), Some(1_000_000));
        }
    }
    // Round trip of an arbitrary instant taken from the input's first bytes.
    let mut raw = [0u8; 8];
    for (r, b) in raw.iter_mut().zip(data) {
        *r = *b;
    }
    let t = u64::from_le_bytes(raw) % (MAX_HTTP_DATE_UNIX_S + 1);
    assert_eq!(parse_http_date(&imf_fixdate(t)), Some(t), "{}", imf_fixdate(t));
});

/// `t` (Unix seconds) as an IMF-fixdate, by the inverse of the parser's calendar
/// (Howard Hinnant's civil_from_days), written independently of it.
fn imf_fixdate(t: u64) -> String {
    let days = (t / 86_400) as i64;
    let secs = t % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    format!(
        "{}, {d:02} {} {y:04} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[(m - 1) as usize],
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}
