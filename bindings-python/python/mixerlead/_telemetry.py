"""Whether calls are traced: OpenTelemetry is looked for once, at the first call, and
``mixerlead._otel`` (which imports it) is loaded only when ``opentelemetry`` is installed.
Without it a call costs one global lookup here, and nothing is imported."""

from __future__ import annotations

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any, Optional

# The span names of the Workspace API calls, by the binding's operation name.
OPERATIONS = {
    "knowledge_add": "POST /knowledge",
    "knowledge_crawl": "POST /knowledge/crawl",
    "knowledge_list": "GET /knowledge",
    "knowledge_set_enabled": "PATCH /knowledge/{id}",
    "knowledge_reindex": "POST /knowledge/{id}/reindex",
    "knowledge_delete": "DELETE /knowledge/{id}",
    "knowledge_wait_until_indexed": "GET /knowledge",
    "skills_list": "GET /skills",
    "skills_run": "POST /skills/exec",
    "agents_list": "GET /agents",
    "agents_create": "POST /agents",
    "agents_run": "POST /agents/{id}/run",
    "artifacts_list": "GET /artifacts",
    "artifacts_create": "POST /artifacts",
}

_telemetry: Any = None
"""``None`` until the first call; then ``False`` (no OpenTelemetry) or the ``_otel.Telemetry``."""


def get() -> Optional[Any]:
    """The OpenTelemetry layer, or ``None`` when ``opentelemetry`` is not installed."""
    global _telemetry
    if _telemetry is None:
        import importlib.util

        _telemetry = False
        if importlib.util.find_spec("opentelemetry") is not None:
            try:
                from . import _otel

                _telemetry = _otel.Telemetry()
            except ImportError:  # an incomplete installation: calls go untraced
                _telemetry = False
    return _telemetry or None


def call(fn: Any, args: Any, name: str, options: Any, chat: Any = None) -> Any:
    """``fn(*args, options)``, traced as ``name`` when OpenTelemetry is installed."""
    telemetry = _telemetry if _telemetry is not None else get()
    if not telemetry:
        return fn(*args, options)
    options, observer = telemetry.begin(name, options, chat)
    try:
        return fn(*args, options)
    except BaseException as error:
        if observer is not None:
            observer.abandon(error)
        raise


async def acall(fn: Any, args: Any, name: str, options: Any, chat: Any = None) -> Any:
    """``await fn(*args, options)``, traced as ``name`` when OpenTelemetry is installed."""
    telemetry = _telemetry if _telemetry is not None else get()
    if not telemetry:
        return await fn(*args, options)
    options, observer = telemetry.begin(name, options, chat)
    try:
        return await fn(*args, options)
    except BaseException as error:
        if observer is not None:
            observer.abandon(error)
        raise


def chat_name(model: Optional[str]) -> str:
    """The span name of a chat: ``chat <model>``, ``chat`` for Auto."""
    return "chat" if model is None else "chat " + model
