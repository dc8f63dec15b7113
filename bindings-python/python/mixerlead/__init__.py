"""mixerlead: the client for MixerLead's Workspace API.

>>> import mixerlead
>>> client = mixerlead.Client()          # reads MIXERLEAD_API_KEY
>>> for text in client.chat.stream("Hi"):
...     print(text, end="", flush=True)

Log records (attempts, retries, responses, stream ends; never the key or the text) go to
``logging.getLogger("mixerlead")``; ``MIXERLEAD_LOG=debug`` prints them to stderr without any
logging set up. ``mixerlead.testing.Emulator`` serves a local emulator of the API for tests.
"""

from ._async_stream import AsyncChatStream
from ._client import AsyncChat, AsyncClient, AsyncModels, Chat, Client, Models
from ._errors import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    IndexingError,
    InternalServerError,
    MixerLeadError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    StreamInterruptedError,
)
from ._native import ChatStream, __version__
from ._types import ChatReply, Headers, Model, ModelList
from ._workspace import (
    Agent,
    Agents,
    Artifact,
    Artifacts,
    AsyncAgents,
    AsyncArtifacts,
    AsyncKnowledge,
    AsyncSkills,
    Indexing,
    Knowledge,
    Skill,
    SkillOutput,
    Skills,
    Source,
)

__all__ = [
    "Client",
    "AsyncClient",
    "ChatStream",
    "AsyncChatStream",
    "ChatReply",
    "Model",
    "ModelList",
    "Headers",
    "Models",
    "Chat",
    "AsyncModels",
    "AsyncChat",
    "Knowledge",
    "Skills",
    "Agents",
    "Artifacts",
    "AsyncKnowledge",
    "AsyncSkills",
    "AsyncAgents",
    "AsyncArtifacts",
    "Source",
    "Indexing",
    "Skill",
    "SkillOutput",
    "Agent",
    "Artifact",
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
    "__version__",
]
