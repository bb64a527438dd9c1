import { SimApiError } from './errors';

/** Parsed list parameters. */
export interface Paging {
  itemsPerPage: number;
  pageNum: number;
  includeCount: boolean;
}

/** A page of a list response (`Paginated…View`). */
export interface PageBody<T> {
  links: { rel: string; href: string }[];
  results: T[];
  totalCount?: number;
}

function invalid(name: string, value: string, expected: string): SimApiError {
  return new SimApiError(400, 'INVALID_QUERY_PARAMETER', `Invalid query parameter ${name}=${value}: ${expected}.`, {
    parameters: [{ name, value }],
  });
}

function intParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw)) throw invalid(name, raw, `expected an integer from ${min} to ${max}`);
  const value = Number(raw);
  if (value < min || value > max) throw invalid(name, raw, `expected an integer from ${min} to ${max}`);
  return value;
}

/**
 * Reads `itemsPerPage` (1–500, default 100), `pageNum` (≥ 1, default 1) and `includeCount` (default true).
 * @throws SimApiError 400 `INVALID_QUERY_PARAMETER`
 */
export function parsePaging(query: URLSearchParams): Paging {
  const itemsPerPage = intParam(query, 'itemsPerPage', 100, 1, 500);
  const pageNum = intParam(query, 'pageNum', 1, 1, Number.MAX_SAFE_INTEGER);
  const rawCount = query.get('includeCount');
  let includeCount = true;
  if (rawCount !== null) {
    if (rawCount !== 'true' && rawCount !== 'false') throw invalid('includeCount', rawCount, 'expected true or false');
    includeCount = rawCount === 'true';
  }
  return { itemsPerPage, pageNum, includeCount };
}

/**
 * Builds one page from all items, with absolute `self`, `previous` and `next` links.
 * @param selfUrl absolute URL of the current request
 */
export function buildPage<S, T>(all: readonly S[], paging: Paging, selfUrl: URL, render: (item: S) => T): PageBody<T> {
  const start = (paging.pageNum - 1) * paging.itemsPerPage;
  const results = all.slice(start, start + paging.itemsPerPage).map(render);
  const links = [{ rel: 'self', href: selfUrl.href }];
  const linkTo = (pageNum: number): string => {
    const url = new URL(selfUrl.href);
    url.searchParams.set('pageNum', String(pageNum));
    url.searchParams.set('itemsPerPage', String(paging.itemsPerPage));
    return url.href;
  };
  if (paging.pageNum > 1 && start - paging.itemsPerPage < all.length) {
    links.push({ rel: 'previous', href: linkTo(paging.pageNum - 1) });
  }
  if (start + paging.itemsPerPage < all.length) links.push({ rel: 'next', href: linkTo(paging.pageNum + 1) });
  const page: PageBody<T> = { links, results };
  if (paging.includeCount) page.totalCount = all.length;
  return page;
}
