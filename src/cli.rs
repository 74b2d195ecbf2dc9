//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "warroom",
    version,
    about = "A terminal console for database disaster recovery",
    long_about = "A terminal console for database disaster recovery: live replica lag, backup \
                  freshness and regional health; timed scenario playbooks that never run anything \
                  unconfirmed. With no arguments it runs on the built-in simulator."
)]
pub struct Cli {
    #[command(flatten)]
    pub console: ConsoleArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options of the interactive console (and of the commands that read an environment).
#[derive(Debug, Args, Clone)]
pub struct ConsoleArgs {
    /// Environment file mapping logical names to real resources (default: the built-in
    /// simulated `demo` environment).
    #[arg(long, global = true, value_name = "FILE")]
    pub env: Option<PathBuf>,
    /// Theme: a built-in name (default, high-contrast, light) or a path to a .toml file.
    /// NO_COLOR is respected.
    #[arg(
        long,
        global = true,
        value_name = "NAME|PATH",
        default_value = "default"
    )]
    pub theme: String,
    /// Seed of the simulator's randomness: the same seed gives the same day.
    #[arg(long, global = true, default_value_t = 1)]
    pub seed: u64,
    /// Simulated seconds per wall-clock second (60 = one simulated minute per second).
    #[arg(long, global = true, default_value_t = 1.0, value_parser = parse_speed)]
    pub speed: f64,
    /// Inject a simulator fault after a delay of simulated time, e.g. `region-loss@30s`
    /// (az-loss, region-loss, corruption, breach). Repeatable.
    #[arg(long, value_name = "SCENARIO@DELAY")]
    pub fault: Vec<String>,
    /// Send every AWS call to this URL (an emulator such as moto, or a VPC endpoint).
    /// Default: $AWS_ENDPOINT_URL, else the environment file's `[aws] endpoint_url`.
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Log file (default: $XDG_STATE_HOME/warroom/warroom.log). Nothing is ever logged to the
    /// terminal the console owns.
    #[arg(long, global = true, value_name = "FILE")]
    pub log: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the current replica lag, backups and regions once and exit (for scripts and cron).
    Status {
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
}

fn parse_speed(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("not a number: {s:?}"))?;
    if !(0.01..=100_000.0).contains(&v) {
        return Err(format!("speed must be between 0.01 and 100000, got {v}"));
    }
    Ok(v)
}
