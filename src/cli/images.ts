// The image files a command's arguments name: files as given, a folder as its images (sorted; its subfolders too
// with `recursive`), and the check that no result file would overwrite one of them.
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { extname, join, relative, resolve, isAbsolute } from 'node:path';
import { InvalidArgumentError } from '../errors.js';

/** File extensions taken as images when a folder is listed. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif']);

export function isImageName(name: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
}

function inside(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The images of a folder, sorted by path; `skip` (e.g. the output folder) is not entered. */
function folderImages(folder: string, recursive: boolean, skip: string | null): string[] {
  const found: string[] = [];
  const entries = readdirSync(folder, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory() || (entry.isSymbolicLink() && statSync(path, { throwIfNoEntry: false })?.isDirectory())) {
      if (recursive && !(skip !== null && inside(resolve(path), skip))) found.push(...folderImages(path, true, skip));
    } else if (isImageName(entry.name)) {
      found.push(path);
    }
  }
  return found;
}

/**
 * Expands the arguments: a folder becomes its images (with `recursive`, those of its subfolders too, except inside
 * `outDir`); anything else is kept as given (a missing or unreadable file is reported when it is read).
 */
export function expandImageArguments(args: readonly string[], options: { recursive?: boolean; outDir?: string } = {}): string[] {
  const skip = options.outDir === undefined ? null : resolve(options.outDir);
  const images: string[] = [];
  for (const arg of args) {
    if (!statSync(arg, { throwIfNoEntry: false })?.isDirectory()) {
      images.push(arg);
      continue;
    }
    const listed = folderImages(arg, options.recursive ?? false, skip);
    if (listed.length === 0) {
      const how = options.recursive ? '' : ' (--recursive also looks in its subfolders)';
      throw new InvalidArgumentError(`${arg}: a folder with no images (${[...IMAGE_EXTENSIONS].join(', ')})${how}`);
    }
    images.push(...listed);
  }
  return images;
}

function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * Throws before anything is written when a result file would replace one of the inputs (e.g. `predict photo.png
 * --out .` would write the overlay photo.png over the photo).
 */
export function refuseOverwritingInputs(inputs: readonly string[], outputs: readonly string[], hint: string): void {
  const byPath = new Map(inputs.map((p) => [canonical(p), p]));
  for (const out of outputs) {
    const input = byPath.get(canonical(out));
    if (input !== undefined) throw new InvalidArgumentError(`${out} would overwrite the input image ${input}; ${hint}`);
  }
}
