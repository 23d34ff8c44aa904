/**
 * The benchmarks' command-line numbers: a typo ends the script with a message naming the option,
 * rather than running another benchmark than the one asked for (`Number('x')` is NaN, which the
 * sandbox and the planner would take in their stride).
 */
export function wholeNumber(name: string, text: string, min = 0): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < min) {
    process.stderr.write(`--${name} must be a whole number of at least ${min}, got "${text}"\n`);
    process.exit(2);
  }
  return value;
}

/** One of `allowed`, or the script ends with a message naming them. */
export function oneOf<T extends string>(name: string, text: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(text)) {
    process.stderr.write(`--${name} must be one of ${allowed.join(', ')}, got "${text}"\n`);
    process.exit(2);
  }
  return text as T;
}
