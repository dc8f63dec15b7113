//! Traffic control against the emulator: the shared 429 gate and pacing under its per-key
//! limit, concurrency slots, waits that send nothing, and a Redis that is not there.

mod common;

use std::time::{Duration, Instant};

use common::*;
use mixerlead::{ChatRequest, Client, ErrorKind};

/// `n` concurrent model lists through `client`: how many failed.
async fn burst(client: &Client, n: usize) -> usize {
    let calls = (0..n).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.list_models().await })
    });
    let mut failed = 0;
    for call in calls.collect::<Vec<_>>() {
        if call.await.unwrap().is_err() {
            failed += 1;
        }
    }
    failed
}

#[tokio::test]
async fn the_shared_gate_and_pacing_hold_a_per_key_limit_without_failures() {
    // 40 calls at once against 10 a second (Retry-After: 1 in whole seconds).
    let emu = emulator().await;
    let paced = client(&emu.scenario_url("id=paced;rate_limit=10"));
    assert_eq!(burst(&paced, 40).await, 0, "the gate and the pacing hold every call back until it can go");
    let refused = emu.stats("paced").requests - 40;
    // Without traffic control every call learns the limit alone: most run out of retries.
    let emu = emulator().await;
    let alone = builder(&emu.scenario_url("id=alone;rate_limit=10")).rate_limit(0.0).build().unwrap();
    let failed_alone = burst(&alone, 40).await;
    let refused_alone = emu.stats("alone").requests - 40 + failed_alone as u64;
    assert!(failed_alone > 0, "without the gate some calls fail");
    assert!(refused < refused_alone, "refused {refused} with the gate, {refused_alone} without");
}

#[tokio::test]
async fn a_rate_limit_paces_from_the_start_and_avoids_429s() {
    let emu = emulator().await;
    // 540 a minute = 9 a second (under the plan's 10), bursts of 1: 20 calls take about 2.1 s
    // and none is refused.
    let c = builder(&emu.scenario_url("id=fixed;rate_limit=10")).rate_limit(540.0).rate_limit_burst(1).build().unwrap();
    let started = Instant::now();
    assert_eq!(burst(&c, 20).await, 0);
    let elapsed = started.elapsed();
    assert_eq!(emu.stats("fixed").requests, 20, "no request refused");
    assert!(elapsed >= Duration::from_millis(2000), "{elapsed:?}");
}

#[tokio::test]
async fn a_wait_past_max_retry_wait_fails_at_once_and_sends_nothing() {
    let emu = emulator().await;
    let c = builder(&emu.scenario_url("id=long;fail=429;times=1;retry_after=30"))
        .max_retry_wait(Duration::from_secs(2))
        .build()
        .unwrap();
    let first = c.list_models().await.unwrap_err();
    assert_eq!((first.status_code(), first.retry_after()), (Some(429), Some(30.0)));
    // The scope's gate is closed for 30 s: the next call is refused here, before sending.
    let started = Instant::now();
    let second = c.list_models().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(200));
    assert_eq!((second.kind(), second.status_code()), (ErrorKind::Status, Some(429)));
    assert!(second.retry_after().is_some_and(|w| w > 29.0), "{:?}", second.retry_after());
    assert!(second.message().contains("max_retry_wait"), "{second}");
    assert_eq!(emu.stats("long").requests, 1, "nothing sent while the gate is closed");
    // Another client of the same key, URL and project shares the gate; rate_limit=0 does not.
    let sibling = builder(&emu.scenario_url("id=long;fail=429;times=1;retry_after=30"))
        .max_retry_wait(Duration::from_secs(2))
        .build()
        .unwrap();
    assert!(sibling.list_models().await.unwrap_err().message().contains("max_retry_wait"));
    let ungated =
        builder(&emu.scenario_url("id=long;fail=429;times=1;retry_after=30")).rate_limit(0.0).build().unwrap();
    ungated.list_models().await.unwrap();
    assert_eq!(emu.stats("long").requests, 2);
}

#[tokio::test]
async fn max_concurrency_is_never_exceeded_and_a_stream_holds_its_slot() {
    let emu = emulator().await;
    let c = builder(&emu.scenario_url("id=slots;pieces=10;delay_ms=60")).max_concurrency(2).build().unwrap();
    let derived = c.with_options(Ok).unwrap();
    let started = Instant::now();
    let calls: Vec<_> = (0..4)
        .map(|i| {
            let client = if i % 2 == 0 { c.clone() } else { derived.clone() };
            tokio::spawn(async move { chat_text(&client, "x").await.unwrap() })
        })
        .collect();
    for call in calls {
        call.await.unwrap();
    }
    let times = emu.stats("slots").request_times;
    assert_eq!(times.len(), 4);
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    // Replies take ~0.6 s: the third and fourth request wait until a stream ended.
    assert!(sorted[2] - sorted[0] >= 0.5, "{sorted:?}");
    assert!(started.elapsed() >= Duration::from_millis(1100));
}

#[tokio::test]
async fn waiting_for_a_slot_is_cancelled_by_dropping_the_call() {
    let emu = emulator().await;
    let c = builder(&emu.scenario_url("id=cancel;stall_after=1")).max_concurrency(1).build().unwrap();
    let holding = c.chat(ChatRequest::new("x")).await.unwrap();
    let waiting = tokio::time::timeout(Duration::from_millis(200), c.chat(ChatRequest::new("y"))).await;
    assert!(waiting.is_err(), "the second call waits for the slot");
    assert_eq!(emu.stats("cancel").requests, 1, "a waiting call sends nothing");
    drop(holding); // the stream's slot is free again
    let next = tokio::time::timeout(Duration::from_secs(2), c.chat(ChatRequest::new("z"))).await;
    assert!(next.expect("the slot was released").is_ok());
    assert_eq!(emu.stats("cancel").requests, 2, "the cancelled call never went out");
}

#[tokio::test]
async fn a_redis_that_is_not_there_never_fails_a_request() {
    let emu = emulator().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let c = builder(&emu.scenario_url("id=noredis;rate_limit=50"))
        .rate_limit(1200.0)
        .rate_limit_redis(format!("redis://127.0.0.1:{port}/0"))
        .build()
        .unwrap();
    assert_eq!(burst(&c, 30).await, 0);
    assert_eq!(emu.stats("noredis").requests, 30, "paced locally at 20 a second: none refused");
}

#[tokio::test]
async fn bad_traffic_options_are_configuration_errors_before_anything_is_sent() {
    let emu = emulator().await;
    let url = emu.scenario_url("id=bad");
    let cases: Vec<(mixerlead::ClientBuilder, &str)> = vec![
        (builder(&url).rate_limit(-5.0), "rate_limit"),
        (builder(&url).rate_limit(60.0).rate_limit_burst(0), "rate_limit_burst"),
        (builder(&url).max_concurrency(0), "max_concurrency"),
        (builder(&url).rate_limit_redis("http://127.0.0.1:6379"), "rate_limit_redis"),
        (builder(&url).rate_limit_redis("redis://:hunter2@"), "rate_limit_redis"),
    ];
    for (b, name) in cases {
        let e = b.build().err().unwrap_or_else(|| panic!("{name}"));
        assert_eq!(e.kind(), ErrorKind::Configuration, "{e}");
        assert!(e.message().contains(name) && !e.message().contains("hunter2"), "{e}");
    }
    assert_eq!(emu.stats("bad").requests, 0);
}

/// A `redis-server` of Debian's package on a free loopback port, killed when dropped.
struct Redis {
    child: std::process::Child,
    port: u16,
}

impl Redis {
    fn start() -> Redis {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server (Debian's package; .ci/run installs it) runs the Redis tests");
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Redis { child, port }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn cli(&self, args: &[&str]) -> String {
        let out = std::process::Command::new("redis-cli").args(["-p", &self.port.to_string()]).args(args).output();
        String::from_utf8_lossy(&out.expect("redis-cli").stdout).trim().to_string()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn redis_holds_the_scope_schedule_without_the_key_and_its_death_fails_nothing() {
    let redis = Redis::start();
    let emu = emulator().await;
    let c = builder(&emu.scenario_url("id=redis;rate_limit=20"))
        .rate_limit(900.0) // 15 a second
        .rate_limit_burst(1)
        .rate_limit_redis(redis.url())
        .build()
        .unwrap();
    let started = Instant::now();
    assert_eq!(burst(&c, 16).await, 0);
    assert!(started.elapsed() >= Duration::from_millis(900), "paced through Redis: {:?}", started.elapsed());
    let keys = redis.cli(&["--scan", "--pattern", "mixerlead:rl:*"]);
    assert_eq!(keys.lines().count(), 1, "{keys}");
    let key = keys.trim();
    assert_eq!(key.len(), "mixerlead:rl:".len() + 16, "{key}");
    assert!(!key.contains("supersecret"));
    assert!(redis.cli(&["HGET", key, "tat"]).parse::<f64>().is_ok());
    // A 429's gate is written to Redis for the whole fleet.
    let gated = builder(&emu.scenario_url("id=redis;rate_limit=20")).rate_limit_redis(redis.url()).build().unwrap();
    let once = builder(&emu.scenario_url("id=gate429;fail=429;times=1;retry_after=1")).rate_limit_redis(redis.url());
    once.build().unwrap().list_models().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(redis.cli(&["--scan", "--pattern", "mixerlead:rl:*"]).lines().count(), 2);
    // Redis killed mid-run: the next calls are paced locally, none fails.
    drop(redis);
    assert_eq!(burst(&gated, 10).await, 0);
    assert_eq!(burst(&c, 10).await, 0);
}
