from __future__ import annotations

import pytest

from cpushare_mq.hub.api import BuyerApiServer

from .fakehub import FakeHub, FakeSpec


@pytest.fixture
def fake_hub():
    return FakeHub()


@pytest.fixture
def fake_server(fake_hub, tmp_path):
    """A BuyerApiServer on a Unix socket in tmp_path, serving the in-memory FakeHub."""
    srv = BuyerApiServer(fake_hub, f"unix:{tmp_path}/hub.db.sock", job_spec_factory=FakeSpec).start()
    try:
        yield srv
    finally:
        srv.stop()
