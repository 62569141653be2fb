/**
 * Pure parsers of standard INQUIRY as two tools print it: `sg_inq` (sg3_utils, old
 * `Device_type=` and new `PDT=` layouts) and `mtx inquiry`. Used to check the probes against
 * real captures; the agent reads the same fields from sysfs.
 */
export interface SgInq {
  /** Device named on the command line of a transcript (`sg_inq -s /dev/sg5`). */
  device?: string;
  /** Peripheral device type (SPC-4 table 49): 1 tape, 8 medium changer. */
  pdt?: number;
  pdtName?: string;
  vendor?: string;
  product?: string;
  revision?: string;
  serial?: string;
}

/** Parse sg_inq output; a transcript with several runs gives one record per run. */
export function parseSgInq(text: string): SgInq[] {
  const out: SgInq[] = [];
  let cur: SgInq | undefined;
  let pendingDevice: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const cmd = /\bsg_inq\b.*\s(\/dev\/\S+)\s*$/.exec(line);
    if (cmd) {
      pendingDevice = cmd[1];
      continue;
    }
    if (/^standard INQUIRY:/.test(line.trim())) {
      cur = pendingDevice ? { device: pendingDevice } : {};
      pendingDevice = undefined;
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    const pdt = /\b(?:Device_type|PDT)=(\d+)/.exec(line);
    if (pdt) cur.pdt = Number(pdt[1]);
    const kv =
      /^\s*(Vendor identification|Product identification|Product revision level|Unit serial number|.*Peripheral device type):\s?(.*)$/.exec(
        line,
      );
    if (!kv) continue;
    const v = kv[2]!.trim();
    if (kv[1] === 'Vendor identification') cur.vendor = v;
    else if (kv[1] === 'Product identification') cur.product = v;
    else if (kv[1] === 'Product revision level') cur.revision = v;
    else if (kv[1] === 'Unit serial number') cur.serial = v;
    else cur.pdtName = v;
  }
  return out;
}

export interface MtxInquiry {
  productType?: string;
  vendor?: string;
  product?: string;
  revision?: string;
  attachedChanger?: boolean;
}

const INQUIRY_KEYS = {
  'Product Type': 'productType',
  'Vendor ID': 'vendor',
  'Product ID': 'product',
  Revision: 'revision',
} as const;

/**
 * The INQUIRY strings `mtx inquiry` and `tapeinfo` both print: sets the field the line's `key`
 * names and answers true, or answers false for any other key.
 */
export function inquiryField(
  out: Pick<MtxInquiry, 'productType' | 'vendor' | 'product' | 'revision'>,
  key: string,
  v: string,
): boolean {
  const field = INQUIRY_KEYS[key as keyof typeof INQUIRY_KEYS];
  if (field === undefined) return false;
  out[field] = v;
  return true;
}

/** `mtx -f DEV inquiry`: `Vendor ID: 'HP      '` etc., values quoted with their padding. */
export function parseMtxInquiry(text: string): MtxInquiry {
  const out: MtxInquiry = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z ]+):\s*'?(.*?)'?\s*$/.exec(line.replace(/\r$/, ''));
    if (!m) continue;
    const key = m[1]!.trim();
    const v = m[2]!.trim();
    if (!inquiryField(out, key, v) && key === 'Attached Changer API')
      out.attachedChanger = v.toLowerCase() === 'yes';
  }
  return out;
}
