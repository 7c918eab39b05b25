//! HTTP header values the engine interprets, parsed without a clock: the caller
//! passes its wall-clock "now" where a value is relative to it.
//!
//! Every parser here takes hostile input (a response header is whatever the server, or
//! anything on the path, chose to send): it returns `None` rather than panicking, and
//! its arithmetic cannot overflow whatever the digits say.

use crate::time::Duration;

/// Latest instant an HTTP date may name here: 9999-12-31 23:59:59 UTC, in Unix
/// seconds. Dates are bounded to the years 1970–9999 (four-digit years, as the
/// IMF-fixdate grammar has them), and a `Retry-After` delay never exceeds this many
/// seconds, so every delay fits a [`Duration`] with room to add it to any instant
/// of a session.
pub const MAX_HTTP_DATE_UNIX_S: u64 = 253_402_300_799;

/// First year an HTTP date may name (the Unix epoch's).
const MIN_YEAR: i64 = 1970;
/// Last year an HTTP date may name.
const MAX_YEAR: i64 = 9999;

/// Parses a `Retry-After` header value (RFC 9110 §10.2.3): either delay seconds
/// (`120`) or an HTTP date (IMF-fixdate, RFC 9110 §5.6.7: `Sun, 06 Nov 1994 08:49:37
/// GMT`), the latter taken relative to `now_unix_s`, the caller's wall clock in
/// seconds since the Unix epoch. A date at or before `now_unix_s` gives zero.
///
/// Returns `None` for anything else (the header is then to be ignored, as RFC 9110
/// says of an invalid value). Delays are capped at [`MAX_HTTP_DATE_UNIX_S`] seconds,
/// so a value with any number of digits gives a usable [`Duration`].
///
/// ```
/// use streamsteer::http::parse_retry_after;
/// use streamsteer::time::Duration;
/// let now = 784_111_777; // Sun, 06 Nov 1994 08:49:37 GMT
/// assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs_f64(120.0)));
/// assert_eq!(
///     parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
///     Some(Duration::from_secs_f64(30.0))
/// );
/// assert_eq!(parse_retry_after("soon", now), None);
/// ```
pub fn parse_retry_after(value: &str, now_unix_s: u64) -> Option<Duration> {
    let v = value.trim();
    let secs = match parse_delay_seconds(v) {
        Some(s) => s,
        None => parse_http_date(v)?.saturating_sub(now_unix_s),
    };
    let secs = secs.min(MAX_HTTP_DATE_UNIX_S);
    // At most ~2.5e17 µs: far below u64::MAX, so the product cannot wrap.
    Some(Duration(secs.saturating_mul(1_000_000)))
}

/// `delay-seconds = 1*DIGIT`, saturating (a longer run of digits than a `u64` holds
/// is still a valid, very long, delay).
fn parse_delay_seconds(v: &str) -> Option<u64> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(v.bytes().fold(0u64, |acc, b| acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))))
}

/// Parses an HTTP date in the IMF-fixdate form (`Sun, 06 Nov 1994 08:49:37 GMT`,
/// RFC 9110 §5.6.7) into seconds since the Unix epoch.
///
/// The day name must be one of the seven but is not checked against the date (a
/// server's slip there is harmless); the day must exist in its month
/// (29 February only in leap years), the year must lie in 1970–9999 and the time in
/// 00:00:00–23:59:60 (a leap second reads as the next second). Returns `None` for
/// anything else, including the obsolete RFC 850 and asctime forms.
pub fn parse_http_date(s: &str) -> Option<u64> {
    let (day_name, rest) = s.split_once(", ")?;
    if !["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].contains(&day_name) {
        return None;
    }
    let mut parts = rest.split(' ');
    let day = small_number(parts.next()?, 2)?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year = small_number(parts.next()?, 4)?;
    let mut hms = parts.next()?.split(':');
    let h = small_number(hms.next()?, 2)?;
    let m = small_number(hms.next()?, 2)?;
    let sec = small_number(hms.next()?, 2)?;
    if hms.next().is_some() || parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    if !(MIN_YEAR..=MAX_YEAR).contains(&year)
        || day < 1
        || day > days_in_month(year, month)
        || h > 23
        || m > 59
        || sec > 60
    {
        return None;
    }
    // Every factor is bounded above, so none of this can overflow an i64.
    let days = days_from_civil(year, month, day);
    let t = days * 86_400 + h * 3600 + m * 60 + sec;
    u64::try_from(t).ok().filter(|t| *t <= MAX_HTTP_DATE_UNIX_S + 1)
}

/// A run of 1 to `max_digits` ASCII digits (no sign, no spaces).
fn small_number(s: &str, max_digits: usize) -> Option<i64> {
    if s.is_empty() || s.len() > max_digits || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub(crate) fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm);
/// callers bound the year to 1970–9999.
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 784_111_777; // Sun, 06 Nov 1994 08:49:37 GMT

    fn secs(s: u64) -> Option<Duration> {
        Some(Duration(s * 1_000_000))
    }

    #[test]
    fn reads_seconds_and_dates() {
        assert_eq!(parse_retry_after(" 120 ", NOW), secs(120));
        assert_eq!(parse_retry_after("0", NOW), secs(0));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", NOW), secs(30));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", NOW), secs(0));
        assert_eq!(parse_retry_after("soon", NOW), None);
        assert_eq!(parse_retry_after("", NOW), None);
        assert_eq!(parse_retry_after("+5", NOW), None, "delay-seconds is digits only");
        assert_eq!(parse_retry_after("-5", NOW), None);
        assert_eq!(parse_retry_after("1.5", NOW), None);
        assert_eq!(parse_retry_after("Sun, 06 Foo 1994 08:50:07 GMT", NOW), None);
    }

    #[test]
    fn dates_match_known_timestamps() {
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(NOW));
        assert_eq!(parse_http_date("Tue, 29 Feb 2000 12:00:00 GMT"), Some(951_825_600));
        assert_eq!(parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"), Some(MAX_HTTP_DATE_UNIX_S));
        // A leap second reads as the next second.
        assert_eq!(parse_http_date("Sat, 31 Dec 2016 23:59:60 GMT"), Some(1_483_228_800));
    }

    #[test]
    fn impossible_dates_are_refused() {
        assert_eq!(parse_http_date("Sat, 29 Feb 1900 00:00:00 GMT"), None);
        assert_eq!(parse_http_date("Sat, 31 Apr 2023 00:00:00 GMT"), None);
        assert_eq!(parse_http_date("Sat, 00 Apr 2023 00:00:00 GMT"), None);
        assert_eq!(parse_http_date("Sat, 01 Apr 2023 24:00:00 GMT"), None);
        assert_eq!(parse_http_date("Sat, 01 Apr 2023 00:00:00 UTC"), None);
        assert_eq!(parse_http_date("Sat, 01 Apr 2023 00:00:00 GMT extra"), None);
        assert_eq!(parse_http_date("Sat, 01 Apr 2023 00:00:00:00 GMT"), None);
        assert_eq!(parse_http_date("Sat, +1 Apr 2023 00:00:00 GMT"), None);
        assert_eq!(parse_http_date("Wed, 31 Dec 1969 23:59:59 GMT"), None, "before 1970");
        assert_eq!(parse_http_date("Sunday, 06 Nov 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date(" Sun, 06 Nov 1994 08:49:37 GMT"), None);
        // A wrong day name is tolerated.
        assert_eq!(parse_http_date("Mon, 06 Nov 1994 08:49:37 GMT"), Some(NOW));
    }

    // The old parser (net/src/retry.rs) panicked on each of these in debug and fuzz
    // builds (overflow checks) and wrapped silently in release.

    #[test]
    fn a_huge_year_is_refused_not_overflowed() {
        // era * 146_097 overflowed an i64.
        let v = "Sun, 06 Nov 9223372036854775807 08:49:37 GMT";
        assert_eq!(parse_retry_after(v, NOW), None);
        assert_eq!(parse_http_date(v), None);
    }

    #[test]
    fn the_most_negative_year_is_refused_not_overflowed() {
        // `y - 1` (January and February) overflowed an i64.
        let v = "Sun, 06 Jan -9223372036854775808 08:49:37 GMT";
        assert_eq!(parse_retry_after(v, NOW), None);
    }

    #[test]
    fn a_year_whose_seconds_exceed_u64_is_refused_not_overflowed() {
        // days fit an i64, but days * 86_400 overflowed the u64.
        let v = "Sun, 06 Nov 999999999999 08:49:37 GMT";
        assert_eq!(parse_retry_after(v, NOW), None);
        assert_eq!(parse_retry_after("Sun, 06 Nov 10000 08:49:37 GMT", NOW), None);
    }

    #[test]
    fn huge_delay_seconds_saturate_to_the_cap() {
        let cap_us = MAX_HTTP_DATE_UNIX_S * 1_000_000;
        let cap = Some(Duration(cap_us));
        // u64::MAX seconds as microseconds overflowed a u64 (and does not parse as one
        // digit past it).
        assert_eq!(parse_retry_after("18446744073709551615", NOW), cap);
        assert_eq!(parse_retry_after(&"9".repeat(400), NOW), cap);
        assert_eq!(parse_retry_after("253402300799", NOW), cap);
        assert_eq!(parse_retry_after("253402300798", NOW), secs(MAX_HTTP_DATE_UNIX_S - 1));
        // The capped delay added to an instant half-way to the end of the clock does not
        // saturate.
        let far = crate::time::Instant(u64::MAX / 2) + Duration(cap_us);
        assert_eq!(far.0, u64::MAX / 2 + cap_us);
    }

    #[test]
    fn a_date_relative_to_a_late_or_early_now_stays_in_range() {
        let v = "Fri, 31 Dec 9999 23:59:59 GMT";
        assert_eq!(parse_retry_after(v, 0), Some(Duration(MAX_HTTP_DATE_UNIX_S * 1_000_000)));
        assert_eq!(parse_retry_after(v, u64::MAX), secs(0));
    }
}
