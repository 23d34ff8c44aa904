/**
 * Canonical decimal strings, computed on the text (never through a float, so
 * "12345678901234567.89" survives exactly).
 *
 * The canonical form: optional "-", integer digits without leading zeros, ".", then at least two
 * fraction digits; fraction zeros beyond the second are dropped, significant digits never are.
 *   "1.0000000000000000000" → "1.00"    "125.5000000000" → "125.50"   "-12.5" → "-12.50"
 *   "1e2" → "100.00"    "0.125" → "0.125"    "-0" → "0.00"    "007" → "7.00"
 * A PostgreSQL numeric column reads it as is, and equal amounts always compare equal as text.
 */

const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,6}))?$/;

/**
 * Exponents further out than this are refused rather than expanded into thousands of zeros; no
 * money amount or quantity needs them, and PostgreSQL numeric tops out at 131072 integer digits.
 */
const MAX_EXPONENT = 1000;

/**
 * The canonical decimal string of `value`, or null when it is not a finite decimal number
 * ("twelve dollars", "", "NaN", "1e99999"). Numbers are read through their shortest round-trip
 * text (`String(n)`), which is what the stream schema already does.
 */
export function canonicalDecimal(value: string | number): string | null {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    text = String(value);
  } else if (typeof value === 'string') {
    text = value.trim();
  } else {
    return null;
  }

  const match = DECIMAL.exec(text);
  if (match === null) return null;
  const intText = match[2] ?? '';
  const fracText = match[3] ?? '';
  if (intText === '' && fracText === '') return null;
  const exponent = match[4] === undefined ? 0 : Number(match[4]);
  if (exponent > MAX_EXPONENT || exponent < -MAX_EXPONENT) return null;

  // All significant digits, and where the decimal point sits among them.
  const digits = intText + fracText;
  const point = intText.length + exponent;
  let intPart: string;
  let fracPart: string;
  if (point <= 0) {
    intPart = '';
    fracPart = '0'.repeat(-point) + digits;
  } else if (point >= digits.length) {
    intPart = digits + '0'.repeat(point - digits.length);
    fracPart = '';
  } else {
    intPart = digits.slice(0, point);
    fracPart = digits.slice(point);
  }

  let intStart = 0;
  while (intStart < intPart.length - 1 && intPart.charCodeAt(intStart) === 48) intStart++;
  intPart = intPart.slice(intStart) || '0';
  let fracEnd = fracPart.length;
  while (fracEnd > 2 && fracPart.charCodeAt(fracEnd - 1) === 48) fracEnd--;
  fracPart = fracPart.slice(0, fracEnd).padEnd(2, '0');

  const negative = match[1] === '-' && !(intPart === '0' && isAllZeros(fracPart));
  return `${negative ? '-' : ''}${intPart}.${fracPart}`;
}

function isAllZeros(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== 48) return false;
  return true;
}
