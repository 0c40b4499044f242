/**
 * Structured logs (pino, the logger fastify already uses). One root logger per process;
 * each role and module takes a child with its name, so every line says where it came from.
 */
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'playloop',
    level: options.level ?? process.env['PLAYLOOP_LOG_LEVEL'] ?? 'info',
    base: { pid: process.pid },
  });
}

/** For tests and tools that must stay quiet. */
export const silentLogger: Logger = pino({ level: 'silent' });
