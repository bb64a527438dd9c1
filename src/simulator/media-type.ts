import { INVENTED_ERROR_CODES, SimApiError } from './errors';

/** API versions that have been sunset: requesting them answers 410 `VERSION_GONE`. */
export const SUNSET_VERSIONS: ReadonlySet<string> = new Set(['2022-01-01', '2022-06-01']);

const VERSIONED = /^application\/vnd\.atlas\.(\d{4}-\d{2}-\d{2})\+json$/;

/** The versioned media type for a version, e.g. `application/vnd.atlas.2023-01-01+json`. */
export function versionedMediaType(version: string): string {
  return `application/vnd.atlas.${version}+json`;
}

function versionsIn(header: string | undefined): string[] {
  if (header === undefined) return [];
  const versions: string[] = [];
  for (const part of header.split(',')) {
    const mediaType = (part.split(';')[0] ?? '').trim().toLowerCase();
    const match = VERSIONED.exec(mediaType);
    if (match?.[1] !== undefined) versions.push(match[1]);
  }
  return versions;
}

/**
 * Picks the API version from an `Accept` header (lists and parameters such as `charset` allowed).
 * @throws SimApiError 410 `VERSION_GONE` for a sunset version, 406 `INVALID_VERSION_DATE` otherwise
 */
export function negotiateVersion(accept: string | undefined, supported: readonly string[]): string {
  const requested = versionsIn(accept);
  const chosen = requested.find((v) => supported.includes(v));
  if (chosen !== undefined) return chosen;
  const gone = requested.find((v) => SUNSET_VERSIONS.has(v));
  if (gone !== undefined) {
    throw new SimApiError(410, 'VERSION_GONE', `API version ${gone} has been sunset and is no longer available.`);
  }
  throw new SimApiError(406, 'INVALID_VERSION_DATE', 'Invalid accept header or version date.');
}

/**
 * Checks the `Content-Type` of a request body: it must be a versioned media type this endpoint supports.
 * @throws SimApiError 415 otherwise
 */
export function checkContentType(contentType: string | undefined, supported: readonly string[]): void {
  const [version] = versionsIn(contentType);
  if (version === undefined || !supported.includes(version)) {
    throw new SimApiError(
      415,
      INVENTED_ERROR_CODES.unsupportedMediaType,
      `Content-Type must be one of: ${supported.map(versionedMediaType).join(', ')}.`
    );
  }
}
