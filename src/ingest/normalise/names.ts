import { cleanText } from './text.js';

export interface PersonName {
  firstName: string | null;
  lastName: string | null;
}

const NO_NAME: PersonName = Object.freeze({ firstName: null, lastName: null });

/** Lower-cased, without dots. A leading honorific is dropped when a real name follows it. */
const HONORIFICS = new Set(['mr', 'mrs', 'ms', 'miss', 'mx', 'dr']);
/** Generational suffixes and post-nominals stay with the last name: "John Smith Jr." → "Smith Jr.". */
const SUFFIXES = new Set(['jr', 'sr', 'ii', 'iii', 'iv', 'md', 'phd', 'dds', 'esq']);
/** Surname particles: "Ludwig van Beethoven" → last name "van Beethoven". */
const PARTICLES = new Set([
  'van',
  'von',
  'de',
  'der',
  'den',
  'del',
  'della',
  'da',
  'di',
  'du',
  'la',
  'le',
  'st',
]);

const DOTS = /\./g;

function key(token: string): string {
  return token.includes('.') ? token.replace(DOTS, '').toLowerCase() : token.toLowerCase();
}

/**
 * Splits a residential customer's name into first and last name.
 *
 * - "Smith, John" (and "Smith Jr., John") → John / Smith: the comma form is "Last, First".
 * - "John  Smith" → John / Smith; "Mary Ann Smith" and "John & Mary Smith" → everything before the
 *   last name is the first name, so nothing is lost.
 * - The last name takes preceding particles ("Anna de la Cruz" → Anna / de la Cruz) and a trailing
 *   suffix ("John Smith Jr." → John / Smith Jr.).
 * - One word → last name only (a household known by its surname is the common case); a leading
 *   honorific is dropped ("Dr. Jane Roe" → Jane / Roe, "Mr Smith" → last name Smith).
 *
 * The input is cleaned first (trim, whitespace collapsed), so the caller may pass the raw name.
 */
export function splitPersonName(name: unknown): PersonName {
  const clean = cleanText(name);
  if (clean === null) return NO_NAME;

  const comma = clean.indexOf(',');
  if (comma >= 0) {
    const last = cleanText(clean.slice(0, comma));
    // A second comma belongs to the first-name part ("Smith, John, Jr." is rare; keep it verbatim).
    const first = cleanText(clean.slice(comma + 1));
    if (last !== null && first !== null) return { firstName: first, lastName: last };
    // "Smith," or ", John": one usable word, read like a single-word name.
    return { firstName: null, lastName: last ?? first };
  }

  const tokens = clean.split(' ');
  if (tokens.length > 1 && HONORIFICS.has(key(tokens[0]!))) tokens.shift();
  // The last name starts at the last word, pulled left over a trailing suffix and over particles.
  let start = tokens.length - 1;
  if (start > 0 && SUFFIXES.has(key(tokens[start]!))) start--;
  while (start > 1 && PARTICLES.has(key(tokens[start - 1]!))) start--;
  // Only a surname (with its suffix) is left: "Smith", "Dr Smith", "Smith Jr.".
  if (start === 0) return { firstName: null, lastName: tokens.join(' ') };
  return { firstName: tokens.slice(0, start).join(' '), lastName: tokens.slice(start).join(' ') };
}

/**
 * "Residential" | "Commercial" whatever the case or padding; any other value as sent (trimmed), so
 * a new type ServiceTitan adds is stored rather than lost; null or '' → null.
 */
export function normaliseCustomerType(value: unknown): string | null {
  const text = cleanText(value);
  if (text === null) return null;
  const lower = text.toLowerCase();
  if (lower === 'residential') return 'Residential';
  if (lower === 'commercial') return 'Commercial';
  return text;
}
