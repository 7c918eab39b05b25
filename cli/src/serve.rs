//! `streamsteer serve`: the two-CDN test origin on loopback until Ctrl-C.

use std::path::PathBuf;
use streamsteer_origin::content::{ContentSpec, default_content_dir, ensure_content};
use streamsteer_origin::{Origin, OriginConfig, SteeringProtocol, TraceSource};

/// Arguments of `streamsteer serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Content folder holding a `content.json` (a CMAF ladder). Default: the default
    /// ladder, made with ffmpeg on first use and reused after (see
    /// `streamsteer_origin::content::default_content_dir`).
    #[arg(long, value_name = "DIR")]
    pub content: Option<PathBuf>,
    /// Origin configuration (JSON, `streamsteer_origin::OriginConfig`; `{}` = defaults).
    #[arg(long, value_name = "FILE.json")]
    pub config: Option<PathBuf>,
    /// Shape a pathway with a trace file (Pensieve cooked, Mahimahi or Sabre JSON).
    /// Repeatable.
    #[arg(long = "trace", value_name = "PATHWAY=FILE")]
    pub traces: Vec<String>,
    /// Listen on consecutive ports from N: the pathways in order, then steering.
    #[arg(long, value_name = "N")]
    pub port_base: Option<u16>,
    /// Append every request to this file as JSON lines.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Serve this folder's files under `/web/` on the steering listener, beside the
    /// runtime controls (`/control/`): `--web web` serves the browser package and its
    /// demo page (`/web/demo/`; build it first with `npm ci && npm run build` in `web/`).
    #[arg(long, value_name = "DIR")]
    pub web: Option<PathBuf>,
}

/// Splits `PATHWAY=FILE`.
fn parse_trace_arg(arg: &str) -> Result<(String, PathBuf), String> {
    match arg.split_once('=') {
        Some((p, f)) if !p.is_empty() && !f.is_empty() => Ok((p.to_string(), PathBuf::from(f))),
        _ => Err(format!("--trace {arg:?}: expected PATHWAY=FILE")),
    }
}

/// The configuration the arguments describe.
fn build_config(args: &Args) -> Result<OriginConfig, String> {
    let mut config = match &args.config {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => OriginConfig::default(),
    };
    for arg in &args.traces {
        let (pathway, file) = parse_trace_arg(arg)?;
        let p = config
            .pathway_mut(&pathway)
            .ok_or_else(|| format!("--trace {arg:?}: no pathway called {pathway:?}"))?;
        p.trace = Some(TraceSource::File(file));
    }
    if let Some(base) = args.port_base {
        let n = config.pathways.len();
        let port = |i: usize| {
            u16::try_from(usize::from(base) + i)
                .map_err(|_| format!("--port-base {base}: {n} pathways + steering overflow"))
        };
        for (i, p) in config.pathways.iter_mut().enumerate() {
            p.port = port(i)?;
        }
        config.steering.port = port(n)?;
    }
    if let Some(log) = &args.log {
        config.log.file = Some(log.clone());
    }
    if let Some(web) = &args.web {
        config.web_root = Some(web.clone());
    }
    Ok(config)
}

/// Runs the origin until Ctrl-C.
pub fn run(args: Args) -> Result<(), String> {
    let config = build_config(&args)?;
    let content = match &args.content {
        Some(dir) => dir.clone(),
        None => {
            let dir = default_content_dir();
            ensure_content(&dir, &ContentSpec::default(), &mut |m| eprintln!("{m}"))
                .map_err(|e| e.to_string())?;
            dir
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        let origin = Origin::start(content, config).await.map_err(|e| e.to_string())?;
        println!("HLS (VOD)   {}", origin.hls_url());
        println!("DASH (VOD)  {}", origin.dash_url());
        // On-demand profile: SegmentBase + sidx over one file per rendition.
        println!("DASH (sidx) {}", origin.dash_on_demand_url());
        // The content twice: two periods; HLS with EXT-X-DISCONTINUITY.
        println!("DASH (two periods) {}", origin.dash_periods_url());
        println!("HLS (discontinuity) {}", origin.hls_discontinuity_url());
        println!("HLS (live)  {}", origin.live_hls_url());
        println!("DASH (live) {}", origin.live_dash_url());
        println!(
            "DASH (live, SegmentTemplate@duration + UTCTiming) {}",
            origin.live_dash_template_url()
        );
        for name in origin.pathway_names() {
            println!("pathway     {name:<12} {}", origin.pathway_url(&name).unwrap_or_default());
        }
        println!("steering    {}", origin.steering_manifest_url(SteeringProtocol::Hls));
        println!("            {}", origin.steering_manifest_url(SteeringProtocol::Dash));
        println!("controls    {}state", origin.control_url());
        if args.web.is_some() {
            println!("demo        {}demo/", origin.web_url());
        }
        println!("Ctrl-C to stop.");
        tokio::signal::ctrl_c().await.map_err(|e| format!("waiting for Ctrl-C: {e}"))?;
        origin.shutdown().await;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(traces: &[&str], port_base: Option<u16>) -> Args {
        Args {
            content: None,
            config: None,
            traces: traces.iter().map(|s| s.to_string()).collect(),
            port_base,
            log: Some(PathBuf::from("r.jsonl")),
            web: Some(PathBuf::from("web")),
        }
    }

    #[test]
    fn traces_ports_and_log_apply_to_the_default_pathways() {
        let c = build_config(&args(&["cloudfront=t/a.cooked"], Some(9000))).unwrap();
        assert_eq!(c.pathways[1].trace, Some(TraceSource::File("t/a.cooked".into())));
        assert_eq!(c.pathways[0].trace, None);
        assert_eq!(c.web_root, Some(PathBuf::from("web")));
        assert_eq!((c.pathways[0].port, c.pathways[1].port, c.steering.port), (9000, 9001, 9002));
        assert_eq!(c.log.file, Some(PathBuf::from("r.jsonl")));
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(build_config(&args(&["nowhere=a"], None)).is_err());
        assert!(build_config(&args(&["cloudfront"], None)).is_err());
        assert!(build_config(&args(&[], Some(65535))).is_err());
    }
}
