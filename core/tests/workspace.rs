//! The rest of the Workspace API against the emulator: knowledge, skills, agents, artifacts,
//! retries by method, and bad input refused before anything is sent.

mod common;

use std::time::Duration;

use common::*;
use mixerlead::{AgentType, ChatRequest, Client, ErrorKind, Method, NewSource, SourceStatus};
use mixerlead_emulator::{Emulator, EmulatorConfig};
use serde_json::{json, Map, Value};

async fn workspace_emulator() -> Emulator {
    let config = EmulatorConfig {
        index_delay: Duration::from_millis(100),
        max_upload: 64 * 1024,
        agent_runs_per_day: 2,
        ..EmulatorConfig::default()
    };
    Emulator::start(config).await.unwrap()
}

/// A client in its own project, so tests running at once do not see each other's sources.
fn project_client(url: &str, project: &str) -> Client {
    builder(url).project_id(project).max_retry_wait_secs(0.0).build().unwrap()
}

fn map(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

#[tokio::test]
async fn add_wait_then_a_grounded_chat() {
    let emu = workspace_emulator().await;
    let client = project_client(&emu.base_url(), "p_ground");
    let knowledge = client.knowledge();
    let by_url =
        knowledge.add(NewSource::Url("https://docs.example/pricing".into()), Some("Pricing page")).await.unwrap();
    assert!(by_url.id.starts_with("kb_"));
    assert_eq!(by_url.status, SourceStatus::Indexing);
    let by_text =
        knowledge.add(NewSource::Text("Our refund policy is 30 days.".into()), Some("Refunds")).await.unwrap();
    let file = tempfile_path::TempPath::write("handbook.md", "# Handbook\nBe kind.\n");
    let by_file = knowledge.add(NewSource::file(file.path()), Some("Handbook")).await.unwrap();

    let ids = [by_url.id.as_str(), by_text.id.as_str(), by_file.id.as_str()];
    let sources = knowledge.wait_until_indexed(&ids, Duration::from_secs(10)).await.unwrap();
    assert_eq!(sources.len(), 3);
    assert!(sources.iter().all(|s| s.status == SourceStatus::Indexed && s.enabled));
    let listed = knowledge.list().await.unwrap();
    let file_source = listed.iter().find(|s| s.id == by_file.id).unwrap();
    assert_eq!(file_source.kind.as_deref(), Some("file"));
    assert_eq!(file_source.source_url_or_path.as_deref(), Some(file.path().file_name().unwrap().to_str().unwrap()));

    knowledge.disable(&by_text.id).await.unwrap();
    let reply = client.send(ChatRequest::new("What does it cost?")).await.unwrap();
    assert!(reply.text.contains("Grounded on: Pricing page, Handbook."), "{}", reply.text);
    knowledge.enable(&by_text.id).await.unwrap();
    knowledge.delete(&by_url.id).await.unwrap();
    let reindexed = knowledge.reindex(&by_file.id).await.unwrap();
    assert_eq!((reindexed.id.as_str(), reindexed.status.as_str()), (by_file.id.as_str(), "indexing"));
    let reply = client.send(ChatRequest::new("Refunds?")).await.unwrap();
    assert!(reply.text.contains("Grounded on: Refunds."), "{}", reply.text);
    let crawl = knowledge.crawl("https://docs.example/", Some(5)).await.unwrap();
    assert_eq!(crawl.max_pages, Some(5));
}

#[tokio::test]
async fn a_source_that_fails_to_index_is_an_indexing_error_with_its_last_error() {
    let emu = workspace_emulator().await;
    let client = project_client(&emu.base_url(), "p_fail");
    let knowledge = client.knowledge();
    let ok = knowledge.add(NewSource::Url("https://ok.example".into()), None).await.unwrap();
    let bad = knowledge.add(NewSource::Url("https://fail.example".into()), None).await.unwrap();
    let err = knowledge.wait_until_indexed(&[&ok.id, &bad.id], Duration::from_secs(10)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Indexing, "{err}");
    assert_eq!(err.source_id(), Some(bad.id.as_str()));
    assert!(err.last_error().unwrap().contains("fail.example"), "{err}");
    let slow_emu =
        Emulator::start(EmulatorConfig { index_delay: Duration::from_secs(30), ..EmulatorConfig::default() });
    let slow_emu = slow_emu.await.unwrap();
    let slow = project_client(&slow_emu.base_url(), "p_slow");
    let pending = slow.knowledge().add(NewSource::Text("later".into()), None).await.unwrap();
    let err = slow.knowledge().wait_until_indexed(&[&pending.id], Duration::from_millis(300)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.message().contains("after 0.3 s"), "{err}");
    // A timeout too large for the clock is no deadline, not a panic.
    let knowledge = slow.knowledge();
    let ids = [pending.id.as_str()];
    let huge = knowledge.wait_until_indexed(&ids, Duration::MAX);
    assert!(tokio::time::timeout(Duration::from_millis(300), huge).await.is_err(), "still waiting");
}

#[tokio::test]
async fn a_create_is_never_sent_twice_after_a_5xx_or_a_broken_connection_and_a_list_is() {
    let emu = workspace_emulator().await;
    for (script, method, path, attempts) in [
        ("id=c5;fail=503;times=1", Method::POST, "/artifacts", 1),
        ("id=cd;drop=1;times=1", Method::POST, "/artifacts", 1),
        ("id=c429;fail=429;times=1;retry_after=0", Method::POST, "/artifacts", 2),
        ("id=l5;fail=503;times=1", Method::GET, "/artifacts", 2),
        ("id=ld;drop=1;times=1", Method::GET, "/knowledge", 2),
        ("id=p5;fail=503;times=1", Method::PATCH, "/knowledge/kb_404", 2),
    ] {
        let id = script.split(';').next().unwrap().trim_start_matches("id=");
        let client = project_client(&emu.scenario_url(script), id);
        let body = (method == Method::POST).then(|| json!({"title": "x"}));
        let _ = client.request(method.clone(), path, body.as_ref(), &Default::default()).await;
        assert_eq!(emu.stats(id).requests, attempts, "{script} {method} {path}");
    }
}

#[tokio::test]
async fn skills_agents_and_artifacts() {
    let emu = workspace_emulator().await;
    let client = project_client(&emu.base_url(), "p_agents");
    let skills = client.skills().list().await.unwrap();
    assert!(skills.iter().any(|s| s.id == "summarize" && s.category.as_deref() == Some("writing")));
    let output = client.skills().run("outline", map(json!({"topic": "pricing", "depth": 2}))).await.unwrap();
    assert_eq!(output.output, "# Outline\n\n- **depth**: 2\n- **topic**: pricing");

    let agent = client.agents().create("scout", "research".parse().unwrap(), None).await.unwrap();
    assert_eq!((agent.name.as_deref(), agent.kind.as_deref()), (Some("scout"), Some("research")));
    let id = agent.id.clone().unwrap();
    assert_eq!(client.agents().list().await.unwrap().len(), 1);
    let err = client.agents().create("scout", AgentType::Strategy, None).await.unwrap_err();
    assert_eq!(err.status_code(), Some(409), "{err}");
    for _ in 0..2 {
        let run = client.agents().run(&id).await.unwrap();
        assert_eq!(run["status"], "completed");
    }
    let stats_before = emu.stats("").requests;
    let err = client.agents().run(&id).await.unwrap_err();
    assert_eq!(err.status_code(), Some(403), "{err}");
    assert!(err.message().contains("quota"), "{err}");
    assert_eq!(emu.stats("").requests, stats_before + 1, "a 403 is never retried");

    let saved = client.artifacts().create(map(json!({"title": "Q3 plan", "type": "document"}))).await.unwrap();
    assert!(saved.id.as_deref().unwrap().starts_with("art_"));
    assert_eq!(saved.kind.as_deref(), Some("document"));
    let artifacts = client.artifacts().list().await.unwrap();
    assert_eq!(artifacts[0].raw["title"], "Q3 plan");
}

#[tokio::test]
async fn bad_input_is_refused_before_anything_is_sent() {
    let emu = workspace_emulator().await;
    let client = project_client(&emu.scenario_url("id=bad"), "p_bad");
    let knowledge = client.knowledge();
    let invalid = |r: Result<(), mixerlead::Error>| {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        e.message().to_string()
    };
    invalid(NewSource::from_parts(None, None, None).map(drop));
    invalid(NewSource::from_parts(Some("u".into()), Some("t".into()), None).map(drop));
    let message = invalid(knowledge.add(NewSource::file("/nonexistent/file.pdf"), None).await.map(drop));
    assert!(message.contains("/nonexistent/file.pdf"), "{message}");
    invalid(knowledge.add(NewSource::Url(" ".into()), None).await.map(drop));
    invalid(knowledge.delete("").await);
    invalid(client.skills().run(" ", Map::new()).await.map(drop));
    invalid("manager".parse::<AgentType>().map(drop));
    invalid(client.request(Method::GET, "knowledge", None, &Default::default()).await.map(drop));
    assert_eq!(emu.stats("bad").requests, 0);

    let big = tempfile_path::TempPath::write("big.bin", &"x".repeat(100 * 1024));
    let err = knowledge.add(NewSource::file(big.path()), None).await.unwrap_err();
    assert_eq!(err.status_code(), Some(413), "{err}");
    assert!(err.message().contains("quota"), "{err}");
    knowledge.add(NewSource::Url("https://same.example".into()), None).await.unwrap();
    let err = knowledge.add(NewSource::Url("https://same.example".into()), None).await.unwrap_err();
    assert_eq!(err.status_code(), Some(409), "{err}");
}
