/**
 * Page-numbered list endpoints. Records are scanned in id order with a cheap predicate on their
 * history (no rendering), and only the requested page is rendered — so a list over a million
 * records costs time, not memory.
 */
import type { RecordMeta } from './tenant-data.js';

export type ActiveFilter = 'active' | 'inactive' | 'any';

export interface ListQuery {
  page: number;
  pageSize: number;
  includeTotal: boolean;
  active: ActiveFilter;
  modifiedOnOrAfter?: number;
  modifiedBefore?: number;
  createdOnOrAfter?: number;
  createdBefore?: number;
  ids?: number[];
  descending: boolean;
}

export type QueryValue = string | undefined;
export type ListParse = { ok: true; query: ListQuery } | { ok: false; errors: Record<string, string[]> };

export const MAX_PAGE_SIZE = 5000;

/**
 * Parses a date or date-time as UTC, as ServiceTitan does: `Date.parse` would read a date-time
 * without an offset ("2024-05-01T10:00:00") in the server's local zone.
 */
export function parseUtc(raw: string): number {
  const trimmed = raw.trim();
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(trimmed);
  return Date.parse(/T\d/.test(trimmed) && !hasZone ? `${trimmed}Z` : trimmed);
}

/**
 * `get` reads a query parameter case-insensitively (ASP.NET binds them so). `activeParam` is
 * 'active' (customers, locations: True|Any|False, default True), 'activeState' (invoices:
 * ActiveOnly|InactiveOnly|All, default ActiveOnly) or undefined (no filter, e.g. contacts).
 */
export function parseListQuery(
  get: (name: string) => QueryValue,
  activeParam: 'active' | 'activeState' | undefined,
): ListParse {
  const errors: Record<string, string[]> = {};
  const int = (name: string, fallback: number, min: number, max: number, label: string): number => {
    const raw = get(name);
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value)) {
      errors[label] = [`The value '${raw}' is not valid for ${label}.`];
      return fallback;
    }
    if (value < min || value > max) errors[label] = [`The field ${label} must be between ${min} and ${max}.`];
    return value;
  };
  const date = (name: string, label: string): number | undefined => {
    const raw = get(name);
    if (raw === undefined || raw === '') return undefined;
    const value = parseUtc(raw);
    if (Number.isNaN(value)) errors[label] = [`The value '${raw}' is not valid for ${label}.`];
    return value;
  };
  const bool = (name: string, label: string): boolean => {
    const raw = get(name);
    if (raw === undefined || raw === '') return false;
    if (/^true$/i.test(raw)) return true;
    if (!/^false$/i.test(raw)) errors[label] = [`The value '${raw}' is not valid for ${label}.`];
    return false;
  };

  const page = int('page', 1, 1, 2_147_483_647, 'Page');
  const pageSize = int('pageSize', 50, 1, MAX_PAGE_SIZE, 'PageSize');
  let active: ActiveFilter = 'any';
  if (activeParam === 'active') {
    const raw = (get('active') ?? 'True').toLowerCase();
    const map: Record<string, ActiveFilter> = { true: 'active', false: 'inactive', any: 'any' };
    active = map[raw] ?? 'active';
    if (!map[raw]) errors.Active = [`The value '${get('active')}' is not valid for Active.`];
  } else if (activeParam === 'activeState') {
    const raw = (get('activeState') ?? 'ActiveOnly').toLowerCase();
    const map: Record<string, ActiveFilter> = { activeonly: 'active', inactiveonly: 'inactive', all: 'any' };
    active = map[raw] ?? 'active';
    if (!map[raw]) errors.ActiveState = [`The value '${get('activeState')}' is not valid for ActiveState.`];
  }
  let ids: number[] | undefined;
  const rawIds = get('ids');
  if (rawIds) {
    ids = rawIds.split(',').map((s) => Number(s.trim()));
    if (ids.some((id) => !Number.isInteger(id))) errors.Ids = [`The value '${rawIds}' is not valid for Ids.`];
    if (ids.length > 50) errors.Ids = ['The field Ids must contain at most 50 values.'];
  }
  const sort = get('sort');
  let descending = false;
  if (sort) {
    // Real endpoints differ in what they accept; the sandbox only sorts by Id.
    const match = /^([+-]?)\s*id$/i.exec(sort.trim());
    if (match) descending = match[1] === '-';
    else errors.Sort = [`Sorting by '${sort}' is not supported. Available fields are: Id.`];
  }
  const query: ListQuery = {
    page,
    pageSize,
    includeTotal: bool('includeTotal', 'IncludeTotal'),
    active,
    modifiedOnOrAfter: date('modifiedOnOrAfter', 'ModifiedOnOrAfter'),
    modifiedBefore: date('modifiedBefore', 'ModifiedBefore'),
    createdOnOrAfter: date('createdOnOrAfter', 'CreatedOnOrAfter'),
    createdBefore: date('createdBefore', 'CreatedBefore'),
    ids,
    descending,
  };
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, query };
}

export interface ListResult {
  indices: number[];
  hasMore: boolean;
  totalCount: number | null;
}

/**
 * Runs a list query over records 1..`count`. `countModifiedBefore`, when given, answers how many
 * records were last modified before an instant without a scan (as a real server's index would):
 * a total filtered only by modifiedOn then costs no scan past the requested page, so the counts a
 * full load's planning sends together are not answered one slow scan after another.
 */
export function runListQuery(
  query: ListQuery,
  count: number,
  meta: (index: number) => RecordMeta,
  indexOfId: (id: number) => number | undefined,
  countModifiedBefore?: (ms: number) => number,
): ListResult {
  const matches = (index: number): boolean => {
    const m = meta(index);
    if (query.active === 'active' && !m.active) return false;
    if (query.active === 'inactive' && m.active) return false;
    if (query.modifiedOnOrAfter !== undefined && m.modifiedAt < query.modifiedOnOrAfter) return false;
    if (query.modifiedBefore !== undefined && m.modifiedAt >= query.modifiedBefore) return false;
    if (query.createdOnOrAfter !== undefined && m.createdAt < query.createdOnOrAfter) return false;
    if (query.createdBefore !== undefined && m.createdAt >= query.createdBefore) return false;
    return true;
  };
  let candidates: Iterable<number>;
  if (query.ids) {
    const indices = [
      ...new Set(
        query.ids.map(indexOfId).filter((i): i is number => i !== undefined && i >= 1 && i <= count),
      ),
    ];
    indices.sort((a, b) => (query.descending ? b - a : a - b));
    candidates = indices;
  } else {
    candidates = (function* () {
      if (query.descending) for (let i = count; i >= 1; i--) yield i;
      else for (let i = 1; i <= count; i++) yield i;
    })();
  }
  const totalByIndex =
    query.includeTotal &&
    countModifiedBefore !== undefined &&
    query.ids === undefined &&
    query.active === 'any' &&
    query.createdOnOrAfter === undefined &&
    query.createdBefore === undefined
      ? Math.max(
          0,
          (query.modifiedBefore === undefined ? count : countModifiedBefore(query.modifiedBefore)) -
            (query.modifiedOnOrAfter === undefined ? 0 : countModifiedBefore(query.modifiedOnOrAfter)),
        )
      : null;
  const scanAll = query.includeTotal && totalByIndex === null;
  const skip = (query.page - 1) * query.pageSize;
  const indices: number[] = [];
  let seen = 0;
  let hasMore = false;
  for (const index of candidates) {
    if (!matches(index)) continue;
    seen++;
    if (seen <= skip) continue;
    if (indices.length < query.pageSize) {
      indices.push(index);
      continue;
    }
    hasMore = true;
    if (!scanAll) break;
  }
  return { indices, hasMore, totalCount: query.includeTotal ? (totalByIndex ?? seen) : null };
}
