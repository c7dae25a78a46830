/**
 * The operator's version: package.json's, the one source of truth (the chart and the image take
 * theirs from it). Read at start from the package root, one level above `src/` and `dist/`.
 */
import { readFileSync } from 'node:fs';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
