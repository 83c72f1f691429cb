// What a route says about itself, for a peer that asks (OSCQuery publishes it as RANGE,
// DESCRIPTION, TAGS, ...). It changes nothing in dispatch: a value outside a route's range is
// still delivered, as OSCQuery's CLIPMODE is advice to the sender.

/** One argument's range: its bounds, or the values it may take (`VALS`). */
export interface ArgRange {
  readonly min?: number | undefined;
  readonly max?: number | undefined;
  readonly vals?: readonly (number | string | boolean)[] | undefined;
}

/** What a sender should do with a value outside the range (OSCQuery's `CLIPMODE`). */
export type ClipMode = 'none' | 'low' | 'high' | 'both';

/** A route's description: `server.route('/synth/freq', 'f', { range: { min: 20, max: 20000 }, unit: 'Hz' })`. */
export interface RouteInfo {
  readonly description?: string | undefined;
  /** One range for every argument, or one per argument (`null`: that argument has none). */
  readonly range?: ArgRange | readonly (ArgRange | null)[] | undefined;
  readonly tags?: readonly string[] | undefined;
  /** A unit for every argument, or one per argument. */
  readonly unit?: string | readonly (string | null)[] | undefined;
  readonly clipmode?: ClipMode | readonly (ClipMode | null)[] | undefined;
  /** Whether each message matters (OSCQuery's `CRITICAL`: send it over a reliable transport). */
  readonly critical?: boolean | undefined;
  readonly extendedType?: string | readonly (string | null)[] | undefined;
  /**
   * What a peer may do (OSCQuery's `ACCESS`): `'write'` (send to it), `'read'` (ask its value),
   * both, or neither. Default: `'readwrite'` for a route with arguments (its last value can be
   * read), `'write'` for one without.
   */
  readonly access?: 'none' | 'read' | 'write' | 'readwrite' | undefined;
}
