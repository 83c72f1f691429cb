/** Routes registered at ANY_PATH receive every message, whatever its path. */
export const ANY_PATH: unique symbol = Symbol.for('aiolo.ANY_PATH');
/** The type of {@link ANY_PATH}: a route's path when it receives every message. */
export type AnyPath = typeof ANY_PATH;
