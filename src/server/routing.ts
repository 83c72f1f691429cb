// A server's routing table: literal paths by map lookup (the common case, first), `ANY_PATH`
// routes, and `match()` routes whose path is a pattern; and the two pattern matches, each bounded
// by a budget of steps so that no incoming path costs more than a message may.
import { compilePattern, isPattern, MAX_PATTERN_LENGTH, type Pattern, pathSegments } from '../codec/pattern.js';
import { ANY_PATH, type AnyPath } from './route.js';
import type { RouteImpl } from './route-impl.js';

export class RouteTable {
  /** Routes by literal path; each list holds the routes of one path (different typespecs). */
  readonly literal = new Map<string, RouteImpl[]>();
  readonly anyPath: RouteImpl[] = [];
  /** Routes made by `match()`: patterns matched against the literal paths that arrive. */
  readonly patterns: RouteImpl[] = [];
  /** Every route, in registration order. */
  readonly all = new Set<RouteImpl>();

  /** Adds a route; false if it is in the table already. */
  add(route: RouteImpl): boolean {
    if (this.all.has(route)) return false;
    this.all.add(route);
    if (route.path === ANY_PATH) {
      this.anyPath.push(route);
    } else if (route.pattern !== undefined) {
      this.patterns.push(route);
    } else {
      const list = this.literal.get(route.path);
      if (list === undefined) this.literal.set(route.path, [route]);
      else list.push(route);
    }
    return true;
  }

  remove(route: RouteImpl): void {
    this.all.delete(route);
    const literal = route.path !== ANY_PATH && route.pattern === undefined;
    const list = route.path === ANY_PATH ? this.anyPath : literal ? this.literal.get(route.path) : this.patterns;
    if (list !== undefined) list.splice(list.indexOf(route), 1);
    if (literal && list?.length === 0) this.literal.delete(route.path);
  }

  /** The route with this path and typetags (`null`: any arguments); `pattern` looks among `match()`'s. */
  find(path: string | AnyPath, typetags: string | null, pattern = false): RouteImpl | undefined {
    const list = path === ANY_PATH ? this.anyPath : pattern ? this.patterns : this.literal.get(path);
    return list?.find((r) => r.typetags === typetags && r.path === path);
  }

  /**
   * The literal routes an incoming pattern matches, grouped by path — or, when matching would cost
   * more than `maxSteps`, why (a message for `ERR_OSC_PATTERN_TOO_COSTLY`). All are found before
   * any is delivered to, so a rejected message reaches no route at all.
   */
  byIncomingPattern(path: string, maxSteps: number): RouteImpl[][] | string {
    let pattern: Pattern;
    try {
      if (path.length > MAX_PATTERN_LENGTH) {
        return `an address pattern of ${path.length} characters (at most ${MAX_PATTERN_LENGTH})`;
      }
      pattern = compilePattern(path);
    } catch {
      return []; // an invalid pattern matches nothing
    }
    const budget = { left: maxSteps };
    const matched: RouteImpl[][] = [];
    for (const routes of this.literal.values()) {
      if (pattern.matchesSegments((routes[0] as RouteImpl).segments, budget)) matched.push(routes);
      else if (budget.left < 0) return `an address pattern that takes more than ${maxSteps} steps to match`;
    }
    return matched;
  }

  /**
   * The `match()` routes whose pattern matches the literal `path` — or, when matching would cost
   * more than `maxSteps`, why. A path that is itself a pattern matches none of them.
   */
  byRoutePattern(path: string, maxSteps: number): RouteImpl[] | string {
    if (path.charCodeAt(0) !== 0x2f || isPattern(path)) return []; // 0x2f: '/'
    const segments = pathSegments(path);
    const budget = { left: maxSteps };
    const matched: RouteImpl[] = [];
    for (const route of this.patterns) {
      if ((route.pattern as Pattern).matchesSegments(segments, budget)) matched.push(route);
      else if (budget.left < 0) return `a path that takes more than ${maxSteps} steps to match the pattern routes`;
    }
    return matched;
  }
}
