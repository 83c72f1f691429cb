// The page's files. The published package has them prebuilt next to this file, in `page/`
// (scripts/build-monitor-page.ts writes them at `npm run build`); run from the sources, the page's
// script is bundled in memory at startup with esbuild (a devDependency, there in a checkout).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { StartError } from '../transport/errors.js';

export interface PageAssets {
  readonly html: Uint8Array;
  readonly js: Uint8Array;
  readonly css: Uint8Array;
}

const PAGE = new URL('./page/', import.meta.url);

async function readIfThere(url: URL): Promise<Uint8Array | undefined> {
  try {
    return await readFile(url);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * The page's script (uPlot bundled in, its MIT notice kept) and stylesheet (uPlot's), built from
 * `page/main.ts` with esbuild. Used by the build script and, from the sources, at startup.
 */
export async function buildPage(): Promise<{ js: Uint8Array; css: Uint8Array }> {
  const esbuild = await import('esbuild');
  const require = createRequire(import.meta.url);
  const uplotPkg = JSON.parse(await readFile(require.resolve('uplot/package.json'), 'utf8')) as { version: string };
  const result = await esbuild.build({
    entryPoints: [fileURLToPath(new URL('main.ts', PAGE))],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    logLevel: 'silent',
    banner: {
      js: `/*! aiolo monitor page. Includes uPlot ${uplotPkg.version} (https://github.com/leeoniya/uPlot), Copyright (c) 2025 Leon Sorokin, MIT License */`,
    },
  });
  const js = result.outputFiles[0]?.contents;
  if (js === undefined) throw new StartError('ERR_OSC_START_FAILED', 'esbuild produced no script for the monitor page');
  const css = await readFile(require.resolve('uplot/dist/uPlot.min.css'));
  return { js, css };
}

/** The page's files: prebuilt if they are there (the package), else built now (the sources). */
export async function pageAssets(): Promise<PageAssets> {
  const html = await readFile(new URL('index.html', PAGE));
  const js = await readIfThere(new URL('monitor.js', PAGE));
  const css = await readIfThere(new URL('monitor.css', PAGE));
  if (js !== undefined && css !== undefined) return { html, js, css };
  return { html, ...(await buildPage()) };
}
