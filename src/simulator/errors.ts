import { STATUS_CODES } from 'node:http';

/** A field violation of a 400 `VALIDATION_ERROR`. */
export interface FieldViolation {
  field: string;
  description: string;
}

/** Body of an Atlas error response (`ApiError` in the spec). */
export interface ApiErrorBody {
  error: number;
  errorCode: string;
  detail: string | null;
  reason: string | null;
  parameters: Record<string, unknown>[];
  badRequestDetail?: { fields: FieldViolation[] };
}

/** An Atlas error a handler raises; the server renders it as `ApiError` JSON. */
export class SimApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    readonly detail: string,
    readonly extra: {
      parameters?: Record<string, unknown>[];
      fields?: FieldViolation[];
      headers?: Record<string, string>;
    } = {}
  ) {
    super(`${status} ${errorCode}: ${detail}`);
    this.name = 'SimApiError';
  }

  /** The `ApiError` body. */
  toBody(): ApiErrorBody {
    return apiErrorBody(this.status, this.errorCode, this.detail, this.extra.parameters, this.extra.fields);
  }
}

/** HTTP reason phrase, as Atlas puts it in `ApiError.reason`. */
export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? 'Unknown';
}

/** Builds an `ApiError` body. */
export function apiErrorBody(
  status: number,
  errorCode: string,
  detail: string,
  parameters: Record<string, unknown>[] = [],
  fields?: FieldViolation[]
): ApiErrorBody {
  const body: ApiErrorBody = { error: status, errorCode, detail, reason: reasonPhrase(status), parameters };
  if (fields !== undefined) body.badRequestDetail = { fields };
  return body;
}

/** errorCode used for a status when a fault does not name one. */
export function defaultErrorCode(status: number): string {
  switch (status) {
    case 400:
      return 'VALIDATION_ERROR';
    case 401:
      return 'UNEXPECTED_ERROR';
    case 403:
      return 'ACCESS_FORBIDDEN';
    case 404:
      return 'RESOURCE_NOT_FOUND';
    case 409:
      return 'EXPORT_ALREADY_IN_PROGRESS';
    case 429:
      return 'RATE_LIMITED';
    case 503:
      return 'SERVICE_UNAVAILABLE';
    default:
      return 'UNEXPECTED_ERROR';
  }
}

/** Error codes this simulator invented because Atlas documents none for the case. */
export const INVENTED_ERROR_CODES = {
  /** 409 on a second export while one is Queued/InProgress for the same snapshot. */
  exportAlreadyInProgress: 'EXPORT_ALREADY_IN_PROGRESS',
  /** 404 for an unknown export job id. */
  exportJobNotFound: 'EXPORT_JOB_NOT_FOUND',
  /** 400 when exporting a snapshot that is not `completed`. */
  snapshotNotComplete: 'SNAPSHOT_NOT_COMPLETE',
  /** 400 when exporting a `fallback` snapshot (Atlas refuses those). */
  snapshotNotExportable: 'SNAPSHOT_NOT_EXPORTABLE',
  /** 415 for a request body whose Content-Type is not the versioned media type. */
  unsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  /** 401 for an unknown or expired bearer token. */
  invalidAccessToken: 'USER_UNAUTHORIZED',
} as const;
