//! Adds a knowledge source, waits until it is indexed, then asks a question grounded on it.
//! Run against the emulator:
//! `cargo run -p mixerlead-cli -- emulator --port 8765 &` then
//! `MIXERLEAD_API_KEY=ml_test_demo MIXERLEAD_BASE_URL=http://127.0.0.1:8765/api cargo run --example knowledge`

use std::time::Duration;

use mixerlead::{ChatRequest, Client, NewSource};

#[tokio::main]
async fn main() -> Result<(), mixerlead::Error> {
    let client = Client::from_env()?;
    let knowledge = client.knowledge();
    let added = knowledge
        .add(NewSource::Text("Refunds are accepted within 30 days of purchase.".into()), Some("Refund policy"))
        .await?;
    println!("added {} ({})", added.id, added.status.as_str());
    for source in knowledge.wait_until_indexed(&[&added.id], Duration::from_secs(300)).await? {
        println!("{} is {}, {} chunk(s)", source.id, source.status.as_str(), source.chunk_count.unwrap_or(0));
    }
    let reply = client.send(ChatRequest::new("How long do I have to ask for a refund?")).await?;
    println!("{}", reply.text);
    knowledge.delete(&added.id).await?;
    Ok(())
}
