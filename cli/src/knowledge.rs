//! `mixerlead knowledge`: the sources chat is grounded on.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use mixerlead::runtime::block_on;
use mixerlead::{Indexing, NewSource, Source};

use crate::output::{list_json, or_empty, print_json, print_line, Table};
use crate::term::printable;
use crate::Failure;

pub const AFTER_HELP: &str = "\
A source starts `indexing`; once `indexed` (and enabled) chat replies are grounded on it.
`mixerlead knowledge wait ID` waits for that, and fails with the service's reason when indexing
fails. With --json every subcommand prints the service's response instead ({} when it sent none).";

#[derive(Args)]
pub struct KnowledgeArgs {
    #[command(subcommand)]
    command: KnowledgeCommand,
}

#[derive(Subcommand)]
enum KnowledgeCommand {
    /// Add a source: a web page, a text or a file (prints its id)
    #[command(after_help = ADD_HELP)]
    Add(AddArgs),
    /// Crawl a site from a seed URL (prints the crawl's id)
    Crawl(CrawlArgs),
    /// List the sources: id, status, whether enabled, chunks, origin, last error
    List(JsonArg),
    /// Let chat use a source
    Enable(IdArgs),
    /// Stop chat using a source (it stays in the knowledge base)
    Disable(IdArgs),
    /// Index a source again
    Reindex(IdArgs),
    /// Delete a source
    Delete(IdArgs),
    /// Wait until sources are indexed; fails with the reason when one fails to index
    #[command(after_help = WAIT_HELP)]
    Wait(WaitArgs),
}

const ADD_HELP: &str = "\
Give exactly one of --url, --text or --file. A file is streamed from disk as it is uploaded.
Prints the new source's id (with --json: the service's response, {\"id\", \"status\"}).";

const WAIT_HELP: &str = "\
Polls the list with backoff. Prints the sources once all are indexed (exit 0). Exits 1 with one
line on stderr when a source ends in `error` (the service's last_error), is not in the knowledge
base, or is still indexing at the timeout.";

#[derive(Args)]
struct JsonArg {
    /// Print the service's JSON instead of text
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct AddArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// A name for the source (what chat says it is grounded on)
    #[arg(long, value_name = "N")]
    name: Option<String>,
    #[command(flatten)]
    json: JsonArg,
}

/// Exactly one of the three.
#[derive(Args)]
#[group(required = true, multiple = false)]
struct SourceArgs {
    /// A web page for the service to fetch
    #[arg(long, value_name = "U")]
    url: Option<String>,
    /// Text to add as it is
    #[arg(long, value_name = "T")]
    text: Option<String>,
    /// A file to upload
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
}

#[derive(Args)]
struct CrawlArgs {
    /// Where the crawl starts
    #[arg(value_name = "SEED_URL")]
    seed_url: String,
    /// The most pages to fetch (default: the service's)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_pages: Option<u32>,
    #[command(flatten)]
    json: JsonArg,
}

#[derive(Args)]
struct IdArgs {
    /// The source's id (kb_…, see `mixerlead knowledge list`)
    #[arg(value_name = "ID")]
    id: String,
    #[command(flatten)]
    json: JsonArg,
}

#[derive(Args)]
struct WaitArgs {
    /// The sources to wait for
    #[arg(value_name = "ID", required = true)]
    ids: Vec<String>,
    /// Give up after this many seconds (fractions allowed)
    #[arg(long, value_name = "SECONDS", default_value = "300", value_parser = seconds)]
    timeout: Duration,
    #[command(flatten)]
    json: JsonArg,
}

/// The longest wait taken: about 31 years, far from where adding it to the clock overflows
/// (which panics rather than fails).
const MAX_WAIT_SECONDS: f64 = 1e9;

/// A number of seconds, whole or not, from 0 to [`MAX_WAIT_SECONDS`].
fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text.trim().parse().map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("{text:?} is not a number of seconds, 0 or more"));
    }
    if value > MAX_WAIT_SECONDS {
        return Err(format!("{text:?} seconds is too long (at most {MAX_WAIT_SECONDS} seconds)"));
    }
    Duration::try_from_secs_f64(value).map_err(|_| format!("{text:?} is not a number of seconds"))
}

pub fn run(args: KnowledgeArgs) -> Result<(), Failure> {
    let client = crate::client()?;
    let knowledge = client.knowledge();
    match args.command {
        KnowledgeCommand::Add(args) => {
            let SourceArgs { url, text, file } = args.source;
            let source = match (url, text, file) {
                (Some(url), _, _) => NewSource::Url(url),
                (_, Some(text), _) => NewSource::Text(text),
                (_, _, Some(path)) => NewSource::file(path),
                (None, None, None) => unreachable!("clap requires one of --url, --text, --file"),
            };
            let added = block_on(knowledge.add(source, args.name.as_deref()))?;
            print_indexing(&added, args.json.json)
        }
        KnowledgeCommand::Crawl(args) => {
            let crawl = block_on(knowledge.crawl(&args.seed_url, args.max_pages))?;
            print_indexing(&crawl, args.json.json)
        }
        KnowledgeCommand::List(args) => {
            let sources = block_on(knowledge.list())?;
            print_sources(&sources, args.json)
        }
        KnowledgeCommand::Enable(args) => {
            let source = block_on(knowledge.enable(&args.id))?;
            print_done(&args, source.as_ref().map(|s| &s.raw), "enabled")
        }
        KnowledgeCommand::Disable(args) => {
            let source = block_on(knowledge.disable(&args.id))?;
            print_done(&args, source.as_ref().map(|s| &s.raw), "disabled")
        }
        KnowledgeCommand::Reindex(args) => {
            let indexing = block_on(knowledge.reindex(&args.id))?;
            print_done(&args, Some(&indexing.raw), indexing.status.as_str())
        }
        KnowledgeCommand::Delete(args) => {
            block_on(knowledge.delete(&args.id))?;
            print_done(&args, None, "deleted")
        }
        KnowledgeCommand::Wait(args) => {
            let ids: Vec<&str> = args.ids.iter().map(String::as_str).collect();
            let sources = block_on(knowledge.wait_until_indexed(&ids, args.timeout))?;
            print_sources(&sources, args.json.json)
        }
    }
}

/// What add and crawl print: the id alone (for `$(…)`), or the service's response.
fn print_indexing(indexing: &Indexing, json: bool) -> Result<(), Failure> {
    if json {
        print_json(&or_empty(Some(&indexing.raw)))
    } else {
        print_line(&printable(&indexing.id))
    }
}

/// What enable, disable, reindex and delete print: `ID: what happened`, or the response.
fn print_done(args: &IdArgs, raw: Option<&serde_json::Value>, done: &str) -> Result<(), Failure> {
    if args.json.json {
        print_json(&or_empty(raw))
    } else {
        print_line(&format!("{}: {}", printable(&args.id), printable(done)))
    }
}

fn print_sources(sources: &[Source], json: bool) -> Result<(), Failure> {
    if json {
        return print_json(&list_json("sources", sources.iter().map(|s| &s.raw)));
    }
    let with_errors = sources.iter().any(|s| s.last_error.is_some());
    let mut header = vec!["ID", "STATUS", "ENABLED", "CHUNKS", "TYPE", "NAME", "SOURCE"];
    if with_errors {
        header.push("LAST ERROR");
    }
    let mut table = Table::new("knowledge sources", &header);
    for source in sources {
        let name = source.raw.get("name").and_then(serde_json::Value::as_str).map(str::to_string);
        let mut cells = vec![
            Some(source.id.clone()),
            Some(source.status.as_str().to_string()),
            Some(if source.enabled { "yes" } else { "no" }.to_string()),
            source.chunk_count.map(|n| n.to_string()),
            source.kind.clone(),
            name,
            source.source_url_or_path.clone(),
        ];
        if with_errors {
            cells.push(source.last_error.clone());
        }
        table.row(cells);
    }
    table.print()
}

#[cfg(test)]
mod tests {
    use super::seconds;
    use std::time::Duration;

    #[test]
    fn timeouts_in_seconds() {
        assert_eq!(seconds("300").unwrap(), Duration::from_secs(300));
        assert_eq!(seconds("0.25").unwrap(), Duration::from_millis(250));
        assert_eq!(seconds("0").unwrap(), Duration::ZERO);
        assert_eq!(seconds("1e9").unwrap(), Duration::from_secs(1_000_000_000));
        for bad in ["-1", "NaN", "inf", "1e300", "1e19", "1000000001", "soon", ""] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
    }
}
