"""What the hub sends one worker session that the worker asked for: a blob (program,
shared input) goes out at most :data:`BLOB_COPIES_PER_SESSION` times per session, so a worker
that FETCHes over and over without reading cannot make the hub queue copies of a large input
(a worker fetches a blob once and caches it, and once more if its cache lost it; after a
reconnect it is a new session)."""

from __future__ import annotations

BLOB_COPIES_PER_SESSION = 2


class BlobsSent:
    """Per worker session: how many copies of each blob were sent."""

    def __init__(self) -> None:
        self._sent: dict[str, dict[str, int]] = {}

    def refusal(self, wid: str, sha256: str) -> str | None:
        """None (and count the send) if ``sha256`` may go to ``wid``, else why not."""
        sent = self._sent.setdefault(wid, {})
        n = sent.get(sha256, 0)
        if n >= BLOB_COPIES_PER_SESSION:
            return (f"blob {sha256[:16]}... was sent to this session {n} times already "
                    f"(at most {BLOB_COPIES_PER_SESSION} per connection): cache it")
        sent[sha256] = n + 1
        return None

    def unsent(self, wid: str, sha256: str) -> None:
        """The blob could not be read: this try does not count."""
        sent = self._sent.get(wid)
        if sent and sent.get(sha256):
            sent[sha256] -= 1

    def forget(self, wid: str) -> None:
        self._sent.pop(wid, None)
