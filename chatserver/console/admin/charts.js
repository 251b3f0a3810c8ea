// The report's charts, drawn as inline SVG with DOM calls (no library): bars per day, a line per
// day and a split bar. Each chart is drawn at its box's pixel width, so its text stays readable on
// a phone, and again when the box changes width. Labels only ever go in through textContent.

import { h } from "/console/ui.js";

const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    if (typeof child === "string") node.appendChild(document.createTextNode(child));
    else node.appendChild(child);
  }
  return node;
}

function text(x, y, label, cls, anchor = "middle") {
  return svg("text", { x, y, class: cls, "text-anchor": anchor }, String(label));
}

function tip(label) {
  return svg("title", {}, label);
}

// A box that (re)draws its chart at its own width: draw(width) returns an <svg>.
export function chartBox(id, label, draw) {
  const box = h("figure", { class: "chart", id, role: "img", "aria-label": label });
  let drawn = 0;
  const paint = () => {
    const width = Math.max(240, Math.floor(box.clientWidth));
    if (width === drawn || !box.isConnected) return;
    drawn = width;
    box.replaceChildren(draw(width));
  };
  if (typeof ResizeObserver === "function") new ResizeObserver(paint).observe(box);
  requestAnimationFrame(paint);
  return box;
}

// A round, readable top for the value axis: 1, 2, 5 × 10^n.
function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    if (step * power >= value) return step * power;
  }
  return 10 * power;
}

function shortDay(day) {
  // "2024-05-06" → "6 May"; anything else as it came.
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day || "");
  if (!match) return String(day || "");
  const date = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return date.toLocaleDateString([], { day: "numeric", month: "short" });
}

const PAD = { top: 12, right: 10, bottom: 26, left: 48 };

function frame(width, height, max, format) {
  const inner = height - PAD.top - PAD.bottom;
  const group = svg("g", { class: "axis" });
  for (const fraction of [0, 0.5, 1]) {
    const y = PAD.top + inner - inner * fraction;
    group.appendChild(svg("line", { x1: PAD.left, x2: width - PAD.right, y1: y, y2: y, class: fraction ? "grid" : "base" }));
    group.appendChild(text(PAD.left - 6, y + 4, format(max * fraction), "tick", "end"));
  }
  return group;
}

function dayLabels(days, width, x) {
  const group = svg("g", { class: "axis" });
  const room = (width - PAD.left - PAD.right) / Math.max(days.length, 1);
  const every = Math.max(1, Math.ceil(52 / room));
  days.forEach((day, i) => {
    if (i % every === 0) group.appendChild(text(x(i), 0, shortDay(day), "tick"));
  });
  return group;
}

// Conversations per day: a bar for each day, served below and abandoned stacked on top.
export function conversationsChart(byDay) {
  return (width) => {
    const height = 190;
    const inner = height - PAD.top - PAD.bottom;
    const slot = (width - PAD.left - PAD.right) / Math.max(byDay.length, 1);
    const barWidth = Math.max(2, Math.min(36, slot * 0.7));
    const max = niceMax(Math.max(0, ...byDay.map((d) => d.total || 0)));
    const scale = (value) => (inner * (value || 0)) / max;
    const x = (i) => PAD.left + slot * i + slot / 2;
    const bars = svg("g", {});
    byDay.forEach((d, i) => {
      const abandoned = d.abandoned || 0;
      const served = d.served ?? Math.max(0, (d.total || 0) - abandoned);
      const rest = Math.max(0, (d.total || 0) - served - abandoned);
      const base = PAD.top + inner;
      const label = `${d.day}: ${d.total ?? "—"} conversations, ${d.served ?? "—"} served, ${d.abandoned ?? "—"} abandoned`;
      const parts = [["bar-served", served], ["bar-other", rest], ["bar-abandoned", abandoned]];
      let top = base;
      const column = svg("g", { class: "day", "data-day": d.day }, tip(label));
      for (const [cls, value] of parts) {
        const tall = scale(value);
        if (tall <= 0) continue;
        top -= tall;
        column.appendChild(svg("rect", { class: cls, x: x(i) - barWidth / 2, y: top, width: barWidth, height: tall, rx: 2 }));
      }
      bars.appendChild(column);
    });
    const labels = dayLabels(byDay.map((d) => d.day), width, x);
    labels.setAttribute("transform", `translate(0 ${height - 8})`);
    return svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, "aria-hidden": "true" },
      frame(width, height, max, (v) => String(Math.round(v))), bars, labels);
  };
}

// A line per day (first response p50); a day without a figure leaves a gap.
export function lineChart(byDay, key, format, tickFormat = format) {
  return (width) => {
    const height = 170;
    const inner = height - PAD.top - PAD.bottom;
    const slot = (width - PAD.left - PAD.right) / Math.max(byDay.length, 1);
    const values = byDay.map((d) => (typeof d[key] === "number" ? d[key] : null));
    const max = niceMax(Math.max(0, ...values.filter((v) => v !== null)));
    const x = (i) => PAD.left + slot * i + slot / 2;
    const y = (v) => PAD.top + inner - (inner * v) / max;
    const paths = [];
    let run = "";
    values.forEach((v, i) => {
      if (v === null) {
        if (run) paths.push(run);
        run = "";
        return;
      }
      run += `${run ? "L" : "M"}${x(i).toFixed(1)} ${y(v).toFixed(1)}`;
    });
    if (run) paths.push(run);
    const line = svg("g", { class: "line" }, ...paths.map((d) => svg("path", { d, class: "line-path" })));
    const points = svg("g", {});
    values.forEach((v, i) => {
      if (v === null) return;
      points.appendChild(svg("circle", { cx: x(i), cy: y(v), r: 3, class: "line-dot", "data-day": byDay[i].day },
        tip(`${byDay[i].day}: ${format(v)}`)));
    });
    const labels = dayLabels(byDay.map((d) => d.day), width, x);
    labels.setAttribute("transform", `translate(0 ${height - 8})`);
    return svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, "aria-hidden": "true" },
      frame(width, height, max, tickFormat), line, points, labels);
  };
}

// Promoters, passives and detractors as one bar split in three.
export function splitBar(parts) {
  return (width) => {
    const height = 34;
    const total = parts.reduce((sum, p) => sum + (p.value || 0), 0);
    const group = svg("g", {});
    let left = 0;
    for (const part of parts) {
      const share = total ? (part.value || 0) / total : 0;
      const wide = share * width;
      if (wide <= 0) continue;
      const percent = Math.round(share * 100);
      group.appendChild(svg("rect", { class: part.cls, x: left, y: 0, width: wide, height, "data-part": part.key }, tip(`${part.label}: ${part.value} (${percent} %)`)));
      if (wide > 38) group.appendChild(text(left + wide / 2, height / 2 + 4, `${percent} %`, "split-label"));
      left += wide;
    }
    if (!total) group.appendChild(svg("rect", { class: "split-empty", x: 0, y: 0, width, height }));
    return svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, "aria-hidden": "true" }, group);
  };
}
