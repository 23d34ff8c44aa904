/**
 * A practical e-mail check, not RFC 5322: what a person can type and a mail server will accept.
 * Quoted local parts, IP-literal domains and comments are refused (they do not occur in customer
 * records and are more often typos than addresses). Internationalised addresses are accepted.
 */

/** Dot-atoms: letters (any script), digits and the usual specials; no leading, trailing or double dot. */
const LOCAL_PART = /^[\p{L}\p{N}\p{M}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{N}\p{M}!#$%&'*+/=?^_`{|}~-]+)*$/u;
/** Labels of letters, digits and inner hyphens; at least two labels; a TLD that is not all digits. */
const DOMAIN =
  /^(?:[\p{L}\p{N}\p{M}](?:[\p{L}\p{N}\p{M}-]{0,61}[\p{L}\p{N}\p{M}])?\.)+(?:[\p{L}\p{M}]{2,63}|xn--[a-z0-9-]{1,59})$/u;
const MAILTO = /^mailto:/i;

/** Trimmed and lower-cased address, or null when it is not a usable address. */
export function normaliseEmail(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  let email = value.trim();
  if (email === '') return null;
  if (MAILTO.test(email)) email = email.slice(7).trim();
  email = email.toLowerCase();
  return isPracticalEmail(email) ? email : null;
}

/** The check behind normaliseEmail, for an already trimmed address. */
export function isPracticalEmail(email: string): boolean {
  if (email.length > 254) return false;
  const at = email.lastIndexOf('@');
  if (at < 1 || at !== email.indexOf('@')) return false;
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  return local.length <= 64 && domain.length <= 253 && LOCAL_PART.test(local) && DOMAIN.test(domain);
}
