/** The agent client and the caller's identity, shared with every component through @lit/context. */
import { createContext } from '@lit/context';
import type { WhoAmI } from './data/system.js';
import type { AgentClient } from './rpc/client.js';

export const clientContext = createContext<AgentClient>(Symbol('calypso-client'));
export const whoamiContext = createContext<WhoAmI | undefined>(Symbol('calypso-whoami'));
