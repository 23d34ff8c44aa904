/**
 * Validates response bodies against ServiceTitan's official OpenAPI 3.0 schemas (copies of
 * /work/shared/servicetitan/openapi in ./openapi). OpenAPI's `nullable` becomes
 * `anyOf [schema, null]`, refs point into the spec's components, and vendor keywords are dropped.
 *
 * A body passes when it validates against the schemas with one documented relaxation (`RELAXED`):
 * the legacy nulls API-NOTES lists (`customer.type`, `address.country`, `externalData`). The
 * strict schemas are checked too, and `check()` reports where those nulls were met, so a test can
 * assert they are the only departures.
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
 * The documented relaxation: these properties may be null although the official schema requires a
 * value (API-NOTES "Pitfalls": address.country, externalData, customer type). Nothing else changes.
 */
const RELAXED: Partial<Record<SpecName, Record<string, string[]>>> = {
  crm: {
    'Crm.V2.ExportCustomerResponse': ['type', 'externalData'],
    'Crm.V2.Customers.CustomerResponse': ['type', 'externalData'],
    'Crm.V2.ExportLocationsResponse': ['externalData'],
    'Crm.V2.Locations.LocationResponse': ['externalData'],
    'Crm.V2.Customers.CustomerAddress': ['country'],
  },
};

/** Where those nulls sit in a record. */
const ODDITY_PATHS = ['/type', '/address/country', '/externalData'];

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

type Schemas = Record<string, Record<string, Json>>;

function createAjv(specs: Record<SpecName, Schemas>, relaxed: boolean): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  for (const format of ['decimal', 'html', 'phone']) ajv.addFormat(format, true);
  for (const [name, source] of Object.entries(specs) as [SpecName, Schemas][]) {
    let schemas = source;
    if (relaxed) {
      schemas = structuredClone(source);
      for (const [schemaName, properties] of Object.entries(RELAXED[name] ?? {})) {
        const props = schemas[schemaName]?.properties as Record<string, Record<string, Json>> | undefined;
        for (const property of properties) {
          const target = props?.[property];
          if (!target) throw new Error(`The relaxation names a missing property ${schemaName}.${property}`);
          target.nullable = true;
        }
      }
    }
    ajv.addSchema({ $id: name, definitions: mapValues(schemas, name) });
  }
  return ajv;
}

export function createOpenApiValidator(): OpenApiValidator {
  const specs = {} as Record<SpecName, Schemas>;
  for (const [name, file] of Object.entries(SPEC_FILES) as [SpecName, string][]) {
    const spec = JSON.parse(readFileSync(new URL(`./openapi/${file}`, import.meta.url), 'utf8')) as {
      components: { schemas: Schemas };
    };
    specs[name] = spec.components.schemas;
  }
  const strict = createAjv(specs, false);
  const relaxed = createAjv(specs, true);
  const compiled = new Map<string, { strict: ValidateFunction; relaxed: ValidateFunction }>();
  return {
    check(spec, schemaName, body) {
      const key = `${spec}#/definitions/${schemaName}`;
      let validators = compiled.get(key);
      if (!validators) {
        const s = strict.getSchema(key);
        const r = relaxed.getSchema(key);
        if (!s || !r) throw new Error(`No schema ${schemaName} in the ${spec} spec`);
        validators = { strict: s, relaxed: r };
        compiled.set(key, validators);
      }
      if (validators.strict(body)) return { valid: true, errors: [], oddities: [] };
      const errors: ErrorObject[] = validators.relaxed(body) ? [] : [...(validators.relaxed.errors ?? [])];
      // The relaxed schema differs from the strict one only at the documented nulls, so the nulls
      // found there are exactly where the strict schema was departed from.
      return { valid: errors.length === 0, errors, oddities: documentedNulls(body) };
    },
  };
}

function documentedNulls(body: unknown): string[] {
  const data = (body as { data?: unknown } | null)?.data;
  const records: [string, unknown][] = Array.isArray(data)
    ? data.map((r, i) => [`/data/${i}`, r])
    : [['', body]];
  const found: string[] = [];
  for (const [prefix, record] of records) {
    for (const path of ODDITY_PATHS) if (valueAt(record, path) === null) found.push(`${prefix}${path}`);
  }
  return found;
}
