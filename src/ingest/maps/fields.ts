/**
 * Field readers shared by the maps. They take `unknown` on purpose: the maps must never throw, even
 * on a record that drifted past the stream schema, so every read checks its type.
 */

import { parseTimestamp } from '../normalise/dates.js';
import { canonicalDecimal } from '../normalise/decimals.js';
import type { MapResult } from './types.js';

const DIGITS = /^\d{1,19}$/;

/** A record id as a string: a non-negative safe integer, or a string of digits. */
export function idOf(value: unknown): string | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? String(value) : null;
  if (typeof value === 'string') {
    const text = value.trim();
    return DIGITS.test(text) ? text : null;
  }
  return null;
}

/** A reference to another record; 0 means "none" in ServiceTitan (createdById: 0 on legacy rows). */
export function refOf(value: unknown): string | null {
  const id = idOf(value);
  return id === null || id === '0' ? null : id;
}

export function boolOrNull(value: unknown): boolean | null {
  return typeof value === 'boolean' ? value : null;
}

/** Optional objects (address, customer, job…) read as a record, or undefined when absent or odd. */
export function objectOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Shows a bad value in a skip reason: strings quoted, long ones cut. */
export function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  }
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

export class MapFailure extends Error {}

/**
 * Reads a decimal field. Absent, null and '' → null; anything else must be a decimal, or the
 * record is refused (a wrong amount is worse than a skipped record the user is told about).
 */
export function decimalField(value: unknown, field: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' && value.trim() === '') return null;
  const canonical = typeof value === 'string' || typeof value === 'number' ? canonicalDecimal(value) : null;
  if (canonical === null) throw new MapFailure(`${field} is not a decimal number: ${show(value)}`);
  return canonical;
}

export function requiredTimestamp(value: unknown, field: string): Date {
  const date = parseTimestamp(value);
  if (date === null) throw new MapFailure(`${field} is missing or not a date: ${show(value)}`);
  return date;
}

/**
 * Runs a map body and turns any failure into a skip result. MapFailure carries the reason the
 * user sees; any other error is a bug in a map, reported rather than thrown so the run goes on.
 */
export function guard<R>(externalId: string | null, body: () => R): MapResult<R> {
  try {
    return { ok: true, row: body() };
  } catch (error) {
    if (error instanceof MapFailure) return { ok: false, externalId, reason: error.message };
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, externalId, reason: `unexpected error while mapping the record: ${message}` };
  }
}
