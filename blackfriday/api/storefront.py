"""The storefront page, served by GET /: one static HTML document, vanilla JS and CSS inline, no build step.

It lives in a Python module, as a string, so that the Lambda zip builder (which bundles the modules a handler
imports) carries it with no data-file rule to keep in step. It calls the API relative to its own URL, so the
same page works at https://{id}.execute-api.{region}.amazonaws.com/prod/ and on the emulator's
{endpoint}/restapis/{id}/prod/_user_request_/.
"""

# The look both pages share (the storefront and the review page): colours, type, the header bar.
BASE_STYLE = r"""  :root { --ink: #1b1b1f; --muted: #555a64; --line: #d6d8de; --accent: #0b57d0; --hot: #b3261e; --ok: #1e7b34; --bg: #f6f7f9; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
  header { background: #111; color: #fff; padding: 0.8rem 1rem; display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: baseline; }
  header h1 { margin: 0; font-size: 1.3rem; }
  header p { margin: 0; color: #ddd; }
"""

PAGE = (
    r"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Black Friday store</title>
<style>
"""
    + BASE_STYLE
    + r"""  main { display: grid; grid-template-columns: minmax(0, 2fr) minmax(18rem, 1fr); gap: 1rem; padding: 1rem; max-width: 75rem; margin: 0 auto; }
  @media (max-width: 50rem) { main { grid-template-columns: 1fr; } }
  section { background: #fff; border: 1px solid var(--line); border-radius: 0.5rem; padding: 1rem; }
  h2 { margin: 0 0 0.75rem; font-size: 1.15rem; }
  .products { list-style: none; margin: 0; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr)); gap: 0.75rem; }
  .product { border: 1px solid var(--line); border-radius: 0.4rem; padding: 0.75rem; display: flex; flex-direction: column; gap: 0.35rem; }
  .product.doorbuster { border-color: var(--hot); box-shadow: inset 0 0 0 1px var(--hot); }
  .product h3 { margin: 0; font-size: 1rem; }
  .price { font-weight: 700; font-size: 1.1rem; }
  .badge { display: inline-block; background: var(--hot); color: #fff; border-radius: 0.25rem; padding: 0 0.4rem; font-size: 0.8rem; font-weight: 700; width: fit-content; }
  .stock { font-size: 0.9rem; color: var(--muted); }
  .stock.scarce { color: var(--hot); font-weight: 700; }
  meter { width: 100%; height: 0.5rem; }
  button { font: inherit; border-radius: 0.3rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; padding: 0.45rem 0.8rem; cursor: pointer; min-height: 2.5rem; }
  button.secondary { background: #fff; color: var(--accent); }
  button:disabled { background: #9aa0a6; border-color: #9aa0a6; cursor: not-allowed; }
  :focus-visible { outline: 3px solid #ffb300; outline-offset: 2px; }
  label { display: block; font-weight: 600; margin-top: 0.6rem; }
  input, select { font: inherit; width: 100%; padding: 0.45rem; border: 1px solid #8a8f98; border-radius: 0.3rem; min-height: 2.5rem; }
  .cart-lines { list-style: none; margin: 0; padding: 0; }
  .cart-lines li { display: flex; justify-content: space-between; gap: 0.5rem; align-items: center; padding: 0.3rem 0; border-bottom: 1px solid var(--line); }
  .total { font-weight: 700; margin: 0.6rem 0; }
  .error { color: var(--hot); font-weight: 600; }
  .steps { list-style: none; padding: 0; margin: 0.5rem 0; }
  .steps li { padding: 0.25rem 0 0.25rem 1.8rem; position: relative; }
  .steps li::before { position: absolute; left: 0; width: 1.3rem; text-align: center; font-weight: 700; }
  .steps li.done::before { content: "\2713"; color: var(--ok); }
  .steps li.current::before { content: "\25B6"; color: var(--accent); }
  .steps li.failed::before { content: "\2717"; color: var(--hot); }
  .steps li.pending { color: var(--muted); }
  .steps li.pending::before { content: "\25CB"; }
  .status { font-weight: 700; }
  .status.COMPLETED { color: var(--ok); }
  .status.FAILED { color: var(--hot); }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  .row { display: flex; gap: 0.5rem; align-items: end; }
  .row > :first-child { flex: 1; }
  code { word-break: break-all; }
</style>
</head>
<body>
<header>
  <h1>Black Friday store</h1>
  <p>Doorbusters while stock lasts.</p>
  <p><a href="review" style="color: #9cc3ff">Review big orders</a></p>
</header>
<main>
  <section aria-labelledby="catalogue-title">
    <h2 id="catalogue-title">Catalogue</h2>
    <p id="catalogue-status" role="status">Loading the catalogue…</p>
    <ul class="products" id="products"></ul>
  </section>
  <div>
    <section aria-labelledby="cart-title">
      <h2 id="cart-title">Your cart</h2>
      <ul class="cart-lines" id="cart-lines"></ul>
      <p class="total" id="cart-total" aria-live="polite">Cart is empty</p>
      <form id="checkout" novalidate>
        <label for="customer-name">Name</label>
        <input id="customer-name" name="name" autocomplete="name" required>
        <label for="customer-email">Email</label>
        <input id="customer-email" name="email" type="email" autocomplete="email" required>
        <label for="payment-method">Payment method</label>
        <select id="payment-method" name="paymentMethod">
          <option value="card">Card</option>
          <option value="paypal">PayPal</option>
          <option value="apple_pay">Apple Pay</option>
          <option value="google_pay">Google Pay</option>
        </select>
        <p class="error" id="checkout-error" role="alert"></p>
        <button type="submit" id="place-order" disabled>Place order</button>
      </form>
    </section>
    <section aria-labelledby="track-title" style="margin-top: 1rem">
      <h2 id="track-title" tabindex="-1">Your order</h2>
      <form id="track" class="row">
        <div>
          <label for="track-id">Track an order by id</label>
          <input id="track-id" name="orderId" autocomplete="off" spellcheck="false">
        </div>
        <button type="submit" class="secondary">Track</button>
      </form>
      <div id="journey" aria-live="polite" aria-atomic="false">
        <p id="journey-empty">Place an order or enter an order id to follow it here.</p>
      </div>
    </section>
  </div>
</main>
<script>
"use strict";
// The API answers next to this page: <base>/catalogue, <base>/orders... wherever the page is served from.
const BASE = location.pathname.endsWith("/") ? location.pathname : location.pathname + "/";
const POLL_MS = 1500;
const STEP_LABELS = {
  ValidateOrder: "Order checked", ReserveInventory: "Stock reserved", ProcessPayment: "Payment taken",
  GenerateReceipt: "Receipt issued", SendNotification: "Confirmation sent",
};
const products = new Map();
const cart = new Map();  // sku -> quantity
let tracking = null;
let rendered = null;

const $ = (id) => document.getElementById(id);
const money = (cents) => (cents / 100).toLocaleString("en-US", { style: "currency", currency: "USD" });
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "class") node.className = value; else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

async function api(path, options = {}) {
  const response = await fetch(BASE + path, { headers: { "Content-Type": "application/json" }, ...options });
  const body = await response.json().catch(() => ({ message: response.statusText }));
  return { status: response.status, body };
}

// "Only N left" once a fifth of the opening stock (or 5) remains: the doorbusters get there first.
const scarceBelow = (product) => Math.max(5, Math.floor(product.initialStock * 0.2));

async function loadCatalogue() {
  const { status, body } = await api("catalogue");
  if (status !== 200) { $("catalogue-status").textContent = "The catalogue is unavailable: " + body.message; return; }
  $("catalogue-status").textContent = body.products.length + " products, live stock";
  const list = $("products");
  list.replaceChildren();
  for (const product of body.products) {
    products.set(product.sku, product);
    const scarce = product.stock <= scarceBelow(product);
    const stockText = product.stock === 0 ? "Sold out" : (scarce ? "Only " + product.stock + " left" : product.stock + " in stock");
    const button = el("button", { type: "button", "data-sku": product.sku, "aria-label": "Add " + product.name + " to cart" }, "Add to cart");
    button.disabled = product.stock === 0;
    button.addEventListener("click", () => addToCart(product.sku));
    const item = el("li", { class: "product" + (product.doorbuster ? " doorbuster" : ""), "data-sku": product.sku },
      ...(product.doorbuster ? [el("span", { class: "badge" }, "Doorbuster")] : []),
      el("h3", {}, product.name),
      el("span", { class: "price" }, money(product.priceCents)),
      el("meter", { min: "0", max: String(product.initialStock), value: String(product.stock), low: String(scarceBelow(product) + 1),
                    high: String(product.initialStock / 2), optimum: String(product.initialStock), "aria-label": "Stock of " + product.name }),
      el("span", { class: "stock" + (scarce ? " scarce" : "") }, stockText),
      el("span", { class: "stock" }, "Limit " + product.maxPerOrder + " per order"),
      button);
    list.append(item);
  }
}

function addToCart(sku) {
  const product = products.get(sku);
  const quantity = (cart.get(sku) || 0) + 1;
  if (quantity > product.maxPerOrder) { $("checkout-error").textContent = "At most " + product.maxPerOrder + " of " + product.name + " per order."; return; }
  $("checkout-error").textContent = "";
  cart.set(sku, quantity);
  renderCart();
}

function renderCart() {
  const lines = $("cart-lines");
  lines.replaceChildren();
  let total = 0;
  for (const [sku, quantity] of cart) {
    const product = products.get(sku);
    total += quantity * product.priceCents;
    const remove = el("button", { type: "button", class: "secondary", "aria-label": "Remove " + product.name }, "Remove");
    remove.addEventListener("click", () => { cart.delete(sku); renderCart(); });
    lines.append(el("li", {}, el("span", {}, quantity + " \u00d7 " + product.name), el("span", {}, money(quantity * product.priceCents)), remove));
  }
  $("cart-total").textContent = cart.size ? "Total " + money(total) : "Cart is empty";
  $("place-order").disabled = cart.size === 0;
  return total;
}

$("checkout").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = $("customer-name").value.trim(), email = $("customer-email").value.trim();
  if (!name || !email) { $("checkout-error").textContent = "Please enter your name and email."; (name ? $("customer-email") : $("customer-name")).focus(); return; }
  const items = [...cart].map(([sku, quantity]) => ({ sku, quantity, unitPriceCents: products.get(sku).priceCents }));
  const order = { customer: { name, email }, items, totalCents: renderCart(), paymentMethod: $("payment-method").value };
  $("place-order").disabled = true;
  $("checkout-error").textContent = "";
  // One key per checkout: a retried click or a network retry cannot place the order twice.
  const key = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
  const { status, body } = await api("orders", { method: "POST", body: JSON.stringify(order), headers: { "Content-Type": "application/json", "Idempotency-Key": key } });
  if (status !== 202) { $("checkout-error").textContent = body.message; $("place-order").disabled = false; return; }
  cart.clear();
  renderCart();
  track(body.orderId);
  // On a phone the journey is below the catalogue: take the customer (and the screen reader's focus) there.
  $("track-title").scrollIntoView({ block: "start" });
  $("track-title").focus();
});

$("track").addEventListener("submit", (event) => {
  event.preventDefault();
  const orderId = $("track-id").value.trim();
  if (orderId) track(orderId);
});

function track(orderId) {
  $("track-id").value = orderId;
  history.replaceState(null, "", "#order=" + orderId);
  tracking = orderId;
  $("journey").replaceChildren(el("p", {}, "Following order ", el("code", {}, orderId), "…"));
  poll(orderId);
}

async function poll(orderId) {
  if (tracking !== orderId) return;
  const { status, body } = await api("orders/" + encodeURIComponent(orderId));
  if (tracking !== orderId) return;
  if (status !== 200) { renderProblem(orderId, body.message); return; }
  // Re-render only on change, so the live region announces progress, not every poll.
  const snapshot = JSON.stringify(body);
  if (snapshot !== rendered) { rendered = snapshot; renderJourney(body); }
  if (body.finished) { loadCatalogue(); return; }
  setTimeout(() => poll(orderId), POLL_MS);
}

function renderProblem(orderId, message) {
  $("journey").replaceChildren(el("p", { class: "error" }, message));
}

function renderJourney(journey) {
  const parts = [
    el("p", {}, "Order ", el("code", {}, journey.orderId)),
    el("p", {}, "Status: ", el("span", { class: "status " + journey.status, id: "order-status" }, journey.status)),
  ];
  const steps = el("ol", { class: "steps", "aria-label": "Order progress" });
  for (const step of journey.steps) {
    const label = STEP_LABELS[step.name] || step.name;
    steps.append(el("li", { class: step.state, "data-step": step.name }, label, el("span", { class: "visually-hidden" }, " (" + step.state + ")")));
  }
  parts.push(steps);
  if (journey.failure) parts.push(el("p", { class: "error", id: "failure-reason" }, "Failed: " + (journey.failure.reason || journey.failure.error)));
  if (journey.receipt) {
    const receipt = journey.receipt;
    const lines = el("ul", {});
    for (const item of receipt.items) lines.append(el("li", {}, item.quantity + " \u00d7 " + (products.get(item.sku)?.name || item.sku) + " " + money(item.quantity * item.unitPriceCents)));
    parts.push(el("div", { id: "receipt" }, el("h3", {}, "Receipt"), lines,
      el("p", { class: "total" }, "Charged " + money(receipt.totalCents) + " (" + receipt.paymentMethod + ", " + receipt.paymentId + ")")));
  }
  $("journey").replaceChildren(...parts);
}

loadCatalogue().then(() => {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("order");
  if (fromHash) track(fromHash);
});
</script>
</body>
</html>
"""
)
