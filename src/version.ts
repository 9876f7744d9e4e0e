// The package's name and version, read from its package.json (the one file that states them).
import { readFileSync } from 'node:fs';

function readPackage(): { name: string; version: string } {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8'); // from dist/src/ (and src/ via tsx)
  const pkg = JSON.parse(text) as { name?: unknown; version?: unknown };
  return { name: String(pkg.name), version: String(pkg.version) };
}

const PACKAGE = readPackage();
/** e.g. '0.1.0'. */
export const VERSION: string = PACKAGE.version;
export const PACKAGE_NAME: string = PACKAGE.name;
