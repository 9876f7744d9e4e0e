// Long loops fed by worker threads must give the event loop a turn now and then: Node handles up to 1000 worker
// replies per turn, and when each reply runs the next step (a training step, an evaluation batch) the loop can go
// minutes without a turn, leaving signals (Ctrl-C, SIGTERM) and timers unanswered.

/** Resolves after the event loop has had a turn (the check phase, after I/O and signals). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
