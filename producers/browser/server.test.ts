import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PlayerPageServer, startPlayerPageServer } from './server.ts';

let server: PlayerPageServer;

beforeAll(async () => {
  server = await startPlayerPageServer();
});

afterAll(async () => {
  await server.close();
});

describe('the player page server', () => {
  it('serves the page, hls.js from node_modules and the bundled page script', async () => {
    const page = await server.app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('<script src="/hls.min.js"></script>');
    expect(page.body).toContain('<script type="module" src="/player.js"></script>');

    const hls = await server.app.inject({ method: 'GET', url: '/hls.min.js' });
    expect(hls.statusCode).toBe(200);
    expect(hls.headers['content-type']).toMatch(/^text\/javascript/);
    expect(hls.body.length).toBeGreaterThan(100_000);

    const script = await server.app.inject({ method: 'GET', url: '/player.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    // The reporter and the client library are in it; hls.js is not (a type-only import:
    // the page uses the global from hls.min.js), and nothing of Node is.
    expect(script.body).toContain('window.playloop');
    expect(script.body).toContain('/v1/events');
    expect(script.body).not.toMatch(/from\s*["']hls\.js["']|["']node:/);
    expect(script.body.length).toBeLessThan(200_000);
  });

  it('listens on an ephemeral loopback port', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });
});
