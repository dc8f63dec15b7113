//! The same without async: `mixerlead::blocking`, and a follow-up in the same conversation.

use mixerlead::{blocking::Client, ChatRequest};

fn main() -> Result<(), mixerlead::Error> {
    let client = Client::from_env()?;
    let mut stream = client.chat(ChatRequest::new("Hi"))?;
    for piece in &mut stream {
        print!("{}", piece?);
    }
    println!();
    let conversation = stream.conversation_id().unwrap_or_default();
    let reply = client.send(ChatRequest::new("Tell me more").conversation_id(conversation))?;
    println!("{}", reply.text);
    Ok(())
}
