"""Notebook style: in Jupyter, `display()` renders the reply as Markdown while it streams and a
ChatReply renders as Markdown. The sync client works inside the notebook's running event loop."""

import mixerlead

client = mixerlead.Client()
text = client.chat.stream("Summarise streaming APIs in three bullet points").display()
reply = client.chat.send("Now in one sentence")
reply  # noqa: B018 - in a notebook cell this renders via _repr_markdown_
print(len(text), reply.conversation_id)
