// One writer per run folder: `train` and `train --resume` hold `<run>/run.lock` (the owner's PID, host and start
// time) from before they write anything until they exit. A second process on a held folder stops with the holder
// named; a lock left by a process that no longer runs (kill -9, power loss) is taken over with a message.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FileFormatError, RunLockedError } from '../errors.js';
import { processExists } from '../util/atomic.js';

export const LOCK_FILE = 'run.lock';

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** Linux: the process's start time in clock ticks since boot (/proc/PID/stat field 22), to tell a reused PID. */
  readonly startTicks: number | null;
  readonly since: string;
  readonly command: string;
}

/** Lock files this process holds: a second claim from the same process is refused like another's. */
const HELD = new Set<string>();

export interface RunLock {
  readonly path: string;
  /** Set when a stale lock was taken over: what it said. */
  readonly tookOver: string | null;
  release(): void;
}

function startTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

/** Whether the process a lock names is still the one that wrote it (false: the lock is stale). */
function holds(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true; // another machine's process: cannot be checked from here
  if (owner.pid === process.pid) return false; // our own PID recorded by a dead predecessor (e.g. in a container)
  if (!processExists(owner.pid)) return false;
  const ticks = startTicks(owner.pid);
  return owner.startTicks === null || ticks === null || ticks === owner.startTicks;
}

function describe(owner: LockOwner): string {
  return `process ${owner.pid} on ${owner.host} since ${owner.since} (${owner.command})`;
}

function readOwner(path: string): LockOwner | null {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    if (typeof value.pid !== 'number' || typeof value.host !== 'string') return null;
    return {
      pid: value.pid, host: value.host, startTicks: typeof value.startTicks === 'number' ? value.startTicks : null,
      since: String(value.since ?? '?'), command: String(value.command ?? '?'),
    };
  } catch {
    return null; // torn or empty: written by a process killed between open and write
  }
}

/** Creates the lock file only if none exists (O_EXCL); false when one does. */
function tryCreate(path: string, owner: LockOwner): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, `${JSON.stringify(owner)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Takes the run folder's lock or throws RunLockedError naming the holder. `command` says what holds it (shown to a
 * second process). Creates the folder if needed; a file in the folder's place is an error naming it.
 */
export function acquireRunLock(dir: string, command: string): RunLock {
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new FileFormatError(dir, 'is a file; a run folder is needed here (choose another --out)');
  }
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const me: LockOwner = {
    pid: process.pid, host: hostname(), startTicks: startTicks(process.pid), since: new Date().toISOString(), command,
  };
  if (HELD.has(path)) throw new RunLockedError(`${dir} is in use by this process (another trainer holds ${path})`);
  let tookOver: string | null = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreate(path, me)) return lockHandle(path, me, tookOver);
    const owner = readOwner(path);
    if (owner && holds(owner)) {
      throw new RunLockedError(
        `${dir} is in use by ${describe(owner)}; wait for it to finish or stop it (if it is not running, delete ${path})`,
      );
    }
    // Stale (or torn): take it over. A guard folder makes the takeover exclusive between two starting processes.
    const guard = `${path}.takeover`;
    try {
      mkdirSync(guard);
    } catch {
      const since = statSync(guard, { throwIfNoEntry: false })?.mtimeMs;
      if (since !== undefined && Date.now() - since > 60_000) rmdirSync(guard); // left by a crash mid-takeover
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100); // another process is taking over
      continue;
    }
    try {
      if (readOwner(path)?.pid === owner?.pid) {
        tookOver = owner ? describe(owner) : 'an unreadable lock';
        unlinkSync(path);
      }
    } catch {
      // gone meanwhile: the next attempt creates it
    } finally {
      rmdirSync(guard);
    }
  }
  throw new RunLockedError(`${dir}: could not take its lock ${path} (another process keeps taking it)`);
}

function lockHandle(path: string, me: LockOwner, tookOver: string | null): RunLock {
  let released = false;
  HELD.add(path);
  const release = (): void => {
    if (released) return;
    released = true;
    HELD.delete(path);
    const owner = readOwner(path);
    if (owner && owner.pid === me.pid && owner.startTicks === me.startTicks) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', release);
  return {
    path,
    tookOver,
    release: () => {
      process.off('exit', release);
      release();
    },
  };
}
