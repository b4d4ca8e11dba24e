import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, RawServerDefault } from 'fastify';
import { sendError } from '../api-errors.js';

/**
 * The web console (cloud/web): plain ES modules, no build step. `index.html`
 * for every console path (the browser routes by `location.pathname`), the
 * console's own files under `/web/`, and the few browser libraries under
 * `/vendor/` straight from node_modules (index.html's import map names them).
 */

/** Console paths the browser routes itself: each is answered with index.html. */
export const CONSOLE_PATHS = [
  '/',
  '/login',
  '/fleet',
  '/statistics',
  '/family',
  '/alarms/:id',
  '/beds/:id',
] as const;

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.wav': 'audio/wav',
};

/** `/vendor/<name>` → a file under node_modules: a fixed map, nothing else is reachable. */
export const VENDOR_FILES: Record<string, string> = {
  'preact.js': 'preact/dist/preact.module.js',
  'preact-hooks.js': 'preact/hooks/dist/hooks.module.js',
  'htm.js': 'htm/dist/htm.module.js',
  'uplot.js': 'uplot/dist/uPlot.esm.js',
  'uplot.css': 'uplot/dist/uPlot.min.css',
};

/** The CSP of the console page; `script-src` gets the hash of index.html's inline import map. */
export function consoleCsp(importMapHashes: readonly string[]): string {
  const scripts = ["'self'", ...importMapHashes.map((h) => `'sha256-${h}'`)].join(' ');
  return [
    "default-src 'self'",
    `script-src ${scripts}`,
    "media-src 'self' data:",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** SHA-256 (base64) of each inline `<script>` of a page: what CSP hash sources match. */
export function inlineScriptHashes(page: string): string[] {
  const hashes: string[] = [];
  for (const match of page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    const [, attributes = '', body = ''] = match;
    if (/\bsrc\s*=/.test(attributes)) continue;
    hashes.push(createHash('sha256').update(body, 'utf8').digest('base64'));
  }
  return hashes;
}

/** The first of `candidates` that exists (a source checkout or the built dist/ tree). */
function firstExisting(candidates: string[]): string | null {
  return candidates.find((c) => existsSync(c)) ?? null;
}

/** Walk up from `start` to the node_modules that holds `relative`. */
function findInNodeModules(start: string, relative: string): string | null {
  let dir = start;
  for (;;) {
    const candidate = join(dir, 'node_modules', relative);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

export interface WebRouteOptions {
  /** Where the console's files are; default cloud/web of this checkout. */
  webRoot?: string;
}

export function registerWebRoutes<Log extends FastifyBaseLogger>(
  // Generic in the logger: the relay's app carries its own pino logger type.
  app: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Log>,
  options: WebRouteOptions = {},
) {
  const here = dirname(fileURLToPath(import.meta.url));
  const webRoot = resolve(
    options.webRoot ??
      firstExisting([join(here, '..', '..', 'web'), join(here, '..', '..', '..', '..', 'cloud', 'web')]) ??
      join(here, '..', '..', 'web'),
  );
  const vendorPaths = new Map<string, string | null>(
    Object.entries(VENDOR_FILES).map(([name, relative]) => [name, findInNodeModules(here, relative)]),
  );

  const noCache = (reply: FastifyReply) =>
    reply.header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff');

  // Read on each request (the page is small): an edited page is served, with its new hash, without a restart.
  const sendConsolePage = async (reply: FastifyReply) => {
    const page = await readFile(join(webRoot, 'index.html'), 'utf8');
    return noCache(reply)
      .header('content-security-policy', consoleCsp(inlineScriptHashes(page)))
      .header('referrer-policy', 'same-origin')
      .type(CONTENT_TYPES['.html']!)
      .send(page);
  };
  for (const path of CONSOLE_PATHS) app.get(path, async (_req, reply) => sendConsolePage(reply));

  app.get<{ Params: { '*': string } }>('/web/*', async (req, reply) => {
    const relative = req.params['*'];
    const type = CONTENT_TYPES[extname(relative).toLowerCase()];
    const file = resolve(webRoot, relative);
    if (!type || relative.includes('\0') || !file.startsWith(webRoot + sep)) {
      return sendError(reply, 404, 'HB_NOT_FOUND', 'no such file');
    }
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      return sendError(reply, 404, 'HB_NOT_FOUND', 'no such file');
    }
    if (type.startsWith('text/html')) {
      reply.header('content-security-policy', consoleCsp(inlineScriptHashes(body.toString('utf8'))));
    }
    return noCache(reply).type(type).send(body);
  });

  app.get<{ Params: { name: string } }>('/vendor/:name', async (req, reply) => {
    const file = vendorPaths.get(req.params.name);
    if (!file) return sendError(reply, 404, 'HB_NOT_FOUND', 'no such file');
    const body = await readFile(file);
    return noCache(reply).type(CONTENT_TYPES[extname(file)]!).send(body);
  });
}
