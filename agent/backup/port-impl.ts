/** The backup subsystem's implementation of its port (port.ts), over its own context. */
import type { BackupContext } from './context.js';
import { labelBarcodes, listVolumes, updateSlots } from './ops-admin.js';
import type { BaculaPort } from './port.js';

export function baculaPort(bctx: BackupContext): BaculaPort {
  return {
    async offer(make, opts) {
      const c = await bctx.change((s) => ({ state: make(s) }), opts);
      return { plan: c.pipeline, ...(c.applied ? { applied: c.applied } : {}), next: c.next };
    },
    probe: () => bctx.bconsole().probe(),
    updateSlots: (a) => updateSlots(bctx.bconsole(), a),
    labelBarcodes: (a) => labelBarcodes(bctx.bconsole(), a),
    async volumes() {
      if (!bctx.catalog.exists()) return undefined;
      return listVolumes(bctx.catalog);
    },
  };
}
