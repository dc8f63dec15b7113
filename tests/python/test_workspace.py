"""The rest of the Workspace API: knowledge, skills, agents and artifacts, against the
in-process emulator (``mixerlead.testing.Emulator``) started with small limits. Each test has
its own project id, so its workspace starts empty."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, List, Tuple, Union

import pytest

import mixerlead
from mixerlead.testing import Emulator

MAX_UPLOAD = 4096


@pytest.fixture(scope="module")
def wemu() -> Iterator[Emulator]:
    with Emulator(index_delay_ms=100, max_upload_bytes=MAX_UPLOAD, agent_runs_per_day=2) as emu:
        yield emu


def new_id() -> str:
    return "py" + uuid.uuid4().hex[:10]


def workspace(emu: Emulator, script: str = "", **options: Any) -> mixerlead.Client:
    """A client of a workspace of its own (a fresh project id), through `script` when given."""
    return emu.client(script, project_id=new_id(), **options)


def async_workspace(emu: Emulator, script: str = "", **options: Any) -> mixerlead.AsyncClient:
    return emu.async_client(script, project_id=new_id(), **options)


def test_add_wait_then_chat_is_grounded(wemu: Emulator) -> None:
    client = workspace(wemu)
    added = client.knowledge.add(text="Our refund window is 30 days.", name="Refund policy")
    assert isinstance(added, mixerlead.Indexing)
    assert added.id.startswith("kb_")
    assert added.status == "indexing"
    assert added.raw == {"id": added.id, "status": "indexing"}
    [ready] = client.knowledge.wait_until_indexed([added.id], timeout=30)
    assert isinstance(ready, mixerlead.Source)
    assert (ready.id, ready.status, ready.enabled) == (added.id, "indexed", True)
    assert ready.raw["name"] == "Refund policy"
    reply = client.chat.send("How long is the refund window?")
    assert "Grounded on: Refund policy" in reply.text
    # Another project's chat is not grounded on it.
    assert "Grounded on" not in workspace(wemu).chat.send("How long is the refund window?").text


def test_sources_file_path_object_bytes_list_enable_disable_reindex_delete(wemu: Emulator, tmp_path: Path) -> None:
    client = workspace(wemu)
    handbook = tmp_path / "handbook.md"
    handbook.write_text("# Handbook\n\nBe kind.\n")
    guide = tmp_path / "guide.md"
    guide.write_text("# Guide\n")
    by_path = client.knowledge.add(file=handbook, name="Handbook")
    with open(guide, "rb") as f:
        by_object = client.knowledge.add(file=f)
    by_bytes = client.knowledge.add(file=io.BytesIO(b"in memory"), name="Memo")
    by_url = client.knowledge.add(url="https://example.com/docs")
    ids = [by_path.id, by_object.id, by_bytes.id, by_url.id]
    ready = client.knowledge.wait_until_indexed(ids, timeout=30)
    assert [s.id for s in ready] == ids
    listed = {s.id: s for s in client.knowledge.list()}
    assert set(listed) == set(ids)
    assert listed[by_path.id].source_url_or_path == "handbook.md"
    assert listed[by_object.id].source_url_or_path == "guide.md"
    assert listed[by_url.id].source_url_or_path == "https://example.com/docs"
    assert listed[by_url.id].kind == "url"
    assert listed[by_url.id].last_error is None
    disabled = client.knowledge.disable(by_url.id)
    assert disabled is None or disabled.enabled is False
    assert not {s.id: s for s in client.knowledge.list()}[by_url.id].enabled
    enabled = client.knowledge.enable(by_url.id)
    assert enabled is None or enabled.enabled is True
    again = client.knowledge.reindex(by_url.id)
    assert again.id == by_url.id
    client.knowledge.delete(by_url.id)
    assert by_url.id not in {s.id for s in client.knowledge.list()}
    crawl = client.knowledge.crawl("https://example.com/", max_pages=3)
    assert crawl.id.startswith("kb_")


def test_indexing_error_with_source_id_and_last_error(wemu: Emulator) -> None:
    client = workspace(wemu)
    good = client.knowledge.add(text="fine")
    bad = client.knowledge.add(url="https://fail.example.com/page")
    with pytest.raises(mixerlead.IndexingError, match="failed to index") as caught:
        client.knowledge.wait_until_indexed([good.id, bad.id], timeout=30)
    e = caught.value
    assert isinstance(e, mixerlead.MixerLeadError)
    assert e.source_id == bad.id
    assert e.last_error == "could not fetch https://fail.example.com/page: host unreachable"
    assert e.last_error in str(e)
    [listed] = [s for s in client.knowledge.list() if s.id == bad.id]
    assert (listed.status, listed.last_error) == ("error", e.last_error)
    with pytest.raises(mixerlead.IndexingError, match="kb_nope") as gone:
        client.knowledge.wait_until_indexed("kb_nope")
    assert (gone.value.source_id, gone.value.last_error) == ("kb_nope", None)
    assert client.knowledge.wait_until_indexed([]) == []


def test_wait_until_indexed_deadline(wemu: Emulator) -> None:
    client = workspace(wemu)
    added = client.knowledge.add(text="slow")
    with pytest.raises(mixerlead.APITimeoutError, match="still indexing"):
        client.knowledge.wait_until_indexed([added.id], timeout=0.02)
    with pytest.raises(ValueError, match="timeout"):
        client.knowledge.wait_until_indexed([added.id], timeout=-1)
    assert client.knowledge.wait_until_indexed(added.id, timeout=30)[0].status == "indexed"


def test_409_413_403_are_typed_errors_with_the_service_message(wemu: Emulator, tmp_path: Path) -> None:
    client = workspace(wemu)
    client.knowledge.add(url="https://example.com/dup")
    with pytest.raises(mixerlead.ConflictError) as conflict:
        client.knowledge.add(url="https://example.com/dup")
    assert conflict.value.status_code == 409
    assert conflict.value.message == "a source for https://example.com/dup already exists"
    assert conflict.value.body == {"error": conflict.value.message}

    big = tmp_path / "big.bin"
    big.write_bytes(b"\x07" * (MAX_UPLOAD * 2))
    files: List[Union[Path, BinaryIO]] = [big, io.BytesIO(big.read_bytes())]
    for file in files:
        with pytest.raises(mixerlead.PayloadTooLargeError, match="over the storage quota") as too_large:
            client.knowledge.add(file=file)
        assert too_large.value.status_code == 413

    agent = client.agents.create("Scout", "research")
    assert isinstance(agent, mixerlead.Agent)
    assert (agent.name, agent.type) == ("Scout", "research")
    with pytest.raises(mixerlead.ConflictError, match="already exists"):
        client.agents.create("Scout", "strategy")
    sid = new_id()
    scoped = client.with_options(base_url=wemu.scenario_url(f"id={sid}"))
    assert agent.id is not None
    assert "Scout (research) ran" in scoped.agents.run(agent.id)["output"]
    scoped.agents.run(agent.id)
    with pytest.raises(mixerlead.PermissionDeniedError, match="daily agent run quota reached") as quota:
        scoped.agents.run(agent.id)
    assert quota.value.status_code == 403
    assert wemu.stats(sid)["requests"] == 3, "the 403 was not retried"


CREATES: List[Tuple[str, Callable[[mixerlead.Client], object]]] = [
    ("knowledge.add", lambda c: c.knowledge.add(text="x")),
    ("knowledge.crawl", lambda c: c.knowledge.crawl("https://example.com/")),
    ("knowledge.reindex", lambda c: c.knowledge.reindex("kb_1")),
    ("skills.run", lambda c: c.skills.run("summarize", {"a": 1})),
    ("agents.create", lambda c: c.agents.create("A", "strategy")),
    ("agents.run", lambda c: c.agents.run("ag_1")),
    ("artifacts.create", lambda c: c.artifacts.create(name="doc")),
]

LISTS: List[Tuple[str, Callable[[mixerlead.Client], object]]] = [
    ("knowledge.list", lambda c: c.knowledge.list()),
    ("skills.list", lambda c: c.skills.list()),
    ("agents.list", lambda c: c.agents.list()),
    ("artifacts.list", lambda c: c.artifacts.list()),
]


@pytest.mark.parametrize("name,create", CREATES, ids=[n for n, _ in CREATES])
def test_a_create_is_sent_once_after_a_503(wemu: Emulator, name: str, create: Callable[[mixerlead.Client], object]) -> None:
    sid = new_id()
    with pytest.raises(mixerlead.InternalServerError):
        create(workspace(wemu, f"id={sid};fail=503;times=1;retry_after=0"))
    assert wemu.stats(sid)["requests"] == 1, name


@pytest.mark.parametrize("name,list_", LISTS, ids=[n for n, _ in LISTS])
def test_a_list_is_retried_after_a_503(wemu: Emulator, name: str, list_: Callable[[mixerlead.Client], object]) -> None:
    sid = new_id()
    assert isinstance(list_(workspace(wemu, f"id={sid};fail=503;times=1;retry_after=0")), list)
    assert wemu.stats(sid)["requests"] == 2, name


def test_bad_input_raises_before_anything_is_sent(wemu: Emulator, tmp_path: Path) -> None:
    sid = new_id()
    client = workspace(wemu, f"id={sid}")
    k = client.knowledge
    with pytest.raises(ValueError, match="one of url, text or file"):
        k.add()
    with pytest.raises(ValueError, match="one of url, text or file"):
        k.add(name="only a name")
    with pytest.raises(ValueError, match="only one of url, text or file"):
        k.add(url="https://a.example", text="b")
    with pytest.raises(ValueError, match="only one"):
        k.add(text="b", file=io.BytesIO(b"c"))
    with pytest.raises(FileNotFoundError, match="missing.pdf"):
        k.add(file=tmp_path / "missing.pdf")
    with pytest.raises(ValueError, match="not a regular file"):
        k.add(file=str(tmp_path))
    with pytest.raises(TypeError, match="file must be"):
        k.add(file=42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="url must not be empty"):
        k.add(url=" ")
    with pytest.raises(ValueError, match="id must not be empty"):
        k.enable("")
    with pytest.raises(ValueError, match="skill_?id must not be empty"):
        client.skills.run("")
    with pytest.raises(TypeError, match="vars"):
        client.skills.run("summarize", {"n": object()})
    with pytest.raises(ValueError, match='unknown agent type "wizard"'):
        client.agents.create("X", "wizard")
    with pytest.raises(ValueError, match="name must not be empty"):
        client.agents.create(" ", "research")
    with pytest.raises(ValueError, match="agent_?id must not be empty"):
        client.agents.run(" ")
    with pytest.raises(ValueError, match="at least one field"):
        client.artifacts.create()
    with pytest.raises(ValueError, match="timeout"):
        k.list(timeout=-1)
    with pytest.raises(ValueError, match="max_?retries"):
        client.agents.create("X", "research", max_retries=-1)
    assert wemu.stats(sid)["requests"] == 0


def test_skills_artifacts_and_per_call_options(wemu: Emulator) -> None:
    sid = new_id()
    client = workspace(wemu, f"id={sid}")
    skills = client.skills.list()
    assert any(s.id == "summarize" for s in skills)
    out = client.skills.run("summarize", {"topic": "refunds"}, extra_headers={"X-Trace": "ws-1"})
    assert isinstance(out, mixerlead.SkillOutput)
    assert "refunds" in out.output
    assert isinstance(out.raw, dict)
    assert wemu.stats(sid)["last_headers"]["x-trace"] == "ws-1"
    assert wemu.stats(sid)["last_headers"]["x-project-id"]
    made = client.artifacts.create(name="Plan", content="Step 1", timeout=10)
    assert isinstance(made, mixerlead.Artifact)
    assert made.name == "Plan"
    assert made.raw["content"] == "Step 1"
    assert [a.id for a in client.artifacts.list(max_retries=0)] == [made.id]
    assert [a.id for a in client.agents.list()] == []
    retried = new_id()
    with pytest.raises(mixerlead.InternalServerError):
        workspace(wemu, f"id={retried};fail=503;retry_after=0").artifacts.list(max_retries=3)
    assert wemu.stats(retried)["requests"] == 4


async def test_async_add_wait_chat(wemu: Emulator) -> None:
    client = async_workspace(wemu)
    added = await client.knowledge.add(text="Shipping takes 3 days.", name="Shipping")
    [ready] = await client.knowledge.wait_until_indexed([added.id], timeout=30)
    assert ready.status == "indexed"
    assert "Grounded on: Shipping" in (await client.chat.send("How long is shipping?")).text
    assert [s.id for s in await client.knowledge.list()] == [added.id]
    await client.knowledge.disable(added.id)
    await client.knowledge.enable(added.id)
    await client.knowledge.reindex(added.id)
    await client.knowledge.delete(added.id)
    assert await client.knowledge.list() == []


async def test_async_errors_and_other_resources(wemu: Emulator) -> None:
    client = async_workspace(wemu)
    bad = await client.knowledge.add(url="https://fail.example.com/x")
    with pytest.raises(mixerlead.IndexingError) as caught:
        await client.knowledge.wait_until_indexed([bad.id], timeout=30)
    assert caught.value.source_id == bad.id
    assert caught.value.last_error is not None
    agent = await client.agents.create("Async", "monitoring", {"every": "1h"})
    assert agent.type == "monitoring"
    assert [a.id for a in await client.agents.list()] == [agent.id]
    assert agent.id is not None
    assert isinstance(await client.agents.run(agent.id), dict)
    assert (await client.skills.list())[0].id
    assert (await client.skills.run("summarize", {"topic": "x"})).output
    made = await client.artifacts.create(name="Doc")
    assert [a.id for a in await client.artifacts.list()] == [made.id]
    with pytest.raises(ValueError, match="unknown agent type"):
        await client.agents.create("X", "wizard")
    sid = new_id()
    with pytest.raises(mixerlead.InternalServerError):
        await async_workspace(wemu, f"id={sid};fail=503;times=1;retry_after=0").agents.create("A", "research")
    assert wemu.stats(sid)["requests"] == 1
