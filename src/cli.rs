//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

/// `warroom --version`: the crate version and the git revision it was built from (`unknown
/// revision` when built outside its git repository; see `build.rs`).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("WARROOM_GIT_REVISION"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "warroom",
    version = VERSION,
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
    /// Refuse every step that changes the world (commands and actions); checklists, waits and
    /// notes still work.
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Journal file for the incident (default: a new file in
    /// $XDG_STATE_HOME/warroom/incidents/). An existing file is never overwritten.
    #[arg(long, global = true, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Who is at the keyboard, for the journal (default: $USER).
    #[arg(long, global = true, value_name = "NAME")]
    pub operator: Option<String>,
    /// Continue an unfinished incident or drill from its journal: completed steps, ticks,
    /// skips and the clocks come back exactly as recorded.
    #[arg(long, value_name = "JOURNAL")]
    pub resume: Option<PathBuf>,
    /// Share the incident in a war room: mirror its journal to this S3-compatible store
    /// (`s3://BUCKET/PREFIX`) and take signed requests from those who joined. Default: the
    /// environment file's `[share] url`.
    #[arg(long, global = true, value_name = "S3_URL")]
    pub share: Option<String>,
    /// Your SSH private key (ed25519, not passphrase-protected; its public half in the war
    /// room's roster): signs a shared incident's armings (the driver) and requests.
    #[arg(long, global = true, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Directory of scenario playbooks (the shipped ones are built in as a fallback).
    #[arg(long, global = true, value_name = "DIR", default_value = "playbooks")]
    pub playbooks: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the current replica lag, backups and regions once and exit (for scripts and cron).
    Status {
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// List what a database can be restored to: every backup of its series (time, kind, size,
    /// last verified, tainted after --onset) and the point-in-time window its WAL archive covers,
    /// with any gap (PostgreSQL); an RDS instance's snapshots and restorable window; the
    /// simulator's series and window. With --at, check one point: exit 1 with the reason when it
    /// cannot be reached.
    RestorePoints {
        /// Logical database (default: the first one a backup series names).
        #[arg(long)]
        db: Option<String>,
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
        /// The corruption onset (RFC 3339, e.g. 2026-11-26T10:21:00Z): backups taken at or
        /// after it are marked tainted.
        #[arg(long, value_parser = parse_time)]
        onset: Option<chrono::DateTime<chrono::Utc>>,
        /// Check a restore to this time (RFC 3339): the base backup it would start from, or why
        /// it is refused (a gap in the WAL archive, no base backup before it, ...).
        #[arg(long, value_parser = parse_time)]
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Validate playbooks against the environment (default: the playbook directory). Exit 0
    /// when all are valid, 1 otherwise; problems on stderr with file:line:col.
    Check {
        /// Playbook files or directories.
        paths: Vec<PathBuf>,
    },
    /// Print a playbook as a readable runbook (for the wall, and for when terminals fail).
    Show {
        /// Playbook id (e.g. region-loss) or path.
        id: String,
        /// Markdown instead of plain text.
        #[arg(long)]
        markdown: bool,
    },
    /// Run a scenario drill on the simulator, in real time: the scenario's fault arrives after a
    /// healthy baseline, 2-10 simulated minutes in as the seed picks (or --at); declare the
    /// incident when you see it, then work the playbook (P pauses, > fast-forwards a wait).
    Drill {
        /// az-loss, region-loss, corruption or breach (or a playbook id whose scenario is one).
        scenario: String,
        /// When the fault arrives, in simulated time after the start (e.g. 0s, 90s, 3m).
        #[arg(long, value_name = "DELAY")]
        at: Option<String>,
    },
    /// A local PostgreSQL primary + standby to drill against (up, status, load, fault, down).
    Lab(crate::lab::LabArgs),
    /// Print the postmortem of an incident or drill from its journal: RTO and RPO against the
    /// objectives, the drill criteria, every step, decisions and evidence, the timeline.
    Report {
        /// The journal (`*.jsonl`, in $XDG_STATE_HOME/warroom/incidents by default).
        path: PathBuf,
        /// `markdown` for people (with a mermaid gantt chart), `json` for tools.
        #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
        format: ReportFormat,
    },
    /// Mirror a running incident read-only from its journal (for the others in the war room):
    /// the playbook view and the timeline, updated within a second; no key changes anything.
    Follow {
        /// The journal the incident writes.
        path: PathBuf,
    },
    /// Join a shared war room: with `s3://BUCKET/PREFIX`, list its incidents; with
    /// `s3://BUCKET/PREFIX/INCIDENT`, open the incident's playbook view and timeline, live and
    /// read-only (the same playbooks directory and environment as the driver's).
    Join {
        /// `s3://BUCKET/PREFIX` or `s3://BUCKET/PREFIX/INCIDENT`.
        url: String,
        /// observer, scribe or approver (shown in the bar). A scribe's `n`/`m` and an
        /// approver's `A` send signed requests: give `--key` and, as `--operator`, your
        /// principal in the roster.
        #[arg(long, default_value = "observer", value_parser = parse_role)]
        role: crate::share::request::Role,
        /// Take command of the incident: when its driver handed over (H) or its lease expired
        /// (the driver's console died). The incident is rebuilt from the shared log into a
        /// journal here and continues; refused while a driver holds the lease.
        #[arg(long)]
        take_command: bool,
    },
    /// Send a signed request to a shared incident's driver (a note or a milestone), then wait
    /// for the driver's verdict: exit 0 taken into the journal, 1 refused (the reason is
    /// printed), 3 no verdict in time (the request stays in the store).
    Request {
        /// `s3://BUCKET/PREFIX/INCIDENT`.
        url: String,
        /// Your principal in the roster (`alice@example.com`).
        #[arg(long, value_name = "NAME")]
        principal: String,
        /// The role you act in (scribe for notes and milestones).
        #[arg(long, value_parser = parse_role)]
        role: crate::share::request::Role,
        /// How long to wait for the driver's verdict.
        #[arg(long, default_value = "15s", value_name = "DURATION")]
        wait: String,
        /// Sign as having seen this journal sequence (default: the shared log's last).
        #[arg(long, hide = true)]
        sequence: Option<u64>,
        #[command(subcommand)]
        ask: RequestAsk,
    },
    /// Check that a journal is as warroom wrote it: every line's SHA-256 and its link to the
    /// line before. Exit 0 intact, 1 altered (the first altered line is named), 2 unreadable or
    /// not a journal, 3 a version-1 journal (no hash chain to check).
    Verify {
        /// The journal (`*.jsonl`).
        path: PathBuf,
    },
    /// List the journals in a directory with their results, then per scenario the pass rate and
    /// the RTO trend.
    History {
        /// Directory of journals (default: $XDG_STATE_HOME/warroom/incidents).
        dir: Option<PathBuf>,
    },
    /// Print a completion script for a shell, e.g. `warroom completions bash >
    /// ~/.local/share/bash-completion/completions/warroom`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `warroom man > ~/.local/share/man/man1/warroom.1`;
    /// with a subcommand, that subcommand's page (`warroom man status > warroom-status.1`).
    Man {
        /// A subcommand (status, drill, report, ...).
        subcommand: Option<String>,
    },
}

/// What `warroom request` asks.
#[derive(Debug, Subcommand)]
pub enum RequestAsk {
    /// A note for the journal.
    Note { text: String },
    /// A milestone reached (`customer comms sent`).
    Milestone { text: String },
    /// Approve the step waiting for approval: shows its command, resource and evidence, then
    /// asks you to type the resource's name (or give it with --resource).
    Approve {
        /// The resource's name, typed (default: asked on the terminal).
        #[arg(long, value_name = "NAME")]
        resource: Option<String>,
    },
}

fn parse_role(s: &str) -> Result<crate::share::request::Role, String> {
    s.parse()
}

/// The completion script for `shell`, generated from the argument definitions.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "warroom", &mut out);
    out
}

/// The manual page (roff), generated from the argument definitions: `warroom(1)` with its
/// options and the list of subcommands, or with `subcommand` that subcommand's own page
/// (`warroom-status(1)`, as the list refers to it). An unknown subcommand is `None`.
pub fn man_page(subcommand: Option<&str>) -> Option<std::io::Result<Vec<u8>>> {
    let command = Cli::command();
    let (command, title) = match subcommand {
        None => (command, "warroom".to_string()),
        Some(name) => {
            let sub = command.find_subcommand(name)?.clone();
            let name = sub.get_name().to_string();
            (
                sub.bin_name(format!("warroom {name}")),
                format!("warroom-{name}"),
            )
        }
    };
    let mut out = Vec::new();
    Some(
        clap_mangen::Man::new(command)
            .title(title)
            .source(format!("warroom {VERSION}"))
            .render(&mut out)
            .map(|()| out),
    )
}

/// The names of the subcommands, for messages.
pub fn subcommand_names() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect()
}
/// Output format of `warroom report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Markdown,
    Json,
}

/// An RFC 3339 time (`2026-11-26T10:21:00Z`, `2026-11-26T11:21:00+01:00`).
pub fn parse_time(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| {
            format!(
                "{}: not an RFC 3339 time ({e}); write e.g. 2026-11-26T10:21:00Z",
                crate::text::echo(s)
            )
        })
}

fn parse_speed(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("not a number: {s:?}"))?;
    use crate::journal::format::{MAX_SPEED, MIN_SPEED};
    if !(MIN_SPEED..=MAX_SPEED).contains(&v) {
        return Err(format!(
            "speed must be between {MIN_SPEED} and {MAX_SPEED}, got {v}"
        ));
    }
    Ok(v)
}
