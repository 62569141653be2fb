/**
 * Pure parser of `smartctl -j` output (smartmontools ≥ 7.0 JSON) into the summary `disk.smart`
 * returns, with the raw document alongside for anything the summary leaves out.
 *
 * smartctl's exit status is a bit mask (smartctl(8) "RETURN VALUES"): bits 0–1 mean the command
 * line or the device open failed (no data), bit 2 a SMART command failed, bit 3 "disk failing",
 * bits 4–7 are history. Only bits 0–1 make the output useless.
 */
export interface SmartSelfTest {
  /** smartctl's status text ("in progress", "completed without error"…). */
  status?: string;
  inProgress: boolean;
  /** 0–100, when a test runs. */
  remainingPercent?: number;
}

export interface SmartSummary {
  device?: string;
  model?: string;
  serial?: string;
  firmware?: string;
  /** SMART overall health self-assessment. */
  passed?: boolean;
  temperature?: number;
  powerOnHours?: number;
  selfTest?: SmartSelfTest;
  /** smartctl's messages (errors and warnings), e.g. "Unable to detect device type". */
  messages: string[];
  exitStatus: number;
  raw: unknown;
}

/** True when smartctl's exit status still carries data (bits 0–1 clear). */
export const smartHasData = (code: number) => (code & 0x03) === 0;

type J = Record<string, unknown>;
const obj = (v: unknown): J | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as J) : undefined;
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

export function parseSmartctl(text: string): SmartSummary {
  let doc: J;
  try {
    doc = obj(JSON.parse(text)) ?? {};
  } catch {
    return { messages: ['smartctl output is not JSON'], exitStatus: -1, raw: text.slice(0, 2000) };
  }
  const sc = obj(doc['smartctl']);
  const messages = (Array.isArray(sc?.['messages']) ? (sc['messages'] as unknown[]) : [])
    .map((m) => str(obj(m)?.['string']))
    .filter((m): m is string => !!m);
  const out: SmartSummary = { messages, exitStatus: num(sc?.['exit_status']) ?? 0, raw: doc };
  const dev = obj(doc['device']);
  out.device = str(dev?.['name']);
  out.model = str(doc['model_name']) ?? str(doc['scsi_model_name']);
  out.serial = str(doc['serial_number']);
  out.firmware = str(doc['firmware_version']) ?? str(doc['scsi_revision']);
  const status = obj(doc['smart_status']);
  if (typeof status?.['passed'] === 'boolean') out.passed = status['passed'];
  out.temperature = num(obj(doc['temperature'])?.['current']);
  out.powerOnHours = num(obj(doc['power_on_time'])?.['hours']);
  // ATA: ata_smart_data.self_test.status.{value,string,remaining_percent}; value>>4 == 0xF means running.
  const ata = obj(obj(obj(doc['ata_smart_data'])?.['self_test'])?.['status']);
  if (ata) {
    const value = num(ata['value']) ?? 0;
    out.selfTest = { status: str(ata['string']), inProgress: value >> 4 === 0x0f };
    const rem = num(ata['remaining_percent']);
    if (rem !== undefined) out.selfTest.remainingPercent = rem;
  }
  // NVMe: nvme_self_test_log.current_self_test_operation.value != 0 while running, completion in %.
  const nvme = obj(doc['nvme_self_test_log']);
  if (nvme) {
    const op = num(obj(nvme['current_self_test_operation'])?.['value']) ?? 0;
    const done =
      num(obj(nvme['current_self_test_completion_percent'])?.['value']) ??
      num(nvme['current_self_test_completion_percent']);
    out.selfTest = { status: op ? 'in progress' : 'idle', inProgress: op !== 0 };
    if (op && done !== undefined) out.selfTest.remainingPercent = 100 - done;
  }
  return out;
}
