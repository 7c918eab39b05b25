//! Dependency-free SVG plots: bitrate and buffer over time, and QoE CDFs per rule.

use crate::model::SessionOutcome;
use std::fmt::Write as _;

const PALETTE: [&str; 8] =
    ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

/// One named series of points.
pub struct Series<'a> {
    /// Legend label.
    pub name: &'a str,
    /// Points `(x, y)`, x ascending.
    pub points: Vec<(f64, f64)>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A "nice" upper bound for an axis.
fn nice_max(v: f64) -> f64 {
    if !(v.is_finite() && v > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|&m| m >= v).unwrap_or(10.0 * mag)
}

/// Draws a chart into `out` at vertical offset `top` (pixels), `width × height`.
#[allow(clippy::too_many_arguments)]
fn chart(
    out: &mut String,
    top: f64,
    width: f64,
    height: f64,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series<'_>],
    step: bool,
) {
    let (left, right, pad_top, bottom) = (60.0, 130.0, 24.0, 36.0);
    let pw = width - left - right;
    let ph = height - pad_top - bottom;
    let all = series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) =
        (f64::INFINITY, f64::NEG_INFINITY, 0f64, f64::NEG_INFINITY);
    for &(x, y) in all {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if !x0.is_finite() {
        (x0, x1, y1) = (0.0, 1.0, 1.0);
    }
    // Round the axes to readable ticks: time and most metrics start at zero.
    if x0 > 0.0 {
        x0 = 0.0;
    }
    x1 = if x1 > 0.0 { nice_max(x1) } else { x1 };
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let y1 = nice_max(y1);
    let y0 = if y0 < 0.0 { -nice_max(-y0) } else { 0.0 };
    let sx = |x: f64| left + (x - x0) / (x1 - x0) * pw;
    let sy = |y: f64| top + pad_top + ph - (y - y0) / (y1 - y0) * ph;
    let _ = writeln!(
        out,
        r##"<text x="{}" y="{}" font-size="14" font-weight="bold">{}</text>"##,
        left,
        top + 16.0,
        escape(title)
    );
    let _ = writeln!(
        out,
        r##"<rect x="{left}" y="{}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>"##,
        top + pad_top
    );
    for i in 0..=4 {
        let y = y0 + (y1 - y0) * i as f64 / 4.0;
        let x = x0 + (x1 - x0) * i as f64 / 4.0;
        let _ = writeln!(
            out,
            r##"<line x1="{left}" x2="{}" y1="{py:.1}" y2="{py:.1}" stroke="#eee"/><text x="{}" y="{:.1}" font-size="10" text-anchor="end">{}</text>"##,
            left + pw,
            left - 4.0,
            sy(y) + 3.0,
            fmt_tick(y),
            py = sy(y)
        );
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle">{}</text>"##,
            sx(x),
            top + pad_top + ph + 14.0,
            fmt_tick(x)
        );
    }
    let _ = writeln!(
        out,
        r##"<text x="{}" y="{}" font-size="11" text-anchor="middle">{}</text>"##,
        left + pw / 2.0,
        top + height - 4.0,
        escape(x_label)
    );
    let _ = writeln!(
        out,
        r##"<text x="14" y="{:.1}" font-size="11" text-anchor="middle" transform="rotate(-90 14 {:.1})">{}</text>"##,
        top + pad_top + ph / 2.0,
        top + pad_top + ph / 2.0,
        escape(y_label)
    );
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let mut d = String::new();
        let mut prev_y = None;
        for (j, &(x, y)) in s.points.iter().enumerate() {
            if step && let Some(py) = prev_y {
                let _ = write!(d, " L{:.1},{:.1}", sx(x), sy(py));
            }
            let _ = write!(d, "{}{:.1},{:.1}", if j == 0 { "M" } else { " L" }, sx(x), sy(y));
            prev_y = Some(y);
        }
        let _ = writeln!(
            out,
            r##"<path d="{d}" fill="none" stroke="{color}" stroke-width="1.5"/><text x="{}" y="{}" font-size="11" fill="{color}">{}</text>"##,
            left + pw + 8.0,
            top + pad_top + 12.0 + 14.0 * i as f64,
            escape(s.name)
        );
    }
}

fn fmt_tick(v: f64) -> String {
    if v.abs() >= 100.0 || v == v.trunc() { format!("{v:.0}") } else { format!("{v:.2}") }
}

fn document(width: f64, height: f64, body: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{body}</svg>\n"
    )
}

/// Bitrate (top) and buffer level (bottom) over time for sessions on the same trace.
pub fn timeline_svg(title: &str, sessions: &[&SessionOutcome]) -> String {
    let bitrate: Vec<Series<'_>> = sessions
        .iter()
        .map(|o| Series {
            name: &o.rule,
            points: o
                .segments
                .iter()
                .map(|s| (s.request_s + s.download_s, s.bitrate_kbps))
                .collect(),
        })
        .collect();
    let buffer: Vec<Series<'_>> = sessions
        .iter()
        .map(|o| Series { name: &o.rule, points: o.buffer_timeline.clone() })
        .collect();
    let mut body = String::new();
    chart(
        &mut body,
        0.0,
        900.0,
        300.0,
        &format!("Bitrate — {title}"),
        "time (s)",
        "kbit/s",
        &bitrate,
        true,
    );
    chart(
        &mut body,
        300.0,
        900.0,
        300.0,
        &format!("Buffer — {title}"),
        "time (s)",
        "seconds",
        &buffer,
        false,
    );
    document(900.0, 600.0, &body)
}

/// Empirical CDF of per-session QoE_lin, one line per rule.
pub fn qoe_cdf_svg(title: &str, rules: &[String], outcomes: &[SessionOutcome]) -> String {
    let series: Vec<Series<'_>> = rules
        .iter()
        .map(|rule| {
            let mut q: Vec<f64> =
                outcomes.iter().filter(|o| &o.rule == rule).map(|o| o.report.qoe_lin).collect();
            q.sort_by(f64::total_cmp);
            let n = q.len().max(1) as f64;
            Series {
                name: rule,
                points: q.iter().enumerate().map(|(i, &v)| (v, (i + 1) as f64 / n)).collect(),
            }
        })
        .collect();
    let mut body = String::new();
    chart(
        &mut body,
        0.0,
        900.0,
        420.0,
        title,
        "QoE_lin per segment (session mean)",
        "CDF",
        &series,
        true,
    );
    document(900.0, 420.0, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_bounds() {
        assert_eq!(nice_max(3.2), 5.0);
        assert_eq!(nice_max(4300.0), 5000.0);
        assert_eq!(nice_max(0.0), 1.0);
    }

    #[test]
    fn cdf_escapes_names_and_is_well_formed() {
        let svg = qoe_cdf_svg("a<b", &["x&y".to_string()], &[]);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("a&lt;b") && svg.contains("x&amp;y"));
    }
}
