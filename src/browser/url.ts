// Where a Client connects: a ws:// or wss:// URL, from the forms a user may write.
import { OscConfigError } from '../codec/errors.js';

/**
 * The WebSocket URL of `url`: `ws://` and `wss://` as they are; `osc.ws://` and `osc.wss://`
 * (aiolo's liblo-style form) and `http(s)://` mapped to them; anything else (`/osc`, `osc`) is a
 * path resolved against the page's `location`, over `wss:` when the page is `https:`.
 */
export function websocketUrl(url: string): string {
  if (typeof url !== 'string' || url === '') {
    throw new OscConfigError(
      'ERR_OSC_INVALID_URL',
      `a Client connects to a URL such as 'ws://host:port/', got ${String(url)}`,
    );
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  let parsed: URL;
  if (scheme === undefined) {
    const base = (globalThis as { location?: { href?: unknown } }).location?.href;
    if (typeof base !== 'string') {
      throw new OscConfigError(
        'ERR_OSC_INVALID_URL',
        `${JSON.stringify(url)} is relative, and there is no page location to resolve it against: give ws://host:port/path`,
      );
    }
    parsed = parse(url, base);
  } else {
    parsed = parse(url);
  }
  const protocol = parsed.protocol;
  const mapped: Record<string, string> = {
    'ws:': 'ws:',
    'wss:': 'wss:',
    'osc.ws:': 'ws:',
    'osc.wss:': 'wss:',
    'http:': 'ws:',
    'https:': 'wss:',
  };
  const to = mapped[protocol];
  if (to === undefined) {
    throw new OscConfigError(
      'ERR_OSC_INVALID_URL',
      `a Client speaks WebSocket: ws://, wss:// or osc.ws:// URLs, not ${JSON.stringify(url)}`,
    );
  }
  if (parsed.hash !== '') {
    throw new OscConfigError('ERR_OSC_INVALID_URL', `a WebSocket URL has no #fragment: ${JSON.stringify(url)}`);
  }
  // (a URL with a special scheme is rewritten by string: URL's protocol setter refuses to
  // change a non-special scheme such as osc.ws: into a special one such as ws:)
  const rest = parsed.href.slice(protocol.length);
  const out = parse(`${to}${rest}`);
  if (out.hostname === '') throw new OscConfigError('ERR_OSC_INVALID_URL', `no host in ${JSON.stringify(url)}`);
  return out.href;
}

function parse(url: string, base?: string): URL {
  try {
    return new URL(url, base);
  } catch {
    throw new OscConfigError('ERR_OSC_INVALID_URL', `not a URL: ${JSON.stringify(url)}`);
  }
}
