// The errors of discovery that are not a socket refusing to bind (that is a StartError).
import { OscError } from '../codec/errors.js';

/** The `code` of an `OscDiscoveryError`. */
export type DiscoveryErrorCode = 'ERR_OSC_MDNS_NAME_CONFLICT';

/**
 * Another host answers for a service instance name that an `Advertisement` publishes (RFC 6762
 * §9). Reported by the `'conflict'` event; `name` is the contested name, `renamedTo` the name the
 * advertisement took instead (undefined when it kept its name: a conflict seen after announcing).
 */
export class OscDiscoveryError extends OscError {
  override readonly name = 'OscDiscoveryError';
  declare readonly code: DiscoveryErrorCode;
  readonly instance: string;
  readonly renamedTo: string | undefined;
  constructor(code: DiscoveryErrorCode, message: string, detail: { instance: string; renamedTo?: string | undefined }) {
    super(code, message);
    this.instance = detail.instance;
    this.renamedTo = detail.renamedTo;
  }
}
