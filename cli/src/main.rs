//! `mixerlead`: list models, stream a chat reply to stdout, manage the knowledge base, run skills
//! and agents, list artifacts, or run the local emulator.

mod chat;
mod knowledge;
mod output;
mod term;
mod workspace;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use mixerlead::runtime::block_on;
use mixerlead::Client;
use mixerlead_emulator::{EmulatorConfig, Format};

use crate::term::printable;

const ENVIRONMENT: &str = "\
Environment:
  MIXERLEAD_API_KEY      the API key (every command but emulator needs it)
  MIXERLEAD_BASE_URL     the service (default https://ai.mixerlead.com/api)
  MIXERLEAD_PROJECT_ID   sent as X-Project-Id: the project whose knowledge, agents and
                         artifacts the commands use
  MIXERLEAD_MAX_RETRIES  retries after a failed attempt (default 2)
  MIXERLEAD_RATE_LIMIT_REDIS  a Redis server sharing the rate limit across processes
  MIXERLEAD_LOG=debug    attempts, retries and waits on stderr";

/// MixerLead's Workspace API from the command line: models, chat, the knowledge base, skills,
/// agents and artifacts, and the local emulator.
#[derive(Parser)]
#[command(name = "mixerlead", version = mixerlead::VERSION, after_help = ENVIRONMENT)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Pace this command's requests to N a minute (0: no shared 429 gate, no pacing)
    #[arg(long, value_name = "N", global = true)]
    rate_limit: Option<f64>,
    /// At most N requests in flight at once
    #[arg(long, value_name = "N", global = true)]
    max_concurrency: Option<i64>,
    /// A Redis server (redis://…) sharing the rate limit with other processes
    /// (else MIXERLEAD_RATE_LIMIT_REDIS)
    #[arg(long, value_name = "URL", global = true)]
    rate_limit_redis: Option<String>,
    /// Append every exchange to this cassette (JSON lines), for `mixerlead emulator --cassette`
    /// to replay (else MIXERLEAD_RECORD)
    #[arg(long, value_name = "FILE", global = true)]
    record: Option<String>,
}

/// The `--record` flag, set once from the command line.
static RECORD: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

/// The traffic-control flags, set once from the command line.
static TRAFFIC: std::sync::OnceLock<(Option<f64>, Option<i64>, Option<String>)> = std::sync::OnceLock::new();

/// The client of every command: the environment, and the traffic-control flags.
pub fn client() -> Result<Client, mixerlead::Error> {
    let mut builder = Client::builder();
    if let Some((rate, concurrency, redis)) = TRAFFIC.get() {
        if let Some(rate) = rate {
            builder = builder.rate_limit(*rate);
        }
        if let Some(n) = concurrency {
            builder = builder.max_concurrency(*n);
        }
        if let Some(url) = redis {
            builder = builder.rate_limit_redis(url.clone());
        }
    }
    if let Some(Some(path)) = RECORD.get() {
        builder = builder.record(path.clone());
    }
    builder.build()
}

#[derive(Subcommand)]
enum Command {
    /// List the models of the service
    Models(ModelsArgs),
    /// Send a message and stream the reply to stdout (the conversation id goes to stderr)
    #[command(after_help = chat::AFTER_HELP)]
    Chat(chat::ChatArgs),
    /// The knowledge base chat is grounded on: add sources, list them, wait until indexed, …
    #[command(after_help = knowledge::AFTER_HELP)]
    Knowledge(knowledge::KnowledgeArgs),
    /// Skills: list them, run one with variables
    Skills(workspace::SkillsArgs),
    /// Agents of the project: list, create, run
    Agents(workspace::AgentsArgs),
    /// Artifacts saved for reuse: list
    Artifacts(workspace::ArtifactsArgs),
    /// Run the local emulator of the service (offline development, tests, the demo)
    Emulator(EmulatorArgs),
}

#[derive(Args)]
struct ModelsArgs {
    /// Print {"models": [{id, name, task, requiresPaid}, …]} instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct EmulatorArgs {
    /// Port on 127.0.0.1 (0: any free port)
    #[arg(long, value_name = "P", default_value_t = 0)]
    port: u16,
    /// Wire format of chat replies
    #[arg(long, value_name = "FORMAT", default_value = "sse", value_parser = format_parser())]
    format: Format,
    /// Delay between the pieces of a reply, in milliseconds
    #[arg(long, value_name = "N", default_value_t = 0)]
    token_delay_ms: u64,
    /// Requests a second allowed per key, then 429 with Retry-After (default: no limit)
    #[arg(long, value_name = "N")]
    rate_limit: Option<u32>,
    /// How long a knowledge source stays `indexing`, in milliseconds
    #[arg(long, value_name = "N", default_value_t = default_index_delay_ms())]
    index_delay_ms: u64,
    /// The largest upload taken, in bytes; larger ones get 413 (over the storage quota)
    #[arg(long, value_name = "N", default_value_t = EmulatorConfig::default().max_upload)]
    max_upload_bytes: usize,
    /// Agent runs a workspace may make, then 403 (the daily quota)
    #[arg(long, value_name = "N", default_value_t = EmulatorConfig::default().agent_runs_per_day)]
    agent_runs_per_day: u32,
    /// Serve https (HTTP/2 or HTTP/1.1) with a certificate for 127.0.0.1 made at start
    #[arg(long)]
    tls: bool,
    /// With --tls: write that certificate (PEM) here, for clients to trust (e.g. as ca_file)
    #[arg(long, value_name = "PATH", requires = "tls")]
    tls_ca_out: Option<std::path::PathBuf>,
    /// With --tls: offer HTTP/1.1 only
    #[arg(long, requires = "tls")]
    http1_only: bool,
    /// Replay this cassette (recorded with --record or a client's record option) instead of
    /// the emulated service
    #[arg(long, value_name = "FILE")]
    cassette: Option<std::path::PathBuf>,
    /// With --cassette: recorded times are divided by X (0: every chunk at once)
    #[arg(long, value_name = "X", default_value_t = 1.0, requires = "cassette")]
    speed: f64,
}

fn default_index_delay_ms() -> u64 {
    EmulatorConfig::default().index_delay.as_millis().try_into().unwrap_or(u64::MAX)
}

fn format_parser() -> impl TypedValueParser<Value = Format> {
    PossibleValuesParser::new(["sse", "ndjson", "jsonl", "json", "text", "none"])
        .map(|name| Format::parse(&name).unwrap_or_default())
}

/// A failure: what to print on stderr (one line) and the exit code.
pub struct Failure {
    message: String,
    code: u8,
    /// Begin the line with a newline: the reply printed before it did not end its line.
    newline_first: bool,
}

impl Failure {
    pub fn new(message: impl Into<String>, code: u8) -> Failure {
        Failure { message: message.into(), code, newline_first: false }
    }

    /// Prints the failure as `mixerlead: <message>`, on one line, control characters escaped.
    pub fn report(&self) {
        let newline = if self.newline_first { "\n" } else { "" };
        eprintln!("{newline}mixerlead: {}", printable(&self.message));
    }
}

impl From<mixerlead::Error> for Failure {
    fn from(e: mixerlead::Error) -> Self {
        Failure::new(e.to_string(), 1)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse(); // usage errors: exit 2; --help, --version: exit 0
    let _ = TRAFFIC.set((cli.rate_limit, cli.max_concurrency, cli.rate_limit_redis));
    let _ = RECORD.set(cli.record);
    let result = match cli.command {
        Command::Models(args) => models(args),
        Command::Chat(args) => chat::run(args),
        Command::Knowledge(args) => knowledge::run(args),
        Command::Skills(args) => workspace::skills(args),
        Command::Agents(args) => workspace::agents(args),
        Command::Artifacts(args) => workspace::artifacts(args),
        Command::Emulator(args) => emulator(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            failure.report();
            ExitCode::from(failure.code)
        }
    }
}

/// A usage error found after parsing: printed the way clap prints its own, exit code 2.
pub fn usage_error(subcommand: &str, message: &str) -> ! {
    use clap::CommandFactory;
    let mut command = Cli::command();
    command.build();
    let command = command.find_subcommand_mut(subcommand).expect("a subcommand of mixerlead");
    command.error(clap::error::ErrorKind::MissingRequiredArgument, message).exit()
}

fn models(args: ModelsArgs) -> Result<(), Failure> {
    let client = crate::client()?;
    let models = block_on(client.list_models())?;
    let mut out = std::io::stdout().lock();
    let written = if args.json {
        let list: Vec<_> = models
            .iter()
            .map(|m| serde_json::json!({"id": m.id, "name": m.name, "task": m.task, "requiresPaid": m.requires_paid}))
            .collect();
        writeln!(out, "{}", serde_json::json!({ "models": list }))
    } else {
        models.iter().try_for_each(|m| {
            let paid = if m.requires_paid { "  (paid)" } else { "" };
            let (id, name, task) = (printable(&m.id), printable(&m.name), printable(&m.task));
            writeln!(out, "{id:<12} {name:<10} {task}{paid}")
        })
    };
    written.map_err(|e| Failure::new(format!("writing to stdout: {e}"), 1))
}

fn emulator(args: EmulatorArgs) -> Result<(), Failure> {
    #[allow(clippy::needless_update)] // options the emulator may grow keep their defaults
    let config = EmulatorConfig {
        port: args.port,
        format: args.format,
        token_delay: Duration::from_millis(args.token_delay_ms),
        rate_limit: args.rate_limit,
        index_delay: Duration::from_millis(args.index_delay_ms),
        max_upload: args.max_upload_bytes,
        agent_runs_per_day: args.agent_runs_per_day,
        tls: args.tls,
        tls_ca_out: args.tls_ca_out,
        http1_only: args.http1_only,
        cassette: args.cassette,
        speed: args.speed,
        ..EmulatorConfig::default()
    };
    let scheme = if config.tls { "https" } else { "http" };
    block_on(mixerlead_emulator::run(config, |addr| {
        println!("mixerlead emulator listening on {scheme}://{addr}/api");
        let _ = std::io::stdout().flush();
    }))
    .map_err(|e| Failure::new(format!("emulator: {e}"), 1))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
