/**
 * A concurrency limiter: at most `max` functions run at once, the rest wait in FIFO order.
 * Used for checks in flight and for API requests per cluster. A finishing call hands its slot
 * straight to the next waiter, so a newcomer can never jump the queue and exceed `max`.
 */
export function createLimiter(max: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else active -= 1;
  };
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else active += 1;
    try {
      return await fn();
    } finally {
      release();
    }
  };
}
