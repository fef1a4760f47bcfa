import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

type GcFunction = () => void;

/** V8's `gc()`, found once: undefined until then, null where it cannot be had. */
let gcFunction: GcFunction | null | undefined;

/**
 * Runs a full (mark-compact) collection now, on this thread, and returns whether it could.
 *
 * For the end of a bulk load: a load that allocates for seconds promotes much of its short-lived garbage to
 * the old generation, and V8 collects it at its next full collection, which then falls in whatever work
 * comes next (for the SLO runtime, the first minute's evaluation). Collecting at the end of the load puts
 * that cost in the load itself. Not for a steady state: V8 schedules its own collections better there.
 *
 * `gc()` is V8's hook, normally exposed with `--expose-gc` at start. V8 reads that flag when it makes a
 * context, so it is set for one new context that hands the function over and unset again: no start-up flag
 * is needed, and no other context gets a global `gc`.
 */
export function collectGarbage(): boolean {
  gcFunction ??= findGcFunction();
  if (gcFunction === null) return false;
  gcFunction();
  return true;
}

function findGcFunction(): GcFunction | null {
  const global = (globalThis as { gc?: unknown }).gc;
  if (typeof global === "function") return global as GcFunction;
  try {
    setFlagsFromString("--expose-gc");
    const found: unknown = runInNewContext("gc");
    return typeof found === "function" ? (found as GcFunction) : null;
  } catch {
    return null;
  } finally {
    setFlagsFromString("--no-expose-gc");
  }
}
