import type { CustomerRecord } from '../../servicetitan/streams/customers.stream.js';
import { parseTimestamp } from '../normalise/dates.js';
import { normaliseCustomerType, splitPersonName } from '../normalise/names.js';
import { cleanText } from '../normalise/text.js';
import {
  boolOrNull,
  decimalField,
  guard,
  idOf,
  MapFailure,
  objectOf,
  refOf,
  requiredTimestamp,
  show,
} from './fields.js';
import { type MapContext, type MapResult, type MemberRow, SOFTWARE } from './types.js';

/**
 * A ServiceTitan customer → a member row. Never throws: a record that cannot be stored (no id, no
 * usable modifiedOn, a balance that is not a number) comes back as `{ ok: false, reason }`.
 */
export function mapCustomer(record: CustomerRecord, context: MapContext): MapResult<MemberRow> {
  const source = record as unknown as Record<string, unknown>;
  const externalId = idOf(source?.id);
  return guard(externalId, () => {
    if (externalId === null) throw new MapFailure(`id is missing or not an id: ${show(source?.id)}`);
    const sourceModifiedOn = requiredTimestamp(source.modifiedOn, 'modifiedOn');
    const customerType = normaliseCustomerType(source.type);
    const name = cleanText(source.name);
    const person =
      customerType === 'Residential' ? splitPersonName(name) : { firstName: null, lastName: null };
    const address = objectOf(source.address);
    return {
      companyId: context.companyId,
      environment: context.environment,
      software: SOFTWARE,
      externalId,
      active: source.active !== false,
      sourceCreatedOn: parseTimestamp(source.createdOn),
      sourceModifiedOn,
      raw: record,
      name,
      firstName: person.firstName,
      lastName: person.lastName,
      customerType,
      street: cleanText(address?.street),
      unit: cleanText(address?.unit),
      city: cleanText(address?.city),
      state: cleanText(address?.state),
      zip: cleanText(address?.zip),
      country: cleanText(address?.country),
      balance: decimalField(source.balance, 'balance'),
      doNotMail: boolOrNull(source.doNotMail),
      doNotService: boolOrNull(source.doNotService),
      mergedToExternalId: refOf(source.mergedToId),
    };
  });
}
