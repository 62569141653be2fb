/**
 * A page's place in the URL below its own name (#/pools/create → ['create']), kept current while
 * the page is shown: the page renders again when Cockpit's location changes.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { cockpit } from '../cockpit.js';

export class SubRoute implements ReactiveController {
  /** the path after the page's name */
  path: string[] = cockpit.location.path.slice(1);

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostConnected(): void {
    this.changed();
    cockpit.addEventListener('locationchanged', this.changed);
  }

  hostDisconnected(): void {
    cockpit.removeEventListener('locationchanged', this.changed);
  }

  private changed = () => {
    this.path = cockpit.location.path.slice(1);
    this.host.requestUpdate();
  };
}
