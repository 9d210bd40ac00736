"""The worker's blob cache: atomic, verified, LRU-bounded, survives restarts."""

from __future__ import annotations

import hashlib
import os
import tempfile

import hypothesis.strategies as st
import pytest
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from cpushare_mq.errors import ConfigError
from cpushare_mq.worker.cache import BlobCache


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def test_put_get_roundtrip_and_survives_restart(tmp_path):
    c = BlobCache(tmp_path, 1000)
    h = c.put(b"hello")
    assert h == sha(b"hello") and h in c
    assert c.get(h) == b"hello"
    c2 = BlobCache(tmp_path, 1000)
    assert c2.get(h) == b"hello" and c2.hits == 1
    assert (tmp_path / h).stat().st_mode & 0o777 == 0o600


def test_wrong_announced_sha_is_refused(tmp_path):
    c = BlobCache(tmp_path, 1000)
    with pytest.raises(ValueError, match="not the announced"):
        c.put(b"data", sha(b"other"))
    assert len(c) == 0 and not os.listdir(tmp_path)


def test_corrupt_file_is_detected_and_deleted(tmp_path):
    c = BlobCache(tmp_path, 1000)
    h = c.put(b"program bytes")
    (tmp_path / h).write_bytes(b"program bytez")
    assert c.get(h) is None
    assert h not in c and not (tmp_path / h).exists() and c.corrupt == 1


def test_lru_eviction_by_size_and_recency(tmp_path):
    c = BlobCache(tmp_path, 30)
    a, b = c.put(b"a" * 10), c.put(b"b" * 10)
    c.put(b"c" * 10)
    assert c.get(a) == b"a" * 10              # a is now the most recent
    d = c.put(b"d" * 10)                      # evicts b (least recently used)
    assert b not in c and a in c and d in c and c.total_bytes == 30
    c2 = BlobCache(tmp_path, 30)              # recency order survives the restart
    assert c2.lru_order() == c.lru_order()
    c3 = BlobCache(tmp_path, 15)              # a smaller bound evicts at start-up
    assert c3.total_bytes <= 15 and c3.keys() == [c.lru_order()[-1]]


def test_blob_bigger_than_cache_is_not_stored(tmp_path):
    c = BlobCache(tmp_path, 5)
    h = c.put(b"0123456789")
    assert h not in c and c.get(h) is None


def test_leftover_temp_files_are_removed_and_strangers_ignored(tmp_path):
    (tmp_path / ".tmp-abc-1-2").write_bytes(b"half written")
    (tmp_path / "README").write_bytes(b"not a blob")
    c = BlobCache(tmp_path, 100)
    assert len(c) == 0 and not (tmp_path / ".tmp-abc-1-2").exists()
    assert (tmp_path / "README").exists()
    with pytest.raises(ValueError):
        c.get("../README")


def test_bad_configuration(tmp_path):
    with pytest.raises(ConfigError, match="cache size"):
        BlobCache(tmp_path, -1)
    f = tmp_path / "file"
    f.write_bytes(b"")
    with pytest.raises(ConfigError, match="cannot create cache directory"):
        BlobCache(f / "sub", 10)


class CacheMachine(RuleBasedStateMachine):
    """Random puts, gets, corruptions and restarts against a reference LRU model."""

    CAP = 64

    def __init__(self):
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="cpmq-cache-")
        self.cache = BlobCache(self.dir, self.CAP)
        self.model: dict[str, bytes] = {}
        self.order: list[str] = []     # least recent first

    def _use(self, h):
        if h in self.order:
            self.order.remove(h)
        self.order.append(h)

    @rule(data=st.binary(max_size=40))
    def put(self, data):
        h = self.cache.put(data)
        if len(data) > self.CAP:
            return
        if h not in self.model:
            total = sum(map(len, self.model.values()))
            while total + len(data) > self.CAP:
                old = self.order.pop(0)
                total -= len(self.model.pop(old))
            self.model[h] = data
        self._use(h)

    @rule(i=st.integers(0, 20))
    def get(self, i):
        keys = sorted(self.model) + [sha(b"absent")]
        h = keys[i % len(keys)]
        got = self.cache.get(h)
        assert got == self.model.get(h)
        if got is not None:
            self._use(h)

    @rule(i=st.integers(0, 20))
    def corrupt(self, i):
        if not self.model:
            return
        h = sorted(self.model)[i % len(self.model)]
        with open(os.path.join(self.dir, h), "ab") as f:
            f.write(b"!")
        assert self.cache.get(h) is None
        del self.model[h]
        self.order.remove(h)

    @rule()
    def restart(self):
        self.cache = BlobCache(self.dir, self.CAP)

    @invariant()
    def matches_model(self):
        assert set(self.cache.keys()) == set(self.model)
        assert self.cache.lru_order() == self.order
        assert self.cache.total_bytes <= self.CAP
        on_disk = {n for n in os.listdir(self.dir)}
        assert on_disk == set(self.model)

    def teardown(self):
        for n in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, n))
        os.rmdir(self.dir)


CacheMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestCacheMachine = CacheMachine.TestCase
