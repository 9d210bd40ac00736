"""One job-spec rule (issue 20): the Python client, the buyer socket and the hub's core refuse
the same bad specs with the same one-line reason (cpushare_mq/jobspec.py)."""

from __future__ import annotations

import pytest

from cpushare_mq import buyer_protocol as bp
from cpushare_mq.buyer_protocol import Err, Rep, Req
from cpushare_mq.client import Client
from cpushare_mq.jobspec import JobSpec, JobSpecError, check_policy
from cpushare_mq.limits import Limits

from .helpers import hello_frame, raw_exchange

PROGRAM = b"\x7fELF-not-really"

#: (what is wrong, Client.submit keyword arguments, fragments)
BAD = [
    ("no fragments", {}, 0),
    ("redundancy over the cap", {"redundancy": Limits.MAX_REDUNDANCY + 1}, 2),
    ("redundancy 64 (the old client cap)", {"redundancy": 64}, 2),
    ("quorum over redundancy", {"redundancy": 2, "quorum": 3}, 2),
    ("cpu_s over a week", {"cpu_s": Limits.MAX_FRAGMENT_S + 1.0}, 1),
    ("negative wall_s", {"wall_s": -1.0}, 1),
    ("max_attempts over the cap", {"max_attempts": Limits.MAX_ATTEMPTS + 1}, 1),
    ("priority too high", {"priority": Limits.MAX_PRIORITY + 1}, 1),
    ("priority too low", {"priority": -Limits.MAX_PRIORITY - 1}, 1),
    ("name too long", {"name": "n" * (Limits.MAX_JOB_NAME_CHARS + 1)}, 1),
    ("output cap over 1 GiB", {"max_output_bytes": Limits.MAX_RESULT_BYTES + 1}, 1),
]


def frags(n: int) -> list[bytes]:
    return [b"f%d" % i for i in range(n)]


def expected_reason(kw: dict, n: int) -> str:
    with pytest.raises(JobSpecError) as info:
        check_policy(n_fragments=n, **kw)
    reason = str(info.value)
    assert reason.startswith("invalid job spec: ") and "\n" not in reason
    return reason


def submit_frame(kw: dict, n: int) -> bytes:
    """A SUBMIT as a buyer program in any language would send it (no client-side check)."""
    return bp.encode(Req.SUBMIT, n_fragments=n, redundancy=kw.get("redundancy", 1),
                     quorum=kw.get("quorum", 0), cpu_s=kw.get("cpu_s", 60.0),
                     wall_s=kw.get("wall_s", 300.0), max_attempts=kw.get("max_attempts", 5),
                     priority=kw.get("priority", 0), max_output_bytes=kw.get("max_output_bytes", 0),
                     name=kw.get("name", ""))


@pytest.mark.parametrize(("what", "kw", "n"), BAD, ids=[b[0] for b in BAD])
def test_the_core_refuses_with_the_one_reason(what, kw, n):
    reason = expected_reason(kw, n)
    from cpushare_mq.jobspec import validate_spec

    with pytest.raises(JobSpecError) as info:
        validate_spec(JobSpec(program=PROGRAM, fragments=frags(n), **kw))
    assert str(info.value) == reason


def test_client_socket_and_core_refuse_every_bad_spec_identically(real_hub):
    with Client(real_hub.api_address) as client:
        for what, kw, n in BAD:
            reason = expected_reason(kw, n)
            with pytest.raises(JobSpecError) as info:          # the Python client
                client.submit(PROGRAM, frags(n), **kw)
            assert str(info.value) == reason, what
            frames, closed = raw_exchange(real_hub.api_address, hello_frame() + submit_frame(kw, n))
            assert [f.type for f in frames] == [Rep.HELLO, Rep.ERROR], what   # the buyer socket
            assert (frames[1]["code"], frames[1]["message"]) == (Err.BAD_REQUEST, reason), what
            assert closed
            with pytest.raises(JobSpecError) as info:          # the hub's core, in-process
                real_hub.submit_job(JobSpec(program=PROGRAM, fragments=frags(n), **kw))
            assert str(info.value) == reason, what
        assert client.status()["jobs"] == []                   # nothing was stored


def test_the_limits_at_their_edges_are_accepted_everywhere(real_hub):
    edge = {"redundancy": Limits.MAX_REDUNDANCY, "quorum": 1, "cpu_s": float(Limits.MAX_FRAGMENT_S),
            "max_attempts": Limits.MAX_ATTEMPTS, "priority": -Limits.MAX_PRIORITY,
            "name": "n" * Limits.MAX_JOB_NAME_CHARS, "max_output_bytes": Limits.MAX_RESULT_BYTES}
    with Client(real_hub.api_address) as client:
        job = client.submit(PROGRAM, frags(1), **edge)
        p = job.progress()
        assert (p["name"], p["total"]) == (edge["name"], 1)
        job.cancel()
    job_id = real_hub.submit_job(JobSpec(program=PROGRAM, fragments=frags(1), **edge))
    assert job_id
