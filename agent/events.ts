/**
 * The agent's event bus. Services publish `{topic, data}`; connections subscribed with
 * `events.subscribe` receive them as `event` notifications. Topics are dotted
 * (`job.progress`, `disk.added`); a subscription pattern is a topic or a prefix ending in `*`
 * (`disk.*`, `*`).
 */
export interface AgentEvent {
  topic: string;
  data: unknown;
  time: number;
}

/**
 * Published when an API token stops being valid (revoked, or its expiry passed), with
 * `{id, name, reason: 'revoked' | 'expired'}`: whatever holds a session for it closes it.
 */
export const TOKEN_INVALIDATED = 'auth.token.invalidated';

export type EventListener = (ev: AgentEvent) => void;

export class EventBus {
  private listeners = new Set<{ patterns: string[]; fn: EventListener }>();
  constructor(private now: () => number = Date.now) {}

  publish(topic: string, data: unknown): void {
    const ev: AgentEvent = { topic, data, time: this.now() };
    for (const l of this.listeners) {
      if (matchesAny(l.patterns, topic)) {
        try {
          l.fn(ev);
        } catch {
          /* a listener's failure is its own */
        }
      }
    }
  }

  /** Returns an unsubscribe function. */
  on(patterns: string[], fn: EventListener): () => void {
    const entry = { patterns, fn };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }
}

export function matchesAny(patterns: readonly string[], topic: string): boolean {
  return patterns.some(
    (p) => p === '*' || p === topic || (p.endsWith('.*') && topic.startsWith(p.slice(0, -1))),
  );
}
