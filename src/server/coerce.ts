// liblo's coercion lives in the codec (requests match replies with it too); re-exported here.
export { canCoerce, coerceArgs } from '../codec/coerce.js';
