// Paths the data tests share: the committed fixtures and the optional real datasets (../shared/data).
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** Repository root (tests run from dist/tests/data). */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const FIXTURES = join(REPO, 'tests', 'fixtures');
/** Real datasets; HOURGLASS_DATA overrides. */
export const DATA = process.env['HOURGLASS_DATA'] ?? join(REPO, '..', 'shared', 'data');
