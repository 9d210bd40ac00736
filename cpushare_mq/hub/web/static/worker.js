"use strict";
const WORKER_ID = decodeURIComponent(location.pathname.split("/")[2]);
function render(d) {
  const w = d.worker, l = d.live;
  document.getElementById("title").textContent = "worker " + (w.name || w.id);
  table("live", ["session", "key", "state", "paused why", "slots#", "running#", "prefetched#", "done#", "failed#", "joined", "last seen"],
    [[w.id, w.worker_key || "(none: plain TCP)", l ? el("span", {class: "state-" + l.state}, l.state) : el("span", {class: "state-silent"}, w.state || "gone"),
      l ? (l.paused_why || (l.paused ? "(no reason given)" : "")) : "", w.slots, l ? l.running : 0, l ? l.prefetched : 0,
      w.done, w.failed, fmtTime(w.joined_s), fmtTime(w.last_seen_s)]]);
  const t = d.trust;
  table("trust", ["tier", "verified#", "strikes#", "accepted#", "checked#", "banned", "why banned"],
    t ? [[t.tier, t.verified ?? "–", t.strikes ?? "–", t.accepted ?? "–", t.checked ?? "–", t.banned ? "yes" : "no", t.ban_reason || ""]]
      : [[el("span", {class: "gap"}, "no trust record (plain-TCP hub or no worker key)"), "", "", "", "", "", ""]]);
  table("sessions", ["session", "name", "slots#", "joined", "last seen", "state", "done#", "failed#"],
    d.sessions.map(s => [s.id === WORKER_ID ? s.id : link("/worker/" + s.id, s.id), s.name, s.slots,
      fmtTime(s.joined_s), fmtTime(s.last_seen_s), s.state || "", s.done, s.failed]));
  table("ends", ["ended as", "attempts#", "lease seconds#"], d.ends.map(e => [e.end, e.n, e.seconds]));
  table("attempts", ["job", "fragment#", "attempt#", "leased", "seconds#", "ended as", "detail"],
    d.attempts.map(a => [link("/job/" + a.job_id, a.job_id), a.idx, a.attempt, fmtTime(a.leased_s),
      a.seconds ?? "–", a.end, (a.detail || "").slice(0, 80)]));
  document.getElementById("receipts").textContent = d.receipts ? JSON.stringify(d.receipts) : "Receipts: " + d.receipts_note + ".";
}
async function refresh() {
  const r = await fetch(withToken("/api/worker/" + encodeURIComponent(WORKER_ID)));
  if (r.ok) { render(await r.json()); document.getElementById("status").textContent = "updated · " + new Date().toLocaleTimeString(); }
  else document.getElementById("status").textContent = (await r.text());
}
refresh();
setInterval(refresh, 5000);   // a worker's history changes slowly: one request per 5 s
