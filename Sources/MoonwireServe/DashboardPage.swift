/// The browser dashboard of `moonwire serve`, served at `/`: one self-contained page (inline
/// CSS and script, nothing fetched from elsewhere) that only talks to the HTTP API of
/// docs/http-api.md. Everything the server sends is put in the page as text
/// (`textContent`, `createElement`), never parsed as HTML: a strategy's log line is
/// untrusted input.
enum DashboardPage {
    static let html: String = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Moonwire</title>
<style>
:root { --bg:#0f1216; --panel:#171b21; --line:#2a3039; --text:#d8dde4; --dim:#8a94a3; --good:#3fb950; --bad:#f85149; --warn:#d29922; --accent:#58a6ff; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--text); font:14px/1.4 system-ui, sans-serif; }
header { display:flex; flex-wrap:wrap; align-items:center; gap:12px; padding:10px 16px; background:var(--panel); border-bottom:1px solid var(--line); position:sticky; top:0; z-index:2; }
header .brand { font-weight:700; letter-spacing:.04em; }
.badge { padding:2px 8px; border-radius:10px; font-size:12px; border:1px solid var(--line); color:var(--dim); }
.badge.good { color:var(--good); border-color:var(--good); } .badge.bad { color:var(--bad); border-color:var(--bad); } .badge.warn { color:var(--warn); border-color:var(--warn); }
.dim { color:var(--dim); } .num, td.num, .mono { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-variant-numeric:tabular-nums; }
.pos { color:var(--good); } .neg { color:var(--bad); }
.spacer { flex:1; }
button { background:#222832; color:var(--text); border:1px solid var(--line); border-radius:5px; padding:3px 10px; cursor:pointer; font:inherit; font-size:12px; }
button:hover { border-color:var(--accent); }
button.danger, #halt { background:#5a1d1d; border-color:var(--bad); color:#fff; font-weight:700; }
#halt { padding:6px 14px; font-size:13px; }
.banner { padding:8px 16px; background:#5a1d1d; color:#fff; font-weight:600; }
#message { padding:6px 16px; border-bottom:1px solid var(--line); }
#message.error { background:#3b1f1f; color:#ffb4ab; } #message.ok { background:#17301f; color:#a6e3b0; }
main { padding:12px 16px; display:grid; gap:14px; }
section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:10px 12px; min-width:0; }
h2 { margin:0 0 8px; font-size:13px; text-transform:uppercase; letter-spacing:.06em; color:var(--dim); font-weight:600; }
.row2 { display:grid; grid-template-columns:1fr 1fr; gap:14px; } @media (max-width:900px) { .row2 { grid-template-columns:1fr; } }
.cards { display:flex; flex-wrap:wrap; gap:10px; }
.card { border:1px solid var(--line); border-radius:6px; padding:8px 10px; min-width:250px; flex:1; max-width:420px; }
.card .title { display:flex; gap:8px; align-items:center; font-weight:600; }
.card dl { display:grid; grid-template-columns:auto auto auto auto; gap:2px 10px; margin:6px 0; font-size:12px; }
.card dt { color:var(--dim); } .card dd { margin:0; text-align:right; }
.card .err { color:var(--bad); font-size:12px; white-space:pre-wrap; word-break:break-word; }
.card .actions { display:flex; gap:6px; }
table { width:100%; border-collapse:collapse; font-size:13px; }
th { text-align:left; color:var(--dim); font-weight:500; border-bottom:1px solid var(--line); padding:3px 6px; }
td { padding:3px 6px; border-bottom:1px solid #20252d; white-space:nowrap; }
td.num, th.num { text-align:right; }
.empty { color:var(--dim); font-style:italic; }
.scroll { max-height:320px; overflow:auto; }
#log { height:300px; overflow:auto; font:12px/1.35 ui-monospace, Menlo, monospace; white-space:pre-wrap; word-break:break-word; }
#log .warning, #log .warn { color:var(--warn); } #log .error, #log .critical { color:var(--bad); }
svg { width:100%; height:200px; display:block; background:#12161b; border-radius:4px; }
svg .axis { stroke:var(--line); } svg .zero { stroke:#3a414c; stroke-dasharray:4 3; }
svg .line { fill:none; stroke:var(--accent); stroke-width:1.5; } svg text { fill:var(--dim); font:10px ui-monospace, monospace; }
svg .buy { fill:var(--good); } svg .sell { fill:var(--bad); }
.meter { display:grid; grid-template-columns:160px 1fr 150px; gap:8px; align-items:center; margin:4px 0; font-size:12px; }
.meter .bar { height:8px; background:#222832; border-radius:4px; overflow:hidden; } .meter .fill { height:100%; background:var(--good); }
.meter .fill.warn { background:var(--warn); } .meter .fill.bad { background:var(--bad); }
.limits { columns:2; font-size:12px; margin-top:8px; } .limits div { break-inside:avoid; }
form.inline { display:flex; gap:6px; flex-wrap:wrap; margin-top:8px; }
input, select { background:#0f1216; color:var(--text); border:1px solid var(--line); border-radius:4px; padding:3px 6px; font:inherit; font-size:12px; }
#login { max-width:420px; margin:80px auto; background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:20px; }
#login input { width:100%; margin:8px 0; padding:6px; }
</style>
</head>
<body>
<form id="login" hidden>
  <h2>Moonwire dashboard</h2>
  <div class="dim">The token is printed by <span class="mono">moonwire serve</span> on standard output (or set in MOONWIRE_HTTP_TOKEN).</div>
  <input id="token-input" type="password" autocomplete="off" placeholder="token">
  <div id="login-error" class="neg"></div>
  <button type="submit">Open</button>
</form>
<div id="app" hidden>
<header>
  <span class="brand">Moonwire</span>
  <span id="conn" class="badge">TWS: ?</span>
  <span id="link" class="badge">events: connecting</span>
  <span id="account" class="badge">account ?</span>
  <span class="dim">server <span id="version" class="num">?</span></span>
  <span class="dim">up <span id="uptime" class="num">?</span></span>
  <span>daily PnL <b id="pnl" class="num">?</b></span>
  <span class="spacer"></span>
  <button id="halt" type="button" title="Close the order gate for good and cancel every open order of the strategies">KILL SWITCH</button>
</header>
<div id="closed" class="banner" hidden></div>
<div id="message" hidden></div>
<main>
  <section><h2>Strategies</h2><div id="strategies" class="cards"></div>
    <form id="add" class="inline"><input id="add-file" placeholder="Strategies/file.lua" required><input id="add-name" placeholder="name (optional)"><button type="submit">Add strategy</button></form>
  </section>
  <div class="row2">
    <section><h2>PnL today</h2><svg id="pnl-chart" viewBox="0 0 600 200" preserveAspectRatio="none"></svg></section>
    <section><h2>Price <select id="symbol"></select></h2><svg id="price-chart" viewBox="0 0 600 200" preserveAspectRatio="none"></svg></section>
  </div>
  <section><h2>Positions</h2><div class="scroll"><table id="positions"><thead><tr><th>holder</th><th>symbol</th><th class="num">quantity</th><th class="num">avg cost</th><th class="num">price</th><th class="num">value</th><th class="num">unrealized</th><th class="num">realized</th><th></th></tr></thead><tbody></tbody></table></div></section>
  <section><h2>Open orders</h2><div class="scroll"><table id="orders"><thead><tr><th class="num">id</th><th>strategy</th><th>symbol</th><th>action</th><th class="num">qty</th><th>type</th><th class="num">limit</th><th class="num">stop</th><th>tif</th><th>status</th><th class="num">filled</th><th class="num">avg price</th><th>created</th><th></th></tr></thead><tbody></tbody></table></div></section>
  <section><h2>Fills <span id="fills-total" class="dim"></span></h2><div class="scroll"><table id="fills"><thead><tr><th>time</th><th>strategy</th><th>symbol</th><th>side</th><th class="num">shares</th><th class="num">price</th><th class="num">commission</th><th class="num">order</th><th>exec id</th></tr></thead><tbody></tbody></table></div></section>
  <div class="row2">
    <section><h2>Risk</h2><div id="risk"></div></section>
    <section><h2>Log</h2><div id="log"></div></section>
  </div>
</main>
</div>
<script>
"use strict";
(() => {
const $ = (id) => document.getElementById(id);
const SVGNS = "http://www.w3.org/2000/svg";
const FINISHED = new Set(["filled", "cancelled", "rejected", "not_sent", "unknown", "apicancelled"]);
const state = { token: null, status: null, statusAt: 0, orders: new Map(), fills: [], fillTotal: 0,
  positions: { account: [], strategies: [] }, quotes: new Map(), pnl: [], symbol: null, loaded: new Set(), ws: null, wsOpen: false };

// ---- DOM helpers: text only, never HTML ----
function el(tag, props, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") e.textContent = String(v); else if (k === "class") e.className = v; else e.setAttribute(k, String(v));
  }
  for (const kid of kids) if (kid !== null && kid !== undefined) e.append(kid instanceof Node ? kid : String(kid));
  return e;
}
function svgEl(tag, attrs) { const e = document.createElementNS(SVGNS, tag); for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v)); return e; }
function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
function fmt(n, digits = 2) {
  if (n === null || n === undefined || n === "" || !isFinite(Number(n))) return "–";
  return Number(n).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
function fmtQty(n) { return (n === null || n === undefined) ? "–" : Number(n).toLocaleString("en-US", { maximumFractionDigits: 4 }); }
function signClass(n) { return n > 0 ? "pos" : n < 0 ? "neg" : ""; }
function fmtTime(iso) { if (!iso) return "–"; const d = new Date(iso); return isNaN(d) ? String(iso) : d.toISOString().slice(11, 19); }
function fmtDuration(s) { s = Math.max(0, Math.floor(s)); const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60; return (h ? h + "h " : "") + String(m).padStart(h ? 2 : 1, "0") + "m " + String(s % 60).padStart(2, "0") + "s"; }
function td(text, cls) { return el("td", { class: cls, text }); }
function numTd(n, digits, colored) { return el("td", { class: "num" + (colored ? " " + signClass(n) : ""), text: digits === "qty" ? fmtQty(n) : fmt(n, digits) }); }
function setBody(table, rows, columns, emptyText) {
  const body = table.tBodies[0]; clear(body);
  if (!rows.length) body.append(el("tr", {}, el("td", { class: "empty", colspan: columns, text: emptyText })));
  else for (const r of rows) body.append(r);
}
function say(text, isError) { const m = $("message"); m.hidden = false; m.className = isError ? "error" : "ok"; m.textContent = text; }
function confirmed(question) { return sessionStorage.getItem("moonwireNoConfirm") === "1" || window.confirm(question); }

// ---- token ----
function readToken() {
  const match = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem("moonwireToken", decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem("moonwireToken");
}
function askToken(why) {
  $("app").hidden = true; $("login").hidden = false; $("login-error").textContent = why || "";
  if (state.ws) { state.ws.onclose = null; state.ws.close(); state.ws = null; }
}

// ---- the API ----
async function api(method, path, body) {
  const options = { method, headers: { Authorization: "Bearer " + state.token }, cache: "no-store" };
  if (body !== undefined) { options.headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
  const response = await fetch(path, options);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (response.status === 401) askToken("The server refused the token: " + ((data && data.error) || "unauthorized"));
  if (!response.ok) throw new Error((data && data.error) || (response.status + " " + response.statusText));
  return data;
}
async function write(label, method, path, body) {
  try {
    const result = await api(method, path, body);
    say(label + ": done", false);
    schedule("status", "strategies", "positions", "orders", "fills", "risk");
    return result;
  } catch (e) { say(label + " failed: " + e.message, true); return null; }
}

// ---- loaders: each fetches one part and draws it ----
const loaders = {
  async status() { applyStatus(await api("GET", "/api/status")); },
  async strategies() { drawStrategies(await api("GET", "/api/strategies")); },
  async positions() { state.positions = await api("GET", "/api/positions"); drawPositions(); },
  async orders() { const list = await api("GET", "/api/orders?open=true"); state.orders = new Map(list.map((o) => [o.order_id, o])); drawOrders(); },
  async fills() {
    let offset = Math.max(0, state.fillTotal - 50);
    let page = await api("GET", "/api/fills?offset=" + offset + "&limit=50");
    if (page.total - offset > 50 || page.total < offset) { offset = Math.max(0, page.total - 50); page = await api("GET", "/api/fills?offset=" + offset + "&limit=50"); }
    state.fillTotal = page.total; state.fills = page.fills.slice(); drawFills(); drawPrice();
  },
  async risk() { drawRisk(await api("GET", "/api/risk")); },
  async log() {
    state.logLoading = []; let data;
    try { data = await api("GET", "/api/log?lines=200"); } catch (e) { state.logLoading = null; throw e; }
    const pending = state.logLoading; state.logLoading = null;
    const seen = new Set(data.lines.map(logKey));
    clear($("log")); for (const line of data.lines) appendLog(line);
    for (const line of pending) if (!seen.has(logKey(line))) appendLog(line);
  },
};
const pendingLoads = new Set(); let loadTimer = null;
function schedule(...names) {   // debounced: a burst of events is one refetch per table
  for (const n of names) pendingLoads.add(n);
  if (!loadTimer) loadTimer = setTimeout(runScheduled, 80);
}
function runScheduled() {
  loadTimer = null; const names = [...pendingLoads]; pendingLoads.clear();
  for (const n of names) loaders[n]().catch((e) => say("loading " + n + " failed: " + e.message, true));
}
async function loadAll() {
  if ($("app").hidden) return;   // waiting for a token
  const names = Object.keys(loaders);
  const results = await Promise.allSettled(names.map((n) => loaders[n]()));
  const failed = [];
  results.forEach((r, i) => { if (r.status === "fulfilled") state.loaded.add(names[i]); else failed.push(names[i] + ": " + r.reason.message); });
  if (state.loaded.size === names.length) {
    document.body.dataset.rendered = "ok";
    if ($("message").textContent.startsWith("could not load")) $("message").hidden = true;
  }
  else { document.body.dataset.rendered = "partial"; say("could not load " + failed.join("; "), true); setTimeout(loadAll, 2000); }
}

// ---- header ----
function applyStatus(s) {
  state.status = s; state.statusAt = Date.now();
  showConnection(s.connection);
  const acct = $("account"); acct.textContent = (s.account || "?") + " " + (s.paper ? "paper" : "LIVE");
  acct.className = "badge " + (s.paper ? "good" : "bad");
  $("version").textContent = String(s.server_version ?? "?");
  setPnl(s.daily_pnl, true);
  const banner = $("closed");
  if (s.trading_closed) { banner.hidden = false; banner.textContent = "Trading closed (" + s.trading_closed.code + "): " + s.trading_closed.message; }
  else { banner.hidden = true; banner.textContent = ""; }
  tickUptime();
}
function tickUptime() {
  const s = state.status; if (!s) return;
  $("uptime").textContent = fmtDuration((s.uptime_seconds || 0) + (Date.now() - state.statusAt) / 1000);
}
function setPnl(value, addPoint) {
  const p = $("pnl"); p.textContent = fmt(value); p.className = "num " + signClass(value);
  if (addPoint && value !== null && value !== undefined) { state.pnl.push({ t: Date.now(), v: Number(value) }); if (state.pnl.length > 3000) state.pnl.shift(); drawPnl(); }
}
function showConnection(text) {
  const c = $("conn"); c.textContent = "TWS: " + (text || "?");
  c.className = "badge " + (text === "connected" || text === "restored" ? "good" : "bad");
}
function setLink(text, good) { const l = $("link"); l.textContent = "events: " + text; l.className = "badge " + (good ? "good" : "warn"); }

// ---- strategies ----
function drawStrategies(list) {
  const box = $("strategies"); clear(box);
  if (!list.length) { box.append(el("div", { class: "empty", text: "no strategy running" })); return; }
  for (const s of list) {
    const badge = s.state === "running" ? "good" : s.state === "paused" ? "warn" : "bad";
    const counts = [["events", s.events], ["quotes", s.quotes], ["placed", s.orders_placed], ["refused", s.orders_refused],
      ["fills", s.fills], ["errors", s.errors], ["handler fails", s.handler_failures], ["reloads", s.reloads + (s.failed_reloads ? " (" + s.failed_reloads + " failed)" : "")]];
    const dl = el("dl");
    for (const [k, v] of counts) dl.append(el("dt", { text: k }), el("dd", { class: "num", text: v ?? "–" }));
    dl.append(el("dt", { text: "realized" }), el("dd", { class: "num " + signClass(s.realized_pnl), text: fmt(s.realized_pnl) }));
    const actions = el("div", { class: "actions" });
    for (const a of [s.state === "paused" ? "resume" : "pause", "reload", "remove"]) actions.append(el("button", { type: "button", "data-action": a, "data-name": s.name, text: a }));
    box.append(el("div", { class: "card", "data-strategy": s.name },
      el("div", { class: "title" }, el("span", { text: s.name }), el("span", { class: "badge " + badge, text: s.state })),
      el("div", { class: "dim mono", text: s.path || "" }), dl,
      s.last_error ? el("div", { class: "err", text: s.last_error }) : null, actions));
  }
}
async function strategyAction(action, name) {
  const base = "/api/strategies/" + encodeURIComponent(name);
  if (action === "remove") {
    if (!confirmed("Stop strategy " + name + " and cancel its open orders?")) return;
    await write("remove " + name, "DELETE", base + "?cancel_orders=true");
  } else if (action === "reload") {
    const r = await write("reload " + name, "POST", base + "/reload");
    if (r) say(r.succeeded ? "reload " + name + ": done (" + (r.hash || "") + ")" : "reload " + name + " failed: " + r.error, !r.succeeded);
  } else await write(action + " " + name, "POST", base + "/" + action);
}

// ---- positions, orders, fills ----
function drawPositions() {
  const rows = [];
  const flatten = (symbol, strategy) => el("button", { type: "button", class: "danger", "data-action": "flatten", "data-symbol": symbol, "data-strategy": strategy, text: "Flatten" });
  for (const p of state.positions.account || []) {
    if (!p.quantity) continue;
    rows.push(el("tr", { "data-symbol": p.symbol }, td("account", "dim"), td(p.symbol), numTd(p.quantity, "qty"), numTd(p.average_cost, 4), numTd(p.market_price), numTd(p.market_value),
      numTd(p.unrealized_pnl, 2, true), numTd(p.realized_pnl, 2, true), el("td", {}, flatten(p.symbol, null))));
    seeSymbol(p.symbol);
  }
  for (const p of state.positions.strategies || []) {
    if (!p.quantity) continue;
    rows.push(el("tr", { "data-symbol": p.symbol, "data-strategy": p.strategy }, td(p.strategy), td(p.symbol), numTd(p.quantity, "qty"), numTd(p.average_cost, 4),
      td("", "num"), td("", "num"), td("", "num"), td("", "num"), el("td", {}, flatten(p.symbol, p.strategy))));
    seeSymbol(p.symbol);
  }
  setBody($("positions"), rows, 9, "no position");
}
function drawOrders() {
  const list = [...state.orders.values()].sort((a, b) => a.order_id - b.order_id);
  const rows = list.map((o) => {
    seeSymbol(o.symbol);
    return el("tr", { "data-order": o.order_id }, numTd(o.order_id, 0), td(o.strategy ?? "–"), td(o.symbol), td(o.action), numTd(o.quantity, "qty"), td(o.type),
      numTd(o.limit), numTd(o.stop), td(o.tif ?? ""), td(o.status), numTd(o.filled, "qty"), numTd(o.average_fill_price), td(fmtTime(o.created_at), "mono"),
      el("td", {}, el("button", { type: "button", "data-action": "cancel", "data-id": o.order_id, text: "Cancel" })));
  });
  setBody($("orders"), rows, 14, "no open order");
}
function drawFills() {
  const rows = state.fills.slice().reverse().map((f) => el("tr", { "data-exec": f.exec_id }, td(fmtTime(f.time), "mono"), td(f.strategy ?? "–"), td(f.symbol),
    td(f.side, f.side === "BUY" || f.side === "BOT" ? "pos" : "neg"), numTd(f.shares, "qty"), numTd(f.price, 4), numTd(f.commission), numTd(f.order_id, 0), td(f.exec_id, "mono dim")));
  setBody($("fills"), rows, 9, "no fill yet");
  $("fills-total").textContent = state.fillTotal > state.fills.length ? "(newest " + state.fills.length + " of " + state.fillTotal + ")" : "";
}

// ---- risk ----
function findNumber(obj, key) {
  if (!obj || typeof obj !== "object") return null;
  if (typeof obj[key] === "number") return obj[key];
  for (const v of Object.values(obj)) { const found = findNumber(v, key); if (found !== null) return found; }
  return null;
}
function flattenLimits(obj, prefix, out) {
  for (const [k, v] of Object.entries(obj || {})) {
    const name = prefix ? prefix + "." + k : k;
    if (v && typeof v === "object" && !Array.isArray(v)) flattenLimits(v, name, out);
    else out.push([name, Array.isArray(v) ? (v.length ? v.join(", ") : "any") : String(v)]);
  }
  return out;
}
function drawRisk(r) {
  const box = $("risk"); clear(box);
  const usage = r.usage || {};
  const meters = [["open orders", usage.open_orders, findNumber(r.limits, "max_open_orders")],
    ["orders last minute", usage.orders_last_minute, findNumber(r.limits, "max_orders_per_minute")],
    ["daily loss", Math.max(0, -(usage.daily_pnl || 0)), findNumber(r.limits, "max_daily_loss")]];
  if (r.trading_closed) box.append(el("div", { class: "neg", text: "trading closed: " + (r.trading_closed.message || r.trading_closed.code || r.trading_closed) }));
  for (const [name, used, limit] of meters) {
    const share = limit ? Math.min(1, (used || 0) / limit) : 0;
    const fill = el("div", { class: "fill" + (share >= 0.8 ? " bad" : share >= 0.5 ? " warn" : "") }); fill.style.width = (share * 100).toFixed(1) + "%";
    box.append(el("div", { class: "meter" }, el("span", { text: name }), el("div", { class: "bar" }, fill),
      el("span", { class: "num", text: fmt(used, name === "daily loss" ? 2 : 0) + " / " + (limit === null ? "no limit" : fmt(limit, name === "daily loss" ? 2 : 0)) + (limit ? "  (" + Math.round(share * 100) + "%)" : "") })));
  }
  const list = el("div", { class: "limits" });
  for (const [k, v] of flattenLimits(r.limits, "", [])) list.append(el("div", {}, el("span", { class: "dim", text: k + " " }), el("span", { class: "num", text: v })));
  box.append(list);
}

// ---- log ----
function logKey(l) { return l.time + "|" + l.source + "|" + l.message; }
function appendLog(line) {
  const box = $("log"); const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 30;
  box.append(el("div", { class: String(line.level || "info").toLowerCase() },
    el("span", { class: "dim", text: fmtTime(line.time) + " " }), el("span", { text: (line.level && line.level !== "info" ? line.level + " " : "") }),
    el("span", { class: "dim", text: line.source ? line.source + ": " : "" }), el("span", { text: line.message })));
  while (box.childNodes.length > 1000) box.removeChild(box.firstChild);
  if (atBottom) box.scrollTop = box.scrollHeight;
}

// ---- charts ----
function chart(svg, series, markers, zeroLine, label) {
  clear(svg);
  const W = 600, H = 200, L = 56, R = 8, T = 10, B = 18;
  const all = series.concat(markers);
  if (!all.length) { svg.append(Object.assign(svgEl("text", { x: W / 2 - 40, y: H / 2 }), { textContent: label })); return; }
  let t0 = Math.min(...all.map((p) => p.t)), t1 = Math.max(...all.map((p) => p.t));
  let v0 = Math.min(...all.map((p) => p.v)), v1 = Math.max(...all.map((p) => p.v));
  if (zeroLine) { v0 = Math.min(v0, 0); v1 = Math.max(v1, 0); }
  if (t1 === t0) { t0 -= 1000; t1 += 1000; }
  if (v1 === v0) { v0 -= 1; v1 += 1; }
  const pad = (v1 - v0) * 0.05; v0 -= pad; v1 += pad;
  const x = (t) => L + (t - t0) / (t1 - t0) * (W - L - R), y = (v) => T + (v1 - v) / (v1 - v0) * (H - T - B);
  svg.append(svgEl("line", { class: "axis", x1: L, y1: T, x2: L, y2: H - B }), svgEl("line", { class: "axis", x1: L, y1: H - B, x2: W - R, y2: H - B }));
  if (zeroLine) svg.append(svgEl("line", { class: "zero", x1: L, y1: y(0), x2: W - R, y2: y(0) }));
  for (const [v, yy] of [[v1, T + 8], [v0, H - B - 2]]) { const t = svgEl("text", { x: 2, y: yy }); t.textContent = fmt(v); svg.append(t); }
  for (const [t, xx, anchor] of [[t0, L, "start"], [t1, W - R, "end"]]) { const e = svgEl("text", { x: xx, y: H - 4, "text-anchor": anchor }); e.textContent = new Date(t).toISOString().slice(11, 19); svg.append(e); }
  if (series.length) svg.append(svgEl("path", { class: "line", d: series.map((p, i) => (i ? "L" : "M") + x(p.t).toFixed(1) + " " + y(p.v).toFixed(1)).join(" ") }));
  for (const m of markers) {
    const c = svgEl("circle", { class: m.cls, cx: x(m.t).toFixed(1), cy: y(m.v).toFixed(1), r: 4 });
    const title = svgEl("title"); title.textContent = m.title; c.append(title); svg.append(c);
  }
}
function drawPnl() { chart($("pnl-chart"), state.pnl, [], true, "waiting for PnL"); }
function seeSymbol(symbol) {
  if (!symbol) return;
  if (!state.quotes.has(symbol)) { state.quotes.set(symbol, []); $("symbol").append(el("option", { value: symbol, text: symbol })); }
  if (!state.symbol) { state.symbol = symbol; $("symbol").value = symbol; drawPrice(); }
}
function drawPrice() {
  const symbol = state.symbol; const series = symbol ? state.quotes.get(symbol) || [] : [];
  const since = series.length ? series[0].t - 600000 : 0;
  const markers = state.fills.filter((f) => f.symbol === symbol).map((f) => ({ t: Date.parse(f.time), v: Number(f.price), cls: /^(BUY|BOT)$/.test(f.side) ? "buy" : "sell",
    title: f.side + " " + fmtQty(f.shares) + " @ " + fmt(f.price, 4) })).filter((m) => isFinite(m.t) && m.t >= since);
  chart($("price-chart"), series, markers, false, symbol ? "waiting for quotes of " + symbol : "no symbol yet");
}
let priceTimer = null;
function addQuote(q) {
  seeSymbol(q.symbol);
  const v = q.last ?? ((q.bid != null && q.ask != null) ? (q.bid + q.ask) / 2 : null);
  if (v === null || !isFinite(v)) return;
  const series = state.quotes.get(q.symbol); series.push({ t: q.ts_us ? q.ts_us / 1000 : Date.now(), v: Number(v) });   // `time` is whole seconds; ts_us is finer
  if (series.length > 1200) series.shift();
  if (q.symbol === state.symbol && !priceTimer) priceTimer = setTimeout(() => { priceTimer = null; drawPrice(); }, 100);
}

// ---- the event stream ----
function onEvent(ev) {
  switch (ev.type) {
    case "hello": if (ev.status) applyStatus(ev.status); schedule(...Object.keys(loaders)); break;
    case "quote": addQuote(ev); break;
    case "quotes": for (const q of (ev.quotes || [])) addQuote(Object.assign({ ts_us: ev.ts_us }, q)); break;
    case "order": {
      const o = ev.order; if (!o) break;
      if (FINISHED.has(String(o.status).toLowerCase()) || o.remaining === 0) state.orders.delete(o.order_id); else state.orders.set(o.order_id, o);
      drawOrders(); schedule("orders", "risk", "strategies"); break;
    }
    case "fill": {
      const f = ev.fill; if (!f) break;
      if (!state.fills.some((x) => x.exec_id === f.exec_id)) { state.fills.push(f); state.fillTotal += 1; if (state.fills.length > 50) state.fills.shift(); drawFills(); drawPrice(); }
      schedule("fills", "positions", "strategies", "orders"); break;
    }
    case "pnl": setPnl(ev.daily, true); break;
    case "connection": showConnection(ev.state); schedule("status"); break;
    case "strategy": appendLog({ time: ev.time, level: "info", source: "dashboard", message: "strategy " + ev.name + " " + ev.event }); schedule("strategies", "positions", "orders"); break;
    case "halt":   // the write's own answer says the rest; say here only what is still working
      appendLog({ time: ev.time, level: "warning", source: "dashboard", message: "kill switch: trading closed" + (ev.everything ? " (every order of the account)" : "") });
      $("closed").hidden = false; if (!$("closed").textContent) $("closed").textContent = "Trading closed: the kill switch";   // the status refetch words it
      if (ev.left && ev.left.length) say("kill switch: still working at TWS: " + ev.left.join(", "), true);
      schedule("status", "orders", "risk", "strategies"); break;
    case "log": if (state.logLoading) state.logLoading.push(ev); appendLog(ev); break;
    case "notice": say(ev.message, false); break;
    case "stopped": setLink("the server is stopping", false); break;
  }
}
let backoff = 500;
function connectEvents() {
  if ($("app").hidden || (state.ws && state.ws.readyState <= 1)) return;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(scheme + "//" + location.host + "/api/events?token=" + encodeURIComponent(state.token));
  state.ws = ws;
  ws.onopen = () => { backoff = 500; state.wsOpen = true; setLink("live", true); };
  ws.onmessage = (m) => { let ev; try { ev = JSON.parse(m.data); } catch (e) { return; } onEvent(ev); };
  ws.onclose = (e) => {
    state.wsOpen = false; setLink("reconnecting" + (e.reason ? " (" + e.reason + ")" : ""), false);
    setTimeout(connectEvents, backoff); backoff = Math.min(backoff * 2, 15000);
  };
}

// ---- user actions ----
$("halt").addEventListener("click", async () => {
  if (!confirmed("KILL SWITCH: close the order gate for good and cancel every open order of the strategies?")) return;
  const r = await write("halt", "POST", "/api/halt", { everything: false });
  if (r) say("halt " + (r.complete ? "complete" : "INCOMPLETE") + ": cancelled " + (r.cancelled || []).length + (r.left && r.left.length ? ", still working: " + r.left.join(", ") : ""), !r.complete);
});
document.addEventListener("click", async (e) => {
  const b = e.target.closest("button[data-action]"); if (!b) return;
  const action = b.dataset.action;
  if (action === "cancel") await write("cancel order " + b.dataset.id, "POST", "/api/orders/" + encodeURIComponent(b.dataset.id) + "/cancel");
  else if (action === "flatten") {
    const who = b.dataset.strategy ? b.dataset.strategy : "every strategy";
    if (!confirmed("Flatten " + b.dataset.symbol + " of " + who + " at market?")) return;
    const r = await write("flatten " + b.dataset.symbol, "POST", "/api/flatten/" + encodeURIComponent(b.dataset.symbol), b.dataset.strategy ? { strategy: b.dataset.strategy } : {});
    if (r) say("flatten " + b.dataset.symbol + ": cancelled " + (r.cancelled || []).length + ", closing " + (r.closing || []).map((c) => c.action + " " + c.quantity).join(", ") +
      ((r.refused || []).length ? "; refused: " + r.refused.map((x) => x.strategy + ": " + x.error).join("; ") : ""), (r.refused || []).length > 0);
  } else await strategyAction(action, b.dataset.name);
});
$("add").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = { file: $("add-file").value.trim() }; const name = $("add-name").value.trim(); if (name) body.name = name;
  const r = await write("add " + body.file, "POST", "/api/strategies", body);
  if (r) say("added strategy " + r.name, false);
});
$("symbol").addEventListener("change", () => { state.symbol = $("symbol").value; drawPrice(); });
$("login").addEventListener("submit", (e) => {
  e.preventDefault(); const t = $("token-input").value.trim(); if (!t) return;
  sessionStorage.setItem("moonwireToken", t); start();
});

// ---- start ----
let started = false;
function start() {
  state.token = readToken();
  if (!state.token) { askToken(""); return; }
  $("login").hidden = true; $("app").hidden = false; $("message").hidden = true;
  loadAll();
  connectEvents();
  if (started) return; started = true;
  setInterval(() => {   // the fallback: the status every 2 s, everything while the stream is down
    if (!state.token || $("app").hidden) return;
    loaders.status().catch((e) => setLink("server unreachable: " + e.message, false));
    if (!state.wsOpen) schedule("strategies", "positions", "orders", "fills", "risk");
  }, 2000);
  setInterval(tickUptime, 1000);
}
start();
})();
</script>
</body>
</html>
"""#
}
