//! The blocking facade, the one runtime, and fork.

mod common;

use std::time::{Duration, Instant};

use common::KEY;
use mixerlead::{blocking, ChatRequest};
use mixerlead_emulator::{Emulator, EmulatorConfig};

/// An emulator on a runtime of its own, as another process would be.
fn emulator() -> (tokio::runtime::Runtime, Emulator) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let emu = rt.block_on(Emulator::start(EmulatorConfig::default())).unwrap();
    (rt, emu)
}

fn client(url: &str) -> blocking::Client {
    blocking::Client::from_builder(mixerlead::Client::builder().api_key(KEY).base_url(url)).unwrap()
}

#[test]
fn blocking_models_chat_and_send() {
    let (_rt, emu) = emulator();
    let client = client(&emu.base_url());
    assert!(client.list_models().unwrap().iter().any(|m| m.id == "ml-auto"));
    let mut stream = client.chat(ChatRequest::new("hi")).unwrap();
    let first = stream.next().unwrap().unwrap();
    assert_eq!(first, "Hello! ");
    let rest = stream.read().unwrap();
    assert!(rest.starts_with("Hello! You said"), "read returns the whole reply: {rest}");
    let id = stream.conversation_id().unwrap();
    let reply = client.send(ChatRequest::new("again").conversation_id(&id)).unwrap();
    assert!(reply.text.contains("reply 2"));
    let err = client.send(ChatRequest::new("x").conversation_id("conv_missing")).unwrap_err();
    assert_eq!(err.status_code(), Some(404));
}

#[test]
fn blocking_drop_aborts_the_request() {
    let (rt, emu) = emulator();
    let client = client(&emu.scenario_url("id=d;pieces=500;delay_ms=20"));
    let mut stream = client.chat(ChatRequest::new("x")).unwrap();
    stream.next().unwrap().unwrap();
    drop(stream);
    let stats = rt.block_on(emu.wait_for_disconnects("d", 1, Duration::from_secs(1)));
    assert_eq!(stats.client_disconnects, 1);
}

#[test]
fn blocking_works_inside_another_runtime() {
    let (rt, emu) = emulator();
    let url = emu.base_url();
    let models = rt.block_on(async move { tokio::task::spawn_blocking(move || client(&url).list_models()).await });
    assert!(!models.unwrap().unwrap().is_empty());
    let url = emu.base_url();
    // Even called on a runtime thread, it blocks that thread instead of panicking.
    let text = rt.block_on(async move { client(&url).send(ChatRequest::new("x")).map(|r| r.text) });
    assert!(text.unwrap().contains("You said"));
}

#[test]
fn the_core_runtime_threads_are_named() {
    let (_rt, emu) = emulator();
    client(&emu.base_url()).list_models().unwrap();
    let names = thread_names();
    assert!(names.iter().any(|n| n.starts_with("mixerlead-rt")), "{names:?}");
}

fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|n| n.trim().to_string())
        .collect()
}

#[test]
fn interruptible_wait_aborts_the_request() {
    let (rt, emu) = emulator();
    let client = client(&emu.scenario_url("id=i;stall_after=1"));
    let mut stream = client.chat(ChatRequest::new("x")).unwrap().into_async();
    let started = Instant::now();
    let mut checks = 0;
    let out = mixerlead::runtime::block_on_interruptible(stream.read(), Duration::from_millis(50), || {
        checks += 1;
        if checks >= 2 {
            Err("interrupted")
        } else {
            Ok(())
        }
    });
    assert_eq!(out.unwrap_err(), "interrupted");
    assert!(started.elapsed() < Duration::from_millis(500));
    drop(stream);
    assert_eq!(rt.block_on(emu.wait_for_disconnects("i", 1, Duration::from_secs(1))).client_disconnects, 1);
}

#[test]
fn fork_child_gets_a_fresh_runtime_and_pool() {
    let (_rt, emu) = emulator();
    let inherited = client(&emu.base_url());
    assert!(inherited.send(ChatRequest::new("before fork")).is_ok());
    let url = emu.base_url();
    // SAFETY: the child only runs this test's code and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = std::panic::catch_unwind(|| {
            let old = inherited.send(ChatRequest::new("child, old client")).map(|r| r.text);
            let new = client(&url).send(ChatRequest::new("child, new client")).map(|r| r.text);
            matches!((old, new), (Ok(a), Ok(b)) if a.contains("old client") && b.contains("new client"))
        })
        .unwrap_or(false);
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let mut status = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        // SAFETY: plain waitpid on our own child.
        let done = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if done == pid {
            break;
        }
        if Instant::now() > deadline {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("the forked child hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "child failed: status {status}");
    assert!(inherited.send(ChatRequest::new("parent after fork")).is_ok());
}
