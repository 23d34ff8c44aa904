/**
 * Validates response bodies against ServiceTitan's official OpenAPI 3.0 schemas (copies of
 * /work/shared/servicetitan/openapi in ./openapi). OpenAPI's `nullable` becomes
 * `anyOf [schema, null]`, refs point into the spec's components, and vendor keywords are dropped.
 *
 * Validation is strict. The only tolerated departures are the legacy oddities API-NOTES lists
 * (a null where the schema requires a value): `customer.type`, `address.country`, `externalData`.
 * `check()` reports those separately so tests can assert they are the only exceptions.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS; under NodeNext its default export is the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

export type SpecName = 'crm' | 'accounting' | 'settings';

const SPEC_FILES: Record<SpecName, string> = {
  crm: 'crm-v2.json',
  accounting: 'accounting-v2.json',
  settings: 'settings-v2.json',
};

/**
 * Where the sandbox sends null on purpose, per API-NOTES: at a record's root (a bare record, or
 * one inside a response's `data` array).
 */
const ODDITY_PATHS = [
  /^(\/data\/\d+)?\/type$/,
  /^(\/data\/\d+)?\/address\/country$/,
  /^(\/data\/\d+)?\/externalData$/,
];

type Json = unknown;

function convert(node: Json, specName: SpecName): Json {
  if (Array.isArray(node)) return node.map((n) => convert(n, specName));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, Json> = {};
  let nullable = false;
  for (const [key, value] of Object.entries(node as Record<string, Json>)) {
    if (key === 'nullable') {
      nullable = value === true;
      continue;
    }
    if (key.startsWith('x-') || key === 'example' || key === 'description') continue;
    if (key === '$ref' && typeof value === 'string') {
      out.$ref = value.replace('#/components/schemas/', `${specName}#/definitions/`);
      continue;
    }
    out[key] =
      key === 'properties' || key === 'definitions' ? mapValues(value, specName) : convert(value, specName);
  }
  return nullable ? { anyOf: [out, { type: 'null' }] } : out;
}

function mapValues(value: Json, specName: SpecName): Json {
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(value as Record<string, Json>)) out[k] = convert(v, specName);
  return out;
}

export interface CheckResult {
  valid: boolean;
  /** Errors outside the documented oddities (must be empty). */
  errors: ErrorObject[];
  /** Instance paths where a documented oddity (a null in a required field) was tolerated. */
  oddities: string[];
}

export interface OpenApiValidator {
  /** Validates `body` against components.schemas[schemaName] of the given spec. */
  check(spec: SpecName, schemaName: string, body: unknown): CheckResult;
}

function valueAt(body: unknown, pointer: string): unknown {
  let node = body;
  for (const part of pointer.split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node;
}

export function createOpenApiValidator(): OpenApiValidator {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  for (const format of ['decimal', 'html', 'phone']) ajv.addFormat(format, true);
  for (const [name, file] of Object.entries(SPEC_FILES) as [SpecName, string][]) {
    const spec = JSON.parse(readFileSync(new URL(`./openapi/${file}`, import.meta.url), 'utf8')) as {
      components: { schemas: Record<string, Json> };
    };
    ajv.addSchema({ $id: name, definitions: mapValues(spec.components.schemas, name) });
  }
  const compiled = new Map<string, ValidateFunction>();
  return {
    check(spec, schemaName, body) {
      const key = `${spec}#/definitions/${schemaName}`;
      let validate = compiled.get(key);
      if (!validate) {
        validate = ajv.getSchema(key);
        if (!validate) throw new Error(`No schema ${schemaName} in the ${spec} spec`);
        compiled.set(key, validate);
      }
      if (validate(body)) return { valid: true, errors: [], oddities: [] };
      const errors: ErrorObject[] = [];
      const oddities = new Set<string>();
      for (const error of validate.errors ?? []) {
        const tolerated =
          ODDITY_PATHS.some((re) => re.test(error.instancePath)) &&
          valueAt(body, error.instancePath) === null;
        if (tolerated) oddities.add(error.instancePath);
        else errors.push(error);
      }
      return { valid: errors.length === 0, errors, oddities: [...oddities] };
    },
  };
}
