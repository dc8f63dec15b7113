"""Not a test module: `mypy --strict` checks that every public name is typed."""

from __future__ import annotations

import asyncio
from typing import List, Optional, Type

import mixerlead
from mixerlead import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AsyncChatStream,
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    ChatReply,
    ChatStream,
    Client,
    ConfigurationError,
    ConflictError,
    InternalServerError,
    MixerLeadError,
    Model,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    StreamInterruptedError,
)

ERRORS: List[Type[MixerLeadError]] = [
    ConfigurationError, APIConnectionError, APITimeoutError, StreamInterruptedError, APIResponseError,
    APIStatusError, BadRequestError, AuthenticationError, PermissionDeniedError, NotFoundError, ConflictError,
    PayloadTooLargeError, RateLimitError, InternalServerError,
]  # fmt: skip


def sync_usage() -> None:
    client: Client = Client("ml_live_x", base_url="http://127.0.0.1:1/api", project_id=None, timeout=60.0,
                            connect_timeout=10.0, read_timeout=120.0, max_retries=2, max_retry_wait=60.0,
                            allow_insecure_http=False)  # fmt: skip
    models: List[Model] = client.models.list()
    ids: List[str] = [m.id + m.name + m.task for m in models if not m.requires_paid]
    stream: ChatStream = client.chat.stream("Hi", model=None, conversation_id=None)
    for text in stream:
        ids.append(text)
    conversation: Optional[str] = stream.conversation_id
    so_far: str = stream.text
    whole: str = stream.read()
    shown: str = stream.display()
    stream.close()
    with client.chat.stream("Hi") as s:
        first: str = next(s)
    reply: ChatReply = client.chat.send("Hi", model="ml-auto", conversation_id=conversation)
    markdown: str = reply._repr_markdown_()
    print(ids, so_far, whole, shown, first, reply.text, reply.conversation_id, markdown, mixerlead.__version__)
    try:
        client.close()
    except RateLimitError as e:
        wait: Optional[float] = e.retry_after
        print(wait, e.status_code, e.body, e.request_id, e.message)
    except StreamInterruptedError as e:
        partial: str = e.partial_text
        print(partial)
    with Client() as c:
        print(c.base_url)


async def async_usage() -> None:
    aclient = AsyncClient(max_retries=0)
    models: List[Model] = await aclient.models.list()
    stream: AsyncChatStream = await aclient.chat.stream("Hi", model=None, conversation_id=None)
    async for text in stream:
        print(text, models)
    async with await aclient.chat.stream("Hi") as s:
        whole: str = await s.read()
        print(whole, s.text, s.conversation_id)
    await stream.aclose()
    reply: ChatReply = await aclient.chat.send("Hi")
    print(reply.text)
    await aclient.aclose()
    async with AsyncClient() as c:
        print(c.base_url)


if __name__ == "__main__":
    sync_usage()
    asyncio.run(async_usage())
