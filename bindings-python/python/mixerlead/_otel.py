"""OpenTelemetry for every call, loaded by ``_telemetry`` only when ``opentelemetry`` is
installed: a CLIENT span per call from the global tracer provider, in the current context,
named and described as the GenAI semantic conventions say; the chats' metrics from the global
meter provider; and the current context injected into the request's headers with the global
propagator. Every time and count comes from the core's report of the call: nothing is timed here.

No message text is recorded unless ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``
(then the message sent, as ``gen_ai.input.messages``); never the key."""

from __future__ import annotations

import json
import os

import opentelemetry.trace as _trace_globals
from opentelemetry import baggage, metrics, propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from ._native import __version__

try:
    from opentelemetry.metrics import _internal as _metrics_globals
except ImportError:  # pragma: no cover - an API laid out otherwise
    _metrics_globals = None
_UNKNOWN = object()

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any, Dict, Mapping, Optional, Tuple

# The buckets the GenAI semantic conventions advise for durations (seconds).
_DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]
_CHUNK_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5]

def _histogram(meter: Any, name: str, description: str, buckets: Any) -> Any:
    try:
        return meter.create_histogram(name, unit="s", description=description,
                                      explicit_bucket_boundaries_advisory=buckets)
    except TypeError:  # an API before bucket advice
        return meter.create_histogram(name, unit="s", description=description)


# The core's error types Python names otherwise.
_PYTHON_NAMES = {"AbortError": "CancelledError", "InvalidArgumentError": "ValueError"}


class Telemetry:
    """The tracer, the instruments and the settings, made once per process."""

    def __init__(self) -> None:
        self.tracer = trace.get_tracer("mixerlead", __version__)
        meter = metrics.get_meter("mixerlead", __version__)
        self.duration = _histogram(meter, "gen_ai.client.operation.duration", "GenAI operation duration",
                                   _DURATION_BUCKETS)
        self.first_chunk = _histogram(meter, "gen_ai.client.operation.time_to_first_chunk",
                                      "Time to receive the first chunk of a streamed reply", _CHUNK_BUCKETS)
        self.per_chunk = _histogram(meter, "gen_ai.client.operation.time_per_output_chunk",
                                    "Time per output chunk after the first", _CHUNK_BUCKETS)
        capture = os.environ.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "")
        self.capture_content = capture.strip().lower() == "true"

    def begin(
        self,
        name: str,
        options: Optional[Dict[str, Any]],
        chat: Optional[Tuple[str, Optional[str], Optional[str]]] = None,
    ) -> Tuple[Optional[Dict[str, Any]], Optional[Observer]]:
        """Starts the span of a call named ``name`` (a chat when ``chat`` is its message, model
        and conversation id) in the current context; returns the call's options with the
        propagation headers and the observer the core reports to (``None`` when no provider
        was set: spans and metrics would go nowhere, and only the current context is sent on)."""
        if _providers_set():
            return self.traced(name, options, chat)
        if not (trace.get_current_span().get_span_context().is_valid or baggage.get_all()):
            return options, None  # nothing to send on
        return _with_headers(options, None), None

    def traced(
        self,
        name: str,
        options: Optional[Dict[str, Any]],
        chat: Optional[Tuple[str, Optional[str], Optional[str]]] = None,
    ) -> Tuple[Dict[str, Any], Observer]:
        """:meth:`begin` when a provider was set."""
        attributes: Dict[str, Any] = {}
        if chat is not None:
            message, model, conversation_id = chat
            attributes["gen_ai.operation.name"] = "chat"
            attributes["gen_ai.provider.name"] = "mixerlead"
            if model is not None:
                attributes["gen_ai.request.model"] = model
            if conversation_id is not None:
                attributes["gen_ai.conversation.id"] = conversation_id
            if self.capture_content:
                parts = [{"type": "text", "content": message}]
                attributes["gen_ai.input.messages"] = json.dumps([{"role": "user", "parts": parts}])
        span = self.tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
        context = trace.set_span_in_context(span) if span.get_span_context().is_valid else None
        call = _with_headers(options, context)
        observer = Observer(self, span, chat is not None, model if chat is not None else None)
        if span.is_recording() or _meter_provider_set():
            call["observe"] = observer
        return call, observer


def _with_headers(options: Optional[Dict[str, Any]], context: Any) -> Dict[str, Any]:
    """The call's options with ``context`` (``None``: the current one) injected into its headers."""
    call = dict(options) if options else {}
    given: Optional[Mapping[str, str]] = call.get("extra_headers")
    if given is None or hasattr(given, "items"):  # else the core refuses it, as without tracing
        headers: Dict[str, str] = dict(given.items()) if given else {}
        propagate.inject(headers, context=context)
        if headers:
            call["extra_headers"] = headers
    return call


def _meter_provider_set() -> bool:
    """Whether a meter provider was set (else metrics would go nowhere)."""
    provider = getattr(_metrics_globals, "_METER_PROVIDER", _UNKNOWN)
    if provider is _UNKNOWN:  # an API that keeps it elsewhere: ask it
        return type(metrics.get_meter_provider()).__name__ not in ("_ProxyMeterProvider", "NoOpMeterProvider")
    return provider is not None


def _providers_set() -> bool:
    """Whether a tracer or a meter provider was set: read from the API's globals (one attribute
    each) rather than through its getters, which cost a microsecond each on every call."""
    return getattr(_trace_globals, "_TRACER_PROVIDER", True) is not None or _meter_provider_set()


class Observer:
    """Ends one call's span from the core's report, and records its metrics."""

    __slots__ = ("telemetry", "span", "chat", "model", "done")

    def __init__(self, telemetry: Telemetry, span: Any, chat: bool, model: Optional[str]) -> None:
        self.telemetry = telemetry
        self.span = span
        self.chat = chat
        self.model = model
        self.done = False

    def __call__(self, report: Tuple[Any, ...]) -> None:
        (_name, _chat, _model, conversation_id, address, port, attempts, status, request_id, outcome,
         error_type, _start_ns, end_ns, _pieces, duration, first_chunk, per_chunk, events) = report
        if self.done:
            return
        self.done = True
        error_type = _PYTHON_NAMES.get(error_type, error_type)
        span = self.span
        if span.is_recording():
            span.set_attribute("server.address", address)
            span.set_attribute("server.port", port)
            if status is not None:
                span.set_attribute("http.response.status_code", status)
            if request_id is not None:
                span.set_attribute("mixerlead.request_id", request_id)
            if attempts > 1:
                span.set_attribute("http.request.resend_count", attempts - 1)
            if conversation_id is not None and self.chat:
                span.set_attribute("gen_ai.conversation.id", conversation_id)
            if outcome == "closed":
                span.set_attribute("mixerlead.outcome", "closed")
            for name, at_ns, reason, seconds, attempt in events:
                attributes: Dict[str, Any] = {"mixerlead.wait.seconds": seconds, "mixerlead.attempt": attempt}
                attributes["error.type" if name == "mixerlead.retry" else "mixerlead.wait.reason"] = reason
                span.add_event(name, attributes, timestamp=at_ns)
            if error_type is not None:
                span.set_attribute("error.type", error_type)
                span.set_status(Status(StatusCode.ERROR, error_type))
        span.end(end_time=end_ns)
        if self.chat:
            attributes = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "mixerlead"}
            if self.model is not None:
                attributes["gen_ai.request.model"] = self.model
            if error_type is not None:
                attributes["error.type"] = error_type
            telemetry = self.telemetry
            telemetry.duration.record(duration, attributes)
            if first_chunk is not None:
                telemetry.first_chunk.record(first_chunk, attributes)
            if per_chunk is not None:
                telemetry.per_chunk.record(per_chunk, attributes)

    def abandon(self, error: BaseException) -> None:
        """The call raised before the core reported it (a bad argument, or a cancellation the
        core reports later): ends the span now with the error's class."""
        if self.done:
            return
        self.done = True
        error_type = type(error).__name__
        self.span.set_attribute("error.type", error_type)
        self.span.set_status(Status(StatusCode.ERROR, error_type))
        self.span.end()
