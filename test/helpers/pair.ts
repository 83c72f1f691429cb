// A server on loopback and an Address to it, released together by `await using`.
import { Address, Server } from '../../src/index.js';

export async function serverAndAddress(proto: 'udp' | 'tcp' = 'udp') {
  const server = new Server({ proto, host: '127.0.0.1', port: 0 });
  await server.start();
  const address = new Address({ url: server.url as string });
  return {
    server,
    address,
    async [Symbol.asyncDispose]() {
      await address.close();
      await server.stop();
    },
  };
}
