//! The demo's SVG report: bitrate, buffer and pathway over time, from the player's
//! periodic status snapshots.

use std::fmt::Write;

/// One status snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Seconds since the player started.
    pub time_s: f64,
    /// Bitrate of the last video segment appended.
    pub bitrate_kbps: Option<f64>,
    /// Seconds buffered ahead.
    pub buffer_s: f64,
    /// Pathway requests went to.
    pub pathway: String,
}

const W: f64 = 900.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const COLOURS: [&str; 4] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"];

/// Three stacked panels sharing the time axis: video bitrate (step), buffer level
/// (line) and the pathway in use (coloured bands, one colour per pathway in `names`).
pub fn report_svg(samples: &[Sample], names: &[String]) -> String {
    let t_max = samples.iter().map(|s| s.time_s).fold(1.0, f64::max);
    let x = |t: f64| LEFT + (W - LEFT - RIGHT) * t / t_max;
    let b_max = samples.iter().filter_map(|s| s.bitrate_kbps).fold(1.0, f64::max) * 1.1;
    let buf_max = samples.iter().map(|s| s.buffer_s).fold(1.0, f64::max) * 1.1;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"560\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    // Panel frames: (top, height, title, axis maximum, unit).
    let panels = [
        (20.0, 200.0, "video bitrate", b_max, "kbit/s"),
        (260.0, 160.0, "buffer", buf_max, "s"),
        (460.0, 50.0, "pathway", 0.0, ""),
    ];
    for (top, h, title, max, unit) in panels {
        let _ = writeln!(
            svg,
            "<rect x=\"{LEFT}\" y=\"{top}\" width=\"{}\" height=\"{h}\" fill=\"none\" stroke=\"#999\"/>\
             <text x=\"{LEFT}\" y=\"{}\">{title}</text>",
            W - LEFT - RIGHT,
            top - 5.0
        );
        if max > 0.0 {
            let _ = writeln!(
                svg,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{max:.0} {unit}</text>\
                 <text x=\"{}\" y=\"{}\" text-anchor=\"end\">0</text>",
                LEFT - 5.0,
                top + 10.0,
                LEFT - 5.0,
                top + h
            );
        }
    }
    // Bitrate as a step line.
    let mut path = String::new();
    let mut last: Option<f64> = None;
    for s in samples {
        let Some(b) = s.bitrate_kbps else { continue };
        let y = 220.0 - 200.0 * b / b_max;
        match last {
            None => {
                let _ = write!(path, "M{:.1},{y:.1}", x(s.time_s));
            }
            Some(prev) => {
                let _ = write!(path, " L{:.1},{prev:.1} L{:.1},{y:.1}", x(s.time_s), x(s.time_s));
            }
        }
        last = Some(y);
    }
    let _ = writeln!(
        svg,
        "<path d=\"{path}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>",
        COLOURS[0]
    );
    // Buffer as a line.
    let points: Vec<String> = samples
        .iter()
        .map(|s| format!("{:.1},{:.1}", x(s.time_s), 420.0 - 160.0 * s.buffer_s / buf_max))
        .collect();
    let _ = writeln!(
        svg,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>",
        points.join(" "),
        COLOURS[2]
    );
    // Pathway bands.
    for w in samples.windows(2) {
        let i = names.iter().position(|n| *n == w[0].pathway).unwrap_or(names.len());
        let colour = COLOURS.get(i % COLOURS.len()).copied().unwrap_or("#777");
        let _ = writeln!(
            svg,
            "<rect x=\"{:.1}\" y=\"460\" width=\"{:.1}\" height=\"50\" fill=\"{colour}\"/>",
            x(w[0].time_s),
            (x(w[1].time_s) - x(w[0].time_s)).max(0.5)
        );
    }
    for (i, n) in names.iter().enumerate() {
        let _ = writeln!(
            svg,
            "<rect x=\"{}\" y=\"525\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"536\">{}</text>",
            LEFT + 160.0 * i as f64,
            COLOURS[i % COLOURS.len()],
            LEFT + 160.0 * i as f64 + 16.0,
            escape(n)
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"552\" text-anchor=\"end\">time (s), 0 to {t_max:.0}</text>\n</svg>",
        W - RIGHT
    );
    svg
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_follow_the_pathway_in_use() {
        let samples: Vec<Sample> = (0..10)
            .map(|i| Sample {
                time_s: i as f64,
                bitrate_kbps: Some(if i < 5 { 400.0 } else { 1800.0 }),
                buffer_s: i as f64,
                pathway: if i < 3 { "openconnect".into() } else { "cloudfront".into() },
            })
            .collect();
        let names = vec!["openconnect".to_string(), "cloudfront".to_string()];
        let svg = report_svg(&samples, &names);
        // Three bands of the first colour (intervals starting at 0, 1, 2), six of the second.
        assert_eq!(svg.matches(&format!("height=\"50\" fill=\"{}\"", COLOURS[0])).count(), 3);
        assert_eq!(svg.matches(&format!("height=\"50\" fill=\"{}\"", COLOURS[1])).count(), 6);
        assert!(svg.contains("1980 kbit/s"), "axis maximum is 1.1 × the top bitrate");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    }
}
