export { AtlasClient, ATLAS_MEDIA_TYPE, ATLAS_API_VERSION, DEFAULT_ATLAS_BASE_URL } from './client';
export type { AtlasClientOptions, CallOptions, AtlasRequestObserver, AtlasResponseAnomalyObserver } from './client';
export type { AtlasCredentials } from './auth';
export { DEFAULT_ATLAS_MAX_RESPONSE_BYTES } from './body';
export { basicCredentials } from './auth';
export {
  AtlasError,
  AtlasApiError,
  AtlasTokenError,
  AtlasResponseValidationError,
  AtlasNetworkError,
  AtlasResponseTooLargeError,
  parseRetryAfter,
} from './errors';
export * from './schemas';
