import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { scheduledExportInputSchema, type ScheduledExportInput } from '../shared/contract/scheduled-export-contract';

/**
 * Reads the targets of a scheduled export from a JSON or YAML file: either a list of targets, or the whole
 * `scheduledExport` input (`{ targets, concurrency?, polling?, onDemand?, maxHistoryEvents? }`). Validated
 * with the workflow's own zod schema; every problem names the file, the line and the field path.
 */

/** A targets file that cannot be used; `problems` are `file:line: field: message` lines. */
export class TargetsFileError extends Error {
  override readonly name = 'TargetsFileError';
  constructor(
    readonly file: string,
    readonly problems: string[]
  ) {
    super(`Invalid targets file ${file}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

export function loadTargetsFile(file: string): ScheduledExportInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TargetsFileError(file, [`${file}: cannot read it: ${err instanceof Error ? err.message : String(err)}`]);
  }
  return parseTargets(text, file);
}

/** Parses and validates targets text; `file` names it in messages and picks the syntax (`.json` or YAML). */
export function parseTargets(text: string, file: string): ScheduledExportInput {
  const lines = new LineCounter();
  // JSON is YAML too: the YAML document gives positions for both syntaxes.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  let data: unknown;
  if (extname(file).toLowerCase() === '.json') {
    try {
      data = JSON.parse(text) as unknown;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // Node names a position for some syntax errors only; the YAML parser finds one for most of the others.
      const at = /position (\d+)/.exec(message);
      const lineCol = /\(line (\d+) column \d+\)/.exec(message);
      const offset = at ? Number(at[1]) : doc.errors[0]?.pos[0];
      const line = lineCol ? Number(lineCol[1]) : offset === undefined ? undefined : lines.linePos(offset).line;
      const where = line === undefined ? '' : `:${line}`;
      throw new TargetsFileError(file, [`${file}${where}: not valid JSON: ${message}`]);
    }
  } else {
    if (doc.errors.length > 0) {
      throw new TargetsFileError(
        file,
        doc.errors.map((e) => {
          const pos = lines.linePos(e.pos[0]);
          return `${file}:${pos.line}:${pos.col}: not valid YAML: ${e.message.split('\n')[0]}`;
        })
      );
    }
    try {
      data = doc.toJS() as unknown;
    } catch (err) {
      // Syntax that parses but does not resolve: an alias without its anchor, or too many aliases (a "bomb").
      const message = err instanceof Error ? err.message : String(err);
      const offset = firstAliasOffset(doc);
      const where = offset === undefined ? '' : `:${lines.linePos(offset).line}`;
      throw new TargetsFileError(file, [`${file}${where}: not valid YAML: ${message}`]);
    }
  }

  const listOnly = Array.isArray(data);
  const raw = listOnly ? { targets: data } : data;
  const parsed = scheduledExportInputSchema.safeParse(raw);
  if (!parsed.success) {
    throw new TargetsFileError(
      file,
      parsed.error.issues.map((issue) => {
        const inFile = listOnly && issue.path[0] === 'targets' ? issue.path.slice(1) : issue.path;
        const keyPath = issue.code === 'unrecognized_keys' && issue.keys[0] ? [...inFile, issue.keys[0]] : inFile;
        const line = lineOf(doc, lines, keyPath);
        return `${file}${line === undefined ? '' : `:${line}`}: ${fieldPath(issue.path)}: ${messageOf(issue)}`;
      })
    );
  }
  return raw as ScheduledExportInput;
}

/** `targets[2].groupId`, or `(file)` for the document itself. */
export function fieldPath(path: readonly PropertyKey[]): string {
  const text = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
  return text || '(file)';
}

function messageOf(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) return 'is required';
  return issue.message;
}

/** The line of the deepest node along `path` that exists (for the last segment, the line of its key). */
function lineOf(doc: Document, lines: LineCounter, path: readonly PropertyKey[]): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (const [i, segment] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === segment);
      if (!pair) break;
      const last = i === path.length - 1;
      offset = (last ? rangeStart(pair.key) : undefined) ?? rangeStart(pair.value) ?? rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (item === undefined) break;
      node = item;
      offset = rangeStart(item) ?? offset;
    } else {
      break;
    }
  }
  return offset === undefined ? undefined : lines.linePos(offset).line;
}

function firstAliasOffset(doc: Document): number | undefined {
  let offset: number | undefined;
  visit(doc, {
    Alias(_, node) {
      offset = rangeStart(node);
      return visit.BREAK;
    },
  });
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return Array.isArray(range) ? range[0] : undefined;
}
