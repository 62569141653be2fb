/**
 * What the release subsystem offers the installer (agent/install/): the release layout's
 * operations — stage a directory as a release, commit it, switch `current` to it — the
 * manifest's file name and the agent's unit. The installer runs once from the CLI, not as a
 * service, so this port is a module of functions rather than a runtime port (agent/ports.ts).
 */
export { MANIFEST_FILE } from './manifest.js';
export { AGENT_UNIT } from './paths.js';
export { commitStaged, currentVersion, stageDirectory, switchCurrent } from './releases.js';
