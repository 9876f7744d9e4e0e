// Typed errors: library callers catch them; the CLI turns them into one red line and a non-zero exit.

/** Base class of every error the project raises on purpose (bad input, bad files, bad flags). */
export class HourglassError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A value given by the caller (option, flag, argument) is not acceptable. */
export class InvalidArgumentError extends HourglassError {}

/** A file is missing, unreadable or does not have the expected content. */
export class FileFormatError extends HourglassError {
  constructor(readonly file: string, detail: string) {
    super(`${file}: ${detail}`);
  }
}

/** A checkpoint does not fit the network it is loaded into. */
export class CheckpointMismatchError extends HourglassError {}

/** A backend was asked for but cannot be used here. */
export class BackendUnavailableError extends HourglassError {}

/** The GPU device failed during a run: lost (driver reset, unplugged, destroyed) or out of memory. */
export class GpuDeviceError extends HourglassError {}

/** Training diverged (NaN or infinite loss or weights). */
export class DivergenceError extends HourglassError {}

/** A tensor about to be written holds NaN or infinite values (nothing was written). */
export class NonFiniteError extends HourglassError {}

/** A run folder is held by another process (its lock names the holder). */
export class RunLockedError extends HourglassError {}

/** Images of a data set cannot be read (missing, damaged, not images); `images` lists them all. */
export class BadImagesError extends HourglassError {
  constructor(message: string, readonly images: readonly string[]) {
    super(message);
  }
}

/** The job queue's Redis cannot be reached or used, or the queue was made by another version. */
export class QueueError extends HourglassError {}
