"""Who may re-run a result to check it (a spot check, a tie-break of one, a re-verification):
the one rule, pure, asked by the scheduler through :meth:`Scheduler.set_verifier_rule`.

Before it, any other worker key with credit got the re-run, so a group of new keys could
confirm each other's wrong answers, or outvote an honest seller into a ban (issue 14). Now a
result of key C may be checked by key V only when

* V is not C and V is not banned;
* V is **established or trusted** (it passed probation: ``TrustPolicy.probation_checks``
  agreeing verifications since its last strike), so a key on probation never checks anyone;
* V is **not younger** than C (first seen by this hub no later than C) when C is itself
  established or trusted: a seller with a verified history is only ever checked by keys
  at least as old, so keys made after it cannot gang up on it. A key on probation (new, or
  struck) may be checked by any established key. A tie (the check disagreed) is broken by
  any key with standing that has not run the fragment.

Until :data:`MIN_STANDING` keys on this hub have ever passed probation (a new hub), there is
nobody to trust yet, and any other key that is not banned may check (as before). Two, so that
a check that disagrees can have its tie broken by another key with standing. The first
sellers of a hub should be known ones (``--allow-workers``), or run jobs with redundancy
>= 2 first, whose votes establish keys.
"""

from __future__ import annotations

from .reputation import ReputationBook, Tier

__all__ = ["VerifierRule", "MIN_STANDING"]

#: keys that must have passed probation before only keys with standing may check
MIN_STANDING = 2

_STANDING = (Tier.ESTABLISHED, Tier.TRUSTED)


class VerifierRule:
    """``rule(verifier_key, checked_key) -> bool`` over a reputation book."""

    def __init__(self, book: ReputationBook):
        self.book = book

    def __call__(self, verifier: str, checked: str) -> bool:
        """May ``verifier`` re-run the result of ``checked`` ("": break a tie between keys
        that disagree, which any key with standing may do)?"""
        book = self.book
        if verifier == checked or book.is_banned(verifier):
            return False
        if not book.has_established(MIN_STANDING):
            return True                    # a new hub: not enough keys have earned trust
        if book.tier(verifier) not in _STANDING:
            return False
        if not checked or book.tier(checked) not in _STANDING:
            return True
        return book.first_seen(verifier) <= book.first_seen(checked)
