"""Who may run the extra copy of a spot check or a re-verification (a fragment with
``boost``): any worker whose key has not run the fragment, unless the shell sets a rule
(:meth:`Checkers.set_verifier_rule`; the trust layer's is ``trust/verifiers.py``: trusted
keys only, never the key being checked, never keys younger than it). The key being checked
is the one whose result came first (the lone result drawn for a check, or the accepted
result of a caught key being re-verified)."""

from __future__ import annotations

from collections.abc import Callable

from .lifecycle import CoreState
from .records import _Frag

#: (verifier key, checked key) -> may the verifier re-run the checked key's result?
VerifierRule = Callable[[str, str], bool]


class Checkers(CoreState):
    _verifier_rule: VerifierRule | None = None

    def set_verifier_rule(self, rule: VerifierRule | None) -> None:
        """Only keys ``rule`` admits run the extra copy of a checked fragment (None: any key
        that has not run it)."""
        self._verifier_rule = rule

    def _may_check(self, key: str, f: _Frag) -> bool:
        """May a worker with ``key`` run a copy of ``f``: the check of its first result, or
        (once two keys disagree) the tie-break, for which the rule is asked with no checked
        key ("")?"""
        rule = self._verifier_rule
        if rule is None or not f.boost or not f.votes:
            return True
        voters = [v for lst in f.votes.values() for v in lst]
        if len({k for _a, k, _s in voters}) > 1:
            return rule(key, "")
        return rule(key, voters[0][1])

    def _may_check_key(self, key: str, checked: str) -> bool:
        rule = self._verifier_rule
        return key != checked if rule is None else rule(key, checked)
