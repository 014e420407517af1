import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/** CSP sources ('sha256-...') of the inline <script> and <style> blocks of the pages this API serves. */
export function inlineHashes(pages: string[], tag: 'script' | 'style'): string[] {
  const hashes = new Set<string>();
  const block = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g');
  for (const page of pages) {
    for (const match of page.matchAll(block)) hashes.add(`'sha256-${createHash('sha256').update(match[1]).digest('base64')}'`);
  }
  return [...hashes];
}

/**
 * helmet's headers with a Content-Security-Policy that lets the API's own pages (the docs and the
 * support console) run exactly their inline script and style, by hash, and nothing else: no other
 * origin, no framing, no plugins. JSON answers are unaffected.
 */
export function securityHeaders(pages: string[]): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", ...inlineHashes(pages, 'script')],
        styleSrc: ["'self'", ...inlineHashes(pages, 'style')],
        connectSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // The API runs behind TLS termination in production; HSTS there comes from the proxy.
    strictTransportSecurity: false,
  });
}
