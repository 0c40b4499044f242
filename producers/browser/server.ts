/**
 * Serves the player page (page/index.html), hls.js from its own dist file in node_modules
 * (no CDN), and the page script: page/player.ts with the reporter and the client library,
 * bundled by esbuild in memory on first request (nothing bundled is written or committed).
 * The page comes from an origin of its own, as a player's web app would, so everything it
 * talks to (control plane, OCAs, ingest) is cross-origin and must answer with CORS headers.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';
import Fastify, { type FastifyInstance } from 'fastify';

const require = createRequire(import.meta.url);

/** The page script as one ES module for the browser; hls.js stays a type-only import. */
export async function bundlePlayerScript(): Promise<string> {
  const result = await build({
    entryPoints: [join(import.meta.dirname, 'page', 'player.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    sourcemap: 'inline',
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.text;
  if (code === undefined) throw new Error('esbuild produced no player script');
  return code;
}

export interface PlayerPageServer {
  readonly app: FastifyInstance;
  /** e.g. http://127.0.0.1:41234/ */
  readonly url: string;
  close(): Promise<void>;
}

export async function startPlayerPageServer(
  options: { readonly host?: string; readonly port?: number } = {},
): Promise<PlayerPageServer> {
  const host = options.host ?? '127.0.0.1';
  const app = Fastify({ logger: false });
  const hlsPath = require.resolve('hls.js/dist/hls.min.js');
  let script: Promise<string> | undefined;
  app.get('/', async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .send(await readFile(join(import.meta.dirname, 'page', 'index.html'), 'utf8')),
  );
  app.get('/hls.min.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(await readFile(hlsPath, 'utf8')),
  );
  app.get('/player.js', async (_request, reply) => {
    script ??= bundlePlayerScript();
    // A failed bundle is not kept: the next request tries again.
    script.catch(() => {
      script = undefined;
    });
    return reply.type('text/javascript; charset=utf-8').send(await script);
  });
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).send());
  await app.listen({ host, port: options.port ?? 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new TypeError('player page: no port');
  return {
    app,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/`,
    close: () => app.close(),
  };
}
