"""OpenTelemetry: a CLIENT span per call from the global tracer provider, with the GenAI
attributes; the chats' metrics; the caller's context carried to the service; no text, no key;
and nothing at all when OpenTelemetry is not installed. Uses the real SDK with in-memory
exporters, set as the global providers for this test session."""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import time
from typing import Any, Dict, List

import pytest
from opentelemetry import baggage, context, metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import mixerlead
from conftest import KEY, Emulator

EXPORTER = InMemorySpanExporter()
READER = InMemoryMetricReader()
_provider = TracerProvider()
_provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
trace.set_tracer_provider(_provider)
metrics.set_meter_provider(MeterProvider(metric_readers=[READER]))
TRACER = trace.get_tracer("tests")
SECRET = "a very private message"


@pytest.fixture(autouse=True)
def _fresh() -> None:
    EXPORTER.clear()


def spans(name: str) -> List[ReadableSpan]:
    return [s for s in EXPORTER.get_finished_spans() if s.name == name]


def only(name: str, within: float = 1.0) -> ReadableSpan:
    deadline = time.monotonic() + within
    while not spans(name) and time.monotonic() < deadline:
        time.sleep(0.005)  # a span ended on a runtime thread is delivered at the next chance
    found = spans(name)
    assert len(found) == 1, [s.name for s in EXPORTER.get_finished_spans()]
    return found[0]


def no_secrets() -> None:
    for span in EXPORTER.get_finished_spans():
        dump = json.dumps([dict(span.attributes or {}), [(e.name, dict(e.attributes or {})) for e in span.events]])
        assert SECRET not in dump and KEY not in dump, dump


def test_stream_span_under_the_parent_with_the_genai_attributes(emu: Emulator, sid: str) -> None:
    client = mixerlead.Client(KEY, base_url=emu.url(f"id={sid};pieces=5"))
    with TRACER.start_as_current_span("parent") as parent:
        token = context.attach(baggage.set_baggage("tenant", "t42"))
        try:
            stream = client.chat.stream(SECRET, model="ml-auto")
        finally:
            context.detach(token)
        assert spans("chat ml-auto") == [], "the span lasts as long as the stream"
        text = stream.read()
    assert text
    span = only("chat ml-auto")
    assert span.kind == SpanKind.CLIENT
    assert span.parent is not None and span.parent.span_id == parent.get_span_context().span_id
    attrs = dict(span.attributes or {})
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == "mixerlead"
    assert attrs["gen_ai.request.model"] == "ml-auto"
    assert attrs["gen_ai.conversation.id"] == stream.conversation_id
    assert attrs["server.address"] == "127.0.0.1" and isinstance(attrs["server.port"], int)
    assert attrs["http.response.status_code"] == 200
    assert attrs["mixerlead.request_id"] == stream.request_id
    assert "http.request.resend_count" not in attrs and "error.type" not in attrs
    assert span.status.status_code == StatusCode.UNSET
    assert span.start_time is not None and span.end_time is not None and span.end_time >= span.start_time
    # The service saw the chat span as the parent of its own work, and the baggage.
    headers = emu.stats(sid)["last_headers"]
    ctx = span.get_span_context()
    assert ctx is not None
    assert headers["traceparent"].startswith(f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-")
    assert headers["baggage"] == "tenant=t42"
    no_secrets()


def test_send_retries_are_counted_and_events(emu: Emulator, sid: str) -> None:
    client = mixerlead.Client(KEY, base_url=emu.url(f"id={sid};fail=503;times=1"))
    client.chat.send(SECRET)
    span = only("chat")
    attrs = dict(span.attributes or {})
    assert attrs["http.request.resend_count"] == 1
    assert "gen_ai.request.model" not in attrs
    [event] = [e for e in span.events if e.name == "mixerlead.retry"]
    assert dict(event.attributes or {})["error.type"] == "InternalServerError"
    no_secrets()


def test_error_span(emu: Emulator, sid: str) -> None:
    client = mixerlead.Client(KEY, base_url=emu.url(f"id={sid};fail=404"))
    with pytest.raises(mixerlead.NotFoundError):
        client.models.list()
    span = only("GET /ai/models")
    attrs = dict(span.attributes or {})
    assert attrs["error.type"] == "NotFoundError" and attrs["http.response.status_code"] == 404
    assert span.status.status_code == StatusCode.ERROR
    with pytest.raises(mixerlead.BadRequestError):
        mixerlead.Client(KEY, base_url=emu.url(f"id={sid}b;fail=400")).chat.stream(SECRET)
    assert dict(only("chat").attributes or {})["error.type"] == "BadRequestError"
    no_secrets()


def test_a_stream_dropped_half_read_ends_its_span(emu: Emulator, sid: str) -> None:
    client = mixerlead.Client(KEY, base_url=emu.url(f"id={sid};pieces=200;delay_ms=5"))
    stream = client.chat.stream(SECRET)
    next(stream)
    del stream
    gc.collect()
    span = only("chat")
    assert dict(span.attributes or {})["mixerlead.outcome"] == "closed"
    assert span.status.status_code == StatusCode.UNSET
    with client.chat.stream(SECRET) as stream:
        next(stream)
    deadline = time.monotonic() + 1.0
    while len(spans("chat")) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(spans("chat")) == 2


def test_workspace_calls_are_named_by_their_path_template(emu: Emulator) -> None:
    client = mixerlead.Client(KEY, base_url=emu.base_url)
    client.knowledge.list()
    only("GET /knowledge")
    with pytest.raises(mixerlead.NotFoundError):
        client.knowledge.enable("kb_missing")
    assert dict(only("PATCH /knowledge/{id}").attributes or {})["error.type"] == "NotFoundError"


def test_metrics_are_recorded(emu: Emulator, sid: str) -> None:
    client = mixerlead.Client(KEY, base_url=emu.url(f"id={sid};pieces=5"))
    client.chat.send(SECRET, model="ml-auto")
    data = READER.get_metrics_data()
    assert data is not None
    points: Dict[str, List[Any]] = {}
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                points.setdefault(metric.name, []).extend(metric.data.data_points)
    for name in (
        "gen_ai.client.operation.duration",
        "gen_ai.client.operation.time_to_first_chunk",
        "gen_ai.client.operation.time_per_output_chunk",
    ):
        auto = [p for p in points[name] if dict(p.attributes).get("gen_ai.request.model") == "ml-auto"]
        assert auto and auto[0].count >= 1, name
        assert dict(auto[0].attributes)["gen_ai.operation.name"] == "chat"


def test_async_calls_and_a_cancelled_stream(emu: Emulator, sid: str) -> None:
    async def main() -> None:
        async with mixerlead.AsyncClient(KEY, base_url=emu.url(f"id={sid};pieces=200;delay_ms=5")) as client:
            with TRACER.start_as_current_span("parent") as parent:
                await client.models.list()
                stream = await client.chat.stream(SECRET)
                async for _ in stream:
                    break
                await stream.aclose()
                task = asyncio.ensure_future(client.chat.send(SECRET))
                await asyncio.sleep(0.05)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
            await asyncio.sleep(0.1)
            await client.models.list()  # delivers what finished on the runtime meanwhile
        for span in spans("GET /ai/models")[:1] + spans("chat"):
            assert span.parent is not None and span.parent.span_id == parent.get_span_context().span_id

    asyncio.run(main())
    chats = spans("chat")
    assert len(chats) == 2
    outcomes = sorted(str(dict(s.attributes or {}).get("mixerlead.outcome", s.status.status_code.name)) for s in chats)
    assert outcomes == ["ERROR", "closed"], outcomes
    cancelled = [s for s in chats if s.status.status_code == StatusCode.ERROR][0]
    assert dict(cancelled.attributes or {})["error.type"] == "CancelledError"
    no_secrets()


def test_message_content_only_when_asked(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    from mixerlead import _telemetry

    telemetry = _telemetry.get()
    assert telemetry is not None
    monkeypatch.setattr(telemetry, "capture_content", True)
    mixerlead.Client(KEY, base_url=emu.base_url).chat.send(SECRET)
    assert SECRET in str(dict(only("chat").attributes or {})["gen_ai.input.messages"])


def test_without_opentelemetry_nothing_is_imported(emu: Emulator, sid: str) -> None:
    script = f"""
import sys
sys.modules["opentelemetry"] = None  # as if it were not installed
import mixerlead
client = mixerlead.Client({KEY!r}, base_url={emu.url("id=" + sid)!r})
client.chat.send("hi"); client.models.list()
from mixerlead import _telemetry
assert _telemetry._telemetry is False, _telemetry._telemetry
assert not [m for m in sys.modules if m.startswith("opentelemetry") and sys.modules[m] is not None]
assert "mixerlead._otel" not in sys.modules
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr
    assert "traceparent" not in emu.stats(sid)["last_headers"]
