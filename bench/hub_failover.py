#!/usr/bin/env python3
"""Failure detection: from a worker's last message to its leases being handed to another
worker, at the default heartbeat settings (0.5 s x 3). Goal: <= liveness x interval + 100 ms.

    .venv/bin/python bench/hub_failover.py            # 10 rounds
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time

import zmq

from cpushare_mq.hub.scheduler import JobSpec
from cpushare_mq.hub.server import Hub, HubConfig
from cpushare_mq.protocol import MsgType, decode, encode


def hello(ctx, ep, name):
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(ep)
    s.send_multipart(encode(MsgType.HELLO, {"worker_version": "b", "abi_version": 1,
                                            "slots": 4, "name": name}))
    assert decode(s.recv_multipart()).type is MsgType.WELCOME
    return s


def wait_lease(s, keepalive=None, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    hb = encode(MsgType.HEARTBEAT)
    while time.monotonic() < deadline:
        if s.poll(10):
            msg = decode(s.recv_multipart())
            if msg.type is MsgType.LEASE:
                return msg
        if keepalive is not None:
            keepalive.send_multipart(hb)
    raise TimeoutError("no lease")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    cfg = HubConfig()
    ctx = zmq.Context()
    delays = []
    with tempfile.TemporaryDirectory() as d:
        hub = Hub(os.path.join(d, "f.db"), bind="tcp://127.0.0.1:0", api="", config=cfg).start()
        try:
            for r in range(args.rounds):
                job = hub.submit_job(JobSpec(program=b"p", fragments=[b"x"]))
                victim = hello(ctx, hub.worker_endpoint, f"victim{r}")
                victim.send_multipart(encode(MsgType.READY, {"credit": 1}))
                wait_lease(victim)
                victim.send_multipart(encode(MsgType.HEARTBEAT))
                last = time.monotonic()            # the victim's last message
                rescuer = hello(ctx, hub.worker_endpoint, f"rescuer{r}")
                rescuer.send_multipart(encode(MsgType.READY, {"credit": 1}))
                wait_lease(rescuer, keepalive=rescuer)
                delays.append(time.monotonic() - last)
                hub.cancel_job(job)
                victim.close(0)
                rescuer.send_multipart(encode(MsgType.BYE, {"reason": "bench"}))
                rescuer.close(0)
        finally:
            hub.close()
    ctx.term()
    goal = cfg.liveness * cfg.heartbeat_interval_s + 0.1
    print(json.dumps({"rounds": len(delays), "median_s": round(statistics.median(delays), 3),
                      "max_s": round(max(delays), 3), "min_s": round(min(delays), 3),
                      "goal_s": goal, "max_ratio_to_goal": round(max(delays) / goal, 3),
                      "loadavg_1m": os.getloadavg()[0]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
