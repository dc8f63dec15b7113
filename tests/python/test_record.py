"""Record and replay from Python: record the emulator's scripted faults with
``record=``, replay with ``Emulator(cassette=…, speed=…)``; and across surfaces, a cassette
recorded here replayed by the emulator binary, and one recorded by the CLI replayed here."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator, List, Tuple

import pytest

import mixerlead
from mixerlead.testing import Emulator

from conftest import KEY, ROOT


def lines(path: Path) -> List[Any]:
    text = path.read_text()
    assert KEY not in text and "authorization" not in text.lower()
    return [json.loads(line) for line in text.splitlines()]


def timed(stream: mixerlead.ChatStream) -> List[Tuple[float, str]]:
    start = time.monotonic()
    return [(time.monotonic() - start, piece) for piece in stream]


def test_record_the_faults_then_replay_them(tmp_path: Path) -> None:
    cassette = tmp_path / "faults.jsonl"
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\n")
    with Emulator(index_delay_ms=50) as live:
        options: dict[str, Any] = {"api_key": KEY, "record": cassette}
        with live.client("delay_ms=60", **options).chat.stream("slowly") as stream:
            paced = timed(stream)
            paced_ids = (stream.conversation_id, stream.request_id)
        retried = live.client("fail=429;times=1;retry_after=0.2", **options).chat.send("after a 429")
        with pytest.raises(mixerlead.StreamInterruptedError) as cut:
            live.client("disconnect_after=3", **options).chat.send("cut me off")
        source = live.client(**options).knowledge.add(file=str(notes), name="Notes")

    recorded = lines(cassette)
    assert recorded[0] == {"mixerlead_cassette": 1}
    assert [line["status"] for line in recorded[1:]] == [200, 429, 200, 200, 201]
    assert recorded[2]["response_headers"]["retry-after"] == "0.2"
    assert recorded[4]["end"] == "cut"
    assert recorded[5]["request"] == {"name": "Notes", "file": {"name": "notes.md", "size": 8}}
    assert recorded[1]["request_headers"]["user-agent"].startswith("mixerlead-python/")

    with Emulator(cassette=cassette) as replay:
        client = replay.client()
        with client.chat.stream("slowly") as stream:
            again = timed(stream)
            assert (stream.conversation_id, stream.request_id) == paced_ids
        assert [p for _, p in again] == [p for _, p in paced]
        for (then, _), (now, _) in zip(paced, again):
            assert abs(now - then) <= 0.2 * then + 0.015, (now, then)
        started = time.monotonic()
        reply = client.chat.send("after a 429")
        assert time.monotonic() - started >= 0.19
        assert (reply.text, reply.request_id) == (retried.text, retried.request_id)
        with pytest.raises(mixerlead.StreamInterruptedError) as again_cut:
            client.chat.send("cut me off")
        assert again_cut.value.partial_text == cut.value.partial_text
        assert client.knowledge.add(file=str(notes), name="Notes").id == source.id
        with pytest.raises(mixerlead.NotFoundError) as unmatched:
            client.chat.send("slowly")
        assert unmatched.value.message.startswith('no recorded exchange for POST /chat {"message":"slowly"}')
        stats = replay.stats()
        assert (stats["replayed"], stats["unmatched"]) == (5, 1)

    with Emulator(cassette=cassette, speed=0) as fast:
        with fast.client().chat.stream("slowly") as stream:
            at_once = timed(stream)
        assert [p for _, p in at_once] == [p for _, p in paced]
        assert at_once[-1][0] < 0.04


def test_bad_paths_and_cassettes(tmp_path: Path) -> None:
    with pytest.raises(mixerlead.ConfigurationError, match="nonexistent-dir"):
        mixerlead.Client(api_key=KEY, base_url="http://127.0.0.1:9/api", record="/nonexistent-dir/c.jsonl")
    cut = tmp_path / "cut.jsonl"
    cut.write_text('{"mixerlead_cassette": 1}\n{"method": "GET", "pa')
    with pytest.raises(ValueError, match=f"{cut} line 2"):
        Emulator(cassette=cut)
    with pytest.raises(ValueError, match="cannot be read"):
        Emulator(cassette=tmp_path / "missing.jsonl")


@pytest.fixture
def binary_replaying(tmp_path: Path) -> Iterator[Any]:
    processes: List[subprocess.Popen[str]] = []

    def start(cassette: Path) -> str:
        binary = os.environ.get("MIXERLEAD_EMULATOR", str(ROOT / "target" / "debug" / "mixerlead-emulator"))
        process = subprocess.Popen(
            [binary, "--port", "0", "--cassette", str(cassette), "--speed", "0"], stdout=subprocess.PIPE, text=True
        )
        processes.append(process)
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening on" in line, line
        return line.split()[-1]

    yield start
    for process in processes:
        process.kill()
        process.wait()


def test_a_python_cassette_replays_in_the_emulator_binary(tmp_path: Path, binary_replaying: Any) -> None:
    cassette = tmp_path / "python.jsonl"
    with Emulator() as live:
        recorded = live.client(record=cassette).chat.send("from python")
    base_url = binary_replaying(cassette)
    reply = mixerlead.Client(api_key=KEY, base_url=base_url).chat.send("from python")
    assert (reply.text, reply.conversation_id, reply.request_id) == (
        recorded.text,
        recorded.conversation_id,
        recorded.request_id,
    )


def test_a_cli_cassette_replays_here(tmp_path: Path) -> None:
    cli = ROOT / "target" / "debug" / "mixerlead"
    if not cli.exists():
        pytest.skip("the CLI is not built (cargo build -p mixerlead-cli)")
    cassette = tmp_path / "cli.jsonl"
    with Emulator() as live:
        env = {**os.environ, "MIXERLEAD_API_KEY": KEY, "MIXERLEAD_BASE_URL": live.base_url}
        runs = [
            subprocess.Popen([str(cli), "--record", str(cassette), "chat", f"from the CLI {i}"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            for i in range(2)
        ]
        printed = [run.communicate()[0] for run in runs]
    assert len(lines(cassette)) == 3, "two processes, two whole lines"
    with Emulator(cassette=cassette, speed=0) as replay:
        client = replay.client()
        for i in range(2):
            assert client.chat.send(f"from the CLI {i}").text == printed[i].rstrip("\n")
