import type { CustomerContactRecord } from '../../servicetitan/streams/customer-contacts.stream.js';
import { normaliseEmail } from '../normalise/emails.js';
import { normalisePhone } from '../normalise/phones.js';
import { cleanText } from '../normalise/text.js';
import { guard, idOf, MapFailure, objectOf, requiredTimestamp, show } from './fields.js';
import type { ContactRow, ContactType, MapContext, MapResult } from './types.js';

/** Keys are lower-cased with spaces, '-' and '_' removed, so "Mobile Phone" and "mobile_phone" match. */
const CONTACT_TYPES: ReadonlyMap<string, ContactType> = new Map([
  ['email', 'Email'],
  ['phone', 'Phone'],
  ['mobilephone', 'MobilePhone'],
  ['mobile', 'MobilePhone'],
  ['fax', 'Fax'],
]);
const TYPE_NOISE = /[\s_-]/g;

export function contactTypeOf(value: unknown): ContactType {
  if (typeof value !== 'string') return 'Other';
  return CONTACT_TYPES.get(value.replace(TYPE_NOISE, '').toLowerCase()) ?? 'Other';
}

/**
 * A ServiceTitan customer contact → a contact row. An email or phone that does not validate keeps
 * its row with a null value (the contact exists; only its value is unusable); a record without id,
 * customerId or a usable modifiedOn is refused.
 */
export function mapContact(record: CustomerContactRecord, context: MapContext): MapResult<ContactRow> {
  const source = record as unknown as Record<string, unknown>;
  const externalId = idOf(source?.id);
  return guard(externalId, () => {
    if (externalId === null) throw new MapFailure(`id is missing or not an id: ${show(source?.id)}`);
    const customerExternalId = idOf(source.customerId);
    if (customerExternalId === null) {
      throw new MapFailure(`customerId is missing or not an id: ${show(source.customerId)}`);
    }
    const sourceModifiedOn = requiredTimestamp(source.modifiedOn, 'modifiedOn');
    const type = contactTypeOf(source.type);
    return {
      companyId: context.companyId,
      environment: context.environment,
      externalId,
      customerExternalId,
      type,
      value: contactValue(type, source),
      active: source.active !== false,
      sourceModifiedOn,
    };
  });
}

function contactValue(type: ContactType, source: Record<string, unknown>): string | null {
  switch (type) {
    case 'Email':
      return normaliseEmail(source.value);
    case 'Phone':
    case 'MobilePhone':
    case 'Fax': {
      // `value` is the number; phoneSettings.phoneNumber repeats it and is the fallback when empty.
      const value = cleanText(source.value) ?? objectOf(source.phoneSettings)?.phoneNumber;
      return normalisePhone(value);
    }
    default:
      return cleanText(source.value);
  }
}
