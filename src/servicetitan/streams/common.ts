import { z } from 'zod';

/**
 * Shared pieces of the stream schemas. They follow the OpenAPI specs but tolerate what the real
 * API is known to send: nulls in "required" fields, extra fields (kept: objects are loose),
 * legacy dates such as "0001-01-01T00:00:00Z". Only what a record cannot be stored without
 * (its id, and the cursor field where the spec guarantees it) is strict.
 */

/** int64 ids arrive as JSON numbers; ServiceTitan's stay below 2^53. */
export const id = z.number().int().nonnegative();

/** Any id-like reference that may be missing. */
export const optionalId = z.number().int().nullish();

/** A date-time string as sent (kept verbatim; "0001-01-01T00:00:00Z" is legal). */
export const dateTime = z.string();

/** The cursor field must be a parsable date, or incremental state cannot advance past it. */
export const cursorDateTime = z.string().refine((v) => !Number.isNaN(Date.parse(v)), {
  message: 'not a parsable date-time',
});

/**
 * Money and quantities stay decimal strings ("1.0000000000000000000"), never floats. Where the
 * spec says number (customer balance) we convert to the same string form.
 */
export const decimal = z
  .union([z.string(), z.number().transform((n) => String(n))])
  .refine((v) => v === '' || /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v.trim()), { message: 'not a decimal' });

export const nullableString = z.string().nullish();

export const address = z.looseObject({
  street: nullableString,
  unit: nullableString,
  city: nullableString,
  state: nullableString,
  zip: nullableString,
  country: nullableString,
  latitude: z.number().nullish(),
  longitude: z.number().nullish(),
});

export const customField = z.looseObject({
  typeId: z.number().int().nullish(),
  name: nullableString,
  value: z.union([z.string(), z.number(), z.boolean()]).nullish(),
});

export const externalData = z.looseObject({ key: nullableString, value: nullableString });

/** Arrays the spec calls required sometimes arrive null: read them as empty. */
export function listOf<T extends z.ZodType>(item: T) {
  return z
    .array(item)
    .nullish()
    .transform((v) => v ?? []);
}

export const namedRef = z.looseObject({ id: optionalId, name: nullableString });
