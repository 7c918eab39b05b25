//! DASH SegmentTemplate identifiers (`$Number%05d$`, `$Time$`…) and the wall-clock
//! expansion of live templates.
//!
//! This lives outside the DASH front end so that any MPD parser filling the model,
//! and the session expanding a [`LiveTemplate`], share one implementation.

use super::model::{LiveTemplate, Segment};

/// Values for the template identifiers; `None` leaves an identifier unresolved.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TemplateVars<'a> {
    pub representation_id: Option<&'a str>,
    pub bandwidth: Option<u64>,
    pub number: Option<u64>,
    pub time: Option<u64>,
}

/// Expands `template`. Identifiers whose value is `None` are kept verbatim (so a
/// template can be expanded in two steps); malformed identifiers are an error.
pub(crate) fn expand(template: &str, vars: &TemplateVars<'_>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(start) = rest.find('$') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after
            .find('$')
            .ok_or_else(|| format!("unterminated '$' identifier in template {template:?}"))?;
        let ident = &after[..end];
        rest = &after[end + 1..];
        if ident.is_empty() {
            out.push('$');
            continue;
        }
        let (name, format) = match ident.find('%') {
            Some(i) => (&ident[..i], Some(&ident[i..])),
            None => (ident, None),
        };
        let value = match name {
            "RepresentationID" => {
                if format.is_some() {
                    return Err(format!("$RepresentationID$ takes no format tag in {template:?}"));
                }
                match vars.representation_id {
                    Some(id) => {
                        out.push_str(id);
                        continue;
                    }
                    None => None,
                }
            }
            "Number" => vars.number,
            "Time" => vars.time,
            "Bandwidth" => vars.bandwidth,
            "SubNumber" => None,
            other => return Err(format!("unknown identifier ${other}$ in template {template:?}")),
        };
        match value {
            Some(v) => out.push_str(&format_value(v, format, template)?),
            None => {
                out.push('$');
                out.push_str(ident);
                out.push('$');
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Applies a printf-style `%0<width><conv>` tag (ISO/IEC 23009-1 §5.3.9.4.4).
fn format_value(v: u64, format: Option<&str>, template: &str) -> Result<String, String> {
    let Some(f) = format else { return Ok(v.to_string()) };
    let bad = || format!("bad format tag {f:?} in template {template:?}");
    let body = f.strip_prefix('%').ok_or_else(bad)?;
    let conv = body.chars().last().ok_or_else(bad)?;
    let digits = &body[..body.len() - conv.len_utf8()];
    let width_digits = digits.strip_prefix('0').unwrap_or(digits);
    let width: usize = if width_digits.is_empty() {
        1
    } else {
        width_digits.parse().ok().filter(|w| *w <= 64).ok_or_else(bad)?
    };
    Ok(match conv {
        'd' | 'i' | 'u' => format!("{v:0width$}"),
        'x' => format!("{v:0width$x}"),
        'X' => format!("{v:0width$X}"),
        'o' => format!("{v:0width$o}"),
        _ => return Err(bad()),
    })
}

/// Most segments [`LiveTemplate::segments_at`] returns: without a time-shift depth a
/// long-running stream would otherwise list every segment since it began.
pub const MAX_LIVE_SEGMENTS: u64 = 100_000;

impl LiveTemplate {
    /// Segment duration in seconds.
    pub fn segment_duration_s(&self) -> f64 {
        self.duration as f64 / self.timescale.max(1) as f64
    }

    /// The segments available at `now_unix_s` (Unix seconds, from the caller's wall
    /// clock): those that have completely elapsed since the period started and, with
    /// a time-shift buffer depth, whose end is still inside the window. At most
    /// `MAX_LIVE_SEGMENTS` (100,000), the most recent ones.
    pub fn segments_at(&self, now_unix_s: f64) -> Vec<Segment> {
        self.available(now_unix_s).map(|k| self.segment(k)).collect()
    }

    /// Positions (from 0, the segment numbered `start_number`) of the segments
    /// available at `now_unix_s`, as [`segments_at`](Self::segments_at) lists them.
    pub fn available(&self, now_unix_s: f64) -> std::ops::Range<u64> {
        let seg_s = self.segment_duration_s();
        if !(seg_s > 0.0 && seg_s.is_finite() && now_unix_s.is_finite()) {
            return 0..0;
        }
        let elapsed = now_unix_s - self.availability_start_unix_s - self.period_start_s;
        if elapsed.is_nan() || elapsed < seg_s {
            return 0..0;
        }
        let mut end = (elapsed / seg_s).floor().min(u64::MAX as f64 / 2.0) as u64;
        if let Some(total) = self.count() {
            end = end.min(total);
        }
        // After the end, the window goes on sliding: a segment stays available for
        // the time-shift depth after it ended, then is gone.
        let mut first = match self.time_shift_buffer_depth_s {
            Some(depth) if depth.is_finite() => {
                ((elapsed - depth) / seg_s).floor().clamp(0.0, u64::MAX as f64 / 2.0) as u64
            }
            _ => 0,
        };
        first = first.max(end.saturating_sub(MAX_LIVE_SEGMENTS)).min(end);
        first..end
    }

    /// How many segments the template has in all, when it ends (`@endNumber`, or a
    /// period of known duration); `None` while the stream goes on.
    pub fn count(&self) -> Option<u64> {
        let seg_s = self.segment_duration_s();
        let by_period = self
            .period_duration_s
            .filter(|d| d.is_finite() && *d >= 0.0 && seg_s > 0.0)
            .map(|d| (d / seg_s).floor().min(u64::MAX as f64 / 2.0) as u64);
        let by_number =
            self.end_number.map(|last| last.saturating_add(1).saturating_sub(self.start_number));
        match (by_period, by_number) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// When segment `k` (from 0) becomes available: the wall-clock instant, Unix
    /// seconds, at which it has completely elapsed.
    pub fn available_at_unix_s(&self, k: u64) -> f64 {
        let end = (k as f64 + 1.0) * self.segment_duration_s();
        self.availability_start_unix_s + self.period_start_s + end
    }

    /// Segment `k` (from 0, numbered `start_number + k`).
    pub fn segment(&self, k: u64) -> Segment {
        let seg_s = self.segment_duration_s();
        let number = self.start_number.saturating_add(k);
        let time = self.presentation_time_offset.saturating_add(k.saturating_mul(self.duration));
        let vars =
            TemplateVars { number: Some(number), time: Some(time), ..TemplateVars::default() };
        // The template was validated when the MPD was parsed.
        let uri = expand(&self.media, &vars).unwrap_or_else(|_| self.media.clone());
        Segment {
            uri,
            start_s: self.period_start_s + k as f64 * seg_s,
            duration_s: seg_s,
            number,
            time: Some(time),
            byte_range: None,
            init: self.init.clone(),
            discontinuity: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> TemplateVars<'static> {
        TemplateVars {
            representation_id: Some("v1"),
            bandwidth: Some(800_000),
            number: Some(7),
            time: Some(30720),
        }
    }

    #[test]
    fn expands_identifiers_and_widths() {
        let got = expand("chunk-$RepresentationID$-$Number%05d$.m4s", &vars()).unwrap();
        assert_eq!(got, "chunk-v1-00007.m4s");
        assert_eq!(expand("$Bandwidth$/$Time$_$$.mp4", &vars()).unwrap(), "800000/30720_$.mp4");
        assert_eq!(expand("$Number%x$", &vars()).unwrap(), "7");
        assert_eq!(expand("$Time%08X$", &vars()).unwrap(), "00007800");
    }

    #[test]
    fn rejects_malformed_identifiers() {
        assert!(expand("seg-$Number.m4s", &vars()).unwrap_err().contains("unterminated"));
        assert!(expand("$Foo$", &vars()).unwrap_err().contains("unknown identifier"));
        assert!(expand("$Number%5q$", &vars()).unwrap_err().contains("bad format"));
        assert!(expand("$RepresentationID%03d$", &vars()).is_err());
    }

    #[test]
    fn keeps_unknown_values_for_later() {
        let partial = TemplateVars { representation_id: Some("a"), ..TemplateVars::default() };
        assert_eq!(expand("$RepresentationID$/$Number%03d$", &partial).unwrap(), "a/$Number%03d$");
    }

    fn live() -> LiveTemplate {
        LiveTemplate {
            media: "s-$Number$.m4s".into(),
            init: None,
            start_number: 1,
            end_number: None,
            duration: 4,
            timescale: 1,
            presentation_time_offset: 0,
            period_start_s: 0.0,
            period_duration_s: None,
            availability_start_unix_s: 1000.0,
            time_shift_buffer_depth_s: Some(10.0),
            base_url: crate::uri::Url::parse("https://cdn/live/").unwrap(),
        }
    }

    #[test]
    fn live_window_follows_now() {
        let t = live();
        assert!(t.segments_at(1003.9).is_empty());
        let s = t.segments_at(1017.0);
        // 17 s elapsed: segments 0..4 complete (end at 4, 8, 12, 16); the 10 s window
        // keeps those ending after 7 s.
        let numbers: Vec<u64> = s.iter().map(|x| x.number).collect();
        assert_eq!(numbers, vec![2, 3, 4]);
        assert_eq!(t.base_url.join(&s[0].uri).unwrap(), "https://cdn/live/s-2.m4s");
        assert_eq!(s[0].start_s, 4.0);
        // Segment 4 (ends at 20 s) is available at 1020 s, not before.
        assert_eq!(t.available_at_unix_s(4), 1020.0);
        assert_eq!(t.available(1019.99), 2..4);
        assert_eq!(t.available(1020.0), 2..5);
    }

    #[test]
    fn a_bounded_template_stops_at_its_last_segment() {
        let mut t = live();
        t.period_duration_s = Some(14.0);
        assert_eq!(t.count(), Some(3));
        // Segments stay available for the 10 s depth after they ended, then are gone.
        assert_eq!(t.available(1017.0), 1..3);
        assert_eq!(t.available(5000.0), 3..3);
        t.time_shift_buffer_depth_s = None;
        assert_eq!(t.available(5000.0), 0..3);
        t.end_number = Some(2);
        assert_eq!((t.count(), t.available(5000.0)), (Some(2), 0..2));
    }
}
