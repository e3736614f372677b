// A counting semaphore: the per-cluster cap on requests in flight (API lists and execs alike), so a
// run over many clusters is concurrent across clusters without flooding any one API server.

/** Runs tasks with at most `max` of them in flight, the rest queued in arrival order. */
export class Limiter {
  readonly #max: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(max: number) {
    this.#max = Math.max(1, max);
  }

  /** Run `task` once a slot is free. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.#max) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#active += 1;
    try {
      return await task();
    } finally {
      this.#active -= 1;
      this.#waiting.shift()?.();
    }
  }
}
