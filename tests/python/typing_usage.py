"""Not a test module: `mypy --strict` checks that every public name is typed."""

from __future__ import annotations

import asyncio
import pathlib
from typing import Dict, List, Mapping, Optional, Type

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
    Headers,
    Model,
    ModelList,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    StreamInterruptedError,
)
from mixerlead.testing import Emulator, EmulatorStats

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


def options_and_metadata_usage() -> None:
    client = Client("ml_live_x", ca_file=pathlib.Path("ca.pem"), proxy="http://proxy:3128")
    client = Client("ml_live_x", ca_file="ca.pem", proxy=None)
    derived: Client = client.with_options(timeout=5.0, max_retries=0, project_id="p", ca_file="other.pem")
    headers: Mapping[str, str] = {"X-Trace": "t"}
    models: ModelList = derived.models.list(timeout=1.0, max_retries=1, extra_headers=headers)
    as_list: List[Model] = models
    request_id: Optional[str] = models.request_id
    response_headers: Headers = models.headers
    content_type: Optional[str] = response_headers.get("content-type")
    cookies: List[str] = response_headers.get_all("set-cookie")
    stream: ChatStream = client.chat.stream("Hi", timeout=2.5, max_retries=0, extra_headers={"x-a": "b"})
    stream_id: Optional[str] = stream.request_id
    stream_headers: Headers = stream.headers
    reply: ChatReply = client.chat.send("Hi", "ml-auto", None, timeout=1, extra_headers=None)
    reply_id: Optional[str] = reply.request_id
    reply_headers: Headers = reply.headers
    print(as_list, request_id, content_type, cookies, stream_id, stream_headers, reply_id, reply_headers)


def testing_usage() -> None:
    with Emulator() as emu:
        url: str = emu.base_url
        key: str = emu.api_key
        scripted: str = emu.scenario_url("id=a;fail=429;times=1")
        stats: EmulatorStats = emu.stats("a")
        attempts: int = stats["requests"]
        seen: Dict[str, str] = stats["last_headers"]
        client: Client = emu.client("pieces=10", max_retries=0)
        aclient: AsyncClient = emu.async_client()
        print(url, key, scripted, attempts, seen, client, aclient)
    with Emulator(tls=True) as secure:
        pem: Optional[str] = secure.ca_pem
        ca_file: Optional[str] = secure.ca_file
        print(pem, ca_file)


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
        derived: AsyncClient = c.with_options(max_retries=1)
        listed: ModelList = await derived.models.list(timeout=1.0, max_retries=0, extra_headers={"x": "y"})
        s2 = await derived.chat.stream("Hi", timeout=3.0, extra_headers={"x": "y"})
        shown: str = await s2.display()
        rid: Optional[str] = s2.request_id
        hdrs: Headers = s2.headers
        sent: ChatReply = await derived.chat.send("Hi", max_retries=0)
        print(listed.request_id, shown, rid, hdrs, sent.request_id)


if __name__ == "__main__":
    sync_usage()
    asyncio.run(async_usage())
