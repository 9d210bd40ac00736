// Shared by the dashboard's pages: the token, links, formatting, server-sent events.
"use strict";
const TOKEN = new URLSearchParams(location.search).get("token") || "";
function withToken(path) {
  return path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(TOKEN);
}
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
function link(path, text) { return el("a", {href: withToken(path)}, text); }
function fmtS(s) {
  if (s === null || s === undefined) return "–";
  if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
  return Math.floor(s / 3600) + " h " + Math.round((s % 3600) / 60) + " min";
}
function fmtTime(t) { return t ? new Date(t * 1000).toLocaleTimeString() : "–"; }
function progressBar(j) {
  const pct = (n) => (j.total ? (100 * n / j.total) : 0) + "%";
  const bar = el("span", {class: "bar", title: `${j.done} done, ${j.failed} failed, ` +
                          `${(j.leased || 0) + (j.voting || 0)} in flight of ${j.total}`});
  let left = 0;
  for (const [k, n] of [["done", j.done], ["failed", j.failed],
                        ["leased", (j.leased || 0) + (j.voting || 0)]]) {
    const s = el("span", {class: k});
    s.style.left = pct(left); s.style.width = pct(n); left += n;
    bar.append(s);
  }
  return bar;
}
function table(id, headers, rows) {
  const t = document.getElementById(id);
  t.replaceChildren(el("tr", {}, ...headers.map(h => el("th", {class: h.endsWith("#") ? "num" : ""},
                                                          h.replace(/#$/, "")))));
  for (const r of rows) {
    t.append(el("tr", {}, ...r.map((c, i) => el("td", {class: headers[i].endsWith("#") ? "num" : ""}, c))));
  }
  if (!rows.length) t.append(el("tr", {}, el("td", {class: "muted", colspan: headers.length}, "none")));
}
function stream(path, handlers) {
  const status = document.getElementById("status");
  const es = new EventSource(withToken(path));
  for (const [name, fn] of Object.entries(handlers)) {
    es.addEventListener(name, (ev) => {
      fn(JSON.parse(ev.data));
      if (status) status.textContent = "live · " + new Date().toLocaleTimeString();
    });
  }
  es.onerror = () => { if (status) status.textContent = "reconnecting…"; };
  return es;
}
function navLinks() {
  for (const a of document.querySelectorAll("a[data-path]")) a.href = withToken(a.dataset.path);
}
document.addEventListener("DOMContentLoaded", navLinks);
