/**
 * The JSON text a record arrived as, so that storing it as `raw` does not stringify it again (the
 * largest single cost of the sync path's CPU after parsing). A record gets its text only when
 * that text is the same JSON value as `JSON.stringify` of the parsed record: every number in it
 * reads back as the same digits (not "1.50", "1e3" or an integer past 2^53, which the stored text
 * would keep as written where JSON.stringify would not), and the schema changed nothing in the
 * record. The text is then the record as received, key order and all. Records must not be changed
 * once their text is kept: nothing on the sync path does.
 */

const bodyTexts = new WeakMap<object, string>();
const recordTexts = new WeakMap<object, string>();

/** Keeps the text a response body was parsed from (the HTTP executor does, for objects). */
export function rememberBodyText(body: unknown, text: string): void {
  if (typeof body === 'object' && body !== null) bodyTexts.set(body, text);
}

export function bodyTextOf(body: unknown): string | undefined {
  return typeof body === 'object' && body !== null ? bodyTexts.get(body) : undefined;
}

/** Keeps a record's text; only for a record that qualifies (see above). */
export function rememberRecordText(record: object, text: string): void {
  recordTexts.set(record, text);
}

export function recordTextOf(record: unknown): string | undefined {
  return typeof record === 'object' && record !== null ? recordTexts.get(record) : undefined;
}

/**
 * The texts of the elements of the top-level `data` array of a page body (the last `data`, as
 * JSON.parse keeps the last of repeated keys), one per element: undefined for an element that is
 * not an object or whose numbers are not written as JSON.stringify writes them. `text` must be
 * valid JSON (it was parsed already); undefined when it is not an object with a `data` array.
 */
export function dataElementTexts(text: string): (string | undefined)[] | undefined {
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== OPEN_OBJECT) return undefined;
  i = skipSpace(text, i + 1);
  let elements: (string | undefined)[] | undefined;
  while (text.charCodeAt(i) === QUOTE) {
    const keyEnd = stringEnd(text, i);
    const keyText = text.slice(i, keyEnd);
    const key = keyText.includes('\\') ? (JSON.parse(keyText) as string) : keyText.slice(1, -1);
    i = skipSpace(text, skipSpace(text, keyEnd) + 1); // past the colon
    if (key === 'data') {
      if (text.charCodeAt(i) === OPEN_ARRAY) {
        elements = [];
        i = skipSpace(text, i + 1);
        while (i < text.length && text.charCodeAt(i) !== CLOSE_ARRAY) {
          const start = i;
          canonical = true;
          i = valueEnd(text, i);
          elements.push(
            canonical && text.charCodeAt(start) === OPEN_OBJECT ? text.slice(start, i) : undefined,
          );
          i = skipSpace(text, i);
          if (text.charCodeAt(i) === COMMA) i = skipSpace(text, i + 1);
        }
        i++;
      } else {
        elements = undefined;
        i = valueEnd(text, i);
      }
    } else {
      i = valueEnd(text, i);
    }
    i = skipSpace(text, i);
    if (text.charCodeAt(i) === COMMA) i = skipSpace(text, i + 1);
  }
  return elements;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const MINUS = 0x2d;

/** Cleared by `valueEnd` when a number is not written as JSON.stringify would write it. */
let canonical = true;

function skipSpace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
}

/** The index after the string that opens at `i`. */
function stringEnd(text: string, i: number): number {
  let end = text.indexOf('"', i + 1);
  for (;;) {
    if (end < 0) return text.length;
    // A quote preceded by an odd number of backslashes is escaped.
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return end + 1;
    end = text.indexOf('"', end + 1);
  }
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === MINUS;
}

/** The index after the value that starts at `i`. */
function valueEnd(text: string, i: number): number {
  let depth = 0;
  do {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i);
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth++;
      i++;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
      i++;
    } else if (c === MINUS || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      while (isNumberChar(text.charCodeAt(i))) i++;
      if (!isCanonicalNumber(text, start, i)) canonical = false;
    } else if (c === 0x74 || c === 0x6e) {
      i += 4; // true, null
    } else if (c === 0x66) {
      i += 5; // false
    } else {
      i++; // whitespace, ':' and ','
    }
  } while (depth > 0 && i < text.length);
  return i;
}

/**
 * Whether the number text is what JSON.stringify writes for its value. Plain integers up to 15
 * digits without a leading zero are (the common case, decided without allocating); anything else
 * is read and written back.
 */
function isCanonicalNumber(text: string, start: number, end: number): boolean {
  let i = text.charCodeAt(start) === MINUS ? start + 1 : start;
  const digits = end - i;
  if (digits > 0 && digits <= 15 && (text.charCodeAt(i) !== 0x30 || digits === 1)) {
    while (i < end && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
    // "-0" reads back as "0".
    if (i === end) return !(digits === 1 && text.charCodeAt(end - 1) === 0x30 && end - start === 2);
  }
  const number = text.slice(start, end);
  return String(Number(number)) === number;
}
