"""When redundant copies of a fragment never agree: the rules that end it as *disagreed*.

A fragment run k times (or spot-checked) needs ``quorum`` identical results from distinct
worker keys. When the copies differ, extra copies are run up to a budget (redundancy + spot
check + ``max_extra_copies``). The fragment ends **disagreeing** (FAILED with a reason that
starts with :data:`DISAGREED`) when

- no quorum can be reached any more: the largest group of equal results plus the copies
  still allowed is below the quorum (:func:`quorum_out_of_reach`), or
- a tie-breaker is needed but no connected worker key may run it (every live key already ran
  the fragment) for ``tie_break_wait_s`` (:func:`hopeless_ties`).

A disagreed fragment gives **nobody** a strike: without a majority there is no liar to name
(typically the program is nondeterministic). The buyer sees the fragment failed with the
reason (``cpushare submit`` lists it; ``item.reason`` in the Python client). Pure functions;
the scheduler calls them with its state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

__all__ = ["DISAGREED", "is_disagreed", "quorum_out_of_reach", "disagreed_reason", "hopeless_ties"]

#: How the failure reason of a fragment whose copies never agreed starts.
DISAGREED = "copies disagree: no quorum"


def is_disagreed(reason: str) -> bool:
    """True for the failure reason of a fragment whose copies never agreed."""
    return reason.startswith(DISAGREED + ":")


def quorum_out_of_reach(group_sizes: Sequence[int], quorum: int, budget: int) -> bool:
    """``group_sizes``: how many copies gave each distinct result. True when even if every
    copy still allowed (``budget`` - copies so far) joined the largest group, it would stay
    below ``quorum``."""
    if not group_sizes:
        return False
    copies = sum(group_sizes)
    return max(group_sizes) + max(0, budget - copies) < quorum


def disagreed_reason(group_sizes: Sequence[int], quorum: int, why: str = "") -> str:
    """The failure reason of a fragment whose copies never agreed (one line). No worker is
    blamed: a strike needs a majority to disagree with."""
    return (f"{DISAGREED}: {sum(group_sizes)} results, {len(group_sizes)} different answers, "
            f"{quorum} must agree{'; ' + why if why else ''} (a nondeterministic program gives "
            f"a different answer on every run; no worker is blamed)")


def hopeless_ties(stuck: Iterable[tuple[int, frozenset[str]]], live_keys: frozenset[str],
                  since: Mapping[int, float], now_s: float,
                  wait_s: float) -> tuple[dict[int, float], list[int]]:
    """Fragments waiting for a tie-breaker: ``stuck`` = (fragment id, keys that may not run
    it). ``since``: when each started to have no eligible live key (from the last call).
    Returns the new ``since`` map and the fragments that waited ``wait_s`` or more with no
    eligible key (to be ended disagreed)."""
    new_since: dict[int, float] = {}
    hopeless: list[int] = []
    for fid, excluded in stuck:
        if live_keys - excluded:
            continue                      # some connected key can break the tie
        start = since.get(fid, now_s)
        if now_s - start >= wait_s:
            hopeless.append(fid)
        else:
            new_since[fid] = start
    return new_since, hopeless
