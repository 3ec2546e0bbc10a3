// Shadowbox web view: loads the JSON API of this server and draws the views (views.js).
"use strict";

const state = { vm: null, mode: "read-only", token: null, samples: [], rates: {}, source: null, slots: [], tab: "overview" };
const SERIES = {
  exits: (m) => m.exits,
  "faults fixed": (m) => m.pf_fixed,
  emulations: (m) => m.pf_emulate,
  zaps: (m) => m.mmu_shadow_zapped,
  flushes: (m) => (m.tlb_flush || 0) + (m.remote_tlb_flush || 0),
};
const KEEP = 120;
const $ = (id) => document.getElementById(id);

function showError(msg) {
  const e = $("error");
  e.textContent = msg || "";
  e.hidden = !msg;
}

async function api(path, opts) {
  const o = Object.assign({ headers: {} }, opts || {});
  if (state.token) o.headers["X-Shadowbox-Token"] = state.token;
  const r = await fetch(path, o);
  const text = await r.text();
  let body;
  try { body = JSON.parse(text); } catch (e) { body = { error: text }; }
  if (!r.ok) throw new Error((body && body.error) || `${r.status} ${r.statusText}`);
  return body;
}

async function guarded(f) {
  try { await f(); showError(null); } catch (e) { showError(e.message); }
}

// ---- tabs ----
function selectTab(name) {
  if (!document.getElementById(name)) name = "overview";
  state.tab = name;
  for (const s of document.querySelectorAll("section.tab")) s.hidden = s.id !== name;
  for (const a of document.querySelectorAll("#tabs a")) a.classList.toggle("active", a.dataset.tab === name);
  refreshTab();
}

function refreshTab() {
  if (!state.vm) return;
  if (state.tab === "overview") guarded(loadOverview);
  else if (state.tab === "tree") guarded(loadTree);
  else if (state.tab === "frames") guarded(loadFrames);
  else if (state.tab === "compare") guarded(loadCompareList);
  else if (state.tab === "plugins") guarded(loadPlugins);
  else if (state.tab === "live") drawLive();
}

// ---- overview ----
async function loadVms() {
  const vms = await api("/api/vms");
  table($("vm-list"), vms, ["name", "vcpus", "memory", "pages", "slots", "resident"], {
    name: (v) => el("a", { href: "#overview", onclick: () => chooseVm(v) }, v),
  });
  const sel = $("vm-select");
  sel.replaceChildren(...vms.map((v) => el("option", { value: v.name }, v.name)));
  if (vms.length && !vms.some((v) => v.name === state.vm)) chooseVm(vms[0].name);
  else if (state.vm) sel.value = state.vm;
}

function chooseVm(name) {
  state.vm = name;
  $("vm-select").value = name;
  state.samples = [];
  state.rates = {};
  openStream();
  refreshTab();
}

async function loadOverview() {
  await loadVms();
  const info = await api(`/api/vms/${encodeURIComponent(state.vm)}`);
  $("vm-title").textContent = `VM ${info.name}`;
  const kv = el("dl", { class: "kv" });
  const add = (k, v) => kv.append(el("dt", {}, k), el("dd", {}, v));
  add("id", info.id);
  add("vCPUs", info.vcpus);
  for (const [k, v] of Object.entries(info.options || {})) add(k, v);
  add("memory", `${fmt(info.memory / (1 << 20))} MiB (${fmt(info.pages)} pages)`);
  add("resident pages", fmt(info.resident));
  add("MAXPHYADDR", info.maxPhyAddr);
  $("vm-info").replaceChildren(kv);
  table($("vm-slots"), info.slots, ["id", "baseGfn", "npages", "endGfn", "size", "flags", "resident", "tracked"], {
    baseGfn: hex, endGfn: hex,
  });
  const cpus = await api(`/api/vms/${encodeURIComponent(state.vm)}/cpus`);
  table($("vm-cpus"), cpus, ["vcpu", "paging", "cr0", "cr3", "cr4", "efer"], { cr0: hex, cr3: hex, cr4: hex, efer: hex });
}

// ---- shadow page tree ----
let tree = null;

async function loadTree() {
  const t = await api(`/api/vms/${encodeURIComponent(state.vm)}/shadow-tree`);
  const pages = new Map(t.pages.map((p) => [p.id, p]));
  const children = new Map();
  const hasParent = new Set();
  for (const [parent, index, child] of t.links) {
    if (!pages.has(parent) || !pages.has(child)) continue;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push({ index, child });
    hasParent.add(child);
  }
  for (const list of children.values()) list.sort((a, b) => a.index - b.index);
  const tops = t.pages.filter((p) => p.roots > 0 || !hasParent.has(p.id));
  tops.sort((a, b) => (b.roots > 0) - (a.roots > 0) || b.level - a.level || a.id - b.id);
  tree = { pages, children };
  const view = $("tree-view");
  view.replaceChildren(...tops.map((p) => treeNode(p, null, 0)));
  const roots = t.pages.filter((p) => p.roots > 0).length;
  const count = $("tree-count");
  count.dataset.count = String(pages.size);
  count.textContent = `${pages.size} shadow pages, ${roots} in use as roots, ${t.links.length} links`;
}

function treeNode(p, index, depth) {
  const kids = tree.children.get(p.id) || [];
  const d = el("details", { class: "sp" + (kids.length ? "" : " sp-leafless"), "data-id": p.id, "data-level": p.level });
  const parts = [
    index === null ? null : el("span", { class: "idx" }, `[${index}] `),
    el("span", { class: `lvl lvl${p.level}` }, `L${p.level}`),
    `sp ${p.id}  gfn ${hex(p.gfn)}  ${p.role}`,
    p.unsync ? el("span", { class: "unsync" }, "  unsync") : null,
    p.flood > 0 ? el("span", { class: "flood" }, `  flood ${p.flood}`) : `  flood 0`,
    `  parents ${p.parents}`,
    p.roots > 0 ? `  root of ${p.roots} vCPU${p.roots === 1 ? "" : "s"}` : null,
    kids.length ? `  (${kids.length} children)` : null,
    p.direct ? null : el("a", { href: "#tree", class: "gfn-link", onclick: (ev) => { ev.preventDefault(); guarded(() => showGfn(p.gfn)); } }, "  guest table"),
  ];
  d.append(el("summary", {}, parts));
  if (kids.length && depth < 8) {
    d.addEventListener("toggle", () => {
      if (d.open && !d.dataset.filled) {
        d.dataset.filled = "1";
        for (const k of kids) d.append(treeNode(tree.pages.get(k.child), k.index, depth + 1));
      }
    });
  }
  return d;
}

function expandAll(open) {
  // Opening fills children, whose details are then opened in turn: loop until nothing changes.
  for (let round = 0; round < 10; round++) {
    let changed = false;
    for (const d of document.querySelectorAll("#tree-view details")) {
      if (d.open !== open && (!open || !d.classList.contains("sp-leafless"))) {
        d.open = open;
        if (open && !d.dataset.filled) d.dispatchEvent(new Event("toggle"));
        changed = true;
      }
    }
    if (!changed) break;
  }
}

async function showGfn(gfn) {
  const g = await api(`/api/vms/${encodeURIComponent(state.vm)}/gfns/${hex(gfn)}`);
  const box = $("gfn-detail");
  const tracks = el("table", { class: "grid" });
  table(tracks, g.tracks, ["gfn", "mode", "count", "owners"], { gfn: hex });
  const sps = el("table", { class: "grid" });
  table(sps, g.shadowPages, ["id", "level", "role", "unsync", "flood", "parents", "roots"]);
  box.replaceChildren(
    el("h3", {}, `Guest table at gfn ${hex(g.gfn)} (gpa ${hex(g.gfn * 4096)}), slot ${g.slot ? g.slot.id : "-"}`),
    el("p", {}, "Page-track counts of this frame:"), tracks,
    el("p", {}, "Shadow pages of this gfn:"), sps,
    el("button", { onclick: () => { box.hidden = true; } }, "Close"));
  box.hidden = false;
  box.scrollIntoView({ block: "nearest" });
}

// ---- tracked-frame map ----
async function loadFrames() {
  const vm = encodeURIComponent(state.vm);
  const [slots, tracks] = await Promise.all([api(`/api/vms/${vm}/slots`), api(`/api/vms/${vm}/tracks`)]);
  const sel = $("slot-select");
  const keep = sel.value;
  sel.replaceChildren(...slots.map((s) => el("option", { value: s.id }, `slot ${s.id}: ${hex(s.baseGfn)}-${hex(s.endGfn)}`)));
  if (slots.some((s) => String(s.id) === keep)) sel.value = keep;
  else if (slots.length > 1) sel.value = String(slots[1].id);
  const slot = slots.find((s) => String(s.id) === sel.value) || slots[0];
  if (!slot) { $("frames-map").replaceChildren("no slots"); return; }
  const maxCells = 4096, cols = 64;
  const per = Math.max(1, Math.ceil(slot.npages / maxCells));
  const ncells = Math.ceil(slot.npages / per);
  const cells = new Array(ncells).fill(null);
  const owners = new Set();
  const trackedGfns = new Set();
  for (const t of tracks) {
    // one row per gfn and mode: a page tracked in both modes is one page
    if (t.gfn < slot.baseGfn || t.gfn >= slot.baseGfn + slot.npages || t.count <= 0) continue;
    trackedGfns.add(t.gfn);
    const i = Math.floor((t.gfn - slot.baseGfn) / per);
    const c = cells[i] || (cells[i] = { gfns: new Set(), counts: {}, modes: new Set() });
    c.gfns.add(t.gfn);
    c.modes.add(t.mode);
    for (const [o, n] of Object.entries(t.owners || {})) { c.counts[o] = (c.counts[o] || 0) + n; owners.add(o); }
  }
  const size = 12, rows = Math.ceil(ncells / cols);
  const root = svg("svg", { width: cols * size + 2, height: rows * size + 2, role: "img", id: "frames-svg" });
  for (let i = 0; i < ncells; i++) {
    const c = cells[i];
    const first = slot.baseGfn + i * per, last = Math.min(slot.baseGfn + slot.npages, first + per) - 1;
    let fill = "#eef1f5", tip = `gfn ${hex(first)}-${hex(last)}: nothing tracked`;
    if (c) {
      const top = Object.entries(c.counts).sort((a, b) => b[1] - a[1]);
      fill = top.length ? colour(top[0][0]) : "#999";
      tip = `gfn ${hex(first)}-${hex(last)}: ${c.gfns.size} tracked page${c.gfns.size === 1 ? "" : "s"} (${[...c.modes].join(", ")}); `
        + top.map(([o, n]) => `${o} ${n}`).join(", ");
    }
    const r = svg("rect", { x: 1 + (i % cols) * size, y: 1 + Math.floor(i / cols) * size, width: size - 1, height: size - 1, fill, class: c ? "cell tracked" : "cell" });
    r.append(svg("title", {}, tip));
    root.append(r);
  }
  $("frames-map").replaceChildren(root);
  const summary = $("frames-summary");
  summary.dataset.tracked = String(trackedGfns.size);
  summary.textContent = `${fmt(slot.npages)} pages, ${per} gfn${per === 1 ? "" : "s"} per cell, ${trackedGfns.size} tracked`;
  $("frames-legend").replaceChildren(...[...owners].sort().map((o) => el("span", { style: `--c: ${colour(o)}` }, o)));
}

// ---- live counters ----
function openStream() {
  if (state.source) state.source.close();
  if (!state.vm) return;
  const src = new EventSource(`/api/events?vm=${encodeURIComponent(state.vm)}`);
  state.source = src;
  src.addEventListener("sample", (ev) => onSample(JSON.parse(ev.data)));
  src.addEventListener("end", (ev) => { showError(JSON.parse(ev.data).error); src.close(); });
}

function onSample(s) {
  const prev = state.samples[state.samples.length - 1];
  state.samples.push(s);
  if (state.samples.length > 2) state.samples.shift();
  if (prev) {
    const dt = Math.max(1, s.t - prev.t) / 1000;
    for (const [name, f] of Object.entries(SERIES)) {
      const r = state.rates[name] || (state.rates[name] = []);
      r.push(Math.max(0, ((f(s.mmu) || 0) - (f(prev.mmu) || 0)) / dt));
      if (r.length > KEEP) r.shift();
    }
  }
  state.lastJobs = s.jobs || [];
  if (state.tab === "live") drawLive();
  if (state.tab === "plugins" && s.plugins) drawPlugins(s.plugins);
}

function drawLive() {
  const chart = $("live-chart");
  lineChart(chart, state.rates, { xLabel: "last samples (500 ms apart), events per second" });
  const n = Object.values(state.rates).reduce((m, r) => Math.max(m, r.length), 0);
  chart.dataset.points = String(n);
  $("live-legend").replaceChildren(...Object.keys(SERIES).map((k) => {
    const r = state.rates[k] || [];
    return el("span", { style: `--c: ${colour(k)}` }, `${k} ${fmt(Math.round(r[r.length - 1] || 0))}/s`);
  }));
  const jobs = (state.lastJobs || []).filter((j) => j.vm === state.vm);
  const runs = $("runs");
  runs.replaceChildren(...jobs.map((j) => el("p", { class: "run", "data-state": j.state },
    `run ${j.id}: ${j.scenario} ${j.state} `, el("span", { class: "bar" }, el("i", { style: `width: ${j.percent}%` })),
    ` ${j.percent}%, ${fmt(j.accesses)} guest accesses`,
    state.mode === "changes" && j.state === "running"
      ? el("button", { onclick: () => guarded(() => api(`/api/runs/${j.id}/stop`, { method: "POST" })) }, "Stop") : null)));
  if (!jobs.length) runs.replaceChildren(el("p", { class: "hint" }, "No background run on this VM."));
}

async function setupRunControls() {
  const box = $("run-controls");
  if (state.mode !== "changes") {
    box.replaceChildren(el("p", { class: "hint" }, "Read-only: start a run in the shell (run:scenario VM kernel-build --background)."));
    return;
  }
  const scenarios = await api("/api/scenarios");
  const sel = el("select", { id: "scenario-select" }, scenarios.map((s) => el("option", { value: s.name }, s.name)));
  const btn = el("button", { id: "run-start", onclick: () => guarded(async () => {
    await api("/api/runs", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ vm: state.vm, scenario: sel.value }) });
  }) }, "Start in background");
  box.replaceChildren(el("p", {}, "Scenario ", sel, " ", btn));
}

// ---- compare ----
async function loadCompareList() {
  const list = await api("/api/compare");
  const sel = $("compare-select");
  const keep = sel.value;
  sel.replaceChildren(...list.map((f) => el("option", { value: f.name }, f.name)));
  if (!list.length) { $("compare-view").replaceChildren(el("p", { class: "hint" }, "No results yet: run:compare kernel-build writes one.")); return; }
  if (list.some((f) => f.name === keep)) sel.value = keep;
  await loadCompare(sel.value);
}

async function loadCompare(name) {
  const c = await api(`/api/compare/${encodeURIComponent(name)}`);
  const view = $("compare-view");
  view.replaceChildren(el("p", {}, `${c.scenario}, scale ${c.scale}, seed ${c.seed}, mmu ${c.mmu}, ${c.vcpus} vCPUs on ${c.threads} thread(s)`
    + (c.comparable ? (c.identical ? "; the guest saw the same under both policies" : "; THE GUEST SAW DIFFERENT RESULTS") : "")));
  const row = (m) => c.table.find((r) => r.metric === m);
  const times = ["real", "user", "sys"];
  const charts = el("div", { class: "charts" });
  view.append(charts);
  barChart(charts, "Simulated (this run), seconds", times.map((m) => ({ label: m, bars: [
    { name: "legacy", value: row(m) ? row(m).legacy : 0 }, { name: "pagetrack", value: row(m) ? row(m).pagetrack : 0 }] })), "s");
  const seed = c.seed_kernel_build_before_after;
  if (seed) {
    barChart(charts, "The seed's kernel build, seconds", times.map((m) => ({ label: m, bars: [
      { name: "legacy", value: seed[`${m}_s`][0] }, { name: "pagetrack", value: seed[`${m}_s`][1] }] })), "s");
  }
  const t = el("table", { class: "grid" });
  const pct = (v) => (v === null || v === undefined || Number.isNaN(v)) ? "-" : `${v >= 0 ? "+" : ""}${v.toFixed(2)}%`;
  const rows = c.table.map((r) => {
    const s = seed && seed[`${r.metric}_s`];
    return Object.assign({}, r, { change: pct(r.change_percent), seed_change: s ? pct((s[1] - s[0]) * 100 / s[0]) : "" });
  });
  const value = (v, r) => r.unit === "s" ? Number(v.toPrecision(6)) : v;
  table(t, rows, ["metric", "unit", "legacy", "pagetrack", "change", "seed_change"], { legacy: value, pagetrack: value });
  view.append(el("h3", {}, "Side by side"), t);
}

// ---- plugins ----
async function loadPlugins() {
  drawPlugins(await api("/api/plugins"));
}

function drawPlugins(rows) {
  table($("plugin-list"), rows);
}

// ---- start ----
async function start() {
  const h = location.hash;
  if (h.startsWith("#token=")) {
    sessionStorage.setItem("shadowbox.token", decodeURIComponent(h.slice(7)));
    history.replaceState(null, "", "#overview");
  }
  state.token = sessionStorage.getItem("shadowbox.token");
  const st = await api("/api/status");
  state.mode = st.mode;
  const badge = $("mode");
  badge.textContent = st.mode === "changes" ? "changes allowed" : "read-only";
  badge.classList.toggle("changes", st.mode === "changes");
  badge.title = st.description;
  $("vm-select").addEventListener("change", (e) => chooseVm(e.target.value));
  $("tree-refresh").addEventListener("click", () => guarded(loadTree));
  $("tree-expand").addEventListener("click", () => expandAll(true));
  $("tree-collapse").addEventListener("click", () => expandAll(false));
  $("frames-refresh").addEventListener("click", () => guarded(loadFrames));
  $("slot-select").addEventListener("change", () => guarded(loadFrames));
  $("compare-select").addEventListener("change", (e) => guarded(() => loadCompare(e.target.value)));
  window.addEventListener("hashchange", () => selectTab(location.hash.slice(1)));
  await loadVms();
  await guarded(setupRunControls);
  selectTab(location.hash.slice(1) || "overview");
  document.body.dataset.ready = "1";
}

document.addEventListener("DOMContentLoaded", () => guarded(start));
