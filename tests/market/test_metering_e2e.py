"""Issue 19, plausibility of CPU-time claims, from the command line with the defaults (keys
on): ``cpushare-hub serve --price`` and three real ``cpushare-worker`` processes — an honest
one, an honest one on a machine 1.5x slower, and one whose meter claims 5x what it used.
Sellers whose meters differ are made from the outside, as a real one would be: the shipped
worker, with ``CPUSHARE_NATIVE_DIR`` pointing at a wrapper loader (``tests/loader_proxy.c`` in its "meter" mode) that
burns FACTOR times the real loader's CPU in the process the worker measures. A job run on
two keys per fragment compares their claims: the inflating key is flagged (hub log) and paid
the job's median from then on; the slower honest key is neither flagged nor capped."""

from __future__ import annotations

import os
import re
import sqlite3
import statistics
import subprocess
from pathlib import Path

from proxied_loader import proxied_native_dir
from waiting import wait_for

from cpushare_mq.native import find_binary

from .test_ledger_e2e import BIN, ledger_json


def metered_native_dir(directory: Path, factor: float) -> Path:
    """A native dir whose ``cpushare-loader`` claims ``factor`` x the real CPU time."""
    return proxied_native_dir(directory, "meter", int(factor * 1000))


def submit(root: Path, name: str, n: int, *extra: str) -> str:
    d = root / name
    d.mkdir()
    for i in range(n):
        (d / f"f{i}.bin").write_bytes((100_000_000).to_bytes(8, "little") + f"{name}{i}".encode())
    r = subprocess.run([str(BIN / "cpushare"), "submit", str(find_binary("examples/spin.elf")),
                        *sorted(str(p) for p in d.iterdir()), "--api", "hub.db.sock", "--out",
                        f"out-{name}", *extra], capture_output=True, text=True, timeout=600,
                       cwd=root)
    assert r.returncode == 0, r.stderr
    return r.stderr.split("submitted job ")[1].split()[0]


def worker_keys(root: Path) -> dict[str, str]:
    """worker name -> its key, from the hub's database (who ran what)."""
    db = sqlite3.connect(f"file:{root / 'hub.db'}?mode=ro", uri=True, timeout=30)
    try:
        return dict(db.execute("SELECT DISTINCT w.name, a.worker_key FROM attempts a JOIN "
                               "workers w ON w.id = a.worker_id").fetchall())
    finally:
        db.close()


def test_an_inflating_seller_is_flagged_and_paid_the_median_a_slower_honest_one_is_not(ledger_procs):
    root = ledger_procs.root
    endpoint = ledger_procs.hub("hub")
    env = {"slow": metered_native_dir(root / "native-slow", 1.5),
           "inflator": metered_native_dir(root / "native-inflator", 5.0)}
    for name in ("honest", "slow", "inflator"):
        extra_env = {"CPUSHARE_NATIVE_DIR": str(env[name])} if name in env else {}
        with open(root / f"{name}.log", "ab") as log:
            ledger_procs.procs.append(subprocess.Popen(
                [str(BIN / "cpushare-worker"), "--hub", endpoint, "--hub-key", "hub.keys/hub.pub",
                 "--slots", "1", "--name", name, "--cache-dir", f"cache-{name}", "--config-dir",
                 f"id-{name}"], stdout=log, stderr=subprocess.STDOUT, cwd=root,
                start_new_session=True, env={**os.environ, **extra_env}))
    wait_for(lambda: ledger_procs.log("hub").count("joined (") >= 3, 120, "three workers joined",
             explain=lambda: ledger_procs.log("hub")[-3000:])
    # every fragment on two keys: their claims for the same work are compared
    submit(root, "pairs", 24, "--redundancy", "2")
    keys = worker_keys(root)
    assert set(keys) == {"honest", "slow", "inflator"}, keys
    flagged = set(re.findall(r"worker key (\S+) flagged", ledger_procs.log("hub")))
    assert flagged == {keys["inflator"][:16]}, ledger_procs.log("hub")[-3000:]
    assert "paid the job's median claim from now on" in ledger_procs.log("hub")

    # a job run once per fragment: the inflating key is paid the job's median claim
    job = submit(root, "solo", 30)
    paid = {name: [r["cpu_us"] for r in ledger_json(root, "--job", job)
                   if r["worker_key"] == keys[name]] for name in keys}
    assert all(len(v) >= 3 for v in paid.values()), paid
    honest, slow, inflator = (statistics.median(paid[k]) for k in ("honest", "slow", "inflator"))
    assert slow >= 1.25 * honest, paid              # the slower honest key: paid its claims
    assert inflator <= 2.0 * honest, paid           # the inflating key: not its 5x claims
