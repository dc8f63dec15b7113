//! Models and chat against the emulator: formats, conversations, headers, errors.

mod common;

use common::*;
use futures_util::StreamExt;
use mixerlead::{ChatRequest, ErrorBody, ErrorKind};

#[tokio::test]
async fn lists_models_including_a_paid_one() {
    let emu = emulator().await;
    let models = client(&emu.base_url()).list_models().await.unwrap();
    let auto = models.iter().find(|m| m.id == "ml-auto").expect("ml-auto listed");
    assert_eq!(auto.name, "Auto");
    assert_eq!(auto.task, "Automatic model selection");
    assert!(!auto.requires_paid);
    assert!(models.iter().any(|m| m.requires_paid));
}

#[tokio::test]
async fn streams_a_reply_and_continues_the_conversation() {
    let emu = emulator().await;
    let client = client(&emu.base_url());
    let mut stream = client.chat(ChatRequest::new("Hi there").model("ml-fast")).await.unwrap();
    assert_eq!(stream.conversation_id().as_deref(), Some("conv_1"), "known from the header before any piece");
    let (pieces, error) = collect(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    assert!(pieces.len() > 10, "streamed in many pieces: {pieces:?}");
    let text = pieces.concat();
    assert!(text.contains("You said: \u{201c}Hi there\u{201d}"), "{text}");
    assert!(text.contains("reply 1 in conv_1"), "{text}");
    assert_eq!(stream.text(), text);

    let follow = ChatRequest::new("More").conversation_id("conv_1");
    let reply = client.send(follow).await.unwrap();
    assert!(reply.text.contains("reply 2 in conv_1"), "{}", reply.text);
    assert_eq!(reply.conversation_id.as_deref(), Some("conv_1"));
    let body: serde_json::Value = serde_json::from_str(&emu.stats("").last_body).unwrap();
    assert_eq!(body, serde_json::json!({"message": "More", "conversationId": "conv_1"}));
}

#[tokio::test]
async fn unknown_conversation_is_not_found() {
    let emu = emulator().await;
    let err = client(&emu.base_url()).chat(ChatRequest::new("x").conversation_id("conv_nope")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Status);
    assert_eq!(err.status_code(), Some(404));
    assert_eq!(err.message(), "conversation 'conv_nope' not found");
    assert!(err.to_string().contains("conversation 'conv_nope' not found"));
    assert!(err.request_id().is_some_and(|id| id.starts_with("req_")));
    assert_eq!(err.body(), Some(&ErrorBody::Json(serde_json::json!({"error": "conversation 'conv_nope' not found"}))));
}

#[tokio::test]
async fn conversation_id_from_the_payload_or_never() {
    let emu = emulator().await;
    for format in ["sse", "ndjson", "json"] {
        let url = emu.scenario_url(&format!("format={format};conv_in=payload"));
        let mut stream = client(&url).chat(ChatRequest::new("hello")).await.unwrap();
        assert_eq!(stream.conversation_id(), None, "{format}: unknown before the payload");
        let (_, error) = collect(&mut stream).await;
        assert!(error.is_none());
        assert!(stream.conversation_id().is_some_and(|id| id.starts_with("conv_")), "{format}");
    }
    let mut stream = client(&emu.scenario_url("conv_in=none")).chat(ChatRequest::new("hello")).await.unwrap();
    collect(&mut stream).await;
    assert_eq!(stream.conversation_id(), None);
}

#[tokio::test]
async fn every_wire_format_gives_the_same_text() {
    let emu = emulator().await;
    let expected = "Hello! You said: \u{201c}same\u{201d}. This is reply 1 in conv_";
    for format in ["sse", "ndjson", "jsonl", "json", "text", "none"] {
        for extra in ["", ";crlf", ";split_utf8"] {
            let url = emu.scenario_url(&format!("format={format}{extra}"));
            let text = chat_text(&client(&url), "same").await.unwrap();
            if extra == ";split_utf8" {
                assert_eq!(text, "héllo wörld — 世界 👋🏽 naïve ∑ ok", "{format}{extra}");
            } else {
                assert!(text.starts_with(expected), "{format}{extra}: {text}");
                assert!(text.ends_with("Ça va? Naïve café, 世界 👋 — done."), "{format}{extra}: {text}");
            }
        }
    }
}

#[tokio::test]
async fn many_pieces_arrive_in_order() {
    let emu = emulator().await;
    for format in ["sse", "ndjson", "text"] {
        let url = emu.scenario_url(&format!("format={format};pieces=5000"));
        let text = chat_text(&client(&url), "count").await.unwrap();
        let expected: String =
            (0..5000).map(|i| if i % 20 == 19 { format!("é{i} ") } else { format!("w{i} ") }).collect();
        assert_eq!(text, expected, "{format}");
    }
}

#[tokio::test]
async fn pieces_then_batches_lose_nothing() {
    let emu = emulator().await;
    let url = emu.scenario_url("pieces=3000");
    let whole = client(&url).send(ChatRequest::new("x")).await.unwrap().text;
    let mut stream = client(&url).chat(ChatRequest::new("x")).await.unwrap();
    let mut text = String::new();
    for _ in 0..5 {
        text.push_str(&stream.next().await.unwrap().unwrap());
        assert_eq!(stream.text(), text, "text() is what was handed out");
    }
    let batch = stream.next_batch().await.unwrap().unwrap();
    text.push_str(batch.text());
    assert_eq!(stream.text(), text);
    while let Some(piece) = stream.next().await {
        text.push_str(&piece.unwrap());
    }
    assert_eq!(text, whole);
}

#[tokio::test]
async fn text_after_abort_is_what_was_handed_out() {
    let emu = emulator().await;
    let mut stream = client(&emu.scenario_url("pieces=3000")).chat(ChatRequest::new("x")).await.unwrap();
    let mut handed = String::new();
    for _ in 0..5 {
        handed.push_str(&stream.next().await.unwrap().unwrap());
    }
    stream.abort();
    assert_eq!(stream.text(), handed);
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn batches_hold_every_piece_once() {
    let emu = emulator().await;
    let url = emu.scenario_url("pieces=3000");
    let mut stream = client(&url).chat(ChatRequest::new("x")).await.unwrap();
    let mut all = Vec::new();
    let mut batches = 0;
    while let Some(batch) = stream.next_batch().await {
        let batch = batch.unwrap();
        assert!(!batch.is_empty());
        batches += 1;
        all.extend(batch.iter().map(str::to_string));
    }
    assert_eq!(all.len(), 3000);
    assert!(batches < 3000 / 10, "pieces come in batches, got {batches} batches");
    assert_eq!(stream.text(), all.concat());
}

#[tokio::test]
async fn in_band_errors_malformed_json_and_oversize_are_decode_errors() {
    let emu = emulator().await;
    for script in ["format=sse;error_after=2", "format=ndjson;error_after=2", "format=json;error_after=0"] {
        let mut stream = client(&emu.scenario_url(script)).chat(ChatRequest::new("x")).await.unwrap();
        let (pieces, error) = collect(&mut stream).await;
        let error = error.expect(script);
        assert_eq!(error.kind(), ErrorKind::Decode, "{script}");
        assert!(error.message().contains("scripted in-band error"), "{script}: {error}");
        assert_eq!(error.partial_text(), Some(pieces.concat().as_str()));
    }
    let err = chat_text(&client(&emu.scenario_url("format=json;malformed")), "x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    // In SSE, a payload that is not JSON is text.
    let text = chat_text(&client(&emu.scenario_url("format=sse;malformed")), "x").await.unwrap();
    assert!(text.starts_with("{not json"), "{text}");
    for format in ["sse", "ndjson", "json"] {
        let err = chat_text(&client(&emu.scenario_url(&format!("format={format};oversize"))), "x").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{format}");
    }
    // Raw text has no per-piece limit: it streams.
    let text = chat_text(&client(&emu.scenario_url("format=text;oversize;pieces=1")), "x").await.unwrap();
    assert_eq!(text.len(), 17 * 1024 * 1024 + "w0 ".len());
}

#[tokio::test]
async fn status_errors_carry_the_service_message() {
    let emu = emulator().await;
    let cases =
        [(400, ErrorKind::Status), (401, ErrorKind::Status), (409, ErrorKind::Status), (413, ErrorKind::Status)];
    for (code, kind) in cases {
        let err = client(&emu.scenario_url(&format!("fail={code}"))).chat(ChatRequest::new("x")).await.unwrap_err();
        assert_eq!((err.kind(), err.status_code()), (kind, Some(code)));
        assert_eq!(err.message(), format!("scripted failure {code}"));
    }
    let err = builder(&emu.scenario_url("fail=400;error_body=text")).build().unwrap().list_models().await.unwrap_err();
    assert_eq!(err.message(), "upstream failure 400 (plain text)");
    assert_eq!(err.body(), Some(&ErrorBody::Text("upstream failure 400 (plain text)".into())));
    let err = client(&emu.scenario_url("fail=409;error_body=empty")).list_models().await.unwrap_err();
    assert_eq!(err.message(), "Conflict");
    assert_eq!(err.body(), None);
}

#[tokio::test]
async fn plan_and_key_refusals() {
    let emu = emulator().await;
    let err = client(&emu.base_url()).chat(ChatRequest::new("x").model("ml-pro")).await.unwrap_err();
    assert_eq!(err.status_code(), Some(403));
    assert!(err.message().contains("paid plan"));
    let paid = mixerlead::Client::builder().api_key("ml_live_paid_abc").base_url(emu.base_url()).build().unwrap();
    chat_text(&paid, "x").await.unwrap();
    let revoked = mixerlead::Client::builder().api_key("ml_live_revoked_1").base_url(emu.base_url()).build().unwrap();
    let err = revoked.list_models().await.unwrap_err();
    assert_eq!((err.status_code(), err.message()), (Some(401), "API key revoked"));
    assert_eq!(emu.stats("").requests, 3, "403 and 401 are not retried");
    let err = client(&emu.base_url()).chat(ChatRequest::new("x").model("nope")).await.unwrap_err();
    assert_eq!(err.status_code(), Some(404));
}

#[tokio::test]
async fn headers_paths_and_user_agent() {
    let emu = emulator().await;
    let client = builder(&format!("{}/", emu.scenario_url("id=h"))).project_id("proj_42").build().unwrap();
    chat_text(&client, "x").await.unwrap();
    let stats = emu.stats("h");
    assert_eq!(stats.last_path, "/s/id=h/api/chat", "no double slash");
    let ua = &stats.last_headers["user-agent"];
    assert!(ua.starts_with(&format!("mixerlead-rust/{} (", mixerlead::VERSION)), "{ua}");
    assert_eq!(stats.last_headers["x-project-id"], "proj_42");
    assert_eq!(stats.last_headers["content-type"], "application/json");
    client.list_models().await.unwrap();
    assert_eq!(emu.stats("h").last_path, "/s/id=h/api/ai/models");
    let plain = common::client(&emu.scenario_url("id=noproj"));
    plain.list_models().await.unwrap();
    assert!(!emu.stats("noproj").last_headers.contains_key("x-project-id"));
}

#[tokio::test]
async fn the_key_never_shows() {
    let emu = emulator().await;
    let client = client(&emu.scenario_url("fail=401"));
    let debug = format!("{client:?}");
    assert!(!debug.contains("supersecret"), "{debug}");
    assert!(debug.contains("7g4Q"), "last four characters may show: {debug}");
    let err = client.list_models().await.unwrap_err();
    for text in [format!("{err}"), format!("{err:?}")] {
        assert!(!text.contains("supersecret"), "{text}");
    }
    let err = mixerlead::Client::builder().api_key(KEY).base_url("http://example.com").build().unwrap_err();
    assert!(!format!("{err} {err:?}").contains("supersecret"));
}

#[tokio::test]
async fn invalid_arguments_fail_before_the_network() {
    let emu = emulator().await;
    let client = client(&emu.scenario_url("id=inv"));
    for request in [ChatRequest::new(""), ChatRequest::new("a\0b"), ChatRequest::new("x").model("")] {
        let err = client.chat(request).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    }
    assert_eq!(emu.stats("inv").requests, 0);
    let mut stream = client.chat(ChatRequest::new("fine")).await.unwrap();
    assert!(stream.next().await.is_some());
}

#[tokio::test]
async fn redirects_are_followed_up_to_five_and_never_carry_the_key_elsewhere() {
    let emu = emulator().await;
    let text = chat_text(&client(&emu.scenario_url("id=r3;redirect=3")), "x").await.unwrap();
    assert!(text.contains("You said"), "a 307 keeps the POST and its body");
    let stats = emu.stats("r3");
    assert_eq!(stats.requests, 4);
    assert!(stats.last_authorized, "same origin keeps Authorization");

    let err = client(&emu.scenario_url("id=r6;redirect=6")).list_models().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert_eq!(emu.stats("r6").requests, 6, "the sixth redirect is not followed");

    // 127.0.0.1 -> localhost is another origin: the key and the project must not follow.
    let same = builder(&emu.scenario_url("id=rp;redirect=2")).project_id("proj_7").build().unwrap();
    same.list_models().await.unwrap();
    let stats = emu.stats("rp");
    assert!(stats.last_authorized && stats.last_headers.get("x-project-id").map(String::as_str) == Some("proj_7"));
    let other = builder(&emu.scenario_url("id=rx;redirect=1;redirect_host=localhost")).project_id("proj_7").build();
    let err = other.unwrap().list_models().await.unwrap_err();
    assert_eq!(err.status_code(), Some(401), "{err}");
    let stats = emu.stats("rx");
    assert_eq!(stats.requests, 2);
    assert!(!stats.last_authorized, "Authorization was sent to another origin");
    assert!(!stats.last_headers.contains_key("x-project-id"), "X-Project-Id was sent to another origin");
    assert!(stats.last_headers.contains_key("user-agent"));
}
