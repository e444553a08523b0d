/** When to restart the language server after it stopped unexpectedly. Pure module. */

export interface RestartPolicyOptions {
  /** At most this many restarts… */
  maxRestarts: number;
  /** …within this window. */
  windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicyOptions = { maxRestarts: 5, windowMs: 3 * 60_000 };

/** Counts crashes in a sliding window: restart until the server crashes too often, then give up. */
export class RestartPolicy {
  private crashes: number[] = [];

  constructor(private readonly options: RestartPolicyOptions = DEFAULT_RESTART_POLICY) {}

  /** Records a crash at `now`; true if the server should be restarted. */
  shouldRestart(now: number): boolean {
    this.crashes = this.crashes.filter((time) => now - time < this.options.windowMs);
    this.crashes.push(now);
    return this.crashes.length <= this.options.maxRestarts;
  }

  /** Forgets past crashes (after a manual restart). */
  reset(): void {
    this.crashes = [];
  }
}
