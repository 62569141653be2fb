/**
 * What the agent's own methods get besides the deps: the registry, the token store, the start time.
 */
import type { Registry } from '../../rpc/registry.js';
import type { TokenStore } from '../tokens.js';

/** What the core methods need besides the agent's deps. */
export interface CoreExtra {
  registry: Registry;
  tokens: TokenStore;
  startedAt: number;
}
