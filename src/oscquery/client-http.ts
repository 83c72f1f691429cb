// One bounded HTTP GET of JSON, with Node's global fetch: a deadline, an AbortSignal, a cap on the
// body's bytes (read chunk by chunk, so a server that lies about Content-Length or sends forever
// is cut off), and typed errors for everything that can go wrong.
import { OscAbortError, OscTimeoutError } from '../transport/errors.js';
import { OscQueryError } from './errors.js';

export interface GetOptions {
  readonly signal?: AbortSignal | undefined;
  readonly timeout: number;
  readonly maxBodySize: number;
  /** Deepest nesting of JSON objects and arrays accepted (`ERR_OSC_QUERY_TOO_DEEP`). */
  readonly maxJsonDepth: number;
}

/** What a GET found: JSON, or a status with no body to parse (204, and the caller's `accept` list). */
export type GetResult = { readonly status: number; readonly json: unknown } | { readonly status: number };

function abortReason(signal: AbortSignal | undefined, url: string): OscAbortError {
  return new OscAbortError(`request to ${url} aborted`, { cause: signal?.reason });
}

/**
 * GETs `url` and parses its body as JSON. A status in `accept` (besides 2xx with a body) resolves
 * without a body; any other non-2xx rejects with `ERR_OSC_QUERY_HTTP`.
 */
export async function getJson(url: string, options: GetOptions, accept: readonly number[] = []): Promise<GetResult> {
  const { signal, timeout, maxBodySize, maxJsonDepth } = options;
  if (signal?.aborted) throw abortReason(signal, url);
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeout);
  const onAbort = () => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const failure = (err: unknown): Error => {
    if (timedOut) return new OscTimeoutError(`no answer from ${url} within ${timeout} ms`, timeout);
    if (signal?.aborted) return abortReason(signal, url);
    if (err instanceof OscQueryError) return err;
    const cause = (err as { cause?: unknown }).cause ?? err;
    const detail = (cause as { code?: unknown }).code ?? (cause as Error).message ?? String(cause);
    return new OscQueryError('ERR_OSC_QUERY_CONNECT', `cannot GET ${url}: ${String(detail)}`, { cause, url });
  };
  try {
    let res: Response;
    try {
      res = await fetch(url, { signal: controller.signal, headers: { accept: 'application/json' } });
    } catch (err) {
      throw failure(err);
    }
    const status = res.status;
    if (status === 204 || accept.includes(status) || status < 200 || status > 299) {
      await res.body?.cancel().catch(() => {});
      if (status === 204 || accept.includes(status)) return { status };
      throw new OscQueryError('ERR_OSC_QUERY_HTTP', `GET ${url}: HTTP ${status} ${res.statusText}`.trimEnd(), {
        url,
        status,
      });
    }
    const declared = Number(res.headers.get('content-length') ?? Number.NaN);
    if (declared > maxBodySize) {
      await res.body?.cancel().catch(() => {});
      throw tooLarge(url, maxBodySize, `${declared} bytes declared`);
    }
    const text = await readBody(res, url, maxBodySize).catch((err: unknown) => {
      throw failure(err);
    });
    if (nestedDeeper(text, maxJsonDepth)) {
      throw new OscQueryError('ERR_OSC_QUERY_TOO_DEEP', `GET ${url}: JSON nested more than ${maxJsonDepth} deep`, {
        url,
        status,
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new OscQueryError('ERR_OSC_QUERY_INVALID', `GET ${url}: the body is not JSON (${(err as Error).message})`, {
        cause: err,
        url,
        status,
      });
    }
    return { status, json };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

function tooLarge(url: string, max: number, what: string): OscQueryError {
  return new OscQueryError('ERR_OSC_QUERY_TOO_LARGE', `GET ${url}: body larger than maxBodySize ${max} (${what})`, {
    url,
  });
}

async function readBody(res: Response, url: string, max: number): Promise<string> {
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge(url, max, `more than ${max} bytes received`);
    }
    chunks.push(value);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch (err) {
    throw new OscQueryError('ERR_OSC_QUERY_INVALID', `GET ${url}: the body is not UTF-8`, { cause: err, url });
  }
}

/**
 * Whether JSON text nests objects and arrays deeper than `limit`, by one pass over the characters
 * (strings skipped). Checked before parsing, so that nothing recursive ever meets a hostile depth.
 */
export function nestedDeeper(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}
