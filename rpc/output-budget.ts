/**
 * Output budgets (issue #28 item 2): answers queued for a connection, for one peer (a uid on
 * the Unix socket, a token on the WebSocket) and for all connections together. An answer is
 * judged against all three before it is written, the first one on a connection included (it
 * used to pass whatever its size), and a batch's answers before they are joined into one text.
 * A connection whose answer does not fit is closed: a peer over budget gets its connection
 * closed, not more memory. Admins have no per-peer budget (root's several clients are one uid),
 * and are held to the total only while they are not reading.
 */

export interface OutputLimits {
  /** Bytes queued for one connection (its first answer included). */
  perConnection: number;
  /** Bytes queued for all connections of one non-admin peer together. */
  perPeer?: number;
  /** Bytes queued for all connections together. */
  total?: number;
}

export interface OutputSlot {
  readonly peer: string | undefined;
  readonly admin: boolean;
  /** bytes the transport holds for this connection (socket queue plus its own buffer) */
  readonly queued: () => number;
  /** bytes admitted but not yet written (a batch's answers being built) */
  reserved: number;
}

/** Sums are taken only for answers or queues larger than this (a cheap answer stays cheap). */
const SMALL = 64 * 1024;

export class OutputBudget {
  private all = new Set<OutputSlot>();
  private byPeer = new Map<string, Set<OutputSlot>>();

  constructor(readonly limits: OutputLimits) {}

  open(peer: string | undefined, admin: boolean, queued: () => number): OutputSlot {
    const slot: OutputSlot = { peer, admin, queued, reserved: 0 };
    this.all.add(slot);
    if (peer !== undefined && !admin) {
      let set = this.byPeer.get(peer);
      if (!set) {
        set = new Set();
        this.byPeer.set(peer, set);
      }
      set.add(slot);
    }
    return slot;
  }

  close(slot: OutputSlot): void {
    this.all.delete(slot);
    if (slot.peer === undefined) return;
    const set = this.byPeer.get(slot.peer);
    if (!set) return;
    set.delete(slot);
    if (set.size === 0) this.byPeer.delete(slot.peer);
  }

  /** Why `bytes` more for this connection do not fit, or undefined when they do. */
  refusal(slot: OutputSlot, bytes: number): string | undefined {
    const own = slot.queued() + slot.reserved;
    const { perConnection, perPeer, total } = this.limits;
    if (own + bytes > perConnection)
      return `its queued answers would exceed ${perConnection} bytes (connection)`;
    if (bytes <= SMALL && own <= SMALL) return undefined;
    if (perPeer !== undefined && slot.peer !== undefined && !slot.admin) {
      const peerBytes = sum(this.byPeer.get(slot.peer));
      if (peerBytes + bytes > perPeer)
        return `the answers queued for ${slot.peer} would exceed ${perPeer} bytes (peer)`;
    }
    if (total !== undefined && (!slot.admin || own > 0) && sum(this.all) + bytes > total)
      return `the answers queued for all connections would exceed ${total} bytes (total)`;
    return undefined;
  }

  /** Admit `bytes` about to be built for this connection: false when they do not fit. */
  reserve(slot: OutputSlot, bytes: number): boolean {
    if (this.refusal(slot, bytes) !== undefined) return false;
    slot.reserved += bytes;
    return true;
  }
}

function sum(slots: Iterable<OutputSlot> | undefined): number {
  let n = 0;
  if (slots) for (const s of slots) n += s.queued() + s.reserved;
  return n;
}

/** A transport's output limits, as both transports take them. */
export interface TransportBudgetOptions {
  maxBufferedBytes: number;
  maxQueuedBytesPerPeer?: number;
  maxQueuedBytesTotal?: number;
  /** the budget shared by the agent's transports; without it, one of the transport's own */
  budget?: OutputBudget;
}

/** The budget a transport holds its answers to: the shared one, else its own from its limits. */
export function budgetOf(o: TransportBudgetOptions): OutputBudget {
  return (
    o.budget ??
    new OutputBudget({
      perConnection: o.maxBufferedBytes,
      perPeer: o.maxQueuedBytesPerPeer,
      total: o.maxQueuedBytesTotal,
    })
  );
}
