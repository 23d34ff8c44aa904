import { z } from 'zod';
import {
  address,
  cursorDateTime,
  customField,
  dateTime,
  externalData,
  id,
  listOf,
  optionalId,
} from './common.js';
import { defineStream } from './define-stream.js';

/** Crm.V2.ExportLocationsResponse / Crm.V2.Locations.LocationResponse. */
export const locationSchema = z.looseObject({
  id,
  customerId: optionalId,
  active: z.boolean().nullish(),
  name: z.string().nullish(),
  address: address.nullish(),
  customFields: listOf(customField),
  createdOn: dateTime.nullish(),
  createdById: optionalId,
  modifiedOn: cursorDateTime,
  mergedToId: optionalId,
  zoneId: optionalId,
  taxZoneId: optionalId,
  taxExempt: z.boolean().nullish(),
  tagTypeIds: listOf(z.number().int()),
  externalData: listOf(externalData),
});

export type LocationRecord = z.infer<typeof locationSchema>;

export const locationsStream = defineStream({
  name: 'locations',
  module: 'crm',
  exportPath: '/export/locations',
  listPath: '/locations',
  listParams: { active: 'Any' },
  schema: locationSchema,
  primaryKey: 'id',
  cursorField: 'modifiedOn',
});
