import { Router } from 'express';
import { registry } from '../openapi';

registry.registerPath({
  method: 'get',
  path: '/support/console',
  summary: 'Support console: a page listing pending refund requests with approve/reject buttons, and parcels in exception (API key typed in or in the URL fragment #key=...)',
  responses: { 200: { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } } },
});

/**
 * The support agents' console: plain HTML and JS, no framework. The page itself is public (it holds
 * no data); every call it makes sends the agent's API key, typed in or passed as `#key=...` so it never
 * reaches server logs.
 */
export const consolePage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Refund requests · support console</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1100px;margin:1.5rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}
#status{min-height:1.4em;color:#555}.error{color:#b00020}button{margin-right:.3rem}
</style></head><body>
<h1>Pending refund requests</h1>
<p><label>API key <input id="key" type="password" size="30" autocomplete="off"></label>
<button id="load">Load</button></p>
<p id="status" role="status"></p>
<p id="decision" role="status" aria-live="polite"></p>
<table><thead><tr><th>Requested</th><th>Request</th><th>Order</th><th>Kind</th><th>Amount</th><th>Reason</th><th>Auto-approval in</th><th>Decision</th></tr></thead>
<tbody id="rows"></tbody></table>
<h2>Parcels in exception</h2>
<p id="parcel-status" role="status"></p>
<table><thead><tr><th>Since</th><th>Parcel</th><th>Order</th><th>Warehouse</th><th>Carrier</th><th>What the carrier said</th></tr></thead>
<tbody id="parcels"></tbody></table>
<script>
const keyInput = document.getElementById('key');
const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.get('key')) keyInput.value = fragment.get('key');
const statusLine = document.getElementById('status');
function say(text, error) { statusLine.textContent = text; statusLine.className = error ? 'error' : ''; }
function yuan(fen) { return (fen / 100).toFixed(2); }
function left(ms) { if (ms == null) return ''; const s = Math.round(ms / 1000); return s >= 3600 ? Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm' : s >= 60 ? Math.floor(s / 60) + 'm ' + (s % 60) + 's' : s + 's'; }
async function call(method, path, body) {
  const response = await fetch(path, { method, headers: { 'X-API-Key': keyInput.value, 'Content-Type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.detail || data.title || ('HTTP ' + response.status));
  return data;
}
function cell(row, text) { const td = document.createElement('td'); td.textContent = text; row.append(td); return td; }
async function load() {
  try {
    const { requests } = await call('GET', '/support/refunds?status=PENDING');
    const rows = document.getElementById('rows');
    rows.replaceChildren();
    for (const request of requests) {
      const row = document.createElement('tr');
      row.dataset.requestId = request.requestId;
      cell(row, new Date(request.requestedAt).toLocaleString());
      cell(row, request.requestId);
      cell(row, request.orderId + ' (' + request.order.status + ', paid ' + yuan(request.order.paidFen) + ')');
      cell(row, request.kind);
      cell(row, yuan(request.requestedFen));
      cell(row, request.reason);
      cell(row, left(request.timeLeftMs));
      const actions = cell(row, '');
      const approve = document.createElement('button');
      approve.textContent = 'Approve';
      approve.className = 'approve';
      approve.onclick = () => decide(request.requestId, 'approve', {});
      const reason = document.createElement('input');
      reason.placeholder = 'reason to reject';
      reason.className = 'reason';
      const reject = document.createElement('button');
      reject.textContent = 'Reject';
      reject.className = 'reject';
      reject.onclick = () => {
        if (!reason.value.trim()) return say('A reason is required to reject.', true);
        decide(request.requestId, 'reject', { reason: reason.value.trim() });
      };
      actions.append(approve, reason, reject);
      rows.append(row);
    }
    say(requests.length + ' pending request(s).');
  } catch (error) { say(error.message, true); }
  loadParcels();
}
async function loadParcels() {
  const line = document.getElementById('parcel-status');
  try {
    const { parcels } = await call('GET', '/support/parcels?status=EXCEPTION');
    const rows = document.getElementById('parcels');
    rows.replaceChildren();
    for (const parcel of parcels) {
      const row = document.createElement('tr');
      row.dataset.parcelId = parcel.parcelId;
      cell(row, parcel.exception ? new Date(parcel.exception.at).toLocaleString() : '');
      cell(row, parcel.parcelId);
      cell(row, parcel.orderId);
      cell(row, parcel.warehouseId || '(campaign stock)');
      cell(row, (parcel.carrier || '') + ' ' + (parcel.trackingNumber || ''));
      cell(row, parcel.exception && parcel.exception.description ? parcel.exception.description : '');
      rows.append(row);
    }
    line.textContent = parcels.length + ' parcel(s) in exception.';
  } catch (error) { line.textContent = error.message; }
}
async function decide(requestId, action, body) {
  try {
    const result = await call('POST', '/support/refunds/' + encodeURIComponent(requestId) + '/' + action, body);
    const done = document.getElementById('decision');
    done.textContent = requestId + ': ' + (result.decision ? result.decision.decision : result.status) + '.';
    setTimeout(load, 0);
  } catch (error) { say(requestId + ': ' + error.message, true); }
}
document.getElementById('load').onclick = load;
if (keyInput.value) load();
</script></body></html>`;

export function supportConsoleRouter(): Router {
  const router = Router();
  router.get('/support/console', (_req, res) => {
    res.type('html').send(consolePage);
  });
  return router;
}
