// The console: reads /commands/* and /console/api/* every few seconds.
// Plain script, no libraries: it is served from the server's binary and
// must work without a network beyond this server.
"use strict";

const POLL_MS = 2000;
const KEEP = 90; // samples per chart: three minutes
let auth = null; // "digest user:password" once given
let currentPath = "/";
let dataView = "text";
let lastNode = null;

const $ = (sel) => document.querySelector(sel);

function el(tag, text, attrs) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

async function getJson(url, withAuth) {
  const headers = withAuth && auth ? { Authorization: auth } : {};
  const r = await fetch(url, { headers, cache: "no-store" });
  // Session ids are 64-bit numbers, beyond what a JavaScript number
  // holds exactly: they are read as text.
  const text = (await r.text()).replace(/"session_id"\s*:\s*(\d+)/g, '"session_id":"$1"');
  return JSON.parse(text);
}

// ---- members ----
async function refreshMembers() {
  const body = $("#members tbody");
  try {
    const view = await getJson("/console/api/members");
    body.replaceChildren(...view.members.map((m) => {
      const tr = el("tr", null, { "data-sid": m.sid, "data-mode": m.mode });
      if (m.mode === "leader") tr.className = "leader";
      if (m.mode === "down") tr.className = "down";
      const id = m.sid === view.myid ? `${m.sid} (this)` : m.sid;
      for (const v of [id, m.mode, m.zxid ?? "", m.lag ?? "", m.connections ?? "", m.client ?? "", m.peer]) {
        tr.appendChild(el("td", v));
      }
      return tr;
    }));
  } catch (e) {
    body.replaceChildren(el("tr", null)).firstChild.appendChild(el("td", `unavailable: ${e}`));
  }
}

// ---- charts ----
const series = { throughput: [], latency: [], connections: [] };
let previous = null;

function draw(canvas, lines) {
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  const all = lines.flatMap((l) => l.values);
  const max = Math.max(1, ...all);
  ctx.fillStyle = "#5b6475";
  ctx.font = "11px system-ui";
  ctx.fillText(max.toFixed(max < 10 ? 1 : 0), 4, 12);
  const colors = ["#3b6fd8", "#d8823b", "#2e9e62"];
  lines.forEach((line, i) => {
    ctx.strokeStyle = colors[i % colors.length];
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    line.values.forEach((v, x) => {
      const px = (x / (KEEP - 1)) * (width - 8) + 4;
      const py = height - 4 - (v / max) * (height - 20);
      if (x === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
    });
    ctx.stroke();
  });
  canvas.dataset.samples = String(lines[0].values.length);
  canvas.dataset.last = String(lines[0].values.at(-1) ?? "");
  canvas.dataset.max = String(Math.max(0, ...lines[0].values));
}

function push(list, v) {
  list.push(v);
  if (list.length > KEEP) list.shift();
}

async function refreshMetrics() {
  const m = await getJson("/commands/monitor");
  if (m.error) {
    $("#server-mode").textContent = "not serving";
    return;
  }
  $("#server-version").textContent = m.version;
  $("#server-mode").textContent = m.server_state;
  const now = performance.now();
  if (previous) {
    const seconds = (now - previous.at) / 1000;
    const delta = Math.max(0, m.packets_received - previous.received);
    push(series.throughput, delta / seconds);
  } else {
    push(series.throughput, 0);
  }
  previous = { at: now, received: m.packets_received };
  push(series.latency, [m.avg_latency, m.p99_readlatency ?? 0, m.p99_updatelatency ?? 0]);
  push(series.connections, m.num_alive_connections);
  draw($("#chart-throughput"), [{ values: series.throughput }]);
  draw($("#chart-latency"), [0, 1, 2].map((i) => ({ values: series.latency.map((t) => t[i]) })));
  draw($("#chart-connections"), [{ values: series.connections }]);
  const shown = ["znode_count", "watch_count", "ephemerals_count", "approximate_data_size",
    "global_sessions", "outstanding_requests", "open_file_descriptor_count", "uptime"];
  $("#gauges").replaceChildren(...shown.flatMap((k) => [el("dt", k), el("dd", m[k] ?? "")]));
}

// ---- sessions ----
async function refreshSessions() {
  const c = await getJson("/commands/connections");
  const rows = [...(c.connections || []), ...(c.secure_connections || [])]
    .filter((x) => x.session_id !== undefined)
    .map((x) => {
      const tr = el("tr");
      const sid = "0x" + BigInt(x.session_id).toString(16);
      for (const v of [sid, x.remote_socket_address, x.session_timeout, x.last_operation,
        x.packets_received, x.packets_sent, x.avg_latency]) tr.appendChild(el("td", v));
      return tr;
    });
  $("#sessions tbody").replaceChildren(...rows);
}

// ---- tree ----
function childPath(parent, name) {
  return parent === "/" ? `/${name}` : `${parent}/${name}`;
}

function renderPath(path) {
  const box = $("#tree-path");
  box.replaceChildren();
  const parts = path.split("/").filter(Boolean);
  const root = el("a", "/", { "data-path": "/" });
  box.appendChild(root);
  let at = "";
  parts.forEach((p, i) => {
    at += `/${p}`;
    if (i > 0) box.appendChild(document.createTextNode("/"));
    box.appendChild(el("a", p, { "data-path": at }));
  });
  for (const a of box.querySelectorAll("a")) a.onclick = () => openNode(a.dataset.path);
}

function bytesOf(b64) {
  const s = atob(b64 || "");
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

function renderData() {
  const pre = $("#node-data");
  if (!lastNode || lastNode.data === undefined) {
    pre.textContent = "";
    return;
  }
  const bytes = bytesOf(lastNode.data);
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  if (dataView === "hex") {
    const lines = [];
    for (let i = 0; i < bytes.length; i += 16) {
      const chunk = Array.from(bytes.slice(i, i + 16));
      lines.push(i.toString(16).padStart(8, "0") + "  " + chunk.map((b) => b.toString(16).padStart(2, "0")).join(" "));
    }
    pre.textContent = lines.join("\n");
  } else if (dataView === "json") {
    try {
      pre.textContent = JSON.stringify(JSON.parse(text), null, 2);
    } catch (e) {
      pre.textContent = `not JSON: ${e.message}`;
    }
  } else {
    pre.textContent = text;
  }
}

async function openNode(path) {
  currentPath = path;
  renderPath(path);
  const node = await getJson(`/console/api/node?path=${encodeURIComponent(path)}`, true);
  lastNode = node;
  $("#node-error").textContent = node.error ? `${path}: ${node.error}` : "";
  const list = $("#tree-children");
  list.replaceChildren(...(node.children || []).map((name) => {
    const li = el("li", null, { "data-name": name });
    const a = el("a", name, { "data-path": childPath(path, name) });
    a.onclick = () => openNode(a.dataset.path);
    li.appendChild(a);
    return li;
  }));
  const more = (node.children_total || 0) - (node.children || []).length;
  $("#tree-more").textContent = more > 0 ? `… and ${more} more` : "";
  const stat = node.stat || {};
  $("#node-stat tbody").replaceChildren(...Object.entries(stat).map(([k, v]) => {
    const tr = el("tr");
    tr.appendChild(el("th", k));
    tr.appendChild(el("td", k.endsWith("time") ? `${v} (${new Date(v).toISOString()})` : v));
    return tr;
  }));
  $("#node-acl tbody").replaceChildren(...(node.acl || []).map((a) => {
    const tr = el("tr");
    for (const v of [a.scheme, a.id, a.perms]) tr.appendChild(el("td", v));
    return tr;
  }));
  renderData();
}

function setupTree() {
  for (const b of document.querySelectorAll(".tabs button")) {
    b.onclick = () => {
      dataView = b.dataset.view;
      for (const o of document.querySelectorAll(".tabs button")) o.classList.toggle("on", o === b);
      renderData();
    };
  }
  $("#auth").onsubmit = (ev) => {
    ev.preventDefault();
    const user = $("#auth-user").value.trim();
    auth = user ? `digest ${user}:${$("#auth-password").value}` : null;
    $("#auth-state").textContent = auth ? `as digest:${user}` : "anonymous: world-readable nodes only";
    openNode(currentPath);
  };
  $("#auth-clear").onclick = () => {
    auth = null;
    $("#auth-user").value = "";
    $("#auth-password").value = "";
    $("#auth-state").textContent = "anonymous: world-readable nodes only";
    openNode(currentPath);
  };
}

async function tick() {
  await Promise.allSettled([refreshMembers(), refreshMetrics(), refreshSessions()]);
}

setupTree();
openNode("/");
tick();
setInterval(tick, POLL_MS);
