/**
 * Renders API records. Each renderer is a pure function of (seed, tenant, index, version and the
 * record's status), so the same inputs always give byte-identical JSON and nothing is stored.
 * Field shapes follow the official OpenAPI schemas; the deliberate departures are the legacy
 * oddities listed in API-NOTES (see `LEGACY_ODDITIES`).
 */
import { createRng, hashInts, type Rng } from './prng.js';
import {
  BUSINESS_UNITS,
  CITIES,
  COMPANY_KINDS,
  COMPANY_SUFFIXES,
  COMPANY_WORDS,
  CONTACT_MEMOS,
  CUSTOM_FIELDS,
  EMAIL_DOMAINS,
  FIRST_NAMES,
  INVOICE_SUMMARIES,
  JOB_TYPES,
  LAST_NAMES,
  SKUS,
  STREET_NAMES,
  STREET_SUFFIXES,
  TAG_TYPE_IDS,
  TERM_NAMES,
  USER_NAMES,
} from './words.js';

export type SandboxStream = 'customers' | 'contacts' | 'locations' | 'invoices';

/** ID = base + index. Tenants share ID ranges on purpose: a sync keyed by ID alone will collide. */
export const ID_BASES: Record<SandboxStream, number> = {
  customers: 10_000_000,
  locations: 20_000_000,
  contacts: 30_000_000,
  invoices: 50_000_000,
};
const INVOICE_ITEM_ID_BASE = 100_000_000;
const STREAM_CODES: Record<SandboxStream, number> = { customers: 1, contacts: 2, locations: 3, invoices: 4 };

/** The fields the sandbox sends null although the official schema says required (API-NOTES). */
export const LEGACY_ODDITIES = {
  nullCustomerType: 'customer.type is null',
  nullCountry: 'address.country is null',
  nullExternalData: 'externalData is null',
  legacyCreatedOn: 'createdOn is 0001-01-01T00:00:00Z and createdById is 0',
  whitespaceName: 'name has leading/trailing/double whitespace',
} as const;

export const LEGACY_CREATED_ON = '0001-01-01T00:00:00Z';

export interface TenantSeed {
  seed: number;
  tenantId: number;
}

/** What the history says about one record right now; the renderer adds everything else. */
export interface RecordInput {
  index: number;
  /** Tick of the latest change (0 = initial version). */
  version: number;
  modifiedAt: number;
  /** Creation time in epoch ms. */
  createdAt: number;
  active: boolean;
  /** Index of the record this one was merged into, 0 when not merged. */
  mergedTo: number;
}

export function baseRng(ctx: TenantSeed, stream: SandboxStream, index: number): Rng {
  return createRng(hashInts(ctx.seed, ctx.tenantId, STREAM_CODES[stream], index));
}

function versionRng(ctx: TenantSeed, stream: SandboxStream, index: number, version: number): Rng {
  return createRng(hashInts(ctx.seed, ctx.tenantId, STREAM_CODES[stream], index, version, 0x5e15));
}

export function streamHash(ctx: TenantSeed, stream: SandboxStream, ...values: number[]): number {
  return hashInts(ctx.seed, ctx.tenantId, STREAM_CODES[stream], ...values);
}

const iso = (ms: number): string => new Date(ms).toISOString();
/** Integer cents → "1234.50"; avoids float formatting on the hot path. */
function money(cents: number): string {
  const abs = Math.abs(cents);
  const fraction = abs % 100;
  return `${cents < 0 ? '-' : ''}${(abs - fraction) / 100}.${fraction < 10 ? '0' : ''}${fraction}`;
}
const DAY = 86_400_000;

interface Address {
  street: string;
  unit: string | null;
  city: string;
  state: string;
  zip: string;
  country: string | null;
  latitude: number | null;
  longitude: number | null;
}

export interface CustomerBase {
  type: 'Residential' | 'Commercial' | null;
  name: string;
  first: string;
  last: string;
  address: Address;
  legacy: boolean;
  nullExternalData: boolean;
}

function makeAddress(rng: Rng): Address {
  const [city, state, zipPrefix, lat, lon] = rng.pick(CITIES);
  const canadian = state === 'ON';
  return {
    street: `${rng.range(10, 29999)} ${rng.pick(STREET_NAMES)} ${rng.pick(STREET_SUFFIXES)}`,
    unit: rng.chance(0.15) ? `${rng.pick(['Apt', 'Unit', 'Ste', '#'])} ${rng.range(1, 450)}` : null,
    city,
    state,
    zip: canadian
      ? `${zipPrefix} ${rng.range(1, 9)}A${rng.range(1, 9)}`
      : `${zipPrefix}${String(rng.range(1, 99)).padStart(2, '0')}`,
    // Oddity: a required field arriving null.
    country: rng.chance(0.02) ? null : canadian ? 'Canada' : 'USA',
    latitude: rng.chance(0.1) ? null : Math.round((lat + (rng.next() - 0.5) * 0.2) * 1e6) / 1e6,
    longitude: rng.chance(0.1) ? null : Math.round((lon + (rng.next() - 0.5) * 0.2) * 1e6) / 1e6,
  };
}

function oddWhitespace(rng: Rng, name: string): string {
  if (!rng.chance(0.015)) return name;
  const variant = rng.int(3);
  if (variant === 0) return ` ${name}`;
  if (variant === 1) return `${name} `;
  return name.replace(' ', '  ');
}

/** The stable part of a customer (never changes across versions). Also used by locations and invoices. */
export function customerBase(ctx: TenantSeed, index: number, initialCount: number): CustomerBase {
  const rng = baseRng(ctx, 'customers', index);
  const commercial = rng.chance(0.22);
  const first = rng.pick(FIRST_NAMES);
  const last = rng.pick(LAST_NAMES);
  let name: string;
  if (commercial) {
    const suffix = rng.pick(COMPANY_SUFFIXES);
    const word = rng.chance(0.5) ? rng.pick(COMPANY_WORDS) : last;
    name = `${word} ${rng.pick(COMPANY_KINDS)}${suffix ? ` ${suffix}` : ''}`;
  } else {
    name = rng.chance(0.12) ? `${first} & ${rng.pick(FIRST_NAMES)} ${last}` : `${first} ${last}`;
  }
  name = oddWhitespace(rng, name);
  // Legacy rows are the oldest ones, imported from a previous system.
  const legacy = index <= initialCount * 0.03 && rng.chance(0.6);
  const nullType = rng.chance(legacy ? 0.2 : 0.004);
  return {
    type: nullType ? null : commercial ? 'Commercial' : 'Residential',
    name,
    first,
    last,
    address: makeAddress(rng),
    legacy,
    nullExternalData: rng.chance(0.03),
  };
}

function customFields(rng: Rng): { typeId: number; name: string | null; value: string | null }[] {
  const count = rng.int(3);
  const fields: { typeId: number; name: string | null; value: string | null }[] = [];
  for (let i = 0; i < count; i++) {
    const [typeId, name, values] = CUSTOM_FIELDS[(i + rng.int(2)) % CUSTOM_FIELDS.length]!;
    if (fields.some((f) => f.typeId === typeId)) continue;
    fields.push({ typeId, name, value: rng.chance(0.05) ? null : rng.pick(values) });
  }
  return fields;
}

function tags(rng: Rng): number[] {
  return TAG_TYPE_IDS.filter(() => rng.chance(0.12));
}

function externalData(rng: Rng, isNull: boolean): { key: string; value: string }[] | null {
  if (isNull) return null;
  return rng.chance(0.1) ? [{ key: 'crmRef', value: `CRM-${rng.range(10000, 99999)}` }] : [];
}

function createdFields(input: RecordInput, legacy: boolean, rng: Rng) {
  return legacy
    ? { createdOn: LEGACY_CREATED_ON, createdById: 0 }
    : { createdOn: iso(input.createdAt), createdById: rng.pick([1001, 1002, 1003, 1017, 1042, 2311]) };
}

export function renderCustomer(
  ctx: TenantSeed,
  input: RecordInput,
  initialCount: number,
): Record<string, unknown> {
  const base = customerBase(ctx, input.index, initialCount);
  const rng = versionRng(ctx, 'customers', input.index, input.version);
  const created = createdFields(
    input,
    base.legacy,
    createRng(streamHash(ctx, 'customers', input.index, 0xc4)),
  );
  const hasCredit = base.type === 'Commercial' && rng.chance(0.5);
  const creditLimit = hasCredit ? rng.pick([5000, 10000, 25000]) : null;
  const balance = rng.chance(0.7) ? 0 : Math.round(rng.range(-5000, 250000)) / 100;
  return {
    id: ID_BASES.customers + input.index,
    active: input.active,
    name: base.name,
    type: base.type,
    address: base.address,
    customFields: customFields(rng),
    balance,
    taxExempt: base.type === 'Commercial' && rng.chance(0.1),
    tagTypeIds: tags(rng),
    doNotMail: rng.chance(0.08),
    doNotService: rng.chance(0.01),
    nationalAccount: base.type === 'Commercial' && rng.chance(0.05),
    createdOn: created.createdOn,
    createdById: created.createdById,
    modifiedOn: iso(input.modifiedAt),
    mergedToId: input.mergedTo ? ID_BASES.customers + input.mergedTo : null,
    paymentTermId: hasCredit ? rng.pick([3001, 3002]) : null,
    creditLimit,
    creditLimitBalance:
      creditLimit === null ? null : Math.round((creditLimit - Math.max(0, balance)) * 100) / 100,
    externalData: externalData(rng, base.nullExternalData),
  };
}

/** Locations are 1:1 with customers (same index) — commercial sites get a site name. */
export function renderLocation(
  ctx: TenantSeed,
  input: RecordInput,
  initialCount: number,
): Record<string, unknown> {
  const base = customerBase(ctx, input.index, initialCount);
  const own = baseRng(ctx, 'locations', input.index);
  const rng = versionRng(ctx, 'locations', input.index, input.version);
  const created = createdFields(input, base.legacy, own);
  const movedAway = own.chance(0.1);
  const address = movedAway ? makeAddress(own) : base.address;
  return {
    taxZoneId: own.chance(0.3) ? own.range(800, 810) : null,
    id: ID_BASES.locations + input.index,
    customerId: ID_BASES.customers + input.index,
    active: input.active,
    name:
      base.type === 'Commercial'
        ? `${base.name.trim()} - ${own.pick(['Main', 'Warehouse', 'Site 2', 'HQ'])}`
        : base.name,
    address,
    customFields: customFields(rng),
    createdOn: created.createdOn,
    createdById: created.createdById,
    modifiedOn: iso(input.modifiedAt),
    mergedToId: input.mergedTo ? ID_BASES.locations + input.mergedTo : null,
    zoneId: own.chance(0.5) ? own.range(40, 49) : null,
    taxExempt: rng.chance(0.03),
    tagTypeIds: tags(rng),
    externalData: externalData(rng, own.chance(0.03)),
  };
}

function phoneNumber(rng: Rng): string {
  return `${rng.range(201, 989)}${rng.range(200, 999)}${String(rng.range(0, 9999)).padStart(4, '0')}`;
}

/**
 * Contacts 2c-1 and 2c belong to customer c: the first is a phone (landline, mobile or fax), the
 * second an email address.
 */
export function renderContact(
  ctx: TenantSeed,
  input: RecordInput,
  initialCount: number,
  shape: 'export' | 'list' = 'export',
): Record<string, unknown> {
  const customerIndex = Math.ceil(input.index / 2);
  const base = customerBase(ctx, customerIndex, initialCount);
  const own = baseRng(ctx, 'contacts', input.index);
  const rng = versionRng(ctx, 'contacts', input.index, input.version);
  const isEmail = input.index % 2 === 0;
  const r = own.next();
  const type = isEmail ? 'Email' : r < 0.5 ? 'Phone' : r < 0.95 ? 'MobilePhone' : 'Fax';
  const value = isEmail
    ? `${base.first}.${base.last}${input.version ? rng.range(1, 99) : ''}@${own.pick(EMAIL_DOMAINS)}`
        .toLowerCase()
        .replace(/[^a-z0-9.@&]/g, '')
        .replace('&', '')
    : phoneNumber(input.version ? rng : own);
  const record: Record<string, unknown> = {
    modifiedOn: iso(input.modifiedAt),
    // The schema requires phoneSettings even for e-mail contacts; an empty number keeps it valid.
    phoneSettings: {
      phoneNumber: isEmail ? '' : value,
      doNotText: type !== 'MobilePhone' || rng.chance(0.1),
    },
    createdOn: iso(input.createdAt),
    preferences: own.chance(0.4)
      ? {
          jobRemindersEnabled: rng.chance(0.8),
          marketingUpdatesEnabled: rng.chance(0.3),
          invoiceStatementNotification: rng.chance(0.5),
        }
      : null,
    id: ID_BASES.contacts + input.index,
    type,
    value,
    memo: own.chance(0.3) ? own.pick(CONTACT_MEMOS) : null,
    customerId: ID_BASES.customers + customerIndex,
  };
  if (shape === 'export') record.active = input.active;
  return record;
}

const QUANTITIES = [1, 1, 1, 1, 2, 3, 0.5, 1.5, 2.25];
// Quantities are 19-decimal strings in the real API; only exactly representable values are used.
const QUANTITY_TEXT = new Map(QUANTITIES.map((q) => [q, q.toFixed(19)]));

export function renderInvoice(
  ctx: TenantSeed,
  input: RecordInput,
  customerIndex: number,
  customerInitialCount: number,
): Record<string, unknown> {
  const own = baseRng(ctx, 'invoices', input.index);
  const rng = versionRng(ctx, 'invoices', input.index, input.version);
  const customer = customerBase(ctx, customerIndex, customerInitialCount);
  const id = ID_BASES.invoices + input.index;
  const invoiceDay = Math.floor(input.createdAt / DAY) * DAY;
  const termName = own.pick(TERM_NAMES);
  const termDays = termName === 'Due Upon Receipt' ? 0 : Number(termName.slice(4));
  const [buId, buName] = own.pick(BUSINESS_UNITS);
  const businessUnit = { id: buId, name: buName };
  const taxRate = own.pick([0, 0.0725, 0.0825, 0.0945]);
  const createdOn = iso(input.createdAt);
  const modifiedOn = iso(input.modifiedAt);
  // invoiceDate is midnight UTC: a calendar date, not an instant.
  const invoiceDate = iso(invoiceDay);
  const technicianId = own.range(4001, 4030);

  const itemCount = own.range(1, 4);
  const items: Record<string, unknown>[] = [];
  let subTotal = 0;
  let taxable = 0;
  for (let order = 1; order <= itemCount; order++) {
    const [skuId, skuName, type, unitCents] = own.pick(SKUS);
    const quantity = type === 'Equipment' ? 1 : own.pick(QUANTITIES);
    const price = unitCents + (input.version > 0 && rng.chance(0.2) ? rng.range(-500, 500) : 0);
    const total = Math.round(quantity * price);
    const isTaxable = type !== 'Service';
    subTotal += total;
    if (isTaxable) taxable += total;
    items.push(
      invoiceItem(
        own,
        { id, order, skuId, skuName, type, quantity, price, total, isTaxable },
        createdOn,
        modifiedOn,
        businessUnit,
        technicianId,
        invoiceDate,
      ),
    );
  }
  let discount = 0;
  if (own.chance(0.1)) {
    discount = Math.round(subTotal * 0.1);
    subTotal -= discount;
    items.push(
      invoiceItem(
        own,
        {
          id,
          order: itemCount + 1,
          skuId: 9100,
          skuName: 'Member Discount 10%',
          type: 'PriceModifier',
          quantity: 1,
          price: -discount,
          total: -discount,
          isTaxable: false,
        },
        createdOn,
        modifiedOn,
        businessUnit,
        technicianId,
        invoiceDate,
      ),
    );
  }
  const salesTax = Math.round(taxable * taxRate);
  const total = subTotal + salesTax;
  const ageDays = (input.modifiedAt - input.createdAt) / DAY;
  const paid = input.version > 0 ? rng.chance(0.7) : rng.chance(ageDays > 20 ? 0.9 : 0.4);
  const partial = !paid && rng.chance(0.15);
  const balance = paid ? 0 : partial ? Math.round(total / 2) : total;
  const exported = own.chance(0.6);
  const jobId = 70_000_000 + input.index;

  return {
    id,
    syncStatus: exported ? 'Exported' : own.pick(['Pending', null]),
    budgetCodeId: null,
    referenceNumber: String(10_000 + input.index),
    invoiceDate,
    dueDate: iso(invoiceDay + termDays * DAY),
    subTotal: money(subTotal),
    salesTax: money(salesTax),
    salesTaxCode: taxRate
      ? { id: 600 + Math.round(taxRate * 10000), name: `Sales Tax ${(taxRate * 100).toFixed(2)}%`, taxRate }
      : null,
    taxZoneId: taxRate ? own.range(800, 810) : null,
    total: money(total),
    balance: money(balance),
    invoiceType: own.chance(0.3) ? { id: 31, name: own.pick(['Standard', 'Warranty', 'Progress']) } : null,
    customer: { id: ID_BASES.customers + customerIndex, name: customer.name },
    customerAddress: {
      street: customer.address.street,
      unit: customer.address.unit,
      city: customer.address.city,
      state: customer.address.state,
      zip: customer.address.zip,
      country: customer.address.country,
    },
    location: { id: ID_BASES.locations + customerIndex, name: customer.name },
    locationAddress: {
      street: customer.address.street,
      unit: customer.address.unit,
      city: customer.address.city,
      state: customer.address.state,
      zip: customer.address.zip,
      country: customer.address.country,
    },
    businessUnit,
    termName,
    createdBy: own.pick(USER_NAMES),
    batch: exported
      ? {
          id: 900 + (input.index % 97),
          number: String(1000 + (input.index % 97)),
          name: `Batch ${1000 + (input.index % 97)}`,
        }
      : null,
    depositedOn: null,
    createdOn,
    modifiedOn,
    adjustmentToId: own.chance(0.01) && input.index > 1 ? ID_BASES.invoices + input.index - 1 : null,
    job: own.chance(0.95) ? { id: jobId, number: String(jobId), type: own.pick(JOB_TYPES) } : null,
    projectId: own.chance(0.05) ? own.range(1, 500) : null,
    royalty: null,
    employeeInfo: own.chance(0.5)
      ? { id: technicianId, name: `${own.pick(FIRST_NAMES)} ${own.pick(LAST_NAMES)}`, modifiedOn: createdOn }
      : null,
    commissionEligibilityDate: null,
    sentStatus: paid ? 'Sent' : rng.pick(['NotSent', 'Sent', 'Opened'] as const),
    reviewStatus: rng.pick(['Reviewed', 'Reviewed', 'NeedsReview', 'Invoiced'] as const),
    assignedTo: null,
    summary: own.pick(INVOICE_SUMMARIES),
    items,
    customFields: own.chance(0.2) ? [{ name: 'PO Number', value: `PO-${own.range(1000, 9999)}` }] : [],
    active: input.active,
    discountTotal: money(discount),
    importId: null,
    exportId: exported ? `QB-${id}` : null,
    materialSkuId: null,
    membershipId: discount ? own.range(88_000, 89_000) : null,
    paidOn: paid ? iso(Math.min(input.modifiedAt, input.createdAt + rng.range(0, 20) * DAY)) : null,
    invoiceConfiguration: own.chance(0.95)
      ? 'JobInvoice'
      : own.pick(['CounterSales', 'MembershipInvoice'] as const),
  };
}

interface ItemInput {
  id: number;
  order: number;
  skuId: number;
  skuName: string;
  type: string;
  quantity: number;
  price: number;
  total: number;
  isTaxable: boolean;
}

function invoiceItem(
  own: Rng,
  item: ItemInput,
  createdOn: string,
  modifiedOn: string,
  businessUnit: { id: number; name: string },
  technicianId: number,
  serviceDate: string,
): Record<string, unknown> {
  const costCents = Math.round(Math.abs(item.price) * (item.type === 'Service' ? 0 : 0.45));
  return {
    id: INVOICE_ITEM_ID_BASE + (item.id - ID_BASES.invoices) * 8 + item.order,
    description: item.type === 'PriceModifier' ? 'Membership discount' : `<p>${item.skuName}</p>`,
    quantity: QUANTITY_TEXT.get(item.quantity) ?? item.quantity.toFixed(19),
    cost: money(costCents),
    totalCost: money(Math.round(costCents * item.quantity)),
    budgetCodeId: null,
    inventoryLocationId: item.type === 'Material' ? 300 : null,
    inventoryLocation: item.type === 'Material' ? 'Truck Stock' : null,
    price: money(item.price),
    type: item.type,
    skuName: item.skuName,
    skuId: item.skuId,
    total: money(item.total),
    inventory: item.type === 'Material',
    taxable: item.isTaxable,
    isChargeable: true,
    generalLedgerAccount: {
      id: 4000 + (item.skuId % 5),
      name: 'Service Income',
      number: `400${item.skuId % 5}`,
      type: 'Income',
      detailType: 'SalesOfProductIncome',
    },
    costOfSaleAccount:
      item.type === 'Service'
        ? null
        : {
            id: 5000,
            name: 'Cost of Goods Sold',
            number: '5000',
            type: 'CostOfGoodsSold',
            detailType: 'SuppliesMaterialsCogs',
          },
    assetAccount: null,
    membershipTypeId: 0,
    itemGroup: null,
    displayName: item.skuName,
    soldHours: item.type === 'Service' ? item.quantity : null,
    createdOn,
    modifiedOn,
    serviceDate,
    order: item.order,
    businessUnit,
    createdById: own.pick([1001, 1002, 1017]),
    displayInAmount: null,
    importId: null,
    exportId: null,
    inventoryStatus: null,
    addOn: false,
    memberPrice: item.type === 'Service' ? money(Math.round(item.price * 0.9)) : null,
    technicianId,
    installedEquipmentId: null,
    estimateItemId: null,
  };
}
