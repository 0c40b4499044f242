/**
 * Files the page loads, all from this machine (no CDN): uPlot's own dist files from
 * node_modules, and the page script, bundled from client.ts by esbuild (a dependency, and
 * what tsx runs on) once, on first request.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

export interface Asset {
  readonly contentType: string;
  readonly body: string;
}

export interface AssetStore {
  get(file: string): Promise<Asset | undefined>;
}

const require = createRequire(import.meta.url);

/** uPlot's dist folder, wherever npm put the package. */
export function uplotDistDir(): string {
  return dirname(require.resolve('uplot'));
}

export function loadAssets(): AssetStore {
  const dist = uplotDistDir();
  const sources: Record<string, () => Promise<Asset>> = {
    'uPlot.min.css': async () => ({
      contentType: 'text/css; charset=utf-8',
      body: await readFile(join(dist, 'uPlot.min.css'), 'utf8'),
    }),
    'uPlot.iife.min.js': async () => ({
      contentType: 'text/javascript; charset=utf-8',
      body: await readFile(join(dist, 'uPlot.iife.min.js'), 'utf8'),
    }),
    'app.js': async () => {
      // Bundled, so the page script can import its pure helpers (view.ts); uPlot itself is a
      // type-only import there and comes from its own dist file.
      const result = await build({
        entryPoints: [join(import.meta.dirname, 'client.ts')],
        bundle: true,
        write: false,
        format: 'esm',
        target: 'es2022',
        logLevel: 'silent',
      });
      const code = result.outputFiles[0]?.text;
      if (code === undefined) throw new Error('esbuild produced no page script');
      return { contentType: 'text/javascript; charset=utf-8', body: code };
    },
  };
  const cache = new Map<string, Promise<Asset>>();
  return {
    get(file) {
      const load = sources[file];
      if (!load) return Promise.resolve(undefined);
      let cached = cache.get(file);
      if (!cached) {
        cached = load();
        // A failed load is not cached: the next request tries again.
        cached.catch(() => cache.delete(file));
        cache.set(file, cached);
      }
      return cached;
    },
  };
}
