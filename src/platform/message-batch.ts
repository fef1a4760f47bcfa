/**
 * Messages between threads go in batches: the first message queued schedules one delivery of everything
 * queued until then (with `delayMs` undefined, at the end of this turn of the event loop; otherwise that
 * many milliseconds later), so a burst costs one postMessage, and one wake-up of the other thread, instead
 * of one per message.
 */
export function messageBatcher<T>(deliver: (batch: T[]) => void, delayMs?: number): (message: T) => void {
  let queued: T[] = [];
  const flush = () => {
    const batch = queued;
    queued = [];
    deliver(batch);
  };
  return (message) => {
    if (queued.push(message) > 1) return;
    if (delayMs === undefined) setImmediate(flush);
    else setTimeout(flush, delayMs);
  };
}
