// liblo's words for what can go wrong when sending: what oscsend and oscsendfile print, and so
// what aiolo send and aiolo sendfile print.
import { getSystemErrorName } from 'node:util';
import { SendError } from '../index.js';

/** liblo's words (strerror, gai_strerror) for the system errors a send can meet, by errno name. */
const SYSTEM_WORDS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'Connection refused',
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EAI_NONAME: 'Name or service not known', // Node's ENOTFOUND
  EAI_AGAIN: 'Temporary failure in name resolution',
  ENETUNREACH: 'Network is unreachable',
  EHOSTUNREACH: 'No route to host',
  ECONNRESET: 'Connection reset by peer',
  EPIPE: 'Broken pipe',
};

// liblo's words (strerror, gai_strerror, its own) for what can go wrong when sending
export function libloReason(err: unknown): string {
  if (err instanceof SendError) {
    if (err.code === 'ERR_OSC_PACKET_TOO_LARGE') return 'Attempted to send message in excess of maximum message size';
    // (libuv's errnos are negative; getSystemErrorName refuses anything else)
    const words = err.errno !== undefined && err.errno < 0 ? SYSTEM_WORDS[getSystemErrorName(err.errno)] : undefined;
    if (words !== undefined) return words;
  }
  return (err as Error).message;
}
