import fc from 'fast-check';
import type { RouteSummary } from '../http/index.ts';

/**
 * Requests for the fuzz suite, generated from each route's own schemas: mostly well-formed
 * values (so the handlers run, not only the validators), with hostile ones mixed in (NUL, half
 * surrogate pairs, control characters, very long text, deep nesting, duplicate keys, wrong
 * types, broken JSON, odd headers). Written here because no maintained package turns Fastify's
 * JSON Schemas into fast-check arbitraries.
 */

type Schema = Record<string, unknown>;

export interface FuzzRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

const hostileText = fc.oneof(
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\ud800',
    'x\udc00y',
    '\u202e\u0007',
    '../../etc/passwd',
    '%00',
    '${jndi:ldap://x}',
    "'; DROP TABLE decisions; --",
    '<script>alert(1)</script>',
    '𝕏'.repeat(50),
    ' ',
    '',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.nat({ max: 9_000 }).map((n) => 'x'.repeat(n)),
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileText,
  fc.constantFrom(null, true, -1, 0, 1e308, -1e-308, Number.MAX_SAFE_INTEGER + 2, 0.1 + 0.2, [], {}),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: 1, max: 40 }).map((n) => JSON.parse('['.repeat(n) + ']'.repeat(n)) as unknown),
);

function resolve(schema: Schema, root: Schema): Schema {
  const ref = schema.$ref;
  if (typeof ref !== 'string') return schema;
  let node: unknown = root;
  for (const part of ref.replace(/^#\//, '').split('/')) node = (node as Record<string, unknown>)[part];
  return resolve(node as Schema, root);
}

function wellFormed(schema: Schema, root: Schema, depth: number): fc.Arbitrary<unknown> {
  const s = resolve(schema, root);
  const choices = (s.oneOf ?? s.anyOf) as Schema[] | undefined;
  if (choices) return fc.oneof(...choices.map((c) => valueFor(c, root, depth + 1)));
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
  if (s.const !== undefined) return fc.constant(s.const);
  const type = Array.isArray(s.type) ? (s.type as string[])[0] : (s.type as string | undefined);
  switch (type) {
    case 'object': {
      const properties = (s.properties ?? {}) as Record<string, Schema>;
      const required = new Set((s.required ?? []) as string[]);
      const entries = Object.fromEntries(
        Object.entries(properties).map(([name, p]) => [name, valueFor(p, root, depth + 1)]),
      );
      return fc.record(entries, { requiredKeys: [...required].filter((k) => k in entries) });
    }
    case 'array':
      return fc.array(valueFor((s.items ?? {}) as Schema, root, depth + 1), {
        maxLength: Math.min(Number(s.maxItems ?? 4), 4),
      });
    case 'integer':
      return fc.integer({ min: Number(s.minimum ?? -5), max: Number(s.maximum ?? 5_000) });
    case 'number':
      return fc.oneof(
        fc.integer({ min: 0, max: 5_000 }),
        fc.integer({ min: 0, max: 500_000 }).map((p) => p / 100),
      );
    case 'boolean':
      return fc.boolean();
    case 'string':
      if (s.format === 'date')
        return fc
          .date({ min: new Date('1890-01-01'), max: new Date('2030-12-31'), noInvalidDate: true })
          .map((d) => d.toISOString().slice(0, 10));
      if (s.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
      if (s.format === 'uuid') return fc.uuid();
      return fc.string({ maxLength: Math.min(Number(s.maxLength ?? 40), 40) });
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** A value for a schema: well-formed nine times in ten, hostile otherwise. */
function valueFor(schema: Schema, root: Schema, depth: number): fc.Arbitrary<unknown> {
  if (depth > 6) return fc.constant(null);
  return fc.oneof({ arbitrary: wellFormed(schema, root, depth), weight: 9 }, { arbitrary: hostileValue, weight: 1 });
}

/** The JSON text of a body, sometimes broken the ways a parser must survive. */
const jsonText = (value: unknown): fc.Arbitrary<string> => {
  const text = JSON.stringify(value) ?? 'null';
  return fc.oneof(
    { arbitrary: fc.constant(text), weight: 12 },
    // A key given twice.
    { arbitrary: fc.constant(text.startsWith('{"') ? text.replace(/^\{("[^"]+":)/, '{$1null,$1') : text), weight: 1 },
    // Deep nesting where a value should be.
    {
      arbitrary: fc.integer({ min: 30, max: 20_000 }).map((n) => `{"a":${'['.repeat(n)}${']'.repeat(n)}}`),
      weight: 1,
    },
    // Truncated, or escapes JSON.parse turns into NUL and lone surrogates.
    { arbitrary: fc.nat({ max: text.length }).map((n) => text.slice(0, n)), weight: 1 },
    { arbitrary: fc.constant(text.replace(/"([^"\\]{2,})"/, '"$1\\u0000\\ud800"')), weight: 1 },
  );
};

/** Percent-encoded, a half surrogate pair included (as the bytes a careless client would send). */
function percentEncoded(text: string): string {
  return text.replace(/[\s\S]/gu, (char) => {
    const unit = char.charCodeAt(0);
    if (char.length === 1 && unit >= 0xd800 && unit <= 0xdfff)
      return [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)]
        .map((b) => `%${b.toString(16).toUpperCase()}`)
        .join('');
    return encodeURIComponent(char);
  });
}

/** One request for a route, with one of the given keys (or a bad or missing one). */
export function requestFor(route: RouteSummary, keys: readonly string[]): fc.Arbitrary<FuzzRequest> {
  const root = {} as Schema;
  const schema = route.schema ?? {};
  const params = (schema.params ?? { type: 'object', properties: {} }) as Schema;
  const names = [...route.url.matchAll(/:(\w+)/g)].map((m) => m[1]!);
  const paramProps = (params.properties ?? {}) as Record<string, Schema>;
  const pathValues = fc.record(
    Object.fromEntries(
      names.map((name) => [
        name,
        fc.oneof(
          { arbitrary: wellFormed(paramProps[name] ?? { type: 'string' }, root, 0), weight: 4 },
          { arbitrary: hostileText, weight: 1 },
        ),
      ]),
    ),
  );
  const query = schema.querystring
    ? valueFor(schema.querystring as Schema, root, 0)
    : fc.option(fc.dictionary(fc.string({ maxLength: 8 }), hostileText, { maxKeys: 2 }), { nil: undefined });
  const body =
    route.method === 'GET' || route.method === 'DELETE'
      ? fc.constant(undefined)
      : valueFor((schema.body ?? { type: 'object' }) as Schema, root, 0).chain(jsonText);
  const authorization = fc.oneof(
    { arbitrary: fc.constantFrom(...keys).map((k) => `Bearer ${k}`), weight: 8 },
    {
      arbitrary: fc.constantFrom('', 'Bearer', 'Bearer ent_not-a-key', 'Basic YTpi', 'Bearer ' + 'k'.repeat(500)),
      weight: 1,
    },
  );
  const extra = fc.record(
    {
      'idempotency-key': fc.oneof(
        fc.uuid(),
        hostileText.filter((t) => /^[\x20-\x7e]*$/.test(t)),
      ),
      'content-type': fc.constantFrom(
        'application/json',
        'text/plain',
        'application/json; charset=latin1',
        'multipart/form-data',
      ),
      'entitle-priority': fc.constantFrom('citizen', 'batch', 'urgent'),
    },
    { requiredKeys: [] },
  );
  return fc
    .record({ pathValues, query, body, authorization, extra })
    .map(({ pathValues, query, body, authorization, extra }) => {
      let path = route.url;
      for (const [name, value] of Object.entries(pathValues))
        path = path.replace(`:${name}`, percentEncoded(String(value)));
      if (query && typeof query === 'object' && !Array.isArray(query)) {
        const search = new URLSearchParams();
        for (const [k, v] of Object.entries(query as Record<string, unknown>))
          search.append(k, typeof v === 'string' ? v : JSON.stringify(v));
        const text = search.toString();
        if (text) path += `?${text}`;
      }
      const headers: Record<string, string> = { ...extra };
      if (authorization) headers.authorization = authorization;
      if (body !== undefined) headers['content-type'] ??= 'application/json';
      return { method: route.method, path, headers, body };
    });
}
