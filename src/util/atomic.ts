// Atomic file writes: write a temporary file beside the target, flush it to disk, then rename over the target,
// so a crash (or kill -9) leaves either the old file or the new one, never a torn one.
import { openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

export function writeFileAtomic(path: string, chunks: Uint8Array | string | readonly (Uint8Array | string)[]): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`); // TEMP_NAME below
  const parts = Array.isArray(chunks) ? chunks : [chunks as Uint8Array | string];
  const fd = openSync(tmp, 'w');
  try {
    for (const part of parts) {
      const buf = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
      let written = 0;
      while (written < buf.byteLength) written += writeSync(fd, buf, written, buf.byteLength - written);
    }
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    unlinkSync(tmp);
    throw err;
  }
  // Make the rename itself durable.
  try {
    const dfd = openSync(dir, 'r');
    fsyncSync(dfd);
    closeSync(dfd);
  } catch {
    // Directories cannot be opened for fsync on every platform; the file content is already durable.
  }
}

/** The temporary files writeFileAtomic makes: `.<name>.<pid>.<ms>.tmp`. */
const TEMP_NAME = /^\..+\.(\d+)\.\d+\.tmp$/;

/** Whether a process with this PID exists (EPERM: it does, owned by another user). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files of writes that never finished (the writer was killed between write and rename) from
 * `dir`: those whose writer process no longer runs. Returns their names. A missing folder has none.
 */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m || Number(m[1]) === process.pid || processExists(Number(m[1]))) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch {
      // gone meanwhile, or not ours to remove: leave it
    }
  }
  return removed;
}
