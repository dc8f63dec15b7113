//! `mixerlead-emulator [--port P] [--format sse|ndjson|jsonl|json|text|none] [--token-delay-ms N]
//! [--rate-limit N] [--tls] [--tls-ca-out PATH] [--http1-only]`: serves the emulated Workspace API on 127.0.0.1 until killed.

use std::io::Write;

#[tokio::main]
async fn main() {
    let config = match mixerlead_emulator::EmulatorConfig::from_args(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("mixerlead-emulator: {message}");
            std::process::exit(2);
        }
    };
    let scheme = if config.tls { "https" } else { "http" };
    let result = mixerlead_emulator::run(config, |addr| {
        println!("mixerlead emulator listening on {scheme}://{addr}/api");
        let _ = std::io::stdout().flush();
    })
    .await;
    if let Err(e) = result {
        eprintln!("mixerlead-emulator: {e}");
        std::process::exit(1);
    }
}
