import type { ExportJobStatus } from '../contract/export-contract';

/**
 * How far an export is, in words: `12/40 collections` for replica sets, `3 components` for sharded clusters,
 * or null while Atlas reports nothing yet (it sends 0/0 while queued). Shared by the workflow's UI details, the
 * not-ready failures that the UI shows on the pending activity, and the CLI.
 */
export function collectionCount(
  s: Pick<ExportJobStatus, 'exportedCollections' | 'totalCollections' | 'components'>
): string | null {
  if (s.exportedCollections !== null && s.totalCollections !== null && s.totalCollections > 0) {
    return `${s.exportedCollections}/${s.totalCollections} collections`;
  }
  return s.components.length > 0 ? `${s.components.length} components` : null;
}
