import type { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_DEFINITIONS } from '../shared/observability/search-attributes';
import { classifyStartupError } from './startup-retry';

/** `temporal.api.enums.v1.IndexedValueType` values of the types this project uses. */
const INDEXED_VALUE_TYPE = { Keyword: 2, Int: 3, Bool: 5 } as const;

export class SearchAttributesError extends Error {
  override readonly name = 'SearchAttributesError';
}

type Operator = Pick<Connection['operatorService'], 'listSearchAttributes' | 'addSearchAttributes'>;

export interface SearchAttributesCheck {
  /** Names this call added to the namespace. */
  added: string[];
  /** False when the server would not list them (an API key without operator rights): nothing was checked. */
  verified: boolean;
  /** Why it could not verify. */
  note?: string;
}

/**
 * Makes sure the namespace has the search attributes `exportSnapshot` upserts: without them its workflow
 * tasks fail and exports stall. Adds the missing ones when `register` is set and the server allows it (dev
 * server, self-hosted); otherwise throws with the commands an operator runs once (Temporal Cloud). When the
 * server refuses even to list them, returns `verified: false` so the caller can warn and carry on. Transient
 * server errors are rethrown as they are, for the caller to retry (`startupRetry`): listing and adding again
 * is safe.
 */
export async function ensureSearchAttributes(
  operator: Operator,
  namespace: string,
  options: { register: boolean }
): Promise<SearchAttributesCheck> {
  let existing: Record<string, number | undefined>;
  try {
    existing = (await operator.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (err) {
    if (classifyStartupError(err) === 'transient') throw err;
    return { added: [], verified: false, note: (err as Error).message };
  }
  const wrongType = SEARCH_ATTRIBUTE_DEFINITIONS.filter(
    (d) => existing[d.name] !== undefined && existing[d.name] !== INDEXED_VALUE_TYPE[d.type]
  );
  if (wrongType.length > 0) {
    throw new SearchAttributesError(
      `Search attributes with the wrong type in namespace ${namespace}: ${wrongType.map((d) => `${d.name} must be ${d.type}`).join(', ')}`
    );
  }
  const missing = SEARCH_ATTRIBUTE_DEFINITIONS.filter((d) => existing[d.name] === undefined);
  if (missing.length === 0) return { added: [], verified: true };
  const howTo = [
    `Missing search attributes in namespace ${namespace}: ${missing.map((d) => d.name).join(', ')}.`,
    'Self-hosted: temporal operator search-attribute create --namespace ' +
      `${namespace} ${missing.map((d) => `--name ${d.name} --type ${d.type}`).join(' ')}`,
    `Temporal Cloud: tcld namespace search-attributes add --namespace ${namespace} ` +
      missing.map((d) => `--search-attribute "${d.name}=${d.type}"`).join(' '),
  ].join('\n');
  if (!options.register)
    throw new SearchAttributesError(`${howTo}\n(registration is off: WORKER_REGISTER_SEARCH_ATTRIBUTES=false)`);
  try {
    await operator.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((d) => [d.name, INDEXED_VALUE_TYPE[d.type]])),
    });
  } catch (err) {
    if (classifyStartupError(err) === 'transient') throw err;
    // Temporal Cloud refuses the operator API: say what to run instead.
    throw new SearchAttributesError(`${howTo}\nThe server refused to add them: ${(err as Error).message}`);
  }
  return { added: missing.map((d) => d.name), verified: true };
}
