// Where the tools write: real stdout/stderr in the `aiolo` binary, buffers in tests.
export interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export function write(stream: NodeJS.WritableStream, data: string | Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    if (stream.write(data)) resolve();
    else stream.once('drain', resolve);
  });
}

/** Resolves once everything written so far has been handed to the OS. */
export function flush(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

/**
 * Calls `stop` on SIGINT or SIGTERM, or when `signal` aborts (at once if it has): how every
 * long-running tool ends. Returns what removes those listeners (call it in a `finally`).
 */
export function onStop(stop: () => void, signal?: AbortSignal): () => void {
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  signal?.addEventListener('abort', stop, { once: true });
  if (signal?.aborted) stop();
  return () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    signal?.removeEventListener('abort', stop);
  };
}
