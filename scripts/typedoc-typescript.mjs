// TypeDoc needs TypeScript's JavaScript compiler API, which TypeScript 7 (the native `tsgo` this
// repository compiles with) does not ship. This hook, loaded with `node --import`, gives TypeDoc the
// devDependency `typescript-for-typedoc` (TypeScript 6, the last release with that API) wherever it
// imports `typescript`; everything else keeps TypeScript 7.
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
    export async function resolve(specifier, context, next) {
      if (specifier === 'typescript' && context.parentURL?.includes('/node_modules/typedoc/')) {
        return next('typescript-for-typedoc', context);
      }
      return next(specifier, context);
    }
  `)}`,
);
