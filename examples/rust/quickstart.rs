//! Lists the models and streams one reply. Run against the emulator:
//! `cargo run -p mixerlead-cli -- emulator --port 8765 &` then
//! `MIXERLEAD_API_KEY=ml_test_demo MIXERLEAD_BASE_URL=http://127.0.0.1:8765/api cargo run --example quickstart`

use std::io::Write;

use futures_util::StreamExt;
use mixerlead::{ChatRequest, Client};

#[tokio::main]
async fn main() -> Result<(), mixerlead::Error> {
    let client = Client::from_env()?;
    for model in client.list_models().await? {
        println!("{:<10} {}", model.id, model.task);
    }
    let mut stream = client.chat(ChatRequest::new("Write a haiku about rivers")).await?;
    while let Some(piece) = stream.next().await {
        print!("{}", piece?);
        std::io::stdout().flush().ok();
    }
    println!("\nconversation: {:?}", stream.conversation_id());
    Ok(())
}
