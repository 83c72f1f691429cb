import { OscEncodeError } from './errors.js';
import { Message } from './message.js';
import { TimeTag } from './timetag.js';

/** What a bundle holds: messages and nested bundles. */
export type BundleElement = Message | Bundle;

/** The elements array createBundle hands the constructor, to keep as is. */
let adopted: BundleElement[] | undefined;

/**
 * An OSC bundle: a timetag and an ordered list of messages and nested bundles. Each nested bundle
 * keeps its own timetag (liblo does not require inner >= outer, and neither does aiolo).
 */
export class Bundle {
  readonly timetag: TimeTag;
  readonly #elements: BundleElement[] = [];

  /**
   * `elements` is one element or a list of them (a Bundle given alone is nested, not copied);
   * `timetag` defaults to {@link TimeTag.IMMEDIATE}.
   */
  constructor(elements: BundleElement | Iterable<BundleElement> = [], timetag: TimeTag = TimeTag.IMMEDIATE) {
    const adopt = adopted;
    adopted = undefined;
    if (!(timetag instanceof TimeTag)) {
      throw new OscEncodeError('ERR_OSC_INVALID_VALUE', 'a bundle timetag is a TimeTag', { value: timetag });
    }
    this.timetag = timetag;
    if (adopt !== undefined) this.#elements = adopt;
    else this.add(elements);
  }

  /** The elements, in order. */
  get elements(): readonly BundleElement[] {
    return this.#elements;
  }

  get length(): number {
    return this.#elements.length;
  }

  /** The elements, in order: `for (const element of bundle)`. */
  [Symbol.iterator](): Iterator<BundleElement> {
    return this.#elements[Symbol.iterator]();
  }

  /** Appends messages and bundles. A bundle that would contain itself is refused. */
  add(elements: BundleElement | Iterable<BundleElement>): this {
    if (elements instanceof Message || elements instanceof Bundle) {
      this.#push(elements);
    } else if (elements !== null && typeof elements === 'object' && Symbol.iterator in elements) {
      for (const e of elements) this.#push(e);
    } else {
      throw new OscEncodeError('ERR_OSC_INVALID_VALUE', 'a bundle holds Messages and Bundles', { value: elements });
    }
    return this;
  }

  #push(element: unknown): void {
    if (element instanceof Message) {
      this.#elements.push(element);
    } else if (element instanceof Bundle) {
      if (element === this || element.contains(this)) {
        throw new OscEncodeError('ERR_OSC_BUNDLE_CYCLE', 'a bundle cannot contain itself', { value: element });
      }
      this.#elements.push(element);
    } else {
      throw new OscEncodeError('ERR_OSC_INVALID_VALUE', 'a bundle holds Messages and Bundles', { value: element });
    }
  }

  /** Whether `bundle` is nested anywhere inside this one. */
  contains(bundle: Bundle): boolean {
    for (const e of this.#elements) {
      if (e instanceof Bundle && (e === bundle || e.contains(bundle))) return true;
    }
    return false;
  }

  /** Same timetag and pairwise equal elements. */
  equals(other: unknown): boolean {
    if (!(other instanceof Bundle) || !other.timetag.equals(this.timetag) || other.length !== this.length) return false;
    const theirs = other.elements;
    return this.#elements.every((e, i) => e.equals(theirs[i]));
  }

  /** A readable form, for logs. */
  toString(): string {
    return `#bundle ${this.timetag.toString()} [${this.#elements.map(String).join('; ')}]`;
  }
}

/**
 * @internal A bundle that keeps `elements` as its own array: the decoder's, whose elements are
 * Messages and Bundles it has just made (so no cycle), and which nothing else holds. Skips the
 * checks and the copy `add` makes.
 */
export function createBundle(elements: BundleElement[], timetag: TimeTag): Bundle {
  adopted = elements;
  return new Bundle([], timetag);
}
