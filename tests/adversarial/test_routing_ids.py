"""Issue 14, item 1: a peer that takes the routing ids libzmq would hand out next and then
connects id-less sockets made libzmq abort the hub (``Assertion failed: ok``)."""

from __future__ import annotations

import pytest
from hubproc import HubProcess, run_attack


@pytest.mark.parametrize("insecure", [True, False], ids=["plain-tcp", "curve"])
def test_predicted_routing_ids_do_not_kill_the_hub(tmp_path, insecure):
    hub = HubProcess(tmp_path, insecure=insecure)
    try:
        run_attack("routing-id-collision", hub)
        assert hub.alive(), f"hub died: {hub.log.read_text()[-2000:]}"
        assert "Assertion failed" not in hub.log.read_text()
    finally:
        hub.stop()
