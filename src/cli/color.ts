/**
 * Colour level for a stream, the way chalk's users expect: `--no-color` and NO_COLOR turn it off,
 * FORCE_COLOR (0-3, or empty/true = 1) forces it, otherwise colour only on a TTY.
 */
export function colorLevel(flag: boolean | undefined, env: Record<string, string | undefined>, isTTY: boolean): 0 | 1 | 2 | 3 {
  if (flag === false) return 0;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  if (env.FORCE_COLOR !== undefined) {
    if (env.FORCE_COLOR === 'false' || env.FORCE_COLOR === '0') return 0;
    const level = Number(env.FORCE_COLOR);
    return Number.isInteger(level) && level >= 1 && level <= 3 ? (level as 1 | 2 | 3) : 1;
  }
  if (flag === true) return 1;
  return isTTY && env.TERM !== 'dumb' ? 1 : 0;
}
