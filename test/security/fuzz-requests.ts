/**
 * Malformed requests generated from an OpenAPI 3.1 document: a plausible request for an operation
 * (ids that exist nowhere, bodies sampled from the schemas), then exactly one thing broken.
 */
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}
type Schema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  anyOf?: Schema[];
  oneOf?: Schema[];
};

export interface FuzzOperation {
  method: 'get' | 'post';
  path: string;
  operation: Operation;
}

export interface FuzzRequest {
  method: 'get' | 'post';
  path: string;
  headers: Record<string, string>;
  rawBody?: string;
  contentType?: string;
  signWebhook?: boolean;
  mutation: string;
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function createRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (max: number) => Math.floor(next() * max),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)],
    chance: (p: number) => next() < p,
  };
}
export type Random = ReturnType<typeof createRandom>;

export function operationsOf(document: OpenApiDocument): FuzzOperation[] {
  const operations: FuzzOperation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if ((method === 'get' || method === 'post') && !path.startsWith('/support/console')) operations.push({ method, path, operation });
    }
  }
  return operations;
}

const deepNesting = (depth: number): unknown => (depth === 0 ? 'deep' : { nested: deepNesting(depth - 1) });

/** Values no field of this API accepts as they are (each breaks some type, bound or character rule). */
export const hostileValues: readonly unknown[] = [
  '\u0000',
  'sku\u0000fuzz',
  '\ud800',
  'name\udfff',
  '\udc00\ud800',
  'x'.repeat(5_000),
  '',
  '../../etc/passwd',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '😀'.repeat(300),
  null,
  true,
  -1,
  1.5,
  1e308,
  -9007199254740993,
  [],
  [null, '\u0000'],
  {},
  { $gt: '' },
  deepNesting(40),
];

/** Path segments no id accepts (raw, already percent-encoded where needed). */
const hostileSegments = ['%00', 'ord%00x', '%ED%A0%80', '%C0%AF', 'x'.repeat(300), 'a%20b', '%2e%2e', '%F0%9F%98%80', '-lead', '%25', 'a%2Fb', '%', '%zz'];
const hostileQueryValues = ['%00', 'PAID%00', '%ED%A0%80', 'x'.repeat(300), '-1', '1e9', 'a%20b'];
const hostileHeaderValues = ['short', 'x'.repeat(500), 'has spaces inside it', 'ÿÿÿÿÿÿÿÿÿÿ'];
const rawBodies = ['{"broken":', 'null', '"a string"', '42', '[1,2,3]', '{"a":1,"a":2', '\u0000', '{"x":"\\u0000"}', '{"x":"\\ud800"}'];

function resolve(document: OpenApiDocument, schema: Schema | undefined): Schema {
  let current = schema ?? {};
  for (let hops = 0; current.$ref && hops < 10; hops += 1) {
    current = document.components?.schemas?.[current.$ref.replace('#/components/schemas/', '')] ?? {};
  }
  if (current.anyOf?.length) return resolve(document, current.anyOf[0]);
  if (current.oneOf?.length) return resolve(document, current.oneOf[0]);
  return current;
}

/** A value that fits the schema's shape (ids are unknown ones: nothing they name exists). */
function sample(document: OpenApiDocument, schema: Schema | undefined, random: Random): unknown {
  const resolved = resolve(document, schema);
  if (resolved.enum?.length) return random.pick(resolved.enum);
  const type = Array.isArray(resolved.type) ? resolved.type[0] : resolved.type;
  switch (type) {
    case 'object': {
      const value: Record<string, unknown> = {};
      for (const [name, property] of Object.entries(resolved.properties ?? {})) {
        if (resolved.required?.includes(name) || random.chance(0.5)) value[name] = sample(document, property, random);
      }
      return value;
    }
    case 'array':
      return Array.from({ length: Math.max(1, resolved.minItems ?? 1) }, () => sample(document, resolved.items, random));
    case 'integer':
    case 'number':
      return Math.max(resolved.minimum ?? 1, Math.min(resolved.maximum ?? 10, 1));
    case 'boolean':
      return random.chance(0.5);
    case 'string':
      return `fuzz_${random.int(1_000)}`.slice(0, resolved.maxLength ?? 64);
    default:
      return `fuzz_${random.int(1_000)}`;
  }
}

/** Every path to a value inside `value` (objects and arrays), the root included as []. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const paths: (string | number)[][] = [prefix];
  if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) paths.push(...pathsOf(inner, [...prefix, Array.isArray(value) ? Number(key) : key]));
  }
  return paths;
}

function setAt(root: unknown, path: (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let cursor = copy;
  for (const key of path.slice(0, -1)) cursor = cursor[key] as Record<string | number, unknown>;
  cursor[path[path.length - 1]] = replacement;
  return copy;
}

function authFor(path: string, random: Random, auths: Record<string, Record<string, string>>): Record<string, string> {
  if (random.chance(0.15)) return auths[random.pick(Object.keys(auths))];
  if (path.startsWith('/warehouse') || path.startsWith('/carrier')) return auths.warehouse;
  if (path.startsWith('/support')) return auths.support;
  if (path.startsWith('/admin') || path.endsWith('/open')) return auths.admin;
  return auths.customer;
}

/** One malformed request for the operation: a plausible request with exactly one part broken. */
export function mutateRequest(
  document: OpenApiDocument,
  { method, path, operation }: FuzzOperation,
  random: Random,
  auths: Record<string, Record<string, string>>,
  hostile: readonly unknown[],
): FuzzRequest {
  const parameters = operation.parameters ?? [];
  const pathParams = parameters.filter((parameter) => parameter.in === 'path');
  const queryParams = parameters.filter((parameter) => parameter.in === 'query');
  const headerParams = parameters.filter((parameter) => parameter.in === 'header' && parameter.name.toLowerCase() === 'idempotency-key');
  const bodySchema = operation.requestBody?.content?.['application/json']?.schema;
  const headers: Record<string, string> = { ...authFor(path, random, auths) };
  for (const header of headerParams) headers[header.name] = `fuzz-key-${random.int(1e9)}`;

  const targets = [
    ...(pathParams.length ? ['path', 'path'] : []),
    ...(queryParams.length ? ['query'] : []),
    ...(headerParams.length ? ['header'] : []),
    ...(bodySchema ? ['body', 'body', 'body', 'rawBody'] : []),
  ];
  const target = targets.length ? random.pick(targets) : 'query';
  let mutation = target;
  const brokenParam = pathParams.length ? random.pick(pathParams).name : undefined;
  let url = path.replace(/\{(\w+)\}/g, (_whole, name: string) => {
    if (target === 'path' && name === brokenParam) {
      const segment = random.pick(hostileSegments);
      mutation = `path ${name}=${segment.slice(0, 20)}`;
      return segment;
    }
    return `fuzz_${random.int(1_000)}`;
  });

  if (target === 'query') {
    const parameter = queryParams.length && random.chance(0.7) ? random.pick(queryParams).name : 'unexpected';
    const value = random.chance(0.2) ? `a&${parameter}=b` : random.pick(hostileQueryValues);
    url += `?${parameter}=${value}`;
    mutation = `query ${parameter}=${value.slice(0, 20)}`;
  }
  if (target === 'header') {
    const header = random.pick(headerParams);
    headers[header.name] = random.pick(hostileHeaderValues);
    mutation = `header ${header.name}`;
  }

  let rawBody: string | undefined;
  let contentType: string | undefined;
  if (bodySchema) {
    let body = sample(document, bodySchema, random);
    if (target === 'body') {
      const choice = random.int(3);
      const paths = pathsOf(body);
      if (choice === 0 && body && typeof body === 'object' && !Array.isArray(body)) {
        body = { ...(body as object), unexpectedField: random.pick(hostile) };
        mutation = 'body +unexpectedField';
      } else {
        const at = random.pick(paths.length > 1 ? paths.slice(1) : paths);
        const value = random.pick(hostile);
        body = setAt(body, at, value);
        mutation = `body ${at.join('.') || '(root)'}=${JSON.stringify(value)?.slice(0, 24)}`;
      }
    }
    rawBody = JSON.stringify(body);
    if (target === 'rawBody') {
      rawBody = random.pick(rawBodies);
      contentType = random.chance(0.2) ? 'text/plain' : 'application/json';
      mutation = `raw body ${JSON.stringify(rawBody).slice(0, 24)}`;
    }
  }
  return { method, path: url, headers, rawBody, contentType, signWebhook: path === '/payments/webhook' && random.chance(0.7), mutation };
}
