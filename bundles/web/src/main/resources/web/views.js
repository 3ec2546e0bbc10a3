// Shadowbox web view: drawing helpers (plain DOM and SVG, nothing loaded from the network).
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

/** An element with attributes and children (strings become text nodes). */
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined) continue;
    if (k === "class") e.className = v;
    else if (k === "style") setStyle(e, v);
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.append(typeof c === "object" ? c : String(c));
  }
  return e;
}

/**
 * Inline styles through the CSSOM: the page's Content-Security-Policy (style-src 'self') blocks
 * style attributes, not style properties set from script.
 */
function setStyle(e, text) {
  for (const decl of String(text).split(";")) {
    const i = decl.indexOf(":");
    if (i > 0) e.style.setProperty(decl.slice(0, i).trim(), decl.slice(i + 1).trim());
  }
}

function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(typeof c === "object" ? c : String(c));
  return e;
}

const hex = (n) => "0x" + Number(n).toString(16);
const fmt = (n) => typeof n === "number" ? n.toLocaleString("en-US", { maximumFractionDigits: 3 }) : n;

/** A table of records: columns from the first row's keys (or the given list). */
function table(target, rows, columns, render) {
  target.replaceChildren();
  if (!rows || rows.length === 0) {
    target.append(el("tr", {}, el("td", { class: "text" }, "(none)")));
    return;
  }
  const cols = columns || Object.keys(rows[0]);
  target.append(el("tr", {}, cols.map((c) => el("th", { class: "text" }, c))));
  for (const r of rows) {
    target.append(el("tr", {}, cols.map((c) => {
      const v = render && render[c] ? render[c](r[c], r) : r[c];
      const isText = typeof v === "string" || typeof v === "boolean" || v === null || typeof v === "object";
      return el("td", { class: isText ? "text" : null }, v === null ? "-" : (typeof v === "object" && !(v instanceof Node) ? JSON.stringify(v) : v));
    })));
  }
}

/** Fixed colours for the live series, so that no two look alike. */
const PALETTE = {
  exits: "#c2185b", "faults fixed": "#1f4fbf", emulations: "#e08a00", zaps: "#7b1fa2", flushes: "#2e7d32",
  legacy: "#8d6e63", pagetrack: "#1f4fbf",
};

/** A stable colour per name. */
function colour(name) {
  if (PALETTE[name]) return PALETTE[name];
  let h = 0;
  for (const ch of String(name)) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return `hsl(${h % 360} 60% 48%)`;
}

/** A line chart: series {name: [values]}, x = sample index. */
function lineChart(target, series, opts) {
  const w = opts.width || 900, h = opts.height || 260, pad = 44;
  const names = Object.keys(series);
  const n = Math.max(1, ...names.map((k) => series[k].length));
  let max = 1;
  for (const k of names) for (const v of series[k]) if (v > max) max = v;
  const x = (i) => pad + (w - pad - 10) * (n <= 1 ? 0 : i / (n - 1));
  const y = (v) => h - 24 - (h - 34) * (v / max);
  const root = svg("svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: "img" });
  root.append(svg("rect", { x: 0, y: 0, width: w, height: h, fill: "#fff" }));
  for (let t = 0; t <= 4; t++) {
    const v = (max * t) / 4;
    root.append(svg("line", { x1: pad, x2: w - 10, y1: y(v), y2: y(v), stroke: "#e3e7ee" }));
    root.append(svg("text", { x: 4, y: y(v) + 4 }, fmt(Math.round(v))));
  }
  root.append(svg("text", { x: pad, y: h - 6 }, opts.xLabel || ""));
  for (const k of names) {
    const pts = series[k].map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    root.append(svg("polyline", { points: pts, fill: "none", stroke: colour(k), "stroke-width": 2, "data-series": k }));
  }
  target.replaceChildren(root);
}

/** Grouped bars: groups [{label, bars: [{name, value}]}]. */
function barChart(target, title, groups, unit) {
  const w = 420, h = 220, pad = 40;
  let max = 0;
  for (const g of groups) for (const b of g.bars) max = Math.max(max, b.value || 0);
  max = max || 1;
  const root = svg("svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: "img" });
  root.append(svg("rect", { x: 0, y: 0, width: w, height: h, fill: "#fff" }));
  root.append(svg("text", { x: 8, y: 16 }, title));
  const gw = (w - pad) / groups.length;
  groups.forEach((g, gi) => {
    const bw = (gw - 16) / g.bars.length;
    g.bars.forEach((b, bi) => {
      const bh = (h - 70) * ((b.value || 0) / max);
      const bx = pad + gi * gw + 8 + bi * bw;
      const r = svg("rect", { x: bx, y: h - 36 - bh, width: bw - 4, height: bh, fill: colour(b.name) });
      r.append(svg("title", {}, `${g.label} ${b.name}: ${fmt(b.value)} ${unit}`));
      root.append(r);
      root.append(svg("text", { x: bx, y: h - 40 - bh }, fmt(Number((b.value || 0).toPrecision(4)))));
    });
    root.append(svg("text", { x: pad + gi * gw + 8, y: h - 18 }, g.label));
  });
  target.append(root);
}
