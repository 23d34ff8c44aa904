import type { z } from 'zod';

/**
 * A faster stand-in for `schema.safeParse(record)` on the records of a page, built from the zod
 * schema itself so it cannot drift from it. zod builds a new copy of every object it accepts; at
 * tens of thousands of records a second that copy, and the garbage it leaves, cost more than the
 * checks. This parser checks the record where it lies and, only once all of it is known to pass,
 * writes the schema's transforms (a null list → [], a numeric amount → its string) into it, so
 * the record comes out as zod's output would be, save the order of keys (the record keeps the
 * order it came in; zod's copy puts the schema's keys first), which makes no other JSON value.
 *
 * It knows only the constructs the stream schemas use. A schema with anything else compiles to
 * undefined, and a record this parser does not accept (a failure, or a case it leaves to zod, such
 * as a `__proto__` key) comes back as undefined: the caller then asks zod, which has the last word
 * and the error messages. So this parser may only ever accept what zod accepts, with zod's output.
 */
export type FastParser = (value: unknown) => { value: unknown; changed: boolean } | undefined;

/** A record's transforms, applied only once the whole record has passed. */
type Writes = [target: Record<string | number, unknown>, key: string | number, value: unknown][];

const FAIL: unique symbol = Symbol('fail');
type Node = (value: unknown, writes: Writes) => unknown;

interface Compiled {
  run: Node;
  /** zod's optionality: how an absent key is treated in an object. */
  optin: 'optional' | 'defaulted' | undefined;
  optout: 'optional' | undefined;
}

class Unsupported extends Error {}

const compiledParsers = new WeakMap<z.ZodType, FastParser | undefined>();

export function fastParser(schema: z.ZodType): FastParser | undefined {
  if (compiledParsers.has(schema)) return compiledParsers.get(schema);
  let parser: FastParser | undefined;
  try {
    const root = compile(schema);
    parser = (value) => {
      const writes: Writes = [];
      const out = root.run(value, writes);
      if (out === FAIL) return undefined;
      for (const [target, key, v] of writes) target[key] = v;
      return { value: out, changed: writes.length > 0 };
    };
  } catch (error) {
    if (!(error instanceof Unsupported)) throw error;
    parser = undefined;
  }
  compiledParsers.set(schema, parser);
  return parser;
}

// zod's internals are typed loosely on purpose: this reads `_zod.def`, which zod 4 documents for
// introspection, and refuses (Unsupported) anything it does not recognise.
interface Internals {
  def: {
    type: string;
    checks?: { _zod: { def: Record<string, unknown> } }[];
    innerType?: z.ZodType;
    in?: z.ZodType;
    out?: z.ZodType;
    element?: z.ZodType;
    options?: z.ZodType[];
    shape?: Record<string, z.ZodType>;
    catchall?: z.ZodType;
    transform?: (value: unknown, payload: { value: unknown; issues: unknown[] }) => unknown;
  };
  optin?: 'optional' | 'defaulted';
  optout?: 'optional';
}

const internals = (schema: z.ZodType) => (schema as unknown as { _zod: Internals })._zod;

/**
 * The parts of a definition each construct may have. Anything more (a string format, coercion, a
 * discriminator…) changes what zod does, so the schema is not compiled.
 */
const knownParts: Record<string, readonly string[]> = {
  string: ['checks'],
  boolean: ['checks'],
  number: ['checks'],
  unknown: [],
  optional: ['innerType'],
  nullable: ['innerType'],
  pipe: ['in', 'out'],
  transform: ['transform'],
  union: ['options', 'checks'],
  array: ['element', 'checks'],
  object: ['shape', 'catchall', 'checks'],
};

function compile(schema: z.ZodType): Compiled {
  const zod = internals(schema);
  const def = zod.def;
  const parts = knownParts[def.type];
  // A schema with a check of its own (z.email(), z.int()) carries it outside `checks`.
  if (!parts || 'check' in zod) throw new Unsupported(def.type);
  for (const [part, value] of Object.entries(def)) {
    if (part !== 'type' && part !== 'error' && value !== undefined && !parts.includes(part)) {
      throw new Unsupported(`${def.type}.${part}`);
    }
  }
  const checks = compileChecks(def.type, def.checks ?? []);
  let run: Node;
  switch (def.type) {
    case 'string':
      run = (v) => (typeof v === 'string' ? v : FAIL);
      break;
    case 'boolean':
      run = (v) => (typeof v === 'boolean' ? v : FAIL);
      break;
    case 'number':
      // zod 4's number takes finite numbers only.
      run = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : FAIL);
      break;
    case 'unknown':
      run = (v) => v;
      break;
    case 'optional': {
      const inner = compile(def.innerType!).run;
      run = (v, w) => (v === undefined ? undefined : inner(v, w));
      break;
    }
    case 'nullable': {
      const inner = compile(def.innerType!).run;
      run = (v, w) => (v === null ? null : inner(v, w));
      break;
    }
    case 'pipe': {
      const first = compile(def.in!).run;
      const second = compile(def.out!).run;
      run = (v, w) => {
        const middle = first(v, w);
        return middle === FAIL ? FAIL : second(middle, w);
      };
      break;
    }
    case 'transform': {
      const transform = def.transform!;
      run = (v) => {
        const payload = { value: v, issues: [] as unknown[] };
        // One that throws or reports an issue is zod's to run again and report.
        try {
          const out = transform(v, payload);
          return payload.issues.length > 0 || out instanceof Promise ? FAIL : out;
        } catch {
          return FAIL;
        }
      };
      break;
    }
    case 'union': {
      // zod takes the first option that passes, with that option's output.
      const options = def.options!.map((o) => compile(o).run);
      run = (v, w) => {
        for (const option of options) {
          const mark = w.length;
          const out = option(v, w);
          if (out !== FAIL) return out;
          w.length = mark;
        }
        return FAIL;
      };
      break;
    }
    case 'array': {
      const element = compile(def.element!).run;
      run = (v, w) => {
        if (!Array.isArray(v)) return FAIL;
        for (let i = 0; i < v.length; i++) {
          const item = v[i];
          const out = element(item, w);
          if (out === FAIL) return FAIL;
          if (out !== item) w.push([v as unknown as Record<number, unknown>, i, out]);
        }
        return v;
      };
      break;
    }
    case 'object':
      run = compileObject(def.shape!, def.catchall);
      break;
    default:
      throw new Unsupported(def.type);
  }
  const withChecks: Node = checks
    ? (v, w) => {
        const out = run(v, w);
        return out === FAIL || !checks(out) ? FAIL : out;
      }
    : run;
  return { run: withChecks, optin: zod.optin, optout: zod.optout };
}

/**
 * Only loose objects: their output keeps every key of the input, as checking in place does. The
 * field reads are generated as code, one property access per field (`v["id"]`), as zod does: a
 * loop reading `v[key]` with a changing key makes every read a slow generic lookup, which cost
 * more than all the checks.
 */
function compileObject(shape: Record<string, z.ZodType>, catchall: z.ZodType | undefined): Node {
  if (!catchall || internals(catchall).def.type !== 'unknown') throw new Unsupported('object');
  if (Object.getOwnPropertySymbols(shape).length > 0) throw new Unsupported('symbol keys');
  const fields = Object.entries(shape).map(([key, s]) => ({ key, ...compile(s) }));
  const body = fields.map((field, i) => {
    const key = JSON.stringify(field.key);
    // As zod: an absent key that may be absent contributes nothing, whatever it would parse to; an
    // absent key that must be there fails; any other is parsed, present or not.
    const mayBeAbsent = field.optin === 'optional' && field.optout === 'optional';
    return `
      x = v[${key}];
      ${field.optin === undefined ? `if (x === undefined && !(${key} in v)) return FAIL;` : ''}
      if (${mayBeAbsent ? `x !== undefined || ${key} in v` : 'true'}) {
        o = run${i}(x, w);
        if (o === FAIL) return FAIL;
        if (o !== x && (o !== undefined || ${key} in v)) w.push([v, ${key}, o]);
      }`;
  });
  const names = fields.map((_, i) => `run${i}`);
  // Code made of the schema's own keys (JSON-quoted), never of record data.
  const make = new Function(
    'FAIL',
    'ObjectPrototype',
    ...names,
    `return function object(v, w) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return FAIL;
      const proto = Object.getPrototypeOf(v);
      // zod drops an own __proto__ key from its copy: such a record is left to zod.
      if ((proto !== ObjectPrototype && proto !== null) || Object.hasOwn(v, '__proto__')) return FAIL;
      let x, o;
      ${body.join('')}
      return v;
    };`,
  );
  return make(FAIL, Object.prototype, ...fields.map((f) => f.run)) as Node;
}

/** The checks zod runs on a value that passed its type, or undefined when there are none. */
function compileChecks(
  type: string,
  checks: { _zod: { def: Record<string, unknown> } }[],
): ((value: unknown) => boolean) | undefined {
  if (checks.length === 0) return undefined;
  const tests = checks.map(({ _zod: { def } }): ((value: unknown) => boolean) => {
    if (def.when !== undefined) throw new Unsupported('conditional check');
    switch (def.check) {
      case 'custom': {
        const fn = def.fn as (value: unknown) => unknown;
        return (v) => {
          try {
            const ok = fn(v);
            return !(ok instanceof Promise) && Boolean(ok);
          } catch {
            return false;
          }
        };
      }
      case 'number_format':
        if (type !== 'number' || def.format !== 'safeint') throw new Unsupported(String(def.format));
        return (v) => Number.isSafeInteger(v);
      case 'greater_than': {
        if (type !== 'number') throw new Unsupported(type);
        const bound = def.value as number;
        return def.inclusive ? (v) => (v as number) >= bound : (v) => (v as number) > bound;
      }
      case 'less_than': {
        if (type !== 'number') throw new Unsupported(type);
        const bound = def.value as number;
        return def.inclusive ? (v) => (v as number) <= bound : (v) => (v as number) < bound;
      }
      default:
        throw new Unsupported(String(def.check));
    }
  });
  return (v) => {
    for (const test of tests) if (!test(v)) return false;
    return true;
  };
}
