"""The reviewer's page, served by GET /review: the orders waiting for approval, each with approve / reject buttons.

Like the storefront page it is one static HTML document in a Python module (the Lambda zip carries it), and it
calls the API relative to its own URL: GET approvals, POST orders/{orderId}/approval.
"""

from blackfriday.api.storefront import BASE_STYLE

REVIEW_PAGE = (
    r"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Black Friday store: orders waiting for approval</title>
<style>
"""
    + BASE_STYLE
    + r"""  header a { color: #9cc3ff; }
  main { padding: 1rem; max-width: 75rem; margin: 0 auto; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 0.5rem; padding: 1rem; }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { color: var(--muted); font-weight: 600; }
  .total { font-weight: 700; white-space: nowrap; }
  .decide { display: flex; flex-wrap: wrap; gap: 0.4rem; }
  .decide input { flex: 1 1 12rem; padding: 0.35rem; border: 1px solid var(--line); border-radius: 0.3rem; font: inherit; }
  button { font: inherit; padding: 0.35rem 0.8rem; border-radius: 0.3rem; border: 0; color: #fff; cursor: pointer; }
  button.approve { background: var(--ok); }
  button.reject { background: var(--hot); }
  button:disabled { opacity: 0.5; cursor: default; }
  #message { min-height: 1.5rem; margin: 0 0 0.75rem; }
  #message.error { color: var(--hot); }
  #message.done { color: var(--ok); }
  .empty { color: var(--muted); }
</style>
</head>
<body>
<header>
  <h1>Orders waiting for approval</h1>
  <p>Big orders keep their stock reserved until you decide. <a href="./">Back to the store</a></p>
</header>
<main>
  <p id="message" role="status" aria-live="polite"></p>
  <section>
    <table>
      <thead><tr><th>Order</th><th>Customer</th><th>Total</th><th>Items</th><th>Waiting</th><th>Decision</th></tr></thead>
      <tbody id="waiting"><tr><td colspan="6" class="empty">Loading…</td></tr></tbody>
    </table>
  </section>
</main>
<script>
const money = cents => "$" + (cents / 100).toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
const duration = seconds => seconds >= 3600 ? Math.floor(seconds / 3600) + "h " + String(Math.floor(seconds % 3600 / 60)).padStart(2, "0") + "m"
                                            : Math.floor(seconds / 60) + "m " + String(Math.floor(seconds % 60)).padStart(2, "0") + "s";
const message = document.getElementById("message");

function say(text, kind) { message.textContent = text; message.className = kind || ""; }

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

async function load() {
  const answer = await fetch("approvals", {headers: {"Accept": "application/json"}});
  const body = await answer.json();
  if (!answer.ok) { say(body.message, "error"); return; }
  const rows = document.getElementById("waiting");
  // Rows are kept, not rebuilt: a reason being typed survives the refresh every 5 seconds.
  const waiting = new Set(body.waiting.map(order => order.orderId));
  for (const row of [...rows.rows]) {
    if (!waiting.has(row.dataset.orderId)) row.remove();
  }
  if (!body.waiting.length) {
    const row = rows.insertRow();
    cell(row, "No order waits for approval.", "empty").colSpan = 6;
    return;
  }
  const shown = new Map([...rows.rows].map(row => [row.dataset.orderId, row]));
  for (const order of body.waiting) {
    const row = shown.get(order.orderId);
    if (row) {
      row.cells[4].textContent = duration(order.waitingSeconds);
    } else {
      addRow(rows, order);
    }
  }
}

function addRow(rows, order) {
  const row = rows.insertRow();
  row.dataset.orderId = order.orderId;
  cell(row, order.orderId);
  cell(row, order.customerId);
  cell(row, money(order.totalCents), "total");
  cell(row, Object.entries(order.items).map(([sku, units]) => sku + " x" + units).join(", "));
  cell(row, duration(order.waitingSeconds));
  const decide = cell(row, "");
  const form = document.createElement("div");
  form.className = "decide";
  const reason = document.createElement("input");
  reason.placeholder = "reason (required to reject)";
  reason.setAttribute("aria-label", "reason for order " + order.orderId);
  const approve = document.createElement("button");
  approve.className = "approve"; approve.textContent = "Approve";
  const reject = document.createElement("button");
  reject.className = "reject"; reject.textContent = "Reject";
  approve.onclick = () => send(order.orderId, "approve", reason.value, [approve, reject]);
  reject.onclick = () => send(order.orderId, "reject", reason.value, [approve, reject]);
  form.append(reason, approve, reject);
  decide.append(form);
}

async function send(orderId, decision, reason, buttons) {
  buttons.forEach(button => button.disabled = true);
  const answer = await fetch("orders/" + encodeURIComponent(orderId) + "/approval", {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({decision, reason}),
  });
  const body = await answer.json();
  if (answer.ok) {
    say("Order " + orderId + (decision === "approve" ? " approved: it is charged next." : " rejected: its stock is released."), "done");
  } else {
    say(body.message, "error");
  }
  buttons.forEach(button => button.disabled = false);
  await load();
}

load();
setInterval(load, 5000);
</script>
</body>
</html>
"""
)
