import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../../src/sandbox/index.js';
import { createOpenApiValidator, type SpecName } from './support/openapi-validator.js';
import { apiGet, tokenFor } from './support/sandbox-client.js';

const T = 801;
const UNAPPROVED = 802;
const UNLICENSED = 803;

const EXPORTS: [string, SpecName, string][] = [
  [`/crm/v2/tenant/${T}/export/customers`, 'crm', 'ExportResponse_Of_Crm.V2.ExportCustomerResponse'],
  [
    `/crm/v2/tenant/${T}/export/customers/contacts`,
    'crm',
    'ExportResponse_Of_Crm.V2.ExportCustomerContactResponse',
  ],
  [`/crm/v2/tenant/${T}/export/locations`, 'crm', 'ExportResponse_Of_Crm.V2.ExportLocationsResponse'],
  [
    `/accounting/v2/tenant/${T}/export/invoices`,
    'accounting',
    'ExportResponse_Of_Accounting.V2.ExportInvoiceResponse',
  ],
];
const LISTS: [string, SpecName, string][] = [
  [
    `/crm/v2/tenant/${T}/customers?active=Any`,
    'crm',
    'PaginatedResponse_Of_Crm.V2.Customers.CustomerResponse',
  ],
  [
    `/crm/v2/tenant/${T}/customers/contacts?includeTotal=true`,
    'crm',
    'PaginatedResponse_Of_Crm.V2.Customers.CustomerContactWithModifiedOnAndCustomerIdResponse',
  ],
  [
    `/crm/v2/tenant/${T}/locations?active=Any`,
    'crm',
    'PaginatedResponse_Of_Crm.V2.Locations.LocationResponse',
  ],
  [
    `/accounting/v2/tenant/${T}/invoices?activeState=All`,
    'accounting',
    'PaginatedResponse_Of_Accounting.V2.InvoiceResponse',
  ],
  [
    `/settings/v2/tenant/${T}/business-units?includeTotal=true`,
    'settings',
    'PaginatedResponse_Of_TenantSettings.V2.BusinessUnitResponse',
  ],
];

describe('sandbox responses against the official OpenAPI schemas', () => {
  const validator = createOpenApiValidator();
  const oddities = new Set<string>();
  let sandbox: Sandbox;
  let token: string;

  beforeAll(async () => {
    sandbox = await startSandbox({
      rateLimitPerSecond: 0,
      tenants: [
        { tenantId: T, customers: 2_500, invoices: 2_500, changesPerTick: 40, newPerTick: 10 },
        { tenantId: UNAPPROVED, customers: 5, invoices: 5, approved: false },
        { tenantId: UNLICENSED, customers: 5, invoices: 5, licensed: { accounting: false } },
      ],
    });
    // Later versions and tick-created records must validate too.
    sandbox.advanceTime(12 * 3_600_000);
    token = await tokenFor(sandbox, T);
  });
  afterAll(() => sandbox.close());

  function expectValid(spec: SpecName, schema: string, body: unknown, where: string) {
    const result = validator.check(spec, schema, body);
    expect(result.errors.slice(0, 5), `${where} violates ${schema}`).toEqual([]);
    for (const path of result.oddities) oddities.add(`${schema}:${path.replace(/^\/data\/\d+/, '')}`);
  }

  it.each(EXPORTS)('when %s is paged through, then every page validates', async (path, spec, schema) => {
    let from: string | undefined;
    let pages = 0;
    for (; pages < 100; pages++) {
      const response = await apiGet(sandbox, from ? `${path}?from=${encodeURIComponent(from)}` : path, token);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { hasMore: boolean; continueFrom: string };
      expectValid(spec, schema, body, `${path} page ${pages + 1}`);
      if (!body.hasMore) break;
      from = body.continueFrom;
    }
    expect(pages).toBeGreaterThanOrEqual(4);
  });

  it.each(LISTS)('when %s is paged through, then every page validates', async (path, spec, schema) => {
    for (let page = 1; page <= 20; page++) {
      const response = await apiGet(sandbox, `${path}&page=${page}&pageSize=400`, token);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { hasMore: boolean };
      expectValid(spec, schema, body, `${path} page ${page}`);
      if (!body.hasMore) break;
    }
  });

  it('when the API answers 400 or 403, then the body is a valid ApiErrorResponse', async () => {
    const bad = await apiGet(sandbox, `/crm/v2/tenant/${T}/customers?pageSize=9999`, token);
    expectValid('crm', 'ApiErrorResponse', await bad.json(), '400');
    const unapproved = await apiGet(
      sandbox,
      `/crm/v2/tenant/${UNAPPROVED}/customers`,
      await tokenFor(sandbox, UNAPPROVED),
    );
    expectValid('crm', 'ApiErrorResponse', await unapproved.json(), '403 not approved');
    const unlicensed = await apiGet(
      sandbox,
      `/accounting/v2/tenant/${UNLICENSED}/invoices`,
      await tokenFor(sandbox, UNLICENSED),
    );
    expectValid('accounting', 'ApiErrorResponse', await unlicensed.json(), '403 not licensed');
  });

  it('when everything was validated, then the only tolerated departures are the documented legacy nulls, and each occurred', () => {
    const seen = [...oddities].map((o) => o.replace(/^[^:]*(Customer|Location)[^:]*:/, '$1:')).sort();
    expect(new Set(seen)).toEqual(
      new Set([
        'Customer:/address/country',
        'Customer:/externalData',
        'Customer:/type',
        'Location:/address/country',
        'Location:/externalData',
      ]),
    );
  });
});
