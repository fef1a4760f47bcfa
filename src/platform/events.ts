/**
 * The in-process event interface. Domains announce what happened (a config revision was applied, a check
 * changed state, an SLO tier started burning) and other domains subscribe, without importing each other.
 *
 * Each domain adds its own events by augmenting NinesEventMap:
 *   declare module "../platform/events.js" { interface NinesEventMap { "check.stateChanged": CheckStateChanged } }
 *
 * Events raised inside a transaction are delivered only after it commits (see context.ts), so a subscriber
 * never sees a change that was rolled back. Delivery is in-process and at most once; anything that must not
 * be lost goes through a database outbox instead.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by declaration merging in each domain.
export interface NinesEventMap {}

export type EventName = keyof NinesEventMap;
export type EventHandler<K extends EventName> = (event: NinesEventMap[K]) => void | Promise<void>;

export interface EventBus {
  on<K extends EventName>(name: K, handler: EventHandler<K>): () => void;
  emit<K extends EventName>(name: K, event: NinesEventMap[K]): void;
}

export function createEventBus(onHandlerError: (name: string, error: unknown) => void): EventBus {
  const handlers = new Map<string, Set<(event: unknown) => void | Promise<void>>>();
  return {
    on(name, handler) {
      let set = handlers.get(name);
      if (!set) {
        set = new Set();
        handlers.set(name, set);
      }
      const h = handler as (event: unknown) => void | Promise<void>;
      set.add(h);
      return () => set.delete(h);
    },
    emit(name, event) {
      for (const handler of handlers.get(name) ?? []) {
        // A failing subscriber must not break the publisher nor the other subscribers.
        try {
          const result = handler(event);
          if (result instanceof Promise) result.catch((error: unknown) => onHandlerError(name, error));
        } catch (error) {
          onHandlerError(name, error);
        }
      }
    },
  };
}
