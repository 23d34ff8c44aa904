import type { ApiRole } from '../db/entities/index.js';
import { AppError } from '../errors.js';
import type { Principal } from './tokens.js';

/** What a route needs: viewers read, operators also operate syncs and schedules, admins manage. */
export type Access = 'read' | 'operate' | 'admin';

const granted: Record<ApiRole, readonly Access[]> = {
  viewer: ['read'],
  operator: ['read', 'operate'],
  admin: ['read', 'operate', 'admin'],
};

export function allows(principal: Principal, access: Access): boolean {
  return granted[principal.role].includes(access);
}

/**
 * Whether the caller may see records' raw payloads (customers' names, phones, emails, addresses).
 * Viewers watch runs and their problems; the people who fix data (operators, admins) see the data.
 */
export function mayReadPersonalData(principal: Principal): boolean {
  return principal.role === 'operator' || principal.role === 'admin';
}

export function requireAccess(principal: Principal, access: Access): void {
  if (!allows(principal, access))
    throw new AppError('forbidden', `A ${principal.role} token may not do this (needs ${access}).`);
}

/** For actions across companies (creating companies, managing tokens): not for company-limited tokens. */
export function requireUnrestricted(principal: Principal): void {
  if (principal.companyId !== null)
    throw new AppError('forbidden', 'A token limited to one company may not do this.');
}

/**
 * A company-limited token sees other companies' resources as absent: the same 404 a missing
 * resource gets, so ids of other companies cannot even be probed.
 */
export function assertVisible(principal: Principal, companyId: number, what: string): void {
  if (principal.companyId !== null && principal.companyId !== companyId)
    throw new AppError('not_found', `${what} does not exist.`);
}
