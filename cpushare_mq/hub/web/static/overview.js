"use strict";
function drawChart(points, windowS, nowS) {
  const c = document.getElementById("chart");
  const w = c.width = c.clientWidth || 900, h = c.height;
  const g = c.getContext("2d");
  g.clearRect(0, 0, w, h);
  const max = Math.max(1, ...points.map(p => p[1]));
  const x = (t) => w - (nowS - t) / windowS * w;
  g.fillStyle = "#3a78d8";
  const bw = Math.max(1, w / windowS);
  for (const [t, n] of points) g.fillRect(x(t), h - 14 - (h - 24) * n / max, bw, (h - 24) * n / max);
  g.fillStyle = "#7a8294"; g.font = "11px system-ui";
  g.fillText(`${max}/s`, 4, 12);
  g.fillText(`−${Math.round(windowS / 60)} min`, 4, h - 2);
  g.fillText("now", w - 24, h - 2);
}
function render(d) {
  document.getElementById("endpoint").textContent = "workers connect to " + d.worker_endpoint;
  document.getElementById("tput").textContent = `${d.throughput_per_s.toFixed(1)} fragments/s (last 10 s)`;
  drawChart(d.chart, d.chart_window_s, d.now_s);
  table("jobs", ["job", "name", "state", "progress", "done#", "failed#", "total#", "rate#", "ETA", "waiting", "failures by outcome"],
    d.jobs.map(j => [link("/job/" + j.job_id, j.job_id), j.name || "",
      el("span", {class: "state-" + j.state}, j.state), progressBar(j), j.done, j.failed, j.total,
      j.rate_per_s ? j.rate_per_s + "/s" : "–", j.eta_s === null ? "–" : fmtS(j.eta_s),
      el("span", {class: "waiting"}, j.waiting || ""),
      j.failures.map(f => `${f.reason || "?"}: ${f.n}`).join(", ")]));
  table("workers", ["worker", "state", "paused why", "slots#", "running#", "prefetched#", "lease s#", "done#", "failed#", "reputation", "strikes#", "last seen"],
    d.workers.map(w => [link("/worker/" + w.worker_id, w.name || w.worker_id),
      el("span", {class: "state-" + w.state}, w.state), w.paused_why || (w.paused ? "(no reason given)" : ""),
      w.slots, w.running, w.prefetched, w.lease_s, w.done, w.failed, w.reputation || "unknown",
      w.strikes === null || w.strikes === undefined ? "–" : w.strikes, fmtS(w.last_seen_s) + " ago"]));
}
stream("/events/overview", {overview: render});
