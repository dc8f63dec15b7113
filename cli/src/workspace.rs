//! `mixerlead skills`, `mixerlead agents` and `mixerlead artifacts`.

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Subcommand};
use mixerlead::runtime::block_on;
use mixerlead::{AgentType, Record};
use serde_json::{Map, Value};

use crate::output::{list_json, or_empty, print_json, print_line, Table};
use crate::term::printable;
use crate::Failure;

#[derive(Args)]
struct JsonArg {
    /// Print the service's JSON instead of text
    #[arg(long)]
    json: bool,
}

// ---- skills ----

#[derive(Args)]
pub struct SkillsArgs {
    #[command(subcommand)]
    command: SkillsCommand,
}

#[derive(Subcommand)]
enum SkillsCommand {
    /// List the skills: id, name, category, description
    List(JsonArg),
    /// Run a skill with variables and print its Markdown output
    #[command(after_help = RUN_SKILL_HELP)]
    Run(RunSkillArgs),
}

const RUN_SKILL_HELP: &str = "\
Each --var VALUE is sent as JSON when it parses as JSON (42, true, [1,2], {\"a\":1}, \"quoted\"),
else as the text it is: --var topic=pricing --var count=3 sends {\"topic\": \"pricing\", \"count\": 3}.
stdout is the skill's output (with --json: the service's response, {\"output\": …}).";

#[derive(Args)]
struct RunSkillArgs {
    /// The skill's id (see `mixerlead skills list`)
    #[arg(value_name = "SKILL_ID")]
    skill_id: String,
    /// A variable of the skill (repeatable; a later KEY wins)
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = variable)]
    vars: Vec<(String, Value)>,
    #[command(flatten)]
    json: JsonArg,
}

/// `KEY=VALUE`: the value as JSON when it parses, else as a string.
fn variable(text: &str) -> Result<(String, Value), String> {
    let (key, value) = text.split_once('=').ok_or_else(|| format!("{text:?} is not KEY=VALUE"))?;
    if key.trim().is_empty() {
        return Err(format!("{text:?} has no KEY before the ="));
    }
    let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_string()));
    Ok((key.to_string(), value))
}

pub fn skills(args: SkillsArgs) -> Result<(), Failure> {
    let client = crate::client()?;
    let skills = client.skills();
    match args.command {
        SkillsCommand::List(args) => {
            let list = block_on(skills.list())?;
            if args.json {
                return print_json(&list_json("skills", list.iter().map(|s| &s.raw)));
            }
            let mut table = Table::new("skills", &["ID", "NAME", "CATEGORY", "DESCRIPTION"]);
            for skill in &list {
                table.row([Some(&skill.id), skill.name.as_ref(), skill.category.as_ref(), skill.description.as_ref()]);
            }
            table.print()
        }
        SkillsCommand::Run(args) => {
            let vars: Map<String, Value> = args.vars.into_iter().collect();
            let output = block_on(skills.run(&args.skill_id, vars))?;
            if args.json.json {
                print_json(&output.raw)
            } else {
                print_line(&output.output)
            }
        }
    }
}

// ---- agents ----

#[derive(Args)]
pub struct AgentsArgs {
    #[command(subcommand)]
    command: AgentsCommand,
}

#[derive(Subcommand)]
enum AgentsCommand {
    /// List the agents of the project (MIXERLEAD_PROJECT_ID): id, name, type
    List(JsonArg),
    /// Create an agent (prints its id)
    Create(CreateAgentArgs),
    /// Run an agent (costs credits; a daily quota applies) and print its output
    #[command(after_help = RUN_AGENT_HELP)]
    Run(RunAgentArgs),
}

const RUN_AGENT_HELP: &str = "\
stdout is the run's `output` field when it has one, else the service's whole response as JSON
(with --json: always the whole response). Over the daily quota the service answers 403.";

#[derive(Args)]
struct CreateAgentArgs {
    /// The agent's name
    #[arg(value_name = "NAME")]
    name: String,
    /// What the agent does
    #[arg(long = "type", value_name = "TYPE", value_parser = agent_type())]
    kind: AgentType,
    /// Its configuration, a JSON object (default: {})
    #[arg(long, value_name = "JSON", value_parser = json_object)]
    config: Option<Map<String, Value>>,
    #[command(flatten)]
    json: JsonArg,
}

#[derive(Args)]
struct RunAgentArgs {
    /// The agent's id (see `mixerlead agents list`)
    #[arg(value_name = "AGENT_ID")]
    agent_id: String,
    #[command(flatten)]
    json: JsonArg,
}

fn agent_type() -> impl TypedValueParser<Value = AgentType> {
    PossibleValuesParser::new(["research", "strategy", "execution", "monitoring"])
        .map(|name| name.parse().expect("one of the possible values"))
}

fn json_object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("the configuration must be a JSON object, {…}".to_string()),
        Err(e) => Err(format!("not JSON: {e}")),
    }
}

pub fn agents(args: AgentsArgs) -> Result<(), Failure> {
    let client = crate::client()?;
    let agents = client.agents();
    match args.command {
        AgentsCommand::List(args) => {
            let list = block_on(agents.list())?;
            print_records("agents", &list, args.json)
        }
        AgentsCommand::Create(args) => {
            let agent = block_on(agents.create(&args.name, args.kind, args.config))?;
            match &agent.id {
                Some(id) if !args.json.json => print_line(&printable(id)),
                _ => print_json(&or_empty(Some(&agent.raw))),
            }
        }
        AgentsCommand::Run(args) => {
            let result = block_on(agents.run(&args.agent_id))?;
            match result.get("output") {
                Some(Value::String(output)) if !args.json.json => print_line(output),
                Some(output) if !args.json.json && !output.is_null() => print_json(output),
                _ => print_json(&or_empty(Some(&result))),
            }
        }
    }
}

// ---- artifacts ----

#[derive(Args)]
pub struct ArtifactsArgs {
    #[command(subcommand)]
    command: ArtifactsCommand,
}

#[derive(Subcommand)]
enum ArtifactsCommand {
    /// List the saved artifacts: id, name, type
    List(JsonArg),
}

pub fn artifacts(args: ArtifactsArgs) -> Result<(), Failure> {
    let client = crate::client()?;
    match args.command {
        ArtifactsCommand::List(args) => {
            let list = block_on(client.artifacts().list())?;
            print_records("artifacts", &list, args.json)
        }
    }
}

/// Agents or artifacts: `{"<key>": [objects…]}`, or a table of id, name and type.
fn print_records(key: &'static str, records: &[Record], json: bool) -> Result<(), Failure> {
    if json {
        return print_json(&list_json(key, records.iter().map(|r| &r.raw)));
    }
    let mut table = Table::new(key, &["ID", "NAME", "TYPE"]);
    for record in records {
        table.row([record.id.as_ref(), record.name.as_ref(), record.kind.as_ref()]);
    }
    table.print()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn variables_are_json_when_they_parse() {
        assert_eq!(variable("n=42").unwrap(), ("n".into(), json!(42)));
        assert_eq!(variable("topic=pricing").unwrap(), ("topic".into(), json!("pricing")));
        assert_eq!(variable("list=[1, 2]").unwrap(), ("list".into(), json!([1, 2])));
        assert_eq!(variable("s=\"42\"").unwrap(), ("s".into(), json!("42")));
        assert_eq!(variable("empty=").unwrap(), ("empty".into(), json!("")));
        assert_eq!(variable("eq=a=b").unwrap(), ("eq".into(), json!("a=b")));
        assert!(variable("novalue").is_err());
        assert!(variable("=x").is_err());
    }

    #[test]
    fn configurations_are_objects() {
        assert_eq!(json_object(r#"{"depth": 2}"#).unwrap()["depth"], 2);
        assert!(json_object("[1]").is_err());
        assert!(json_object("{nope").is_err());
    }
}
