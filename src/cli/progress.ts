// Progress display for long work: a redrawn bar with rate and ETA on a terminal, plain lines every few seconds otherwise.

export interface ProgressState {
  readonly label: string;
  readonly done: number;
  readonly total: number;
  /** Extra fields shown after the bar, e.g. 'loss 0.0012'. */
  readonly detail: string;
  /** Items per second, for the ETA. */
  readonly rate: number;
  /** Items per rate unit (e.g. images per step), to turn the rate into steps per second. */
  readonly itemsPerUnit: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

export class Progress {
  private lastPlain = 0;
  private drawn = false;

  constructor(private readonly write: (text: string) => void, private readonly isTty: boolean, private readonly plainEverySeconds = 30) {}

  update(p: ProgressState): void {
    const remaining = p.total - p.done;
    const eta = p.rate > 0 ? (remaining * p.itemsPerUnit) / p.rate : NaN;
    const pct = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
    if (this.isTty) {
      const width = 24;
      const filled = Math.round(pct * width);
      const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
      this.write(`\r\x1b[2K${p.label} [${bar}] ${p.done}/${p.total} ${p.detail} ETA ${formatDuration(eta)}`);
      this.drawn = true;
      return;
    }
    const now = Date.now();
    if (now - this.lastPlain >= this.plainEverySeconds * 1000 || p.done === p.total) {
      this.lastPlain = now;
      this.write(`${p.label} ${p.done}/${p.total} ${p.detail} ETA ${formatDuration(eta)}\n`);
    }
  }

  /** Prints a line without garbling the bar. */
  line(text: string): void {
    if (this.isTty && this.drawn) this.write('\r\x1b[2K');
    this.drawn = false;
    this.write(`${text}\n`);
  }

  end(): void {
    if (this.isTty && this.drawn) this.write('\n');
    this.drawn = false;
  }
}
