import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Ajv, { type CodeOptions, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/** Environment variable that overrides the location of the OpenAPI document (JSON, or YAML when `yaml` is installed). */
export const ATLAS_OPENAPI_SPEC_ENV = 'ATLAS_OPENAPI_SPEC';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const DEFAULT_SPEC = path.resolve(REPO_ROOT, '..', 'shared', 'atlas-openapi', 'atlas-backup-export-subset.json');
const ROOT_ID = 'atlas-openapi';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const ANNOTATIONS = new Set([
  'description',
  'title',
  'example',
  'examples',
  'externalDocs',
  'xml',
  'deprecated',
  'default',
  'readOnly',
  'writeOnly',
  'nullable',
  'discriminator',
]);
/** OpenAPI 3.0 ignores header parameters with these names; media types and security cover them. */
const IGNORED_HEADER_PARAMS = new Set(['accept', 'content-type', 'authorization']);
/** Matches `pattern`s that are documentation templates such as `/exported_snapshots/\{ORG-NAME\}/…`, not regexes. */
const TEMPLATE_PATTERN = /\\\{[A-Z][A-Z0-9_-]*\\\}/;

type HeaderMap = Record<string, string | string[] | undefined>;
type Rec = Record<string, unknown>;
type Mode = 'request' | 'response';

/** A request as seen on the wire; `url` is the path plus query string (an absolute URL is accepted too). */
export interface ContractRequest {
  method: string;
  url: string;
  headers: HeaderMap;
  /** Parsed JSON, or the raw body as a string/bytes; `undefined` when there is none. */
  body?: unknown;
}

/** A response as seen on the wire, paired with the method and URL of the request that produced it. */
export interface ContractResponse {
  method: string;
  url: string;
  status: number;
  headers: HeaderMap;
  /** Parsed JSON, or the raw body as a string/bytes; `undefined` or `''` when there is none. */
  body: unknown;
}

/** The operation a concrete method and path resolve to. */
export interface OperationMatch {
  operationId: string;
  /** The OpenAPI path template, e.g. `/api/atlas/v2/groups/{groupId}/clusters/{clusterName}/backup/exports`. */
  template: string;
  /** Decoded path parameter values by name. */
  params: Record<string, string>;
}

/** Validators for requests and responses, built from the Atlas Admin API v2 OpenAPI document. */
export interface AtlasContract {
  /** `info.version` and `x-xgen-sha` of the loaded document, plus its file name. */
  specVersionInfo: string;
  /** Absolute path of the loaded document, or the `source` given to {@link createAtlasContract}. */
  specPath: string;
  /**
   * Spec rules this validator deliberately does not enforce, with the reason: documentation-template `pattern`s, and
   * (once the schema using them is compiled) patterns that only compile without the `u` flag.
   */
  readonly relaxations: readonly string[];
  /** Finds the operation for a concrete method and path (query string ignored); `undefined` when none matches. */
  matchOperation(method: string, path: string): OperationMatch | undefined;
  /**
   * Checks path, query and header parameters, the `Accept` header against the operation's success media types,
   * and `Content-Type` plus body against the request body schema. Returns human-readable problems; empty = conformant.
   */
  checkRequest(req: ContractRequest): string[];
  /**
   * Checks that the status is declared for the operation (exactly, as `NXX`, or `default`), and the declared headers,
   * `Content-Type` and body against that response. Returns human-readable problems; empty = conformant.
   */
  checkResponse(res: ContractResponse): string[];
}

interface Parameter {
  name: string;
  in: string;
  required: boolean;
  schema: Rec;
  explode: boolean;
}

interface Operation {
  template: string;
  operationId: string;
  parameters: Parameter[];
  requestBody: Rec | undefined;
  responses: Rec;
}

interface Route {
  template: string;
  matcher: RegExp;
  paramNames: string[];
  /**
   * Literal segments, then literal characters: higher wins, so `/snapshots/shardedClusters` beats `/snapshots/{id}`
   * and `/clusters/{name}:pin` beats `/clusters/{name}`.
   */
  specificity: [number, number];
  operations: Map<string, Operation>;
}

type PropertyFlags = Map<string, { readOnly: boolean; writeOnly: boolean }>;

function isRecord(value: unknown): value is Rec {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asRecord(value: unknown): Rec {
  return isRecord(value) ? value : {};
}

function refName(ref: string, kind: string): string | undefined {
  const prefix = `#/components/${kind}/`;
  if (ref.startsWith(prefix)) return decodePointerToken(ref.slice(prefix.length));
  return kind === 'schemas' && !ref.includes('/') ? ref : undefined;
}

function decodePointerToken(token: string): string {
  return decodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~');
}

function encodePointerToken(token: string): string {
  return encodeURIComponent(token.replace(/~/g, '~0').replace(/\//g, '~1'));
}

function headerValue(headers: HeaderMap, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return Array.isArray(value) ? value.join(', ') : value;
  }
  return undefined;
}

function mediaTypeOf(value: string): string {
  return (value.split(';')[0] ?? '').trim().toLowerCase();
}

function show(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function dotted(instancePath: string): string {
  let out = '';
  for (const raw of instancePath.split('/').slice(1)) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(token) ? `[${token}]` : out === '' ? token : `.${token}`;
  }
  return out;
}

function lenientRegExpEngine(notes: Set<string>): NonNullable<CodeOptions['regExp']> {
  const engine = (pattern: string, flags: string): RegExp => {
    try {
      return new RegExp(pattern, flags);
    } catch {
      notes.add(`pattern /${pattern}/ is invalid with the 'u' flag; compiled without it`);
      return new RegExp(pattern, flags.replace('u', ''));
    }
  };
  return Object.assign(engine, { code: 'new RegExp' });
}

/** Converts OpenAPI 3.0 schema objects into draft-07 JSON Schema, one definition per component and direction. */
class SchemaConverter {
  readonly definitions: Record<string, Rec> = {};
  private readonly schemas: Rec;
  private readonly discriminated = new Set<string>();

  constructor(
    components: Rec,
    private readonly relaxations: Set<string>
  ) {
    this.schemas = asRecord(components.schemas);
    for (const [name, schema] of Object.entries(this.schemas)) {
      if (isRecord(asRecord(schema).discriminator)) this.discriminated.add(name);
    }
    for (const mode of ['request', 'response'] as const) {
      for (const [name, schema] of Object.entries(this.schemas)) {
        this.definitions[this.key(mode, name, false)] = this.convert(schema, mode, { self: name });
        if (this.discriminated.has(name)) {
          this.definitions[this.key(mode, name, true)] = this.convert(schema, mode, { self: name, base: true });
        }
      }
    }
  }

  /** The root schema to register with ajv; `$ref`s produced by {@link convert} point into it. */
  root(): Rec {
    return { $id: ROOT_ID, definitions: this.definitions };
  }

  convert(
    schema: unknown,
    mode: Mode,
    ctx: { self?: string; base?: boolean; inAllOf?: boolean; inherited?: PropertyFlags } = {}
  ): Rec {
    if (!isRecord(schema)) return {};
    if (typeof schema.$ref === 'string') return { $ref: this.ref(schema.$ref, mode, ctx.inAllOf === true) };

    const flags = new Map(ctx.inherited);
    this.collectFlags(schema, flags, new Set());
    const hasDiscriminator = isRecord(schema.discriminator);
    const out: Rec = {};
    for (const [key, value] of Object.entries(schema)) {
      if (key.startsWith('x-') || ANNOTATIONS.has(key)) continue;
      switch (key) {
        case 'properties':
          out.properties = Object.fromEntries(
            Object.entries(asRecord(value)).map(([name, sub]) => [name, this.convert(sub, mode)])
          );
          break;
        case 'items':
        case 'not':
          out[key] = this.convert(value, mode);
          break;
        case 'additionalProperties':
          out[key] = isRecord(value) ? this.convert(value, mode) : value;
          break;
        case 'allOf':
          out.allOf = (value as unknown[]).map((sub) => this.convert(sub, mode, { inAllOf: true, inherited: flags }));
          break;
        case 'oneOf':
        case 'anyOf':
          if (!hasDiscriminator) out[key] = (value as unknown[]).map((sub) => this.convert(sub, mode));
          break;
        case 'required': {
          const skip = (name: string): boolean => {
            const flag = flags.get(name);
            return mode === 'request' ? flag?.readOnly === true : flag?.writeOnly === true;
          };
          const required = (value as string[]).filter((name) => !skip(name));
          if (required.length > 0) out.required = required;
          break;
        }
        case 'exclusiveMinimum':
        case 'exclusiveMaximum': {
          const bound = key === 'exclusiveMinimum' ? 'minimum' : 'maximum';
          if (value === true && typeof schema[bound] === 'number') out[key] = schema[bound];
          else if (typeof value === 'number') out[key] = value;
          break;
        }
        case 'minimum':
        case 'maximum':
          if (schema[key === 'minimum' ? 'exclusiveMinimum' : 'exclusiveMaximum'] !== true) out[key] = value;
          break;
        case 'pattern':
          if (typeof value === 'string' && TEMPLATE_PATTERN.test(value)) {
            this.relaxations.add(
              `pattern /${value}/${ctx.self ? ` in ${ctx.self}` : ''} is a documentation template, not a regex; not enforced`
            );
          } else {
            out[key] = value;
          }
          break;
        default:
          out[key] = value;
      }
    }

    if (hasDiscriminator && ctx.base !== true) this.addDispatch(schema, out, mode, ctx.self);

    if (schema.nullable === true) {
      if (typeof out.type === 'string') out.type = [out.type, 'null'];
      else if (out.type === undefined) return { anyOf: [{ type: 'null' }, out] };
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...(out.enum as unknown[]), null];
    }
    return out;
  }

  /**
   * Replaces `oneOf` + `discriminator` by `if`/`then` dispatch on the discriminator value, so overlapping branches
   * (Atlas schemas rarely forbid extra properties) select exactly the mapped schema. A discriminator without `oneOf`
   * (e.g. `DiskBackupSnapshot`) dispatches the same way. Children that `allOf` their parent get the parent's
   * dispatch-free "base" variant, which breaks the parent -> child -> parent cycle.
   */
  private addDispatch(schema: Rec, out: Rec, mode: Mode, self: string | undefined): void {
    const discriminator = asRecord(schema.discriminator);
    const property = discriminator.propertyName;
    if (typeof property !== 'string') return;
    const byTarget = new Map<string, string[]>();
    const mapping = asRecord(discriminator.mapping);
    const entries: [string, string][] = Object.entries(mapping).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string'
    );
    const alternatives = (Array.isArray(schema.oneOf) ? schema.oneOf : Array.isArray(schema.anyOf) ? schema.anyOf : [])
      .map((alt) => (isRecord(alt) && typeof alt.$ref === 'string' ? alt.$ref : undefined))
      .filter((ref): ref is string => ref !== undefined);
    for (const ref of alternatives) {
      const name = refName(ref, 'schemas');
      if (name !== undefined && !entries.some(([, target]) => refName(target, 'schemas') === name)) {
        entries.push([name, ref]);
      }
    }
    for (const [value, target] of entries) {
      const name = refName(target, 'schemas');
      if (name === undefined || name === self) continue;
      byTarget.set(name, [...(byTarget.get(name) ?? []), value]);
    }
    const dispatch: Rec[] = [...byTarget].map(([name, values]) => ({
      if: { properties: { [property]: { enum: values } }, required: [property] },
      then: { $ref: this.ref(`#/components/schemas/${name}`, mode, false) },
    }));
    if (alternatives.length > 0) {
      dispatch.push({ properties: { [property]: { enum: entries.map(([value]) => value) } }, required: [property] });
    }
    out.allOf = [...(Array.isArray(out.allOf) ? (out.allOf as Rec[]) : []), ...dispatch];
  }

  private collectFlags(schema: unknown, into: PropertyFlags, seen: Set<unknown>): void {
    const resolved = this.resolve(schema);
    if (!isRecord(resolved) || seen.has(resolved)) return;
    seen.add(resolved);
    for (const [name, raw] of Object.entries(asRecord(resolved.properties))) {
      const property = asRecord(this.resolve(raw));
      const previous = into.get(name);
      into.set(name, {
        readOnly: previous?.readOnly === true || property.readOnly === true,
        writeOnly: previous?.writeOnly === true || property.writeOnly === true,
      });
    }
    if (Array.isArray(resolved.allOf)) for (const sub of resolved.allOf) this.collectFlags(sub, into, seen);
  }

  private resolve(schema: unknown): unknown {
    const seen = new Set<string>();
    let current = schema;
    while (isRecord(current) && typeof current.$ref === 'string' && !seen.has(current.$ref)) {
      seen.add(current.$ref);
      const name = refName(current.$ref, 'schemas');
      current = name === undefined ? undefined : this.schemas[name];
    }
    return current;
  }

  private ref(ref: string, mode: Mode, inAllOf: boolean): string {
    const name = refName(ref, 'schemas');
    if (name === undefined || !(name in this.schemas)) throw new Error(`unsupported or dangling $ref ${ref}`);
    return `${ROOT_ID}#/definitions/${encodePointerToken(this.key(mode, name, inAllOf && this.discriminated.has(name)))}`;
  }

  private key(mode: Mode, name: string, base: boolean): string {
    return `${mode}:${name}${base ? ':base' : ''}`;
  }
}

function describeErrors(subject: string, errors: ErrorObject[] | null | undefined): string[] {
  const lines: string[] = [];
  for (const error of errors ?? []) {
    if (error.keyword === 'if') continue;
    const params = error.params as Rec;
    let target = dotted(error.instancePath);
    let message = error.message ?? `fails ${error.keyword}`;
    let value: unknown = error.data;
    if (error.keyword === 'required' && typeof params.missingProperty === 'string') {
      target = target === '' ? params.missingProperty : `${target}.${params.missingProperty}`;
      message = 'is required';
      value = undefined;
    } else if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      target = target === '' ? params.additionalProperty : `${target}.${params.additionalProperty}`;
      message = 'is not allowed (additionalProperties: false)';
      value = undefined;
    } else if (error.keyword === 'enum' && Array.isArray(params.allowedValues)) {
      message += `: ${params.allowedValues.map((v) => show(v)).join(', ')}`;
    } else if (['oneOf', 'anyOf', 'allOf', 'not'].includes(error.keyword)) {
      value = undefined;
    }
    const got = value === undefined || typeof value === 'object' ? '' : ` (got ${show(value)})`;
    lines.push(target === '' ? `${subject} ${message}${got}` : `${subject}: ${target} ${message}${got}`);
  }
  return [...new Set(lines)];
}

function coerceParameter(raw: string[], param: Parameter): unknown {
  const type = param.schema.type;
  if (type === 'array') {
    const values = param.explode ? raw : raw.flatMap((v) => v.split(','));
    return values.map((v) => coerceScalar(v, asRecord(param.schema.items).type));
  }
  return coerceScalar(raw[0] ?? '', type);
}

function coerceScalar(value: string, type: unknown): unknown {
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(value)) return Number(value);
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

function parseBody(body: unknown, mediaType: string | undefined): { value: unknown; error?: string } {
  let text: string | undefined;
  if (typeof body === 'string') text = body;
  else if (body instanceof Uint8Array) text = Buffer.from(body).toString('utf8');
  if (text === undefined) return { value: body };
  if (mediaType !== undefined && !/[/+]json$/.test(mediaType)) return { value: text };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    return { value: text, error: `is not valid JSON (${(err as Error).message})` };
  }
}

function isEmptyBody(body: unknown): boolean {
  return body === undefined || body === '' || (body instanceof Uint8Array && body.length === 0);
}

function splitUrl(url: string): { pathname: string; search: URLSearchParams } {
  const parsed = new URL(url, 'http://contract.invalid');
  return { pathname: parsed.pathname, search: parsed.searchParams };
}

class Contract implements AtlasContract {
  readonly specVersionInfo: string;
  private readonly ajv: Ajv;
  private readonly converter: SchemaConverter;
  private readonly routes: Route[] = [];
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly notes = new Set<string>();

  constructor(
    private readonly doc: Rec,
    readonly specPath: string
  ) {
    const info = asRecord(doc.info);
    const sha = typeof info['x-xgen-sha'] === 'string' ? ` x-xgen-sha ${info['x-xgen-sha']}` : '';
    this.specVersionInfo = `${String(info.version)}${sha} (${path.basename(specPath)})`;
    this.converter = new SchemaConverter(asRecord(doc.components), this.notes);
    this.ajv = new Ajv({
      allErrors: true,
      strict: false,
      verbose: true,
      code: { regExp: lenientRegExpEngine(this.notes) },
    });
    addFormats(this.ajv);
    this.ajv.addSchema(this.converter.root());
    this.indexOperations();
  }

  get relaxations(): readonly string[] {
    return [...this.notes];
  }

  matchOperation(method: string, requestPath: string): OperationMatch | undefined {
    const found = this.find(method, requestPath);
    return found && 'op' in found
      ? { operationId: found.op.operationId, template: found.op.template, params: found.params }
      : undefined;
  }

  checkRequest(req: ContractRequest): string[] {
    const problems: string[] = [];
    const found = this.find(req.method, req.url);
    if (found === undefined || !('op' in found)) return [this.unmatched(req.method, req.url, found)];
    const { op, params, badParams } = found;
    const { search } = splitUrl(req.url);
    problems.push(...badParams);

    for (const param of op.parameters) {
      let raw: string[];
      if (param.in === 'path') raw = params[param.name] === undefined ? [] : [params[param.name] ?? ''];
      else if (param.in === 'query') raw = search.getAll(param.name);
      else if (param.in === 'header') {
        const value = headerValue(req.headers, param.name);
        raw = value === undefined ? [] : [value];
      } else continue;
      const subject = `${param.in} parameter '${param.name}'`;
      if (raw.length === 0) {
        if (param.required) problems.push(`${subject} is required`);
        continue;
      }
      if (param.schema.type !== 'array' && raw.length > 1) problems.push(`${subject} is repeated ${raw.length} times`);
      const validate = this.validator(`param:${op.operationId}:${param.in}:${param.name}`, 'request', param.schema);
      if (!validate(coerceParameter(raw, param))) problems.push(...describeErrors(subject, validate.errors));
    }
    const declaredQuery = new Set(op.parameters.filter((p) => p.in === 'query').map((p) => p.name));
    for (const name of new Set(search.keys())) {
      if (!declaredQuery.has(name)) problems.push(`query parameter '${name}' is not declared for ${op.operationId}`);
    }

    problems.push(...this.checkAccept(op, headerValue(req.headers, 'accept')));
    problems.push(...this.checkRequestBody(op, req));
    return problems;
  }

  checkResponse(res: ContractResponse): string[] {
    const found = this.find(res.method, res.url);
    if (found === undefined || !('op' in found)) return [this.unmatched(res.method, res.url, found)];
    const { op } = found;
    const statusKey = [String(res.status), `${String(res.status).charAt(0)}XX`, 'default'].find(
      (key) => key in op.responses
    );
    if (statusKey === undefined) {
      return [
        `status ${res.status} is not declared for ${op.operationId} (declared: ${Object.keys(op.responses).join(', ')})`,
      ];
    }
    const response = this.resolveComponent(op.responses[statusKey], 'responses');
    const problems: string[] = [];
    const where = `response ${res.status}`;

    for (const [name, rawHeader] of Object.entries(asRecord(response.headers))) {
      const header = this.resolveComponent(rawHeader, 'headers');
      const value = headerValue(res.headers, name);
      if (value === undefined) {
        if (header.required === true) problems.push(`${where} header '${name}' is required`);
        continue;
      }
      const schema = asRecord(header.schema);
      const validate = this.validator(`header:${op.operationId}:${statusKey}:${name}`, 'response', schema);
      if (!validate(coerceScalar(value.trim(), schema.type))) {
        problems.push(...describeErrors(`${where} header '${name}'`, validate.errors));
      }
    }

    const content = asRecord(response.content);
    const declared = Object.keys(content);
    const withSchema = declared.filter((type) => isRecord(asRecord(content[type]).schema));
    const contentType = headerValue(res.headers, 'content-type');
    if (isEmptyBody(res.body)) {
      if (withSchema.length > 0) problems.push(`${where} has no body but declares one (${withSchema.join(', ')})`);
      return problems;
    }
    if (withSchema.length === 0) {
      problems.push(`${where} has a body but ${op.operationId} declares none for status ${statusKey}`);
      return problems;
    }
    if (contentType === undefined) {
      problems.push(`${where} has no Content-Type header (declared: ${declared.join(', ')})`);
      return problems;
    }
    const mediaType = mediaTypeOf(contentType);
    const media = declared.find((type) => type.toLowerCase() === mediaType);
    if (media === undefined) {
      problems.push(`${where} Content-Type "${contentType}" is not declared (declared: ${declared.join(', ')})`);
      return problems;
    }
    const schema = asRecord(content[media]).schema;
    if (!isRecord(schema)) return problems;
    const subject = `response body [${res.status} ${media}]`;
    const parsed = parseBody(res.body, media);
    if (parsed.error !== undefined) return [...problems, `${subject} ${parsed.error}`];
    const validate = this.validator(`response:${op.operationId}:${statusKey}:${media}`, 'response', schema);
    if (!validate(parsed.value)) problems.push(...describeErrors(subject, validate.errors));
    return problems;
  }

  private checkAccept(op: Operation, accept: string | undefined): string[] {
    const success = Object.entries(op.responses)
      .filter(([status]) => /^2/.test(status))
      .flatMap(([, response]) => Object.keys(asRecord(this.resolveComponent(response, 'responses').content)));
    const declared = [...new Set(success.map((type) => type.toLowerCase()))];
    if (declared.length === 0) return [];
    if (accept === undefined) {
      return [`Accept header is missing; ${op.operationId} answers with ${declared.join(', ')}`];
    }
    const ranges = accept.split(',').map(mediaTypeOf);
    if (ranges.some((range) => declared.includes(range))) return [];
    return [
      `Accept header "${accept}" names none of the media types declared for ${op.operationId}: ${declared.join(', ')}`,
    ];
  }

  private checkRequestBody(op: Operation, req: ContractRequest): string[] {
    const requestBody = op.requestBody;
    if (requestBody === undefined) {
      return isEmptyBody(req.body) ? [] : [`request body is sent but ${op.operationId} declares none`];
    }
    if (isEmptyBody(req.body)) return requestBody.required === true ? ['request body is required'] : [];
    const content = asRecord(requestBody.content);
    const declared = Object.keys(content);
    const contentType = headerValue(req.headers, 'content-type');
    if (contentType === undefined) return [`Content-Type header is missing (declared: ${declared.join(', ')})`];
    const media = declared.find((type) => type.toLowerCase() === mediaTypeOf(contentType));
    if (media === undefined) {
      return [`Content-Type "${contentType}" is not declared for ${op.operationId} (declared: ${declared.join(', ')})`];
    }
    const schema = asRecord(content[media]).schema;
    if (!isRecord(schema)) return [];
    const parsed = parseBody(req.body, media);
    if (parsed.error !== undefined) return [`request body ${parsed.error}`];
    const validate = this.validator(`request:${op.operationId}:${media}`, 'request', schema);
    return validate(parsed.value) ? [] : describeErrors('request body', validate.errors);
  }

  private find(
    method: string,
    url: string
  ):
    | { op: Operation; params: Record<string, string>; badParams: string[] }
    | { allowed: string[]; template: string }
    | undefined {
    const { pathname } = splitUrl(url);
    let fallback: { allowed: string[]; template: string } | undefined;
    for (const route of this.routes) {
      const match = route.matcher.exec(pathname);
      if (!match) continue;
      const op = route.operations.get(method.toLowerCase());
      if (op === undefined) {
        fallback ??= { template: route.template, allowed: [...route.operations.keys()].map((m) => m.toUpperCase()) };
        continue;
      }
      const params: Record<string, string> = {};
      const badParams: string[] = [];
      route.paramNames.forEach((name, index) => {
        const raw = match[index + 1] ?? '';
        try {
          params[name] = decodeURIComponent(raw);
        } catch {
          params[name] = raw;
          badParams.push(`path parameter '${name}' is not valid percent-encoding (got ${show(raw)})`);
        }
      });
      return { op, params, badParams };
    }
    return fallback;
  }

  private unmatched(method: string, url: string, found: { allowed: string[]; template: string } | undefined): string {
    const { pathname } = splitUrl(url);
    return found === undefined
      ? `no operation in the OpenAPI document matches ${method.toUpperCase()} ${pathname}`
      : `${method.toUpperCase()} is not declared for ${found.template} (declared: ${found.allowed.join(', ')})`;
  }

  private validator(key: string, mode: Mode, schema: Rec): ValidateFunction {
    let validate = this.validators.get(key);
    if (validate === undefined) {
      validate = this.ajv.compile(this.converter.convert(schema, mode));
      this.validators.set(key, validate);
    }
    return validate;
  }

  private resolveComponent(value: unknown, kind: string): Rec {
    const seen = new Set<string>();
    let current = asRecord(value);
    while (typeof current.$ref === 'string' && !seen.has(current.$ref)) {
      seen.add(current.$ref);
      const name = refName(current.$ref, kind);
      current = asRecord(name === undefined ? undefined : asRecord(asRecord(this.doc.components)[kind])[name]);
    }
    return current;
  }

  private indexOperations(): void {
    for (const [template, rawItem] of Object.entries(asRecord(this.doc.paths))) {
      const item = asRecord(rawItem);
      const paramNames: string[] = [];
      const segments = template.split('/');
      const source = segments
        .map((segment) =>
          segment.replace(/\{([^}]+)\}|[^{]+/g, (part, name: string | undefined) => {
            if (name === undefined) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
            paramNames.push(name);
            return '([^/]+)';
          })
        )
        .join('/');
      const operations = new Map<string, Operation>();
      for (const method of HTTP_METHODS) {
        const raw = item[method];
        if (!isRecord(raw)) continue;
        operations.set(method, {
          template,
          operationId: typeof raw.operationId === 'string' ? raw.operationId : `${method} ${template}`,
          parameters: this.parameters(item.parameters, raw.parameters),
          requestBody: isRecord(raw.requestBody) ? this.resolveComponent(raw.requestBody, 'requestBodies') : undefined,
          responses: asRecord(raw.responses),
        });
      }
      const literalSegments = segments.filter((segment) => !segment.includes('{')).length;
      const literalChars = template.replace(/\{[^}]+\}/g, '').length;
      this.routes.push({
        template,
        matcher: new RegExp(`^${source}$`),
        paramNames,
        specificity: [literalSegments, literalChars],
        operations,
      });
    }
    this.routes.sort((a, b) => b.specificity[0] - a.specificity[0] || b.specificity[1] - a.specificity[1]);
  }

  private parameters(pathLevel: unknown, operationLevel: unknown): Parameter[] {
    const byKey = new Map<string, Parameter>();
    for (const list of [pathLevel, operationLevel]) {
      for (const raw of Array.isArray(list) ? list : []) {
        const param = this.resolveComponent(raw, 'parameters');
        if (typeof param.name !== 'string' || typeof param.in !== 'string') continue;
        if (param.in === 'header' && IGNORED_HEADER_PARAMS.has(param.name.toLowerCase())) continue;
        const style = typeof param.style === 'string' ? param.style : param.in === 'query' ? 'form' : 'simple';
        byKey.set(`${param.in}:${param.name}`, {
          name: param.name,
          in: param.in,
          required: param.required === true || param.in === 'path',
          schema: asRecord(param.schema),
          explode: typeof param.explode === 'boolean' ? param.explode : style === 'form',
        });
      }
    }
    return [...byKey.values()];
  }
}

function readDocument(specPath: string): Rec {
  const text = readFileSync(specPath, 'utf8');
  if (/\.ya?ml$/i.test(specPath)) {
    const requireFromRepo = createRequire(path.join(REPO_ROOT, 'package.json'));
    let yaml: { parse(source: string, options?: Rec): unknown };
    try {
      yaml = requireFromRepo('yaml') as typeof yaml;
    } catch (err) {
      throw new Error(`${specPath} is YAML; add the 'yaml' package to read it, or use the JSON subset`, { cause: err });
    }
    return asRecord(yaml.parse(text, { maxAliasCount: -1 }));
  }
  return asRecord(JSON.parse(text));
}

/** Where {@link loadAtlasContract} looks for the OpenAPI document: `$ATLAS_OPENAPI_SPEC`, else `../shared/atlas-openapi/`. */
export function atlasOpenApiSpecPath(): string {
  const override = process.env[ATLAS_OPENAPI_SPEC_ENV];
  return override ? path.resolve(override) : DEFAULT_SPEC;
}

/**
 * Builds a contract from an already parsed OpenAPI 3.0 document; `source` names it in
 * {@link AtlasContract.specVersionInfo}. Prefer {@link loadAtlasContract} for the Atlas document.
 */
export function createAtlasContract(document: object, source = '(in memory)'): AtlasContract {
  return new Contract(asRecord(document), source);
}

const loaded = new Map<string, AtlasContract | null>();

/**
 * Loads (once per path) the Atlas Admin API v2 contract. Returns `null`, after one `console.warn`, when the document
 * is absent, so suites can `describe.skipIf(!contract)`. A document that exists but cannot be parsed throws.
 */
export function loadAtlasContract(): AtlasContract | null {
  const specPath = atlasOpenApiSpecPath();
  const cached = loaded.get(specPath);
  if (cached !== undefined) return cached;
  let contract: AtlasContract | null = null;
  if (existsSync(specPath)) {
    contract = new Contract(readDocument(specPath), specPath);
  } else {
    console.warn(`contract check skipped: OpenAPI document not found at ${specPath}`);
  }
  loaded.set(specPath, contract);
  return contract;
}
