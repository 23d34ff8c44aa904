/**
 * Phone numbers in one comparable form:
 * - NANP (US, Canada, the Caribbean) → 10 digits: "(555) 123-4567", "+1 555.123.4567",
 *   "1-555-123-4567" → "5551234567". That is how ServiceTitan itself stores them.
 * - Other countries, written with "+", "00" or "011" → "+" and digits: "+44 20 7946 0958" →
 *   "+442079460958".
 * - An extension is kept after one space: "5551234567 x12" ("ext. 12", "extension 12", "#12").
 * Anything else (7-digit local numbers, letters, a 10-digit number whose area code starts with 0
 * or 1, too few or too many digits) → null: the caller keeps the contact row with a null value.
 */

const EXTENSION = /\s*(?:x|ext\.?|extn\.?|extension|#)\s*(\d{1,6})\s*$/i;
const SEPARATORS = /[\s().\-/\u2010-\u2015]/g;
const DIGITS_ONLY = /^\d+$/;

/** E.164 allows at most 15 digits; shorter than 7 is not a dialable international number. */
const MIN_INTERNATIONAL = 7;
const MAX_INTERNATIONAL = 15;

export function normalisePhone(value: unknown): string | null {
  if (typeof value !== 'string') return typeof value === 'number' ? normalisePhone(String(value)) : null;
  let text = value.trim();
  if (text === '') return null;

  let extension = '';
  const ext = EXTENSION.exec(text);
  if (ext !== null) {
    extension = ` x${ext[1]}`;
    text = text.slice(0, ext.index);
  }

  let digits = text.replace(SEPARATORS, '');
  let international = false;
  if (digits.startsWith('+')) {
    international = true;
    digits = digits.slice(1);
  }
  if (!DIGITS_ONLY.test(digits)) return null;
  if (!international) {
    if (digits.startsWith('011')) {
      international = true;
      digits = digits.slice(3);
    } else if (digits.startsWith('00')) {
      international = true;
      digits = digits.slice(2);
    }
  }

  if (international) {
    // "+1…" is a NANP number written internationally: same 10-digit form as the domestic one.
    if (digits.startsWith('1')) return digits.length === 11 ? nanp(digits.slice(1), extension) : null;
    if (digits.length < MIN_INTERNATIONAL || digits.length > MAX_INTERNATIONAL || digits.startsWith('0')) {
      return null;
    }
    return `+${digits}${extension}`;
  }
  if (digits.length === 11 && digits.startsWith('1')) return nanp(digits.slice(1), extension);
  if (digits.length === 10) return nanp(digits, extension);
  return null;
}

function nanp(tenDigits: string, extension: string): string | null {
  // Area codes never start with 0 or 1. Exchange codes are not checked: the 555-123-4567 kind of
  // number used in examples and test data would be rejected for nothing.
  const first = tenDigits.charCodeAt(0);
  if (first < 50 /* '2' */) return null;
  return `${tenDigits}${extension}`;
}
