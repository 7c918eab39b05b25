//! Reading (and writing) the server times a DASH `UTCTiming` source answers with:
//! `xs:dateTime` and ISO 8601 bodies, and the HTTP `Date` header.
//!
//! The session asks the driver to fetch a source
//! ([`FetchKind::UtcTiming`](crate::session::FetchKind::UtcTiming)) and reads the
//! answer here. The answer is whatever the server (or anything on the path) sent, so
//! every parser returns a typed [`UtcTimingError`] instead of panicking, bounds what
//! it reads, and keeps dates to the years 1970–9999 so that no arithmetic overflows.

use crate::http::{days_from_civil, days_in_month, parse_http_date};
use crate::manifest::UtcTimingScheme;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Longest answer read: a date-time is some thirty characters; a longer body is not
/// one (and is not copied into the error).
const MAX_ANSWER_LEN: usize = 128;

/// How much of a refused value an error quotes.
const QUOTED: usize = 48;

/// Why a `UTCTiming` source gave no usable time.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum UtcTimingError {
    /// The answer (body, `Date` header or `direct` value) is not a date-time this
    /// scheme allows; `value` quotes its beginning.
    #[error("not a date-time: {value:?}")]
    Unparsable {
        /// The beginning of the refused answer.
        value: String,
    },
    /// An `http-head` answer came without a `Date` header.
    #[error("the response has no Date header")]
    MissingDate,
    /// The request failed.
    #[error("the request failed (status {status:?})")]
    FetchFailed {
        /// HTTP status, if a response came.
        status: Option<u16>,
    },
    /// The source's URL is not one the session may request (bad URL, or a host the
    /// allowlist refuses).
    #[error("{reason}")]
    NotRequested {
        /// Why.
        reason: String,
    },
}

impl UtcTimingError {
    fn unparsable(value: &str) -> Self {
        let value: String = value.chars().take(QUOTED).collect();
        Self::Unparsable { value }
    }
}

/// The server's time, Unix seconds, from a `UTCTiming` answer: for `http-head` the
/// `Date` header (`date`, whole seconds), for `http-xsdate` and `direct` an
/// `xs:dateTime`, for `http-iso` an ISO 8601 date-time (the body, or the value).
pub fn server_time(
    scheme: UtcTimingScheme,
    body: &str,
    date: Option<&str>,
) -> Result<f64, UtcTimingError> {
    match scheme {
        UtcTimingScheme::HttpHead => {
            let date = date.ok_or(UtcTimingError::MissingDate)?;
            let d = date.trim();
            parse_http_date(d).map(|s| s as f64).ok_or_else(|| UtcTimingError::unparsable(d))
        }
        UtcTimingScheme::HttpXsDate | UtcTimingScheme::Direct => parse_date_time(body, false),
        UtcTimingScheme::HttpIso => parse_date_time(body, true),
    }
}

/// Parses an `xs:dateTime` (`2026-12-07T06:54:11.25Z`, `…+01:00`; no zone reads as
/// UTC), or with `iso` also the other ISO 8601 forms servers send (basic format
/// `20261207T065411Z`, zones `+0100` and `+01`, a space for the `T`), into Unix
/// seconds. Surrounding whitespace is ignored.
pub fn parse_date_time(text: &str, iso: bool) -> Result<f64, UtcTimingError> {
    let s = text.trim();
    let bad = || UtcTimingError::unparsable(s);
    if s.len() > MAX_ANSWER_LEN || !s.is_ascii() {
        return Err(bad());
    }
    let (date, time) = match s.split_once('T') {
        Some(parts) => parts,
        None if iso => s.split_once(' ').ok_or_else(bad)?,
        None => return Err(bad()),
    };
    let (y, mo, d) = if date.len() == 8 && iso {
        (digits(&date[..4]), digits(&date[4..6]), digits(&date[6..]))
    } else {
        let mut p = date.split('-');
        let parts = (p.next(), p.next(), p.next(), p.next());
        match parts {
            (Some(y), Some(m), Some(d), None) if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
                (digits(y), digits(m), digits(d))
            }
            _ => return Err(bad()),
        }
    };
    let (Some(y), Some(mo), Some(d)) = (y, mo, d) else { return Err(bad()) };
    // The zone: `Z`, `±hh:mm`, or (ISO only) `±hhmm`, `±hh`, or none.
    let zone_at = time.find(['Z', 'z', '+', '-']).unwrap_or(time.len());
    let (clock, zone) = time.split_at(zone_at);
    let offset_s = match zone {
        "" | "Z" | "z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let z = &z[1..];
            let (h, m) = match z.len() {
                5 if z.as_bytes()[2] == b':' => (digits(&z[..2]), digits(&z[3..])),
                4 if iso => (digits(&z[..2]), digits(&z[2..])),
                2 if iso => (digits(z), Some(0)),
                _ => return Err(bad()),
            };
            let (Some(h), Some(m)) = (h, m) else { return Err(bad()) };
            if h > 14 || m > 59 {
                return Err(bad());
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let (whole, frac) = match clock.split_once(['.', ',']) {
        Some((w, f)) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => (w, f),
        Some(_) => return Err(bad()),
        None => (clock, ""),
    };
    let (h, mi, sec) = if !whole.contains(':') && whole.len() == 6 && iso {
        (digits(&whole[..2]), digits(&whole[2..4]), digits(&whole[4..]))
    } else {
        let mut p = whole.split(':');
        match (p.next(), p.next(), p.next(), p.next()) {
            (Some(h), Some(m), Some(s), None) if h.len() == 2 && m.len() == 2 && s.len() == 2 => {
                (digits(h), digits(m), digits(s))
            }
            _ => return Err(bad()),
        }
    };
    let (Some(h), Some(mi), Some(sec)) = (h, mi, sec) else { return Err(bad()) };
    if !(1970..=9999).contains(&y)
        || !(1..=12).contains(&mo)
        || d < 1
        || d > days_in_month(y, mo)
        || h > 24
        || (h == 24 && (mi, sec) != (0, 0))
        || mi > 59
        || sec > 60
    {
        return Err(bad());
    }
    // At most 17 significant digits matter to an f64.
    let frac_s: f64 = if frac.is_empty() {
        0.0
    } else {
        let kept = &frac[..frac.len().min(9)];
        kept.parse::<f64>().map_err(|_| bad())? / 10f64.powi(kept.len() as i32)
    };
    // Every factor is bounded above, so none of this can overflow an i64.
    let t = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset_s;
    if t < 0 {
        return Err(bad());
    }
    Ok(t as f64 + frac_s)
}

/// ASCII digits (no sign) as a number; `None` for anything else.
fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The proleptic Gregorian date of a day since 1970-01-01 (Howard Hinnant's
/// algorithm, the inverse of the one in [`crate::http`]).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Splits Unix seconds (clamped to 1970–9999) into whole milliseconds' date and time.
fn split(unix_s: f64) -> (i64, i64, i64, i64, i64, i64, i64) {
    let max_ms = (crate::http::MAX_HTTP_DATE_UNIX_S as f64) * 1000.0;
    let ms = if unix_s.is_finite() { (unix_s * 1000.0).round().clamp(0.0, max_ms) } else { 0.0 };
    let ms = ms as i64;
    let (days, in_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, mo, d) = civil_from_days(days);
    let secs = in_day / 1000;
    (y, mo, d, secs / 3600, secs / 60 % 60, secs % 60, in_day % 1000)
}

/// Writes Unix seconds as an `xs:dateTime` in UTC with milliseconds
/// (`2026-12-07T06:54:11.250Z`): what an origin's `http-xsdate` or `http-iso` time
/// endpoint serves. Values outside 1970–9999 are clamped.
pub fn format_date_time(unix_s: f64) -> String {
    let (y, mo, d, h, mi, s, ms) = split(unix_s);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

/// Writes Unix seconds (whole seconds, truncated) as an HTTP IMF-fixdate
/// (`Mon, 07 Dec 2026 06:54:11 GMT`), what a `Date` header carries.
pub fn format_http_date(unix_s: f64) -> String {
    let (y, mo, d, h, mi, s, _) = split(unix_s.floor());
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let day = DAYS[days_from_civil(y, mo, d).rem_euclid(7) as usize];
    let month = MONTHS[(mo - 1).clamp(0, 11) as usize];
    format!("{day}, {d:02} {month} {y:04} {h:02}:{mi:02}:{s:02} GMT")
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: f64 = 1_796_626_451.0; // 2026-12-07T06:54:11Z

    #[test]
    fn reads_xs_date_times() {
        assert_eq!(parse_date_time("2026-12-07T06:54:11Z", false), Ok(T));
        assert_eq!(parse_date_time(" 2026-12-07T06:54:11.25Z\n", false), Ok(T + 0.25));
        assert_eq!(parse_date_time("2026-12-07T07:54:11+01:00", false), Ok(T));
        assert_eq!(parse_date_time("2026-12-07T06:54:11", false), Ok(T), "no zone: UTC");
        assert_eq!(parse_date_time("1970-01-01T00:00:00Z", false), Ok(0.0));
    }

    #[test]
    fn reads_iso_forms_only_as_iso() {
        for s in ["20261207T065411Z", "2026-12-07 06:54:11Z", "2026-12-07T07:54:11+0100"] {
            assert_eq!(parse_date_time(s, true), Ok(T), "{s}");
            assert!(parse_date_time(s, false).is_err(), "{s} is not an xs:dateTime");
        }
    }

    #[test]
    fn refuses_hostile_answers_with_a_typed_error() {
        let long = "9".repeat(100_000);
        for s in [
            "",
            "now",
            "2026-13-07T06:54:11Z",
            "2026-02-29T06:54:11Z",
            "2026-12-07T25:54:11Z",
            "2026-12-07T06:54:11+99:00",
            "2026-12-07T06:54:11.Z",
            "-2026-12-07T06:54:11Z",
            "99999-12-07T06:54:11Z",
            "1969-12-31T23:59:59Z",
            "2026-12-07T06:54:11Zjunk",
            "２０２６-12-07T06:54:11Z",
            &long,
        ] {
            match parse_date_time(s, true) {
                Err(UtcTimingError::Unparsable { value }) => assert!(value.len() <= 4 * QUOTED),
                other => panic!("{s:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn each_scheme_reads_its_answer() {
        let date = Some("Mon, 07 Dec 2026 06:54:11 GMT");
        assert_eq!(server_time(UtcTimingScheme::HttpHead, "ignored", date), Ok(T));
        assert_eq!(
            server_time(UtcTimingScheme::HttpHead, "2026-12-07T06:54:11Z", None),
            Err(UtcTimingError::MissingDate)
        );
        assert_eq!(server_time(UtcTimingScheme::HttpXsDate, "2026-12-07T06:54:11Z", None), Ok(T));
        assert_eq!(server_time(UtcTimingScheme::HttpIso, "20261207T065411Z", None), Ok(T));
        assert_eq!(server_time(UtcTimingScheme::Direct, "2026-12-07T06:54:11Z", None), Ok(T));
    }

    #[test]
    fn formats_round_trip() {
        assert_eq!(format_date_time(T + 0.25), "2026-12-07T06:54:11.250Z");
        assert_eq!(format_http_date(T + 0.9), "Mon, 07 Dec 2026 06:54:11 GMT");
        for t in [0.0, 951_825_600.5, T, 4_102_444_800.0] {
            assert_eq!(parse_date_time(&format_date_time(t), false), Ok(t));
            assert_eq!(parse_http_date(&format_http_date(t)), Some(t.floor() as u64));
        }
        assert_eq!(format_date_time(f64::NAN), "1970-01-01T00:00:00.000Z");
    }
}
