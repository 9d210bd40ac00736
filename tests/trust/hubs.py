"""Helpers of the trust tests that start an in-process hub."""

from __future__ import annotations

from cpushare_mq.hub.server import Hub, HubConfig

# heartbeats every 0.1 s, dead after 3 s of silence: a loaded machine (the hub checking a
# 64 MiB bomb while both cores are busy) must not make a live worker look dead
FAST = HubConfig(heartbeat_interval_s=0.1, liveness=30)


def frags(n: int) -> list[bytes]:
    return [b"fragment-%03d-" % i + bytes(range(i % 7, 40)) for i in range(n)]


def start_hub(made: list, tmp_path, **kw) -> Hub:
    """A started hub on loopback with FAST liveness, closed by the ``made`` fixture."""
    hub = Hub(tmp_path / "hub.db", bind="tcp://127.0.0.1:0", api="", config=FAST, **kw).start()
    made.append(hub)
    return hub
