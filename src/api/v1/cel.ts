/** Literals for the CEL expressions of the CRD rules (schema.ts, duration.ts, time-of-day.ts). */

/** `text` as a CEL string literal. */
export function celString(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** `pattern` as a CEL raw string literal (backslashes reach RE2 unchanged). */
export function celPattern(pattern: string): string {
  if (pattern.includes("'")) throw new Error(`a CEL raw string cannot hold a quote: ${pattern}`);
  return `r'${pattern}'`;
}
