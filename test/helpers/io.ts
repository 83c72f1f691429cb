// In-process standard streams for the command-line tools.
import { Writable } from 'node:stream';
import { main } from '../../src/cli/commands.js';

export class Capture extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.chunks.push(Buffer.from(chunk));
    done();
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
  get text(): string {
    return this.bytes.toString('utf8');
  }
}

/** Runs `aiolo ARGV` in this process. */
export async function aiolo(argv: readonly string[], signal?: AbortSignal) {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main(argv, { stdout, stderr }, signal);
  return { code, stdout: stdout.bytes, stderr: stderr.text };
}
