// The alexdb dashboard: reads /v1 of the service it is served by; every number shown is the API's text.
"use strict";

const params = new URLSearchParams(location.search);
const token = params.get("token") || sessionStorage.getItem("alexdb-token") || "";
if (params.get("token")) sessionStorage.setItem("alexdb-token", token);
const DAY = 86400000;
const RANGES = { "1M": 30, "6M": 182, "1Y": 365, "5Y": 1826 };
const state = { user: params.get("user") || "", account: params.get("account") || "", range: "1Y", socket: null };
const $ = (id) => document.getElementById(id);

class NotFound extends Error {}

async function api(path) {
  const answer = await fetch(`/v1${path}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  if (answer.status === 404) throw new NotFound((await answer.json()).message);
  if (!answer.ok) throw new Error(`${answer.status}: ${(await answer.json()).message}`);
  return answer.json();
}

// Money and quantities arrive as exact decimal text: shown with separators, never through a float.
function money(text) {
  if (text === null || text === undefined) return "–";
  const negative = text.startsWith("-");
  const [whole, fraction = ""] = (negative ? text.slice(1) : text).split(".");
  const cents = (fraction + "00").slice(0, 2);
  return `${negative ? "-" : ""}$${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${cents}`;
}
const quantity = (text) => (text === null || text === undefined ? "–" : text.replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, ""));
const percent = (figure) => (figure && figure.value !== null ? `${(Number(figure.value) * 100).toFixed(2)}%` : "n/a");
const when = (iso) => iso.replace("T", " ").slice(0, 16);

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function fill(table, rows) {
  const body = $(table).querySelector("tbody");
  body.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement("tr");
    tr.append(...cells.map((c) => (c instanceof Node ? c : cell(c))));
    return tr;
  }));
}

function status(text, error = false) {
  $("status").textContent = text;
  $("status").className = error ? "error" : "";
}

function instant() {
  const picked = $("at").value;
  return picked ? new Date(`${picked}Z`) : null;
}

async function loadUser() {
  clear();
  if (!state.user) return status("Enter a user id");
  try {
    const [user, accounts] = await Promise.all([api(`/users/${encodeURIComponent(state.user)}`),
      api(`/users/${encodeURIComponent(state.user)}/accounts?limit=100`)]);
    state.targets = { asset: user.asset_class_targets, region: user.region_targets };
    $("account").replaceChildren(...accounts.items.map((a) => new Option(a.account_name, a.id)));
    state.accounts = Object.fromEntries(accounts.items.map((a) => [a.id, a]));
    if (!state.accounts[state.account]) state.account = accounts.items.length ? accounts.items[0].id : "";
    $("account").value = state.account;
    listen();
    await Promise.all([loadAccount(), loadAlerts()]);
  } catch (error) {
    status(error instanceof NotFound ? `No user ${state.user}` : error.message, true);
  }
}

function clear() {
  for (const id of ["total", "holdings-value", "cash", "twr", "mwr"]) $(id).textContent = "–";
  for (const id of ["holdings", "cash-movements", "gains", "alerts"]) fill(id, []);
  for (const id of ["alloc-asset", "alloc-region", "alloc-sector", "notifications", "chart"]) $(id).replaceChildren();
  $("account").replaceChildren();
  document.body.dataset.loaded = "";
}

async function loadAccount() {
  if (!state.account) return status("No accounts");
  status("Loading…");
  const id = state.account;
  const end = instant() || new Date();
  const opened = new Date(state.accounts[id].created_at);
  const days = RANGES[state.range];
  const start = days ? new Date(end.getTime() - days * DAY) : opened;
  const range = `start=${start.toISOString()}&end=${end.toISOString()}`;
  const at = instant() ? `?at=${end.toISOString()}` : "";
  const [value, series, returns, cash, gains] = await Promise.all([
    api(`/accounts/${id}/value${at}`), api(`/accounts/${id}/series?${range}&step=1d`),
    api(`/accounts/${id}/returns?${range}`), api(`/accounts/${id}/cash/history?${range}`),
    api(`/accounts/${id}/realized-gains?${range}`)]);
  $("total").textContent = money(value.total);
  $("holdings-value").textContent = money(value.holdings_value);
  $("cash").textContent = money(value.cash);
  $("twr").textContent = percent(returns.twr);
  $("mwr").textContent = percent(returns.mwr);
  const gainCell = (text) => cell(money(text), text && text.startsWith("-") ? "loss" : "gain");
  fill("holdings", [...value.holdings.map((h) => [h.symbol, quantity(h.quantity), money(h.price), money(h.value),
    money(h.cost_basis), gainCell(h.unrealized_gain)]),
  ...value.unpriced.map((h) => [h.symbol, quantity(h.quantity), "no price", "–", money(h.cost_basis), "–"])]);
  fill("cash-movements", cash.slice(-20).reverse().map((m) => [when(m.at), m.symbol ? `${m.kind} ${m.symbol}` : m.kind,
    money(m.amount), money(m.balance)]));
  fill("gains", gains.slice(-20).reverse().map((g) => [when(g.at), g.symbol, quantity(g.quantity), money(g.proceeds), gainCell(g.gain)]));
  chart(series);
  await allocations(value);
  document.body.dataset.loaded = "yes";
  status(`${state.accounts[id].account_name} as of ${when(end.toISOString())} UTC`);
}

function chart(series) {
  const box = $("chart");
  box.replaceChildren();
  box.dataset.points = String(series.length);
  const data = [series.map((p) => Date.parse(p.at) / 1000), series.map((p) => Number(p.total)),
    series.map((p) => Number(p.contributions))];
  const options = {
    width: Math.max(320, box.clientWidth), height: 260,
    series: [{}, { label: "Value", stroke: "#2563eb", width: 2, fill: "rgba(37,99,235,0.08)" },
      { label: "Net contributions", stroke: "#6b7385", width: 1.5, dash: [6, 4] }],
    axes: [{}, { size: 80, values: (u, ticks) => ticks.map((t) => `$${Math.round(t).toLocaleString("en-US")}`) }],
  };
  new uPlot(options, data, box);
}

async function allocations(value) {
  const held = value.holdings.filter((h) => Number(h.value) > 0);
  const instruments = await Promise.all(held.map((h) => api(`/instruments/${encodeURIComponent(h.symbol)}`)));
  const total = held.reduce((sum, h) => sum + Number(h.value), 0);
  const weights = { asset: {}, region: {}, sector: {} };
  const fields = { asset: "allocation_asset_class", region: "allocation_regions", sector: "allocation_sectors" };
  held.forEach((h, i) => {
    for (const [kind, field] of Object.entries(fields)) {
      for (const [name, pct] of Object.entries(instruments[i][field])) {
        weights[kind][name] = (weights[kind][name] || 0) + (Number(h.value) / total) * Number(pct);
      }
    }
  });
  bars("alloc-asset", weights.asset, state.targets.asset);
  bars("alloc-region", weights.region, state.targets.region);
  bars("alloc-sector", weights.sector, {});
}

function bars(id, weights, targets) {
  const names = [...new Set([...Object.keys(weights), ...Object.keys(targets || {})])]
    .sort((a, b) => (weights[b] || 0) - (weights[a] || 0));
  $(id).replaceChildren(...names.map((name) => {
    const row = document.createElement("div");
    row.className = "bar";
    const share = weights[name] || 0;
    const target = targets && targets[name] !== undefined ? Number(targets[name]) : null;
    row.innerHTML = `<span></span><span class="track"><span class="fill" style="width:${Math.min(100, share)}%"></span>${
      target === null ? "" : `<span class="target" style="left:${Math.min(100, target)}%" title="target ${target}%"></span>`}</span><span>${share.toFixed(1)}%</span>`;
    row.firstChild.textContent = name.replace(/_/g, " ");
    return row;
  }));
}

async function loadAlerts() {
  const [notifications] = await Promise.all([api(`/users/${encodeURIComponent(state.user)}/notifications?limit=20`),
    refreshAlerts()]);
  $("notifications").replaceChildren(...notifications.items.map((n) => item(n.symbol, n.current_price, n.threshold, n.triggered_at)));
}

async function refreshAlerts() {
  const alerts = await api(`/users/${encodeURIComponent(state.user)}/alerts?limit=50`);
  fill("alerts", alerts.items.map((a) => [a.symbol, describe(a.condition), a.enabled ? (a.last_triggered ? "fired" : "armed") : "off",
    String(a.trigger_count)]));
}

function describe(condition) {
  if (condition.indicator) return `${condition.indicator.kind || "indicator"} ${condition.operator} ${condition.threshold ?? ""}`;
  return `price ${condition.operator} ${condition.threshold}`;
}

function item(symbol, price, threshold, at, fresh = false) {
  const li = document.createElement("li");
  li.textContent = `${when(at)} ${symbol} at ${money(String(price))}${threshold ? ` (threshold ${money(String(threshold))})` : ""}`;
  if (fresh) li.className = "new";
  return li;
}

function listen() {
  if (state.socket) state.socket.close();
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/v1/ws/${encodeURIComponent(state.user)}${token ? `?token=${token}` : ""}`);
  socket.onopen = () => { $("live").textContent = "● live"; document.body.dataset.live = "yes"; };
  socket.onclose = () => { $("live").textContent = ""; document.body.dataset.live = ""; };
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    const at = new Date(Number(message.timestamp) || Date.now()).toISOString();
    $("notifications").prepend(item(message.symbol, message.price, message.threshold, at, true));
    refreshAlerts().catch(() => {});  // the alert's state and count; the new line stays marked
  };
  state.socket = socket;
}

$("user").value = state.user;
$("user").addEventListener("change", () => { state.user = $("user").value.trim(); state.account = ""; loadUser(); });
$("account").addEventListener("change", () => { state.account = $("account").value; loadAccount().catch((e) => status(e.message, true)); });
$("at").addEventListener("change", () => loadAccount().catch((e) => status(e.message, true)));
$("now").addEventListener("click", () => { $("at").value = ""; loadAccount().catch((e) => status(e.message, true)); });
for (const button of document.querySelectorAll("#ranges button")) {
  button.addEventListener("click", () => {
    state.range = button.dataset.range;
    for (const other of document.querySelectorAll("#ranges button")) other.classList.toggle("on", other === button);
    loadAccount().catch((e) => status(e.message, true));
  });
}
loadUser();
