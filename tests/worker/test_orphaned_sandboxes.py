"""A local worker that ends without reaping its sandbox (killed after its grace) hands the
sandbox to ``cpushare-povray render``: the render is the child subreaper of its workers'
sandboxes and waits for them before it says nothing keeps running
(cpushare_mq/povray/localworkers.py). Without the subreaper the orphan goes to init and the
render's session may still hold it when the render has exited."""

from __future__ import annotations

import subprocess
import sys

CHILD = r"""
import os, struct, sys, threading, time
from cpushare_mq.povray.localworkers import (_orphaned_sandboxes, become_subreaper,
                                             reap_sandboxes)
become_subreaper()
worker = os.fork()
if worker == 0:   # a worker: a sandbox busy with a long fragment, then SIGKILLed
    from cpushare_mq.sandbox import Sandbox
    sb = Sandbox(sys.argv[1])
    threading.Thread(target=sb.run, args=(struct.pack("<I", 4_000_000) + b"x",),
                     daemon=True).start()
    time.sleep(60)
    os._exit(0)
deadline = time.monotonic() + 30
while not any(open(f"/proc/{p}/comm").read().strip() == "cpushare-loader"
              for p in open(f"/proc/{worker}/task/{worker}/children").read().split() +
              [c for t in os.listdir(f"/proc/{worker}/task")
               for c in open(f"/proc/{worker}/task/{t}/children").read().split()]):
    if time.monotonic() > deadline:
        sys.exit("the worker's sandbox never started")
    time.sleep(0.02)
os.kill(worker, 9)
os.waitpid(worker, 0)
handed = len(_orphaned_sandboxes())
reap_sandboxes(20)
print(handed, len(_orphaned_sandboxes()))
"""


def test_the_render_reaps_sandboxes_its_killed_workers_left(spin_elf):
    out = subprocess.run([sys.executable, "-c", CHILD, str(spin_elf)], capture_output=True,
                         text=True, timeout=90)
    assert out.returncode == 0, out.stderr
    handed, left = map(int, out.stdout.split())
    assert handed == 1, "the killed worker's sandbox should have been handed to the render"
    assert left == 0


BETWEEN = r"""
import os, sys, time
from cpushare_mq.povray.localworkers import (_orphaned_sandboxes, become_subreaper,
                                             reap_sandboxes)
become_subreaper()
r, w = os.pipe()
worker = os.fork()
if worker == 0:   # a worker starting a sandbox: its child forked, not yet the loader
    if os.fork() == 0:
        os.write(w, b"x")
        time.sleep(0.5)      # ... then the loader, which finds its worker gone and exits
        os._exit(1)
    time.sleep(60)
    os._exit(0)
os.read(r, 1)
os.kill(worker, 9)
os.waitpid(worker, 0)
handed = len(_orphaned_sandboxes())
reap_sandboxes(20)
print(handed, len(_orphaned_sandboxes()))
"""


def test_the_render_waits_for_a_sandbox_its_killed_worker_was_starting():
    """A worker ended between forking a sandbox's process and its exec of the loader: the
    child (still named as the workers' Python) is the render's to wait for, or the render's
    session would still hold it after the render says nothing keeps running."""
    out = subprocess.run([sys.executable, "-c", BETWEEN], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    handed, left = map(int, out.stdout.split())
    assert (handed, left) == (1, 0)
