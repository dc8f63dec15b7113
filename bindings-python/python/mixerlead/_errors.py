"""The exception classes, one per kind of failure of the core. The native module raises them through ``_from_native``."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (12 ms)

if TYPE_CHECKING:
    from typing import Any, Optional

__all__ = [
    "MixerLeadError",
    "ConfigurationError",
    "APIConnectionError",
    "APITimeoutError",
    "StreamInterruptedError",
    "APIResponseError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "PayloadTooLargeError",
    "RateLimitError",
    "InternalServerError",
    "IndexingError",
]


class MixerLeadError(Exception):
    """Base class of every error this package raises (bad arguments raise ``ValueError``)."""

    message: str
    """What went wrong; for status errors, the service's own message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(MixerLeadError):
    """No API key, a malformed base URL, or plain ``http://`` to a non-loopback host."""


class APIConnectionError(MixerLeadError):
    """The service could not be reached, or the connection broke."""


class APITimeoutError(APIConnectionError):
    """The connect, response-headers or read (stalled stream) timeout elapsed."""

    partial_text: Optional[str]
    """For a stream that stalled: the text that arrived before it."""

    def __init__(self, message: str, partial_text: Optional[str] = None) -> None:
        super().__init__(message)
        self.partial_text = partial_text


class StreamInterruptedError(APIConnectionError):
    """The connection was lost or the body cut short after the reply started streaming."""

    partial_text: str
    """The text that arrived before the interruption."""

    def __init__(self, message: str, partial_text: Optional[str] = None) -> None:
        super().__init__(message)
        self.partial_text = partial_text or ""


class APIResponseError(MixerLeadError):
    """The reply could not be decoded: malformed JSON, an over-size event, or an error the
    service reported inside the stream."""

    partial_text: Optional[str]
    """For a failure mid-stream: the text that arrived before it."""

    def __init__(self, message: str, partial_text: Optional[str] = None) -> None:
        super().__init__(message)
        self.partial_text = partial_text


class APIStatusError(MixerLeadError):
    """The service answered with a non-2xx status (after any retries)."""

    status_code: int
    """The HTTP status."""
    body: Any
    """The error response's body: parsed JSON, else text, else ``None``."""
    request_id: Optional[str]
    """The ``x-request-id`` header, when the service sent one."""
    retry_after: Optional[float]
    """Seconds the service asked to wait before retrying, when it said."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: Any = None,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body
        self.request_id = request_id
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"HTTP {self.status_code}: {self.message}"


class BadRequestError(APIStatusError):
    """400: the request was malformed."""


class AuthenticationError(APIStatusError):
    """401: the key is missing, malformed or revoked."""


class PermissionDeniedError(APIStatusError):
    """403: not allowed (plan, capability, credits or daily quota). Do not retry."""


class NotFoundError(APIStatusError):
    """404: unknown resource, such as a conversation id."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the resource's state."""


class PayloadTooLargeError(APIStatusError):
    """413: the message is too large."""


class RateLimitError(APIStatusError):
    """429: rate limited; ``retry_after`` says how long to wait, when the service said."""


class InternalServerError(APIStatusError):
    """5xx: a server error that did not go away with retries."""


class IndexingError(MixerLeadError):
    """A knowledge source failed to index (raised by ``knowledge.wait_until_indexed``)."""

    source_id: str
    """The id of the source that failed."""
    last_error: Optional[str]
    """Why, as the service said (the source's ``last_error``), when it said."""

    def __init__(self, message: str, *, source_id: str, last_error: Optional[str] = None) -> None:
        super().__init__(message)
        self.source_id = source_id
        self.last_error = last_error


_BY_STATUS = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: RateLimitError,
}


def _from_native(
    kind: str,
    message: str,
    status_code: Optional[int],
    body_json: Optional[str],
    body_text: Optional[str],
    request_id: Optional[str],
    retry_after: Optional[float],
    partial_text: Optional[str],
    source_id: Optional[str] = None,
    last_error: Optional[str] = None,
) -> MixerLeadError:
    """Builds the exception for a core error (called by the native module)."""
    if kind == "status" and status_code is not None:
        cls = _BY_STATUS.get(status_code)
        if cls is None:
            cls = InternalServerError if status_code >= 500 else APIStatusError
        import json

        body: Any = json.loads(body_json) if body_json is not None else body_text
        return cls(message, status_code=status_code, body=body, request_id=request_id, retry_after=retry_after)
    if kind == "configuration":
        return ConfigurationError(message)
    if kind == "timeout":
        return APITimeoutError(message, partial_text)
    if kind == "stream_interrupted":
        return StreamInterruptedError(message, partial_text)
    if kind == "decode":
        return APIResponseError(message, partial_text)
    if kind == "indexing":
        return IndexingError(message, source_id=source_id or "", last_error=last_error)
    if kind == "connection":
        return APIConnectionError(message)
    return MixerLeadError(message)
