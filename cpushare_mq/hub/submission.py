"""One job being submitted over the buyer socket: SUBMIT, PROGRAM, SHARED, NAMES*,
FRAGMENTS*, SUBMIT_END, checked frame by frame. Pure (no I/O): the connection
(:mod:`cpushare_mq.hub.api`) hands each decoded frame to :class:`Submission` and, at the
end, gets the arguments of a :class:`~cpushare_mq.jobspec.JobSpec`.

Every refusal is a :class:`Refusal` carrying the buyer protocol's ERROR code and a one-line
reason; the job's numbers are checked by :func:`cpushare_mq.jobspec.check_policy`, the same
check the client and the hub's core make.
"""

from __future__ import annotations

from typing import Any

from ..buyer_protocol import Err
from ..fragnames import name_problem
from ..jobspec import JobSpecError, check_policy, check_terms
from ..limits import Limits

__all__ = ["Refusal", "Submission", "submit_policy"]


class Refusal(Exception):  # noqa: N818 - control flow of a connection, never leaves api.py
    """Answer with ERROR(code, message) and close the connection."""

    def __init__(self, code: Err, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def submit_policy(f: dict) -> dict[str, Any]:
    """A SUBMIT frame's numbers as :func:`~cpushare_mq.jobspec.check_policy` arguments: 0
    stands for the hub's default (redundancy 1, quorum by majority, the JobSpec defaults)."""
    policy: dict[str, Any] = {"redundancy": f["redundancy"] or 1, "quorum": f["quorum"] or None,
                              "priority": f["priority"], "name": f["name"]}
    for key in ("cpu_s", "wall_s", "max_attempts", "max_output_bytes"):
        if f[key] != 0:
            policy[key] = f[key]
    return policy


class Submission:
    """The frames of one submission so far (created from the SUBMIT frame's fields)."""

    def __init__(self, fields: dict):
        self.n_fragments = fields["n_fragments"]
        self.policy = submit_policy(fields)
        try:
            check_policy(n_fragments=self.n_fragments, **self.policy)
        except JobSpecError as exc:
            raise Refusal(Err.BAD_REQUEST, str(exc)) from None
        self.program: bytes | None = None
        self.shared: bytes | None = None
        self.fragments: list[bytes] = []
        self.input_bytes = 0
        self.names: list[str] = []

    def add_program(self, data: bytes) -> None:
        if self.program is not None:
            raise Refusal(Err.BAD_REQUEST, "PROGRAM sent twice in one submission")
        if not data:
            raise Refusal(Err.BAD_REQUEST, "PROGRAM is empty")
        if len(data) > Limits.MAX_PROGRAM_BYTES:
            raise Refusal(Err.TOO_LARGE, f"program of {len(data)} bytes is over {Limits.MAX_PROGRAM_BYTES}")
        self.program = data

    def add_shared(self, data: bytes) -> None:
        if self.program is None or self.shared is not None:
            raise Refusal(Err.BAD_REQUEST, "SHARED must come once, right after PROGRAM")
        if len(data) > Limits.MAX_SHARED_BYTES:
            raise Refusal(Err.TOO_LARGE, f"shared input of {len(data)} bytes is over {Limits.MAX_SHARED_BYTES}")
        self.shared = data

    def add_fragments(self, frags: list[bytes]) -> None:
        if self.shared is None:
            raise Refusal(Err.BAD_REQUEST, "FRAGMENTS before PROGRAM and SHARED")
        if len(self.fragments) + len(frags) > self.n_fragments:
            raise Refusal(Err.BAD_REQUEST, f"more fragments than the {self.n_fragments} announced in SUBMIT")
        for i, fr in enumerate(frags):
            if len(fr) > Limits.MAX_FRAGMENT_INPUT_BYTES:
                raise Refusal(Err.TOO_LARGE, f"fragment {len(self.fragments) + i} of {len(fr)} bytes is "
                              f"over {Limits.MAX_FRAGMENT_INPUT_BYTES}")
            self.input_bytes += len(fr)
        if self.input_bytes > Limits.MAX_JOB_INPUT_BYTES:
            raise Refusal(Err.TOO_LARGE, f"the job's fragments total over {Limits.MAX_JOB_INPUT_BYTES} bytes")
        self.fragments.extend(frags)

    def add_names(self, names: list[str]) -> None:
        if len(self.names) + len(names) > self.n_fragments:
            raise Refusal(Err.BAD_REQUEST, f"more names than the {self.n_fragments} fragments announced")
        for i, name in enumerate(names):
            why = name_problem(name)
            if why:
                raise Refusal(Err.BAD_REQUEST, f"NAMES: fragment {len(self.names) + i}: {why}")
        self.names.extend(names)

    def add_terms(self, price: str, budget: str) -> None:
        """TERMS: the job's price and budget (issue 19), checked now."""
        if "price" in self.policy:
            raise Refusal(Err.BAD_REQUEST, "TERMS sent twice in one submission")
        try:
            check_terms(price, budget)
        except JobSpecError as exc:
            raise Refusal(Err.BAD_REQUEST, f"TERMS: {exc}") from None
        self.policy.update(price=price, budget=budget)

    def spec_arguments(self) -> dict[str, Any]:
        """At SUBMIT_END: the JobSpec's keyword arguments (Refusal if something is missing)."""
        if self.shared is None:
            raise Refusal(Err.BAD_REQUEST, "SUBMIT_END before PROGRAM and SHARED")
        if len(self.fragments) != self.n_fragments:
            raise Refusal(Err.BAD_REQUEST, f"SUBMIT_END after {len(self.fragments)} fragments, "
                          f"SUBMIT announced {self.n_fragments}")
        if self.names and len(self.names) != self.n_fragments:
            raise Refusal(Err.BAD_REQUEST, f"SUBMIT_END after {len(self.names)} names for "
                          f"{self.n_fragments} fragments (name all of them or none)")
        kw: dict[str, Any] = {"program": self.program, "fragments": self.fragments,
                              "shared_input": self.shared, **self.policy}
        if self.names:
            kw["fragment_names"] = self.names
        return kw
