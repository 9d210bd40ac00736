"use strict";
const JOB_ID = decodeURIComponent(location.pathname.split("/")[2]);
const BACKGROUND = "#202830";
let IMG = null;                 // {width, height, rects}
const tileState = new Map();    // index -> "done" | "failed"
let inFlight = [];

function workerLink(id, name) { return id ? link("/worker/" + id, name || id) : "–"; }
function renderJob(d) {
  const j = d.job;
  document.getElementById("title").textContent = "job " + j.id + (j.name ? " · " + j.name : "");
  table("summary", ["state", "progress", "done#", "failed#", "total#", "rate#", "ETA", "waiting", "redundancy#", "created", "ended"],
    [[el("span", {class: "state-" + j.state}, j.state), progressBar(j), j.done ?? "–", j.failed ?? "–", j.total,
      j.rate_per_s ? j.rate_per_s + "/s" : "–", j.eta_s == null ? "–" : fmtS(j.eta_s),
      el("span", {class: "waiting"}, j.waiting || ""), j.redundancy, fmtTime(j.created_s), fmtTime(j.ended_s)]]);
  table("bystate", ["pending#", "leased#", "voting#", "done#", "failed#"],
    [[d.by_state.pending ?? "–", d.by_state.leased ?? "–", d.by_state.voting ?? "–", d.by_state.done ?? "–", d.by_state.failed ?? "–"]]);
  table("attempts", ["ended as", "attempts#"], d.attempts.map(a => [a.end, a.n]));
  table("slowest", ["fragment#", "attempt#", "seconds#", "ended as", "worker"],
    d.slowest.map(s => [s.idx, s.attempt, s.seconds, s.end || "", workerLink(s.worker_id, s.worker_name)]));
  table("failed", ["fragment#", "outcome", "attempts#", "last worker", "last attempt ended as"],
    d.failed.map(f => [f.idx, f.reason || "", f.attempts, workerLink(f.worker_id, f.worker_name), f.last_end || ""]));
  table("results", ["fragment#", "bytes#", "download"],
    d.results.map(r => [r.idx, r.size, link(`/job/${JOB_ID}/result/${r.idx}`, "result")]));
}

function setupImage(spec) {
  IMG = spec;
  document.getElementById("imagesection").hidden = false;
  document.getElementById("png").href = withToken(`/job/${JOB_ID}/image.png`);
  for (const id of ["image", "overlay"]) {
    const c = document.getElementById(id);
    c.width = spec.width; c.height = spec.height;
  }
  const g = document.getElementById("image").getContext("2d");
  g.fillStyle = BACKGROUND; g.fillRect(0, 0, spec.width, spec.height);
  drawOverlay();
}
function drawTile(t) {
  const [x, y, w, h] = IMG.rects[t.i] || [0, 0, 0, 0];
  tileState.set(t.i, t.state);
  if (t.state !== "done" || !w) return;
  const rgb = Uint8Array.from(atob(t.rgb), ch => ch.charCodeAt(0));
  const data = new ImageData(w, h);
  for (let p = 0, q = 0; p < rgb.length; p += 3, q += 4) {
    data.data[q] = rgb[p]; data.data[q + 1] = rgb[p + 1]; data.data[q + 2] = rgb[p + 2]; data.data[q + 3] = 255;
  }
  document.getElementById("image").getContext("2d").putImageData(data, x, y);
}
function drawOverlay() {
  const c = document.getElementById("overlay"), g = c.getContext("2d");
  g.clearRect(0, 0, c.width, c.height);
  const lw = Math.max(1, Math.round(IMG.width / 320));
  g.lineWidth = lw;
  g.strokeStyle = "#f2c230";
  for (const i of inFlight) {
    if (tileState.get(i) === "done") continue;
    const [x, y, w, h] = IMG.rects[i] || [0, 0, 0, 0];
    g.strokeRect(x + lw / 2, y + lw / 2, w - lw, h - lw);
  }
  g.strokeStyle = "#e04040";
  for (const [i, s] of tileState) {
    if (s !== "failed") continue;
    const [x, y, w, h] = IMG.rects[i] || [0, 0, 0, 0];
    g.beginPath(); g.moveTo(x, y); g.lineTo(x + w, y + h); g.moveTo(x + w, y); g.lineTo(x, y + h); g.stroke();
    g.strokeRect(x + lw / 2, y + lw / 2, w - lw, h - lw);
  }
}
stream("/events/job/" + encodeURIComponent(JOB_ID), {
  job: renderJob,
  image: setupImage,
  tiles: (d) => { for (const t of d.tiles) drawTile(t); drawOverlay(); },
  flight: (d) => { inFlight = d.tiles; drawOverlay(); },
});
