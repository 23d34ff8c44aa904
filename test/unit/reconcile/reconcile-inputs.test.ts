import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { parseReconcileMapping } from '../../../src/reconcile/mapping.js';
import { differencesOf } from '../../../src/sandbox/report-export.js';

describe('a reconciliation mapping file', () => {
  it('when it is one column mapping, then both reports use it', () => {
    expect(parseReconcileMapping({ 'Cust No': 'id', Notes: null })).toEqual({
      customers: { 'Cust No': 'id', Notes: null },
      invoices: { 'Cust No': 'id', Notes: null },
    });
  });

  it('when it has a mapping per kind, then each report gets its own', () => {
    expect(parseReconcileMapping({ invoices: { 'Inv No': 'id' } })).toEqual({ invoices: { 'Inv No': 'id' } });
  });

  it('when it is not a mapping, then it is refused as bad input', () => {
    for (const bad of [[], 'id', { customers: { a: 1 } }, { a: 1 }])
      expect(() => parseReconcileMapping(bad), JSON.stringify(bad)).toThrow(AppError);
  });
});

describe("the sandbox report download's differences", () => {
  it('when the query names differences, then they are read as ids and id:value pairs', () => {
    expect(
      differencesOf({
        missing: '1,2,x',
        extra: '9',
        amounts: '3:10.00',
        names: '4:Ann Lee,5:Bo',
        dates: '6:2026-01-02',
        active: '7:false,8:true',
      }),
    ).toEqual({
      missing: [1, 2],
      extra: [9],
      amounts: { 3: '10.00' },
      names: { 4: 'Ann Lee', 5: 'Bo' },
      dates: { 6: '2026-01-02' },
      active: { 7: false, 8: true },
    });
  });

  it('when the query has none, then the export is the clean one', () => {
    expect(differencesOf({})).toEqual({
      missing: [],
      extra: [],
      amounts: {},
      names: {},
      dates: {},
      active: {},
    });
  });
});
