// What a queue job is: one image, named by a hash of its path and content (so enqueuing twice adds nothing twice),
// with where its result goes and how to estimate it; and how sources (files, folders, manifests) become images.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { FileFormatError, InvalidArgumentError } from '../errors.js';
import { IMAGE_EXTENSIONS } from '../data/image.js';
import type { Box } from '../api/estimator.js';

/** Where a job's result goes: files (the JSON of `predict`, and the overlay when asked) or the job's return value. */
export type JobOutput =
  | { readonly kind: 'files'; readonly json: string; readonly overlay: string | null }
  | { readonly kind: 'redis' };

/** The data of one job (stored as JSON in Redis; its layout is QUEUE_FORMAT). */
export interface PoseJobData {
  readonly format: number;
  /** Absolute path, readable by every worker. */
  readonly image: string;
  /** SHA-256 of the image file's bytes at enqueue time. */
  readonly sha256: string;
  readonly output: JobOutput;
  readonly flipTest: boolean;
  readonly box?: Box;
  readonly scales?: readonly number[];
  /** The person search's limits (without a box): as predict's --max-people and --min-person-score. */
  readonly maxPeople?: number;
  readonly minPersonScore?: number;
}

/** Manifest files: one image path per line ('#' comments and blank lines skipped; relative to the manifest). */
export const MANIFEST_EXTENSIONS: ReadonlySet<string> = new Set(['.txt', '.lst']);

/** An image found in the sources, with the output name it asks for (its path under a folder source, or its stem). */
export interface SourceImage {
  readonly path: string;
  readonly outputName: string;
}

function stripExtension(p: string): string {
  return p.slice(0, p.length - extname(p).length);
}

function walk(dir: string, root: string, out: SourceImage[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) walk(p, root, out);
    else if (entry.isFile() && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) out.push({ path: p, outputName: stripExtension(relative(root, p)) });
  }
}

function readManifest(file: string): SourceImage[] {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const out: SourceImage[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const p = resolve(dirname(file), line);
    if (!existsSync(p) || !statSync(p).isFile()) throw new FileFormatError(file, `line ${i + 1}: no such image file '${line}'`);
    out.push({ path: p, outputName: basename(stripExtension(p)) });
  });
  return out;
}

/** The images of the sources, in order, each once (a path met twice is kept at its first place). */
export function collectImages(sources: readonly string[]): SourceImage[] {
  if (sources.length === 0) throw new InvalidArgumentError('no sources given: name image files, folders or manifests (.txt, one path a line)');
  const found: SourceImage[] = [];
  for (const source of sources) {
    const abs = resolve(source);
    if (!existsSync(abs)) throw new FileFormatError(source, 'no such file or folder');
    const stat = statSync(abs);
    const ext = extname(abs).toLowerCase();
    if (stat.isDirectory()) walk(abs, abs, found);
    else if (MANIFEST_EXTENSIONS.has(ext)) found.push(...readManifest(abs));
    else if (IMAGE_EXTENSIONS.has(ext)) found.push({ path: abs, outputName: basename(stripExtension(abs)) });
    else {
      throw new FileFormatError(source, `neither an image (${[...IMAGE_EXTENSIONS].join(' ')}) nor a manifest (${[...MANIFEST_EXTENSIONS].join(' ')})`);
    }
  }
  const seen = new Set<string>();
  return found.filter((s) => !seen.has(s.path) && seen.add(s.path));
}

/** SHA-256 of a file's bytes, hex. */
export function hashFile(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', (err) => reject(new FileFormatError(path, `cannot read: ${err.message}`)))
      .on('end', () => resolvePromise(hash.digest('hex')));
  });
}

/** The job id of an image: from its absolute path and its content hash ('img-' + 32 hex digits). */
export function jobId(path: string, sha256: string): string {
  return `img-${createHash('sha256').update(`${resolve(path)}\0${sha256}`).digest('hex').slice(0, 32)}`;
}
