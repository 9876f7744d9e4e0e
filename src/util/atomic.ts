// Atomic file writes: write a temporary file beside the target, flush it to disk, then rename over the target,
// so a crash (or kill -9) leaves either the old file or the new one, never a torn one.
import { openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync, mkdirSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

export function writeFileAtomic(path: string, chunks: Uint8Array | string | readonly (Uint8Array | string)[]): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
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
