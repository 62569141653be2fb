/**
 * TapeAlert flags (SSC-4 Annex D, and the TapeAlert specification v3 they come from): 64
 * numbered flags a drive sets in log page 2Eh, which `tapeinfo` prints as `TapeAlert[N]: text`.
 * Severity is the specification's: I(nformation), W(arning), C(ritical). Only the flags an
 * operator acts on become alerts; the rest are shown with the drive.
 */
export type Severity = 'info' | 'warning' | 'critical';

export interface TapeAlertFlag {
  flag: number;
  name: string;
  severity: Severity;
  /** what the operator does about it */
  action?: 'clean' | 'replace-media' | 'service-drive';
}

const T: [number, string, Severity, TapeAlertFlag['action']?][] = [
  [1, 'Read warning', 'warning'],
  [2, 'Write warning', 'warning'],
  [3, 'Hard error', 'warning'],
  [4, 'Media', 'critical', 'replace-media'],
  [5, 'Read failure', 'critical', 'replace-media'],
  [6, 'Write failure', 'critical', 'replace-media'],
  [7, 'Media life', 'warning', 'replace-media'],
  [8, 'Not data grade', 'warning', 'replace-media'],
  [9, 'Write protect', 'critical'],
  [10, 'No removal', 'info'],
  [11, 'Cleaning media', 'info'],
  [12, 'Unsupported format', 'info'],
  [13, 'Recoverable mechanical cartridge failure', 'critical', 'replace-media'],
  [14, 'Unrecoverable mechanical cartridge failure', 'critical', 'replace-media'],
  [15, 'Memory chip in cartridge failure', 'warning', 'replace-media'],
  [16, 'Forced eject', 'critical'],
  [17, 'Read only format', 'warning'],
  [18, 'Tape directory corrupted on load', 'warning'],
  [19, 'Nearing media life', 'info', 'replace-media'],
  [20, 'Clean now', 'critical', 'clean'],
  [21, 'Clean periodic', 'warning', 'clean'],
  [22, 'Expired cleaning media', 'critical', 'replace-media'],
  [23, 'Invalid cleaning tape', 'critical', 'replace-media'],
  [24, 'Retension requested', 'warning'],
  [25, 'Dual-port interface error', 'warning', 'service-drive'],
  [26, 'Cooling fan failure', 'warning', 'service-drive'],
  [27, 'Power supply failure', 'warning', 'service-drive'],
  [28, 'Power consumption', 'warning', 'service-drive'],
  [29, 'Drive maintenance', 'warning', 'service-drive'],
  [30, 'Hardware A', 'critical', 'service-drive'],
  [31, 'Hardware B', 'critical', 'service-drive'],
  [32, 'Interface', 'warning', 'service-drive'],
  [33, 'Eject media', 'critical'],
  [34, 'Download fail', 'warning'],
  [35, 'Drive humidity', 'warning'],
  [36, 'Drive temperature', 'warning'],
  [37, 'Drive voltage', 'warning'],
  [38, 'Predictive failure', 'critical', 'service-drive'],
  [39, 'Diagnostics required', 'warning', 'service-drive'],
  [50, 'Lost statistics', 'warning'],
  [51, 'Tape directory invalid at unload', 'warning'],
  [52, 'Tape system area write failure', 'critical', 'replace-media'],
  [53, 'Tape system area read failure', 'critical', 'replace-media'],
  [54, 'No start of data', 'critical'],
  [55, 'Loading failure', 'critical', 'replace-media'],
  [56, 'Unrecoverable unload failure', 'critical', 'service-drive'],
  [57, 'Automation interface failure', 'critical', 'service-drive'],
  [58, 'Firmware failure', 'warning', 'service-drive'],
  [59, 'WORM medium integrity check failed', 'warning'],
  [60, 'WORM medium overwrite attempted', 'warning'],
];

export const TAPE_ALERTS: ReadonlyMap<number, TapeAlertFlag> = new Map(
  T.map(([flag, name, severity, action]) => [flag, { flag, name, severity, ...(action ? { action } : {}) }]),
);

export function describeAlert(flag: number, text?: string): TapeAlertFlag {
  return (
    TAPE_ALERTS.get(flag) ?? {
      flag,
      name: text?.split(':')[0]?.trim() || `TapeAlert ${flag}`,
      severity: 'warning',
    }
  );
}

/** Flags that ask for a cleaning cartridge (20 clean now, 21 clean periodic). */
export function needsCleaning(flags: readonly number[]): boolean {
  return flags.some((f) => TAPE_ALERTS.get(f)?.action === 'clean');
}

/** Stable alert key for the alert engine: one per drive and flag. */
export function alertKey(driveId: string, flag: number): string {
  return `tape.alert:${driveId}:${flag}`;
}
