/**
 * Free-text clean-up shared by the maps. Regular expressions live at module level: the maps run
 * tens of thousands of times a second and must not compile a pattern per call.
 */

const WHITESPACE_RUN = /\s+/g;
const NEEDS_COLLAPSE = /\s\s|[^\S ]/;
const NON_ASCII = /[\u0080-\uffff]/;
/** C0 controls other than whitespace: PostgreSQL text refuses NUL, and none of them is content. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000e-\u001f\u007f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const HAS_CONTROL = /[\u0000-\u0008\u000e-\u001f\u007f]/;
const HTML_TAG = /<\/?[a-zA-Z][^>]*>/g;
const HTML_ENTITY = /&(?:amp|lt|gt|quot|apos|nbsp|#39|#x27);/g;
const ENTITIES: Readonly<Record<string, string>> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&apos;': "'",
  '&#39;': "'",
  '&#x27;': "'",
  '&nbsp;': ' ',
};

/**
 * Trims, collapses every run of whitespace (tabs, newlines, non-breaking spaces) to one space and
 * puts Unicode in NFC, so "José" typed two ways is one string; control characters are dropped.
 * '' and non-strings → null; finite numbers are kept as their text (a zip sent as a number).
 */
export function cleanText(value: unknown): string | null {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
  else return null;
  if (HAS_CONTROL.test(text)) text = text.replace(CONTROL, '');
  text = text.trim();
  if (text === '') return null;
  if (NEEDS_COLLAPSE.test(text)) text = text.replace(WHITESPACE_RUN, ' ');
  if (NON_ASCII.test(text)) text = text.normalize('NFC');
  return text;
}

/**
 * Plain text from ServiceTitan's "html" fields (item descriptions arrive as "<p>…</p>"): tags are
 * dropped, the common entities decoded, whitespace cleaned. Only tags that start with a letter or
 * "/" are removed, so "size < 5 > 3" stays as written.
 */
export function plainText(value: unknown): string | null {
  if (typeof value !== 'string') return cleanText(value);
  let text = value;
  if (text.includes('<')) text = text.replace(HTML_TAG, ' ');
  if (text.includes('&')) text = text.replace(HTML_ENTITY, (entity) => ENTITIES[entity] ?? entity);
  return cleanText(text);
}
