// ESM entry point: the same classes as the CommonJS one.
import mixerlead from './index.js';

export const {
  Client,
  ChatStream,
  Models,
  Chat,
  Knowledge,
  Skills,
  Agents,
  Artifacts,
  MixerLeadError,
  ConfigurationError,
  APIConnectionError,
  APITimeoutError,
  StreamInterruptedError,
  APIResponseError,
  APIStatusError,
  BadRequestError,
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  ConflictError,
  PayloadTooLargeError,
  RateLimitError,
  InternalServerError,
  IndexingError,
  AbortError,
} = mixerlead;
export default mixerlead;
