//! `xs:duration` and `xs:dateTime` values read exactly as dash-mpd-core reads them,
//! without its regex and ISO 8601 parser crates (which the lite MPD reader leaves out
//! of the browser build).
//!
//! dash-mpd-core's duration pattern is anchored at the start only, so text after the
//! last component it recognises is ignored (`PT5Sxyz` is 5 s, `PT` is 0 s); months
//! count 30 days, years 365; a fraction of seconds keeps 9 digits; a negative
//! duration is an error. A dateTime is RFC 3339 first, else ISO 8601 (calendar,
//! week or ordinal date, `T`, time with optional seconds, fraction (milliseconds)
//! and zone; no zone means UTC; text after it is ignored).
//!
//! Not covered: digits outside ASCII, which dash-mpd-core's `\d` would match and
//! then fail to convert (an error there, a component not recognised here).

use dash_mpd_core::XsDatetime;
use std::time::Duration;

/// Splits the leading run of ASCII digits off `s`.
fn digits(s: &str) -> (&str, &str) {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    s.split_at(n)
}

/// `<digits><unit>` at the start of `s`: the number and the rest, if it is there.
fn component(s: &str, unit: char) -> Option<(&str, &str)> {
    let (d, rest) = digits(s);
    let rest = rest.strip_prefix(unit)?;
    (!d.is_empty()).then_some((d, rest))
}

/// An `xs:duration`; `None` where dash-mpd-core reports an invalid duration.
pub(crate) fn parse_xs_duration(s: &str) -> Option<Duration> {
    let (negative, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut rest = s.strip_prefix('P')?;
    // (count, seconds per unit) of each component found, in pattern order.
    let mut parts: Vec<(&str, u64)> = Vec::with_capacity(7);
    for (unit, secs) in [('Y', 365 * 86_400), ('M', 30 * 86_400), ('W', 7 * 86_400), ('D', 86_400)]
    {
        if let Some((d, r)) = component(rest, unit) {
            parts.push((d, secs));
            rest = r;
        }
    }
    let mut nanos = 0u32;
    let has_time = rest.starts_with('T');
    if let Some(mut time) = rest.strip_prefix('T') {
        for (unit, secs) in [('H', 3_600), ('M', 60)] {
            if let Some((d, r)) = component(time, unit) {
                parts.push((d, secs));
                time = r;
            }
        }
        let (whole, after) = digits(time);
        if !whole.is_empty() {
            let fraction = after
                .strip_prefix(['.', ','])
                .map(digits)
                .filter(|(f, r)| !f.is_empty() && r.starts_with('S'))
                .map(|(f, _)| f);
            if let Some(f) = fraction {
                parts.push((whole, 1));
                // At most 9 digits (nanoseconds), padded on the right.
                let f = &f[..f.len().min(9)];
                nanos = format!("{f:0<9}").parse().ok()?;
            } else if after.starts_with('S') {
                parts.push((whole, 1));
            }
        }
    }
    if parts.is_empty() && !has_time {
        return None;
    }
    let mut total: u64 = 0;
    for (d, unit) in parts {
        total = total.checked_add(d.parse::<u64>().ok()?.checked_mul(unit)?)?;
    }
    if negative {
        return None;
    }
    Some(Duration::new(total, nanos))
}

/// An `xs:dateTime` in UTC; `None` where dash-mpd-core reports an invalid one.
pub(crate) fn parse_xs_datetime(s: &str) -> Option<XsDatetime> {
    use chrono::{DateTime, FixedOffset, LocalResult, NaiveDate, TimeZone, Utc, Weekday};
    if let Ok(dt) = DateTime::<FixedOffset>::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    let (date, rest) = iso_date(s)?;
    let rest = rest.strip_prefix('T')?;
    let t = iso_time(rest)?;
    let date = match date {
        IsoDate::Ymd(y, m, d) => NaiveDate::from_ymd_opt(y, m, d)?,
        IsoDate::Week(y, w, d) => {
            // dash-mpd-core converts the ISO day number (1 = Monday) with chrono's
            // `Weekday::from_u32`, which counts from 0 = Monday: day 1 reads as Tuesday
            // and day 7 is an error. Kept, so that both readers agree.
            let day = [
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
                Weekday::Sat,
                Weekday::Sun,
            ];
            NaiveDate::from_isoywd_opt(y, w, *day.get(d as usize)?)?
        }
        IsoDate::Ordinal(y, o) => NaiveDate::from_yo_opt(y, o)?,
    };
    let naive = date.and_hms_nano_opt(t.hour, t.minute, t.second, t.millisecond * 1_000_000)?;
    let offset = FixedOffset::east_opt(t.tz_hours * 3600 + t.tz_minutes * 60)?;
    match offset.from_local_datetime(&naive) {
        LocalResult::Single(local) => Some(local.with_timezone(&Utc)),
        _ => None,
    }
}

enum IsoDate {
    Ymd(i32, u32, u32),
    Week(i32, u32, u32),
    Ordinal(i32, u32),
}

/// Exactly `n` ASCII digits at the start of `s`, within `range`.
fn fixed(s: &str, n: usize, range: std::ops::RangeInclusive<u32>) -> Option<(u32, &str)> {
    let head = s.get(..n).filter(|h| h.bytes().all(|b| b.is_ascii_digit()))?;
    let v: u32 = head.parse().ok()?;
    range.contains(&v).then(|| (v, &s[n..]))
}

fn opt_char(s: &str, c: char) -> &str {
    s.strip_prefix(c).unwrap_or(s)
}

/// `[+-]YYYY`, then `-MM-DD`, `-Www-D` or `-DDD` (dashes optional), in that order of
/// preference.
fn iso_date(s: &str) -> Option<(IsoDate, &str)> {
    let (sign, s) = match s.as_bytes().first() {
        Some(b'-') => (-1, &s[1..]),
        Some(b'+') => (1, &s[1..]),
        _ => (1, s),
    };
    let (y, after_year) = fixed(s, 4, 0..=9999)?;
    let year = sign * y as i32;
    let ymd = || {
        let (m, r) = fixed(opt_char(after_year, '-'), 2, 1..=12)?;
        let (d, r) = fixed(opt_char(r, '-'), 2, 1..=31)?;
        Some((IsoDate::Ymd(year, m, d), r))
    };
    let week = || {
        let r = opt_char(after_year, '-').strip_prefix('W')?;
        let (w, r) = fixed(r, 2, 1..=53)?;
        let (d, r) = fixed(opt_char(r, '-'), 1, 1..=7)?;
        Some((IsoDate::Week(year, w, d), r))
    };
    let ordinal = || {
        let (o, r) = fixed(opt_char(after_year, '-'), 3, 1..=366)?;
        Some((IsoDate::Ordinal(year, o), r))
    };
    ymd().or_else(week).or_else(ordinal)
}

struct IsoTime {
    hour: u32,
    minute: u32,
    second: u32,
    millisecond: u32,
    tz_hours: i32,
    tz_minutes: i32,
}

/// `HH[:]MM[[:]SS][(.|,)fraction][Z|(+|-)HH[[:]MM]]`; what follows is ignored.
fn iso_time(s: &str) -> Option<IsoTime> {
    let (hour, r) = fixed(s, 2, 0..=24)?;
    let (minute, mut r) = fixed(opt_char(r, ':'), 2, 0..=59)?;
    let mut second = 0;
    if let Some((sec, after)) = fixed(opt_char(r, ':'), 2, 0..=60) {
        second = sec;
        r = after;
    }
    let mut millisecond = 0;
    if let Some(after) = r.strip_prefix(['.', ',']) {
        let (f, after) = digits(after);
        // Milliseconds, truncated: "1" is 100, "1234" is 123.
        let f = &f[..f.len().min(3)];
        millisecond = format!("{f:0<3}").parse().ok()?;
        r = after;
    }
    let (mut tz_hours, mut tz_minutes) = (0, 0);
    if let Some(sign) = r.strip_prefix(['+', '-']).map(|_| if r.starts_with('-') { -1 } else { 1 })
        && let Some((h, after)) = fixed(&r[1..], 2, 0..=24)
    {
        tz_hours = sign * h as i32;
        tz_minutes = sign * fixed(opt_char(after, ':'), 2, 0..=59).map_or(0, |(m, _)| m as i32);
    }
    Some(IsoTime { hour, minute, second, millisecond, tz_hours, tz_minutes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_dash_mpd_core() {
        let d = |s| parse_xs_duration(s);
        assert_eq!(d("PT3H11M53S"), Some(Duration::new(11513, 0)));
        assert_eq!(d("PT1.5S"), Some(Duration::new(1, 500_000_000)));
        assert_eq!(d("PT0.00100S"), Some(Duration::new(0, 1_000_000)));
        assert_eq!(d("PT1.1234567891S"), Some(Duration::new(1, 123_456_789)));
        assert_eq!(d("P0Y20M0D"), Some(Duration::new(51_840_000, 0)));
        assert_eq!(d("P1W"), Some(Duration::new(604_800, 0)));
        assert_eq!(d("PT1H0.040S"), Some(Duration::new(3600, 40_000_000)));
        // Anchored at the start only: trailing text is ignored, a bare `T` is zero.
        assert_eq!(d("PT00H03M30SZ"), Some(Duration::new(210, 0)));
        assert_eq!(d("PT"), Some(Duration::ZERO));
        assert_eq!(d("PT5.5H"), Some(Duration::ZERO));
        assert_eq!(d("+PT2S"), Some(Duration::new(2, 0)));
        for bad in ["", "P", "PW", "-PT4.5S", "1Y2M3DT4H5M6S", "foobles", "P5"] {
            assert_eq!(d(bad), None, "{bad}");
        }
    }

    #[test]
    fn datetimes_follow_dash_mpd_core() {
        let t = |s| parse_xs_datetime(s).map(|d| d.timestamp_millis());
        assert_eq!(t("2021-06-03T13:00:00Z"), Some(1_622_725_200_000));
        assert_eq!(t("2021-06-03T13:00:00"), Some(1_622_725_200_000));
        assert_eq!(t("2021-06-03T13:00:00.1234"), Some(1_622_725_200_123));
        assert_eq!(t("2021-06-03T15:00+02:00"), Some(1_622_725_200_000));
        assert_eq!(t("20210603T130000"), Some(1_622_725_200_000));
        assert_eq!(t("2021-154T13:00:00"), Some(1_622_725_200_000));
        // dash-mpd-core's week-day quirk: ISO day 4 (Thursday 3 June) reads as Friday.
        assert_eq!(t("2021-W22-4T13:00:00"), Some(1_622_725_200_000 + 86_400_000));
        assert_eq!(t("2021-W22-7T13:00:00"), None);
        for bad in ["", "2021-06-03", "2021-13-03T13:00:00", "2021-02-30T00:00:00", "T13:00"] {
            assert_eq!(t(bad), None, "{bad}");
        }
    }
}
