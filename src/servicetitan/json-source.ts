import { isUtf8 } from 'node:buffer';
import { releasePageBuffer } from './page-buffers.js';

/**
 * The JSON text a record arrived as, so that storing it as `raw` does not stringify it again (the
 * largest single cost of the sync path's CPU after parsing). A record gets its text only when
 * that text is the same JSON value as `JSON.stringify` of the parsed record: every number in it
 * reads back as the same digits (not "1.50", "1e3" or an integer past 2^53, which the stored text
 * would keep as written where JSON.stringify would not), and the schema changed nothing in the
 * record. The text is then the record as received, key order and all. Records must not be changed
 * once their text is kept: nothing on the sync path does.
 */

/**
 * A record's JSON text: its UTF-8 bytes, when they are valid UTF-8 and hold no backslash, tab,
 * newline or carriage return (COPY takes them as they are), else the text as a string.
 */
export type RecordText = string | Uint8Array;

const elementTexts = new WeakMap<object, readonly (RecordText | undefined)[]>();
/** The bytes each page body was parsed from: its records' texts are views of them. */
const bodyBytes = new WeakMap<object, Uint8Array>();
const recordTexts = new WeakMap<object, RecordText>();

/** The texts of a page body's `data` elements, where the body was parsed by `parseDataPage`. */
export function dataElementTextsOf(body: unknown): readonly (RecordText | undefined)[] | undefined {
  return typeof body === 'object' && body !== null ? elementTexts.get(body) : undefined;
}

/** Keeps a record's text; only for a record that qualifies (see above). */
export function rememberRecordText(record: object, text: RecordText): void {
  recordTexts.set(record, text);
}

/**
 * The page body's bytes may be reused (see page-buffers): its records' texts read as empty from
 * now on. Only for a body whose records are stored and no longer needed.
 */
export function releasePageBody(body: unknown): void {
  if (typeof body !== 'object' || body === null) return;
  const bytes = bodyBytes.get(body);
  if (!bytes) return;
  bodyBytes.delete(body);
  releasePageBuffer(bytes);
}

export function recordTextOf(record: unknown): RecordText | undefined {
  return typeof record === 'object' && record !== null ? recordTexts.get(record) : undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const MINUS = 0x2d;
const COLON = 0x3a;

const utf8 = new TextDecoder();

/** A page body parsed from its bytes: `body.data` holds the records, `texts` their JSON texts. */
export interface DataPage {
  body: { data: unknown[] } & Record<string, unknown>;
  /** Per element of `body.data`: its text, or undefined when not an object written canonically. */
  texts: (RecordText | undefined)[];
}

interface ElementSpan {
  start: number;
  end: number;
  keepsText: boolean;
  /** No backslash, tab, newline or carriage return in it. */
  plain: boolean;
}

/**
 * A JSON body that is an object with one `data` array, parsed from its UTF-8 bytes element by
 * element: each element is decoded and parsed on its own, and keeps its text when it is an object
 * whose numbers are written as JSON.stringify writes them. The values are those JSON.parse of the
 * whole text gives. Decoding a page of invoices (~0.9 MB) whole made one large string, two bytes
 * a character as soon as one record held a non-ASCII character, in memory fresh from the system
 * for every page; decoded element by element, the strings are small, mostly one byte a character,
 * and the parse with the texts took ~3.5 ms a page instead of ~6.3 ms here. Undefined for any
 * other body (no `data` array, `data` repeated or a key written with escapes, a byte-order mark,
 * invalid JSON): the caller then parses the whole text, which decides, and has no texts.
 */
export function parseDataPage(input: Uint8Array): DataPage | undefined {
  // A plain Uint8Array, whatever the caller passed (a Buffer is a subclass): the scan below runs
  // ~25 % faster on one type of array than on two.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const n = bytes.length;
  let i = skipSpace(bytes, 0);
  if (bytes[i] !== OPEN_OBJECT) return undefined;
  i = skipSpace(bytes, i + 1);
  let spans: ElementSpan[] | undefined;
  let arrayStart = 0;
  let arrayEnd = 0;
  while (bytes[i] === QUOTE) {
    const keyEnd = stringEnd(bytes, i);
    const isData =
      keyEnd - i === 6 &&
      bytes[i + 1] === 0x64 &&
      bytes[i + 2] === 0x61 &&
      bytes[i + 3] === 0x74 &&
      bytes[i + 4] === 0x61;
    // A key written with escapes could spell "data" too: JSON.parse of the whole text decides.
    if (!isData && bytes.subarray(i, keyEnd).includes(BACKSLASH)) return undefined;
    i = skipSpace(bytes, keyEnd);
    if (bytes[i] !== COLON) return undefined;
    i = skipSpace(bytes, i + 1);
    if (isData) {
      // JSON.parse keeps the last of repeated keys; a `data` that is not an array has no texts.
      if (spans !== undefined || bytes[i] !== OPEN_ARRAY) return undefined;
      spans = [];
      arrayStart = i;
      i = skipSpace(bytes, i + 1);
      while (i < n && bytes[i] !== CLOSE_ARRAY) {
        const start = i;
        canonical = true;
        plain = true;
        i = valueEnd(bytes, i);
        spans.push({ start, end: i, keepsText: canonical && bytes[start] === OPEN_OBJECT, plain });
        i = skipSpace(bytes, i);
        if (bytes[i] === COMMA) {
          i = skipSpace(bytes, i + 1);
          if (bytes[i] === CLOSE_ARRAY) return undefined; // a trailing comma
        } else if (bytes[i] !== CLOSE_ARRAY) return undefined;
      }
      if (i >= n) return undefined;
      arrayEnd = ++i;
    } else {
      i = valueEnd(bytes, i);
    }
    i = skipSpace(bytes, i);
    if (bytes[i] !== COMMA) break;
    i = skipSpace(bytes, i + 1);
  }
  if (spans === undefined || bytes[i] !== CLOSE_OBJECT || skipSpace(bytes, i + 1) !== n) return undefined;
  try {
    // The rest of the body, with an empty array where `data` was, is parsed as one text.
    const body = JSON.parse(
      `${utf8.decode(bytes.subarray(0, arrayStart))}[]${utf8.decode(bytes.subarray(arrayEnd))}`,
    ) as DataPage['body'];
    const data: unknown[] = new Array(spans.length);
    const texts: (RecordText | undefined)[] = new Array(spans.length);
    for (let k = 0; k < spans.length; k++) {
      const span = spans[k]!;
      const element = bytes.subarray(span.start, span.end);
      const text = utf8.decode(element);
      data[k] = JSON.parse(text);
      // Kept as bytes where they can be copied as they are: the string then dies young, where
      // thousands of record strings kept until their page commits made the garbage collector
      // copy them (its time doubled at --latency 300).
      if (span.keepsText) texts[k] = span.plain && isUtf8(element) ? element : text;
    }
    body.data = data;
    elementTexts.set(body, texts);
    bodyBytes.set(body, input);
    return { body, texts };
  } catch {
    return undefined;
  }
}

function skipSpace(b: Uint8Array, i: number): number {
  for (;;) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
}

/** The index after the string that opens at `i`. */
function stringEnd(b: Uint8Array, i: number): number {
  const n = b.length;
  i++;
  while (i < n) {
    const c = b[i];
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) {
      plain = false;
      i += 2;
    } else {
      i++;
    }
  }
  return n;
}

/** Cleared by `valueEnd` when a number is not written as JSON.stringify would write it. */
let canonical = true;
/** Cleared by `valueEnd` at a backslash, tab, newline or carriage return. */
let plain = true;

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === MINUS;
}

/** The index after the value that starts at `i` (its end, or the body's, when it is cut off). */
function valueEnd(b: Uint8Array, i: number): number {
  const n = b.length;
  let depth = 0;
  do {
    const c = b[i]!;
    if (c === QUOTE) {
      i = stringEnd(b, i);
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth++;
      i++;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
      i++;
    } else if (c === MINUS || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      while (i < n && isNumberChar(b[i]!)) i++;
      if (!isCanonicalNumber(b, start, i)) canonical = false;
    } else if (c === 0x74 || c === 0x6e) {
      i += 4; // true, null
    } else if (c === 0x66) {
      i += 5; // false
    } else {
      if (c === 0x09 || c === 0x0a || c === 0x0d) plain = false;
      i++; // whitespace, ':' and ','
    }
  } while (depth > 0 && i < n);
  return i;
}

/**
 * Whether the number text is what JSON.stringify writes for its value. Decided without allocating
 * for the common cases, integers and plain decimals (amounts, coordinates): a number written
 * without exponent, without a leading zero and, after a point, without a trailing zero, with at
 * most 15 significant digits, reads back as itself. Fifteen digits is what a double always keeps,
 * so no shorter text names the same double, and JavaScript writes such a value without exponent
 * (from 10^-6 up to 10^21). Anything else is read and written back. A page of 500 sandbox
 * customers holds ~1,000 coordinates, all read and written back before: it parsed in 4.0 ms then,
 * 2.5–2.7 ms now (side by side).
 */
function isCanonicalNumber(b: Uint8Array, start: number, end: number): boolean {
  const first = b[start] === MINUS ? start + 1 : start;
  let i = first;
  while (i < end && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
  const integerDigits = i - first;
  if (integerDigits > 0 && (b[first] !== 0x30 || integerDigits === 1)) {
    if (i === end && integerDigits <= 15) {
      // "-0" reads back as "0".
      return !(integerDigits === 1 && b[first] === 0x30 && first > start);
    }
    if (b[i] === 0x2e) {
      const fraction = ++i;
      while (i < end && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
      if (i === end && i > fraction) {
        // "1.50" reads back as "1.5", "2.0" as "2".
        if (b[end - 1] === 0x30) return false;
        let significant = integerDigits + (end - fraction);
        if (b[first] === 0x30) {
          let zeros = 0;
          while (b[fraction + zeros] === 0x30) zeros++;
          // Below 10^-6 JavaScript writes an exponent ("1e-7").
          significant = end - fraction - zeros;
          if (zeros > 5) significant = Number.POSITIVE_INFINITY;
        }
        if (significant <= 15) return true;
      }
    }
  }
  // A number's characters are ASCII: decoded as UTF-8, they are the text as written.
  const number = utf8.decode(b.subarray(start, end));
  return String(Number(number)) === number;
}
