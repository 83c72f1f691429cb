import { StartError } from './errors.js';

/**
 * The StartError of a socket that could not listen at `where` (`udp 0.0.0.0:9000`,
 * `unix socket /tmp/x.sock`): ERR_OSC_ADDRESS_IN_USE when another socket has it, with what to do
 * instead, else ERR_OSC_START_FAILED with `why` (default: the system's message). One wording for
 * every transport; `cause` keeps the system's error.
 */
export function startError(
  cause: unknown,
  where: string,
  options: { readonly inUse?: boolean; readonly why?: string; readonly instead?: string } = {},
): StartError {
  const err = cause as Partial<NodeJS.ErrnoException> | undefined;
  if (options.inUse ?? err?.code === 'EADDRINUSE') {
    const instead = options.instead ?? 'choose another port, or port 0 for any free one';
    return new StartError('ERR_OSC_ADDRESS_IN_USE', `${where} is already in use; ${instead}`, { cause });
  }
  return new StartError('ERR_OSC_START_FAILED', `cannot listen on ${where}: ${options.why ?? String(err?.message)}`, {
    cause,
  });
}
