//! The `streamsteer` command: the demo, simulate ABR rules on recorded networks, serve a
//! two-CDN test origin, inspect manifests.

mod demo;
mod demo_report;
mod inspect;
mod play;
mod serve;
mod simulate;
mod status;
#[cfg(feature = "window")]
mod window;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// streamsteer: an adaptive-streaming engine, its simulator and tools.
#[derive(Debug, Parser)]
#[command(name = "streamsteer", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Play the default ladder from a two-CDN origin on loopback (real traces, an
    /// outage of the preferred CDN mid-session) and report QoE.
    Demo(demo::Args),
    /// Run ABR rules against recorded network traces on a virtual clock.
    ///
    /// With no arguments, plays the built-in Pensieve ladder over the built-in 80
    /// HSDPA traces with every rule and prints the comparison table.
    Simulate(simulate::Args),
    /// Parse one HLS or DASH manifest and describe the presentation.
    Inspect {
        /// Manifest path.
        target: String,
        /// Print the presentation as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Serve a CMAF ladder as two CDN pathways plus a steering server on loopback.
    Serve(serve::Args),
    /// Play an HLS or DASH stream with real decoding and rendering (wgpu, offscreen),
    /// optionally dumping frames as PNGs, and report QoE with playback figures.
    Play(play::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Play(args) => play::run(args),
        Command::Inspect { target, json } => {
            inspect::run(&target, json).map(|text| print!("{text}")).map_err(|e| e.to_string())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
