import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

extendZodWithOpenApi(z);

/**
 * One registry for the whole API: each router registers its routes with the same zod schemas it
 * validates with, so the document cannot drift from the code.
 */
export const registry = new OpenAPIRegistry();

export const ProblemSchema = registry.register(
  'Problem',
  z
    .object({
      type: z.string(),
      title: z.string(),
      status: z.number().int(),
      detail: z.string().optional(),
      instance: z.string().optional(),
      errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    })
    .openapi({ description: 'RFC 9457 problem details' }),
);

export const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

export function openApiDocument() {
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Order engine API',
      version: '0.1.0',
      description: 'Storefront, warehouse, support and admin API of the order engine. Money is in integer fen.',
    },
    servers: [{ url: '/' }],
  });
}

/** A dependency-free docs page: it renders /openapi.json as a list of operations with their schemas. */
export const docsPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Order engine API</title>
<style>
body{font-family:system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#222}
.op{border:1px solid #ddd;border-radius:6px;margin:.75rem 0;padding:.5rem .75rem}
.m{display:inline-block;min-width:4.5rem;font-weight:700;text-transform:uppercase}
pre{background:#f6f8fa;padding:.5rem;overflow:auto;font-size:12px}
summary{cursor:pointer}
</style></head><body>
<h1 id="title">Order engine API</h1><p id="description"></p><p><a href="/openapi.json">openapi.json</a></p>
<div id="ops"></div>
<script>
fetch('/openapi.json').then(r => r.json()).then(doc => {
  document.getElementById('title').textContent = doc.info.title + ' ' + doc.info.version;
  document.getElementById('description').textContent = doc.info.description || '';
  const ops = document.getElementById('ops');
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const [method, op] of Object.entries(item)) {
      const el = document.createElement('details');
      el.className = 'op';
      const summary = document.createElement('summary');
      summary.innerHTML = '<span class="m"></span><code></code> <span></span>';
      summary.children[0].textContent = method;
      summary.children[1].textContent = path;
      summary.children[2].textContent = op.summary || '';
      const body = document.createElement('pre');
      body.textContent = JSON.stringify({ parameters: op.parameters, requestBody: op.requestBody, responses: op.responses }, null, 2);
      el.append(summary, body);
      ops.append(el);
    }
  }
  const schemas = document.createElement('details');
  schemas.className = 'op';
  schemas.innerHTML = '<summary><b>Schemas</b></summary><pre></pre>';
  schemas.querySelector('pre').textContent = JSON.stringify(doc.components?.schemas || {}, null, 2);
  ops.append(schemas);
});
</script></body></html>`;
