"""Every public class's ``repr()`` speaks Python: no Rust syntax (``Some(``, ``None,`` inside
braces, ``..``), never the key beyond its last four characters."""

from __future__ import annotations

import asyncio
import functools
import re
from typing import Any, Callable, Dict

import pytest

import mixerlead
from conftest import KEY, Emulator

RUST_SYNTAX = re.compile(r"Some\(|\{[^}]*None,|(?<!\.)\.\.(?!\.)|[A-Za-z]+ \{ ")


def check(text: str) -> None:
    assert not RUST_SYNTAX.search(text), text
    assert "pysecretkey" not in text, text


def client(emu: Emulator, **options: Any) -> mixerlead.Client:
    return mixerlead.Client(KEY, base_url=emu.url(), **options)


def test_client_repr_is_a_python_call_with_the_key_redacted(emu: Emulator) -> None:
    c = client(emu, project_id="p_1", max_retries=3)
    assert repr(c) == f"mixerlead.Client(base_url='{emu.base_url}', api_key='…Q7w2', project_id='p_1', max_retries=3)"
    a = mixerlead.AsyncClient(KEY, base_url=emu.url())
    assert repr(a) == f"mixerlead.AsyncClient(base_url='{emu.base_url}', api_key='…Q7w2', max_retries=2)"
    assert repr(c.with_options(max_retries=0)).endswith("max_retries=0)")
    c.close()
    assert repr(c) == "<mixerlead.Client closed>"


def test_stream_repr_shows_ids_and_state(emu: Emulator) -> None:
    c = client(emu)
    stream = c.chat.stream("x")
    shown = repr(stream)
    check(shown)
    assert re.fullmatch(r"<mixerlead\.ChatStream conversation_id='conv_\w+', request_id=('[^']+'|None), state='open'>", shown)
    stream.read()
    assert repr(stream).endswith("state='finished'>")
    closed = c.chat.stream("x")
    closed.close()
    assert repr(closed).endswith("state='closed'>")
    failed = mixerlead.Client(KEY, base_url=emu.url("disconnect_after=2")).chat.stream("x")
    with pytest.raises(mixerlead.StreamInterruptedError):
        failed.read()
    assert repr(failed).endswith("state='failed'>")


async def test_async_stream_repr_shows_ids_and_state(emu: Emulator) -> None:
    async with mixerlead.AsyncClient(KEY, base_url=emu.url()) as c:
        stream = await c.chat.stream("x")
        check(repr(stream))
        assert repr(stream).startswith("<mixerlead.AsyncChatStream conversation_id='conv_")
        assert repr(stream).endswith("state='open'>")
        await stream.read()
        assert repr(stream).endswith("state='finished'>")


PUBLIC_CLASSES = sorted(n for n in mixerlead.__all__ if isinstance(getattr(mixerlead, n), type))


def instances(emu: Emulator) -> Dict[str, Callable[[], object]]:
    """One instance of every public class, made as a user gets it."""
    # A key of its own: the sources it adds must not ground other tests' replies.
    c = mixerlead.Client(KEY + "_repr", base_url=emu.url())
    a = mixerlead.AsyncClient(KEY + "_repr", base_url=emu.url())
    made: Dict[str, Callable[[], object]] = {
        "Client": lambda: c,
        "AsyncClient": lambda: a,
        "ChatStream": lambda: c.chat.stream("x"),
        "AsyncChatStream": lambda: asyncio.run(a.chat.stream("x")),
        "ChatReply": lambda: c.chat.send("x"),
        "Model": lambda: c.models.list()[0],
        "ModelList": lambda: c.models.list(),
        "Headers": lambda: c.models.list().headers,
        "Source": lambda: (c.knowledge.add(text="hello", name="n"), c.knowledge.list()[0])[1],
        "Indexing": lambda: c.knowledge.crawl("https://example.com/docs", max_pages=2),
        "Skill": lambda: c.skills.list()[0],
        "SkillOutput": lambda: c.skills.run(c.skills.list()[0].id, {"topic": "x"}),
        "Agent": lambda: c.agents.create("a", "research"),
        "Artifact": lambda: c.artifacts.create(name="doc", type="report"),
        "IndexingError": lambda: mixerlead.IndexingError("indexing failed", source_id="kb_1", last_error="404"),
    }
    # The resources, as the clients hold them.
    for name, attribute in [("Models", "models"), ("Chat", "chat"), ("Knowledge", "knowledge"), ("Skills", "skills"),
                            ("Agents", "agents"), ("Artifacts", "artifacts")]:
        made[name] = functools.partial(getattr, c, attribute)
        made["Async" + name] = functools.partial(getattr, a, attribute)
    # Every error class, as the library raises it.
    for name in PUBLIC_CLASSES:
        cls = getattr(mixerlead, name)
        if issubclass(cls, mixerlead.APIStatusError):
            made[name] = functools.partial(cls, "scripted failure", status_code=429, retry_after=1.0)
        elif issubclass(cls, mixerlead.MixerLeadError) and name not in made:
            made[name] = functools.partial(cls, "scripted failure")
    return made


@pytest.mark.parametrize("name", PUBLIC_CLASSES)
def test_every_public_class_repr_has_no_rust_syntax(emu: Emulator, name: str) -> None:
    made = instances(emu)
    assert name in made, f"{name} is public: give it an instance here so its repr is checked"
    value = made[name]()
    assert isinstance(value, getattr(mixerlead, name))
    check(repr(value))
    check(str(value))


def test_status_errors_repr(emu: Emulator) -> None:
    for script, cls in [("fail=429;retry_after=0", mixerlead.RateLimitError), ("fail=404", mixerlead.NotFoundError)]:
        with pytest.raises(cls) as info:
            client(emu, max_retries=0).with_options(base_url=emu.url(script)).chat.send("x")
        check(repr(info.value))
        check(str(info.value))
    with pytest.raises(mixerlead.StreamInterruptedError) as interrupted:
        mixerlead.Client(KEY, base_url=emu.url("disconnect_after=2")).chat.send("x")
    check(repr(interrupted.value))
