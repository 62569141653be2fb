/**
 * The Data protection page gathers several subsystems (remote, backup, object): each section
 * says on its own when its subsystem is unavailable here, or not part of this agent at all
 * (the method is missing: the subsystem is not loaded), with page-state.ts's banner.
 */
import { type Task, TaskStatus } from '@lit/task';
import { unavailableReason } from '../components/page-state.js';
import { _ } from '../i18n.js';

const missing = (e: unknown) =>
  !!e && typeof e === 'object' && (e as { data?: { missingMethod?: boolean } }).data?.missingMethod === true;

/** Why a section cannot show anything (undefined when it can), from its loads' errors. */
export function sectionDown(...tasks: Task<readonly unknown[], unknown>[]): string | undefined {
  const errors = tasks.map((t) => (t.status === TaskStatus.ERROR ? t.error : undefined));
  if (errors.some(missing)) return _('This agent does not run this subsystem.');
  return unavailableReason(...errors);
}
