// The codec: encode and decode of four cases by aiolo, the other Node OSC libraries and liblo's C
// (bench/peers/lo_serde.c), in one run, contenders interleaved round by round, medians reported.
// Each library's decoded output is checked against the input first: a library that gets a case
// wrong is marked, not timed as if right.
import { createRequire } from 'node:module';
import * as nodeOsc from 'node-osc';
import OSCJSModule from 'osc-js';
import * as oscMin from 'osc-min';
import type { Message as AioloMessage, OscArg } from '../src/index.js';
import { aiolo as lib } from './aiolo.js';
import { cProgram, LIBLO_MISSING, Proc } from './peers.js';
import { rate as fmt, median, table, times } from './stats.js';

const { Bundle, decode, encode, encodeInto, Message, TimeTag } = lib;

interface OscJsPacket {
  add(value: unknown): void;
  pack(): Uint8Array;
  unpack(view: DataView): void;
  bundleElements?: unknown[];
  address?: string;
  args?: unknown[];
}
// osc-js's typings lack its classes; these are the parts used here
const OSCJS = OSCJSModule as unknown as {
  Message: new (address?: string) => OscJsPacket;
  Bundle: new (elements?: OscJsPacket[], timetag?: number) => OscJsPacket;
};

const require = createRequire(import.meta.url);
const oscJs = require('osc') as {
  writePacket(p: unknown, o?: unknown): Uint8Array;
  readPacket(d: Uint8Array, o?: unknown): unknown;
};

type Arg = { type: 'i' | 'f' | 's' | 'b'; value: number | string | Uint8Array };
export interface Case {
  readonly name: string;
  /** The messages; one is a message case, several a bundle of them. */
  readonly messages: { path: string; args: Arg[] }[];
  /**
   * Copies of the case, `/1/` in each path replaced by `/<n>/`, taken in turn: a stream of many
   * distinct paths, which no library's caches hold (a power of two).
   */
  readonly variants?: number;
}

function variant(c: Case, n: number): Case {
  return { name: c.name, messages: c.messages.map((m) => ({ ...m, path: m.path.replace('/1/', `/${n}/`) })) };
}

const SMALL: Case['messages'] = [
  {
    path: '/synth/1/freq',
    args: [
      { type: 'i', value: 440 },
      { type: 'f', value: 0.5 },
      { type: 's', value: 'sine' },
    ],
  },
];

export const CASES: Case[] = [
  { name: '/synth/1/freq ,ifs', messages: SMALL },
  { name: '/synth/<n>/freq ,ifs, 4096 paths', messages: SMALL, variants: 4096 },
  {
    name: '16 floats',
    messages: [
      { path: '/floats', args: Array.from({ length: 16 }, (_, i) => ({ type: 'f' as const, value: i + 0.25 })) },
    ],
  },
  {
    name: 'bundle of 10',
    messages: Array.from({ length: 10 }, (_, i) => ({
      path: `/voice/${i}`,
      args: [
        { type: 'i' as const, value: i },
        { type: 'f' as const, value: i * 0.5 },
      ],
    })),
  },
  {
    name: '4 KiB blob',
    messages: [{ path: '/blob', args: [{ type: 'b', value: new Uint8Array(4096).map((_, i) => i & 0xff) }] }],
  },
];

const isBundle = (c: Case) => c.messages.length > 1;

/** What a decoder must give back: path and argument values, in order, for each message. */
type Normal = [string, (number | string | number[])[]][];
const normalValue = (v: unknown): number | string | number[] =>
  v instanceof Uint8Array ? Array.from(v) : (v as number | string);
const expected = (c: Case): Normal => c.messages.map((m) => [m.path, m.args.map((a) => normalValue(a.value))]);

export interface Contender {
  readonly name: string;
  /** Returns the encode and decode functions for a case, or undefined if the library cannot do it. */
  prepare(c: Case):
    | {
        encode: () => unknown;
        /** aiolo's encodeInto() into a buffer it reuses, where the library has one. */
        into?: () => unknown;
        bytes: Uint8Array;
        decode: () => unknown;
        normal: () => Normal;
      }
    | undefined;
}

// One buffer for every case's encodeInto(): one per prepared case was 4096 of them (256 MiB) for
// the 4096-path case, which never uses them, held outside V8's heap for nothing.
const REUSED = new Uint8Array(64 * 1024);

export const aioloContender: Contender = {
  name: 'aiolo',
  prepare(c) {
    const msgs = c.messages.map((m) =>
      Message.typed(m.path, m.args.map((a) => a.type).join(''), ...(m.args.map((a) => a.value) as OscArg[] as never[])),
    );
    const packet = isBundle(c) ? new Bundle(msgs, TimeTag.IMMEDIATE) : (msgs[0] as AioloMessage);
    const bytes = encode(packet);
    return {
      encode: () => encode(packet),
      into: () => encodeInto(packet, REUSED),
      bytes,
      decode: () => decode(bytes),
      normal: () => {
        const d = decode(bytes);
        const list = d instanceof Bundle ? (d.elements as AioloMessage[]) : [d];
        return list.map((m) => [m.path, m.args.map(normalValue)]);
      },
    };
  },
};

const nodeOscContender: Contender = {
  name: 'node-osc',
  prepare(c) {
    const toMsg = (m: Case['messages'][number]) => ({
      oscType: 'message',
      address: m.path,
      args: m.args.map((a) => ({
        type: a.type === 'b' ? 'b' : a.type,
        value: a.type === 'b' ? Buffer.from(a.value as Uint8Array) : a.value,
      })),
    });
    const packet = isBundle(c)
      ? { oscType: 'bundle', timetag: 0, elements: c.messages.map(toMsg) }
      : toMsg(c.messages[0] as Case['messages'][number]);
    const bytes = new Uint8Array(nodeOsc.encode(packet as never));
    const buf = Buffer.from(bytes);
    return {
      encode: () => nodeOsc.encode(packet as never),
      bytes,
      decode: () => nodeOsc.decode(buf),
      normal: () => {
        const d = nodeOsc.decode(buf) as { oscType: string; elements?: unknown[]; address?: string; args?: unknown[] };
        const list = (d.oscType === 'bundle' ? d.elements : [d]) as unknown[];
        return list.map((m) => {
          // node-osc decodes messages in bundles to arrays [address, ...args]
          if (Array.isArray(m))
            return [m[0] as string, m.slice(1).map((v) => normalValue(v instanceof Buffer ? new Uint8Array(v) : v))];
          const mm = m as { address: string; args: { value: unknown }[] };
          return [
            mm.address,
            mm.args.map((a) => normalValue(a.value instanceof Buffer ? new Uint8Array(a.value) : a.value)),
          ];
        });
      },
    };
  },
};

const oscMinContender: Contender = {
  name: 'osc-min',
  prepare(c) {
    const type = { i: 'integer', f: 'float', s: 'string', b: 'blob' } as const;
    const toMsg = (m: Case['messages'][number]) => ({
      oscType: 'message',
      address: m.path,
      args: m.args.map((a) => ({
        type: type[a.type],
        value: a.type === 'b' ? new DataView((a.value as Uint8Array).buffer) : a.value,
      })),
    });
    const packet = isBundle(c)
      ? { oscType: 'bundle', timetag: [0, 1], elements: c.messages.map(toMsg) }
      : toMsg(c.messages[0] as Case['messages'][number]);
    const encodeIt = () => oscMin.toBuffer(packet as never);
    const view = encodeIt() as DataView;
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    return {
      encode: encodeIt,
      bytes,
      decode: () => oscMin.fromBuffer(view),
      normal: () => {
        const d = oscMin.fromBuffer(view) as { oscType: string; elements?: unknown[] };
        const list = (d.oscType === 'bundle' ? d.elements : [d]) as { address: string; args: { value: unknown }[] }[];
        return list.map((m) => [
          m.address,
          m.args.map((a) =>
            normalValue(
              a.value instanceof DataView
                ? new Uint8Array(a.value.buffer, a.value.byteOffset, a.value.byteLength)
                : a.value,
            ),
          ),
        ]);
      },
    };
  },
};

const oscJsContender: Contender = {
  name: 'osc (osc.js)',
  prepare(c) {
    const toMsg = (m: Case['messages'][number]) => ({
      address: m.path,
      args: m.args.map((a) => ({ type: a.type, value: a.value })),
    });
    const packet = isBundle(c)
      ? { timeTag: { raw: [0, 1] }, packets: c.messages.map(toMsg) }
      : toMsg(c.messages[0] as Case['messages'][number]);
    const options = { metadata: true };
    const bytes = oscJs.writePacket(packet, options);
    return {
      encode: () => oscJs.writePacket(packet, options),
      bytes,
      decode: () => oscJs.readPacket(bytes, options),
      normal: () => {
        const d = oscJs.readPacket(bytes, options) as { packets?: unknown[] };
        const list = (d.packets ?? [d]) as { address: string; args: { value: unknown }[] }[];
        return list.map((m) => [m.address, m.args.map((a) => normalValue(a.value))]);
      },
    };
  },
};

const oscJsLib: Contender = {
  name: 'osc-js',
  prepare(c) {
    const toMsg = (m: Case['messages'][number]) => {
      const msg = new OSCJS.Message(m.path);
      for (const a of m.args) msg.add(a.value as never);
      // osc-js infers: an integer becomes 'i', others 'f'; 0.25, 0.5 and so on stay floats
      return msg;
    };
    const packet = isBundle(c)
      ? new OSCJS.Bundle(c.messages.map(toMsg), 0)
      : toMsg(c.messages[0] as Case['messages'][number]);
    const bytes = packet.pack() as Uint8Array;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return {
      encode: () => packet.pack(),
      bytes,
      decode: () => (isBundle(c) ? new OSCJS.Bundle() : new OSCJS.Message()).unpack(view),
      normal: () => {
        const d = (isBundle(c) ? new OSCJS.Bundle() : new OSCJS.Message()) as {
          unpack(v: DataView): void;
          bundleElements?: unknown[];
          address?: string;
          args?: unknown[];
        };
        d.unpack(view);
        const list = (d.bundleElements ?? [d]) as { address: string; args: unknown[] }[];
        return list.map((m) => [m.address, m.args.map(normalValue)]);
      },
    };
  },
};

const CONTENDERS = [aioloContender, nodeOscContender, oscMinContender, oscJsContender, oscJsLib];

// With --expose-gc: each measurement starts from a collected heap, so no library pays for the
// garbage another left behind.
const collect = (globalThis as { gc?: () => void }).gc ?? (() => {});

type Prepared = { encode: () => unknown; into?: () => unknown; decode: () => unknown; normal: () => boolean };

// A contender's encode and decode for a case (taking its variants in turn), and whether its
// decoded output of every variant checked matches the input.
function prepareCase(k: Contender, c: Case): Prepared | undefined {
  const cases = c.variants === undefined ? [c] : Array.from({ length: c.variants }, (_, n) => variant(c, n));
  const ready = cases.map((v) => k.prepare(v));
  if (ready.some((p) => p === undefined)) return undefined;
  const ps = ready as NonNullable<ReturnType<Contender['prepare']>>[];
  const normal = () => ps.every((p, n) => JSON.stringify(p.normal()) === JSON.stringify(expected(cases[n] as Case)));
  if (ps.length === 1) {
    const p = ps[0] as (typeof ps)[number];
    return p.into === undefined
      ? { encode: p.encode, decode: p.decode, normal }
      : { encode: p.encode, into: p.into, decode: p.decode, normal };
  }
  const mask = ps.length - 1;
  let e = 0;
  let d = 0;
  return {
    encode: () => {
      e = (e + 1) & mask;
      return (ps[e] as (typeof ps)[number]).encode();
    },
    decode: () => {
      d = (d + 1) & mask;
      return (ps[d] as (typeof ps)[number]).decode();
    },
    normal,
  };
}

/** Operations per second of fn, over about `ms` (after a collection, where --expose-gc gives one). */
export function opsPerSecond(fn: () => unknown, ms: number): number {
  collect();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 200; i++) fn();
    n += 200;
    now = performance.now();
  }
  return (n / (now - start)) * 1000;
}

export interface CodecOptions {
  readonly rounds: number;
  /** Milliseconds per contender, operation and round. */
  readonly ms: number;
}

export interface CodecResult {
  readonly correct: boolean;
  readonly note?: string;
  encode?: number;
  decode?: number;
  /**
   * aiolo's rate over this library's, the median of each round's ratio: within a round the two
   * are measured moments apart, so a burst of load on the shared machine mostly cancels out.
   * (liblo's C, in a process of its own, is measured on demand right after aiolo, round by round.)
   */
  encodeRatio?: number;
  decodeRatio?: number;
  /** liblo's row: aiolo's encodeInto() into a reused buffer over liblo's encode, per round as above. */
  encodeIntoRatio?: number;
}

export interface CodecResults {
  /** By case, then by library. */
  readonly cases: Record<string, Record<string, CodecResult>>;
  readonly notes: string[];
}

/** liblo's C (bench/peers/lo_serde.c in its serve mode), measured on demand; its cases by name. */
interface Liblo {
  readonly cases: Map<string, number>;
  measure(op: 'enc' | 'dec', index: number, ms: number): Promise<number>;
  quit(): Promise<void>;
}

// liblo checks its own round trip when it starts, and exits non-zero if it is wrong.
async function startLiblo(): Promise<Liblo> {
  const proc = new Proc(cProgram('lo_serde'), ['serve']);
  const cases = new Map<string, number>();
  await proc.next((line) => {
    const m = /^CASE (\d+) (.*)$/.exec(line);
    if (m !== null) cases.set(m[2] as string, Number(m[1]));
    return line === 'READY' ? true : undefined;
  }, 'lo_serde ready');
  return {
    cases,
    measure(op, index, ms) {
      proc.send(`${op} ${index} ${ms}`);
      return proc.next((l) => (l.startsWith('{') ? (JSON.parse(l) as { rate: number }).rate : undefined), 'lo_serde');
    },
    quit: () => proc.quit(),
  };
}

const LIBLO = 'liblo (C)';
/**
 * aiolo's encodeInto() into one buffer used again and again: encode() must return memory the caller
 * owns, fresh each time, while liblo's serialise-then-free (lo_serde) gets the same hot chunk back
 * from malloc at every call. This row is aiolo's operation on those terms.
 */
const INTO = 'aiolo, encodeInto (a buffer reused)';

export async function runCodec(options: CodecOptions): Promise<CodecResults> {
  const cases: Record<string, Record<string, CodecResult>> = {};
  const notes: string[] = [];
  const liblo = LIBLO_MISSING === undefined ? await startLiblo() : undefined;
  if (liblo === undefined) notes.push(`liblo row skipped: ${LIBLO_MISSING}`);
  for (const c of CASES) {
    const rows: Record<string, CodecResult> = {};
    cases[c.name] = rows;
    const prepared = new Map<string, Prepared>();
    for (const k of CONTENDERS) {
      try {
        const p = prepareCase(k, c);
        if (p === undefined) continue;
        const correct = p.normal();
        rows[k.name] = correct ? { correct } : { correct, note: 'decoded output differs from the input' };
        if (correct) prepared.set(k.name, p);
      } catch (err) {
        rows[k.name] = { correct: false, note: String(err).slice(0, 80) };
      }
    }
    // (lo_serde has the four cases of one message shape; liblo keeps no caches for variants to miss)
    const libloCase = liblo?.cases.get(c.name);
    if (libloCase !== undefined) rows[LIBLO] = { correct: true };
    const enc = new Map<string, number[]>();
    const dec = new Map<string, number[]>();
    const add = (m: Map<string, number[]>, name: string, x: number) => m.set(name, [...(m.get(name) ?? []), x]);
    for (let round = 0; round < options.rounds; round++) {
      for (const [name, p] of prepared) {
        // liblo's encode between aiolo's two, and its decode right after aiolo's: this VM's speed
        // drifts by up to 2x over seconds, so each ratio is of figures taken moments apart
        const withLiblo = name === 'aiolo' && liblo !== undefined && libloCase !== undefined;
        add(enc, name, opsPerSecond(p.encode, options.ms));
        if (withLiblo) add(enc, LIBLO, await liblo.measure('enc', libloCase, options.ms));
        if (p.into !== undefined) add(enc, INTO, opsPerSecond(p.into, options.ms));
        add(dec, name, opsPerSecond(p.decode, options.ms));
        if (withLiblo) add(dec, LIBLO, await liblo.measure('dec', libloCase, options.ms));
      }
    }
    const perRound = (mine: number[] | undefined, theirs: number[]) =>
      median(theirs.map((x, i) => (mine?.[i] ?? Number.NaN) / x));
    if (enc.has(INTO)) rows[INTO] = { correct: true };
    for (const name of enc.keys()) {
      const r = rows[name] as CodecResult;
      r.encode = median(enc.get(name) as number[]);
      if (name === INTO) continue; // (its decode is aiolo's)
      r.decode = median(dec.get(name) as number[]);
      if (name !== 'aiolo') {
        r.encodeRatio = perRound(enc.get('aiolo'), enc.get(name) as number[]);
        r.decodeRatio = perRound(dec.get('aiolo'), dec.get(name) as number[]);
      }
      if (name === LIBLO && enc.has(INTO)) r.encodeIntoRatio = perRound(enc.get(INTO), enc.get(name) as number[]);
    }
  }
  if (liblo !== undefined) {
    await liblo.quit();
    const missing = CASES.filter((c) => c.variants === undefined && cases[c.name]?.[LIBLO] === undefined);
    if (missing.length > 0) notes.push(`lo_serde gave no figures for ${missing.map((c) => c.name).join(', ')}`);
  }
  return { cases, notes };
}

export function codecTable(r: CodecResults): string {
  const rows: string[][] = [];
  for (const [name, byLib] of Object.entries(r.cases)) {
    for (const [libName, x] of Object.entries(byLib)) {
      const other = libName !== 'aiolo' && libName !== INTO;
      rows.push([
        name,
        x.correct ? libName : `${libName} (wrong: ${x.note})`,
        fmt(x.encode),
        fmt(x.decode),
        other ? times(x.encodeRatio) : '',
        other ? times(x.decodeRatio) : '',
      ]);
      if (x.encodeIntoRatio !== undefined) {
        rows.push([name, `${libName}, against aiolo's encodeInto`, '', '', times(x.encodeIntoRatio), '']);
      }
    }
  }
  return [
    'Codec (operations per second, medians; aiolo ×: how many times faster aiolo is, the median of the rounds):',
    '',
    table(['case', 'library', 'encode', 'decode', 'aiolo encode ×', 'aiolo decode ×'], rows),
    ...r.notes.map((n) => `\n${n}`),
  ].join('\n');
}
