/**
 * Response bodies generated from the OpenAPI document's schemas, for checking that the client reads whatever the
 * spec allows: required-only ("minimal") and every-property ("maximal") bodies, one with `null` at each `nullable`
 * property, and bodies with unknown extra properties at every object level. Response mode: `readOnly` properties
 * are included, `writeOnly` ones left out. A discriminated schema (e.g. `DiskBackupSnapshot`) yields one body per
 * mapped variant.
 */

type Rec = Record<string, unknown>;

const isRecord = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One generated body and what it is. */
export interface BodyCase {
  label: string;
  body: unknown;
}

/** Values for string formats and the id patterns the Atlas spec uses. */
const ID = '6a1b2c3d4e5f60718293a4b5';
const SAMPLES: { test: (s: Rec) => boolean; value: string }[] = [
  { test: (s) => s.format === 'date-time', value: '2026-08-10T03:27:45Z' },
  { test: (s) => s.format === 'uuid', value: '3f1d2c4b-5a69-4788-9a0b-1c2d3e4f5a6b' },
  { test: (s) => typeof s.pattern === 'string' && s.pattern.includes('a-f0-9]{24}'), value: ID },
  { test: (s) => typeof s.pattern === 'string' && s.pattern.includes('[\\d]+\\.[\\d]+'), value: '8.0.4' },
];

export class CaseGenerator {
  private readonly schemas: Rec;

  constructor(private readonly doc: Rec) {
    this.schemas = isRecord(isRecord(doc.components) ? doc.components.schemas : undefined)
      ? ((doc.components as Rec).schemas as Rec)
      : {};
  }

  /** The 2xx (or given status) response schema of an operation, by method and path template. */
  responseSchema(method: string, template: string, status = '200'): Rec {
    const op = ((this.doc.paths as Rec)[template] as Rec)[method] as Rec;
    const response = this.resolveResponse((op.responses as Rec)[status]);
    const content = response.content as Rec;
    const media = Object.values(content)[0] as Rec;
    return media.schema as Rec;
  }

  /** The item schema of a paginated list schema (`results.items`). */
  listItemSchema(schema: unknown): unknown {
    const page = this.resolve(schema);
    const results = isRecord(page) ? this.resolve(this.properties(page).results) : undefined;
    if (!isRecord(results) || results.items === undefined) throw new Error('not a paginated list schema');
    return results.items;
  }

  /** Every example the operation's responses carry, with its status. */
  examples(method: string, template: string): { status: number; body: unknown }[] {
    const op = ((this.doc.paths as Rec)[template] as Rec)[method] as Rec;
    const found: { status: number; body: unknown }[] = [];
    for (const [status, raw] of Object.entries(op.responses as Rec)) {
      const response = this.resolveResponse(raw);
      for (const media of Object.values(isRecord(response.content) ? response.content : {})) {
        if (!isRecord(media)) continue;
        if (media.example !== undefined) found.push({ status: Number(status), body: media.example });
        for (const ex of Object.values(isRecord(media.examples) ? media.examples : {})) {
          if (isRecord(ex) && ex.value !== undefined) found.push({ status: Number(status), body: ex.value });
        }
      }
    }
    return found;
  }

  /** Minimal, maximal, null-at-each-nullable and unknown-extras bodies of `schema` (each discriminator variant). */
  cases(schema: unknown): BodyCase[] {
    const out: BodyCase[] = [];
    for (const variant of this.variants(schema)) {
      const tag = variant.label ? ` (${variant.label})` : '';
      out.push({ label: `minimal${tag}`, body: this.generate(variant.schema, 'minimal') });
      const maximal = this.generate(variant.schema, 'maximal');
      out.push({ label: `maximal${tag}`, body: maximal });
      for (const path of this.nullablePaths(variant.schema)) {
        out.push({ label: `null at ${path.join('.')}${tag}`, body: setAt(structuredClone(maximal), path, null) });
      }
      for (const [name, values] of this.topLevelEnums(variant.schema)) {
        for (const value of values.slice(1)) {
          out.push({ label: `${name} ${String(value)}${tag}`, body: { ...(maximal as Rec), [name]: value } });
        }
      }
      out.push({ label: `unknown fields everywhere${tag}`, body: withExtras(structuredClone(maximal)) });
      out.push({
        label: `unknown fields, required only${tag}`,
        body: withExtras(this.generate(variant.schema, 'minimal')),
      });
    }
    return out;
  }

  /** Top-level properties with an `enum` (e.g. a job's `state`), and their values; the maximal body has the first. */
  private topLevelEnums(schema: unknown): [string, unknown[]][] {
    const s = this.resolve(schema);
    if (!isRecord(s)) return [];
    const props: Rec = Array.isArray(s.allOf)
      ? (Object.assign({}, ...s.allOf.map((sub) => this.properties(this.resolve(sub) as Rec))) as Rec)
      : this.properties(s);
    return Object.entries(props).flatMap(([name, sub]): [string, unknown[]][] => {
      const resolved = this.resolve(sub);
      return isRecord(resolved) && Array.isArray(resolved.enum) && resolved.writeOnly !== true
        ? [[name, resolved.enum]]
        : [];
    });
  }

  /** Property paths (through objects and array items, `[]` for an item) whose schema is `nullable`. */
  nullablePaths(schema: unknown, seen = new Set<unknown>()): string[][] {
    const s = this.resolve(schema);
    if (!isRecord(s) || seen.has(s)) return [];
    seen.add(s);
    const paths: string[][] = [];
    for (const [name, sub] of Object.entries(this.properties(s))) {
      const resolved = this.resolve(sub);
      if (!isRecord(resolved) || resolved.writeOnly === true) continue;
      if (resolved.nullable === true || (isRecord(sub) && sub.nullable === true)) paths.push([name]);
      for (const p of this.nullablePaths(resolved, new Set(seen))) paths.push([name, ...p]);
      if (resolved.type === 'array') {
        for (const p of this.nullablePaths(resolved.items, new Set(seen))) paths.push([name, '[]', ...p]);
      }
    }
    return paths;
  }

  private variants(schema: unknown): { label: string; schema: unknown }[] {
    const s = this.resolve(schema);
    if (isRecord(s) && isRecord(s.discriminator) && isRecord(s.discriminator.mapping)) {
      const property = String(s.discriminator.propertyName);
      return Object.entries(s.discriminator.mapping).map(([value, ref]) => ({
        label: `${property} ${value}`,
        schema: {
          allOf: [
            { $ref: ref },
            { type: 'object', required: [property], properties: { [property]: { enum: [value] } } },
          ],
        },
      }));
    }
    // A page of a discriminated item type is not used by the export and snapshot operations.
    return [{ label: '', schema }];
  }

  private generate(schema: unknown, mode: 'minimal' | 'maximal', depth = 0): unknown {
    const s = this.resolve(schema);
    if (!isRecord(s) || depth > 12) return {};
    if (Array.isArray(s.allOf)) {
      return Object.assign({}, ...s.allOf.map((sub) => this.generate(sub, mode, depth + 1) as Rec)) as Rec;
    }
    if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
    const type = s.type ?? (isRecord(s.properties) ? 'object' : undefined);
    switch (type) {
      case 'object': {
        const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
        const out: Rec = {};
        for (const [name, sub] of Object.entries(this.properties(s))) {
          const resolved = this.resolve(sub);
          if (isRecord(resolved) && resolved.writeOnly === true) continue;
          if (mode === 'maximal' || required.has(name)) out[name] = this.generate(sub, mode, depth + 1);
        }
        return out;
      }
      case 'array': {
        const min = typeof s.minItems === 'number' ? s.minItems : 0;
        const n = mode === 'maximal' ? Math.max(1, min) : min;
        return Array.from({ length: n }, () => this.generate(s.items, mode, depth + 1));
      }
      case 'string': {
        const sample = SAMPLES.find((x) => x.test(s));
        if (sample) return sample.value;
        if (typeof s.example === 'string') return s.example;
        return 'text';
      }
      case 'integer':
      case 'number':
        return typeof s.minimum === 'number' ? Math.max(s.minimum, 3) : 3;
      case 'boolean':
        return true;
      default:
        return {};
    }
  }

  private properties(s: Rec): Rec {
    const own = isRecord(s.properties) ? s.properties : {};
    const inherited: Rec = Array.isArray(s.allOf)
      ? (Object.assign({}, ...s.allOf.map((sub) => this.properties(this.resolve(sub) as Rec))) as Rec)
      : {};
    return { ...inherited, ...own };
  }

  private resolve(schema: unknown): unknown {
    let current = schema;
    for (let i = 0; i < 10 && isRecord(current) && typeof current.$ref === 'string'; i++) {
      current = this.schemas[current.$ref.replace('#/components/schemas/', '')];
    }
    return current;
  }

  private resolveResponse(raw: unknown): Rec {
    if (isRecord(raw) && typeof raw.$ref === 'string') {
      const name = raw.$ref.replace('#/components/responses/', '');
      return ((this.doc.components as Rec).responses as Rec)[name] as Rec;
    }
    return raw as Rec;
  }
}

function setAt(root: unknown, path: string[], value: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  if (head === '[]') {
    return Array.isArray(root) ? root.map((item) => setAt(item, rest, value)) : root;
  }
  if (!isRecord(root)) return root;
  root[head] = rest.length === 0 ? value : setAt(root[head], rest, value);
  return root;
}

/** Adds unknown properties to every object in the value (arrays' items included). */
function withExtras(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withExtras);
  if (!isRecord(value)) return value;
  const out: Rec = {};
  for (const [k, v] of Object.entries(value)) out[k] = withExtras(v);
  out.fieldAtlasAddsLater = { nested: [1, 'two', null], flag: true };
  out.anotherNewField = null;
  return out;
}
