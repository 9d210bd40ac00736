"""The hub: a ZeroMQ ROUTER loop around the pure scheduler and the SQLite store, and the
buyer-facing API. :class:`Hub` composes the rooms that do the work and owns their lifecycle:

* :mod:`.loop` — the loop thread: one turn per batch, ONE commit per turn, then send;
* :mod:`.wire` — the worker socket (CURVE/ZAP, its monitor, bounded reads);
* :mod:`.workerdesk` — each received worker message, HELLO to BYE; :mod:`.resultdesk` —
  results and failure reports; :mod:`.sessions` — which connection is which worker;
* :mod:`.liveness` — heartbeats and probes for closed connections; :mod:`.outbound` —
  ACKs, CANCELs and LEASEs after the commit; :mod:`.replies` — rate-limited ERRORs;
* :mod:`.verdicts` — the trust layer's verdicts, bans and re-verification after a commit;
* :mod:`.buyerdesk` and :mod:`.jobwatch` — the thread-safe buyer API and what it waits on;
* :mod:`.retention` — ended jobs answered from the store, and purged (the janitor thread).

Rooms reach each other through the hub's attributes and public methods. Buyer-side
methods (``submit_job``, ``cancel_job``, ...) are thread-safe: reads use the calling
thread's own SQLite connection, changes are run on the loop thread and committed.
"""

from __future__ import annotations

import logging
import os
import shlex
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import ConfigError, StoreError
from .buyerdesk import BuyerDesk
from .jobwatch import JobWatch
from .liveness import Liveness
from .loop import HubLoop
from .outbound import Outbound
from .replies import ErrorReplies
from .resultdesk import ResultDesk
from .retention import DEFAULT_KEEP_DAYS, Janitor, RetentionPolicy
from .scheduler import HubConfig, JobSpec, Scheduler
from .sessions import Sessions
from .store import FinishedFragment, Store
from .verdicts import Verdicts
from .wire import WorkerSocket
from .workerdesk import WorkerDesk

__all__ = ["Hub", "HubConfig", "JobSpec", "FinishedFragment"]

log = logging.getLogger(__name__)


class Hub:
    """A hub: worker socket + scheduler + store (+ the buyer socket, if ``api`` != "")."""

    payout = None     # market.payout.Payout: set by cpushare-hub serve (issue 19)

    def __init__(self, db_path: str | os.PathLike, bind: str = "tcp://127.0.0.1:5555", *,
                 api: str | None = None, config: HubConfig | None = None,
                 insecure: bool = True, durability: str = "FULL", trust=None,
                 allow_workers: str | os.PathLike | None = None,
                 keys_dir: str | os.PathLike | None = None, web: str | None = None,
                 keep_days: float = DEFAULT_KEEP_DAYS):
        self.db_path = str(db_path)
        self.retention = RetentionPolicy(keep_days)    # ended jobs' data: hub/retention.py
        self._web_requested = web          # "HOST:PORT" of the dashboard (hub/web), or None
        self.web = None
        self.bind = bind
        self.config = config or HubConfig()
        self.insecure = insecure
        # the trust layer (cpushare_mq.trust.hubside.HubTrust): CURVE + ZAP, signed results,
        # reputation, rate limits. Always on a secure hub; on an insecure one only if given.
        if trust is None and not insecure:
            from ..trust.hubside import HubTrust
            trust = HubTrust(self.db_path, insecure=False, keys_dir=keys_dir,
                             allow_workers=allow_workers,
                             join_rate_per_s=self.config.join_rate_per_s)
        self.trust = trust
        self._api_requested = f"{self.db_path}.sock" if api is None else api
        self.api_address: str | None = None
        self._api_server = None
        self.store = Store(self.db_path, synchronous=durability)
        self.core_lock = threading.RLock()    # the scheduler: loop thread vs buyer snapshots
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._trust_shut = False
        self._compose()
        self._restore_at_start()

    def _compose(self) -> None:
        self.wire = WorkerSocket(self.bind, insecure=self.insecure, trust=self.trust)
        self.sessions = Sessions()
        self.errors = ErrorReplies()
        self.liveness = Liveness(self)
        self.outbound = Outbound(self)
        self.result_desk = ResultDesk(self)
        self.worker_desk = WorkerDesk(self)
        self.verdicts = Verdicts(self)
        self.job_watch = JobWatch()
        self.buyer_desk = BuyerDesk(self)
        self.loop = HubLoop(self)     # restores the scheduler from the store
        self.janitor = Janitor(self.store.conn, self.retention, trust_path=self.trust_ledger_path,
                               on_purged=self.job_watch.forget)

    def _restore_at_start(self) -> None:
        """What buyers wait on from the restored scheduler, and (trust) the accepted,
        unchecked results that a caught worker's re-verification would re-run."""
        self.job_watch.restore(self.core.job_states(), self.store.max_seq)
        if self.trust is None:
            return
        try:
            n = self.trust.restore_unverified(self.store.unverified_results())
        except StoreError as exc:    # only the re-verification list is incomplete
            log.error("cannot list the unchecked results of open jobs: %s", exc)
            n = 0
        if n:
            log.info("%d accepted, unchecked results of open jobs will be re-verified if "
                     "their worker is caught", n)

    @property
    def core(self) -> Scheduler:
        """The scheduler (loop thread, or under ``core_lock``); rebuilt after a failed
        commit, so never keep it."""
        return self.loop.core

    @property
    def trust_ledger_path(self) -> Path:
        """The trust layer's SQLite file (trust/ledger.py), beside the database."""
        return Path(f"{self.db_path}.trust")

    @property
    def worker_endpoint(self) -> str:
        """Where workers connect (the bound address; "" before the hub serves)."""
        return self.wire.endpoint

    @property
    def public_key(self) -> str | None:
        """The hub's CURVE public key (Z85) that workers need, or None on plain TCP."""
        return self.trust.public_key if self.trust is not None else None

    @property
    def reverify_stats(self) -> dict[str, int]:
        """Re-verification counts: queued, reopened, confirmed, corrected, failed, skipped."""
        return self.verdicts.reverification.stats

    # ------------------------------------------------------------------------------
    # lifecycle

    def start(self) -> Hub:
        """Serve in a background thread; return once bound and serving."""
        if self._thread is not None:
            raise ConfigError("hub already started")
        self._thread = threading.Thread(target=self._serve, name="cpushare-hub", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._start_error is not None:
            self._thread.join()
            raise self._start_error
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` (from a signal handler or thread)."""
        self._serve()
        if self._start_error is not None:
            raise self._start_error

    def stop(self, timeout_s: float = 5.0) -> None:
        self.loop.commands.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("hub loop did not stop within %.1f s", timeout_s)

    def close(self) -> None:
        self.stop()
        self.store.close()
        payout, self.payout = self.payout, None
        if payout is not None and not (self._thread is not None and self._thread.is_alive()):
            try:
                payout.close()          # the receipts stored and not signed yet: signed now
            except Exception:  # noqa: BLE001 - closing anyway; a restart signs them
                log.exception("the receipt ledger failed to close")
        if self.trust is not None and not self._trust_shut:
            self._trust_shut = True
            try:
                self.trust.shutdown()
            except Exception:  # noqa: BLE001 - closing anyway
                log.exception("trust layer failed to shut down")

    def __enter__(self) -> Hub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def _serve(self) -> None:
        try:
            self._open()
        except BaseException as exc:  # noqa: BLE001 - reported to start()'s caller
            self._start_error = exc
            self._stop_api()
            self.wire.close()
            self._ready.set()
            return
        self.loop.commands.loop_thread_id = threading.get_ident()
        self.janitor.start()
        self._ready.set()
        log.info("hub serving workers on %s (db %s%s)", self.worker_endpoint, self.db_path,
                 f", buyers on {self.api_address}" if self.api_address else "")
        if self.public_key:
            log.info("hub public key (give workers the hub.pub file of the keys directory, or this "
                     "value quoted as shown): %s", shlex.quote(str(self.public_key)))
        try:
            self.loop.run()
        finally:
            self.loop.commands.loop_thread_id = None
            self.janitor.stop()
            if self.web is not None:
                self.web.stop()
            self._stop_api()
            self.wire.close()
            self.loop.finish_commands()
            log.info("hub stopped")

    def _open(self) -> None:
        """The worker socket, the buyer socket and the dashboard."""
        self.wire.open()
        self._start_api()
        if self._web_requested:
            from .web import Dashboard
            self.web = Dashboard(self, self._web_requested).start()

    def _start_api(self) -> None:
        if not self._api_requested:
            return
        try:
            from .api import BuyerApiServer
        except ImportError as exc:
            log.warning("buyer API not available (%s): serving workers only", exc)
            return
        from ..buyer_token import token_path
        self._api_server = BuyerApiServer(self, self._api_requested,
                                          token_file=token_path(self.db_path))
        self._api_server.start()
        self.api_address = getattr(self._api_server, "address", None) or self._api_requested

    def _stop_api(self) -> None:
        if self._api_server is not None:
            try:
                self._api_server.stop()
            except Exception:  # noqa: BLE001 - shutting down anyway
                log.exception("buyer API server failed to stop cleanly")
            self._api_server = None

    def _call(self, fn: Callable[[float], object]) -> object:
        """Run ``fn(now)`` on the loop thread (or inline when no loop runs) and commit."""
        return self.loop.call(fn)

    # ------------------------------------------------------------------------------
    # buyer operations (any thread): the buyer desk

    def submit_job(self, spec: JobSpec) -> str:
        """Store the job durably, then schedule it. Returns the job id."""
        return self.buyer_desk.submit_job(spec)

    def raise_budget(self, job_id: str, amount):
        """``cpushare job raise-budget`` (issue 19): returns the new budget."""
        return self.buyer_desk.raise_budget(job_id, amount)

    def cancel_job(self, job_id: str) -> None:
        self.buyer_desk.cancel_job(job_id)

    def purge_job(self, job_id: str) -> int:
        """Remove ended job ``job_id``'s data now (see :mod:`.retention`); returns the number
        of fragments removed. Raises UnknownJob, or JobStillRunning for a running job."""
        return self.buyer_desk.purge_job(job_id)

    def job_progress(self, job_id: str) -> dict:
        return self.buyer_desk.job_progress(job_id)

    def status(self) -> dict:
        return self.buyer_desk.status()

    def wait_for_change(self, job_id: str, after_seq: int, timeout_s: float) -> int:
        return self.buyer_desk.wait_for_change(job_id, after_seq, timeout_s)

    def job_ended(self, job_id: str) -> bool:
        """True once the job is done or cancelled and that is committed (no scheduler lock:
        the buyer API asks this after every batch)."""
        return self.buyer_desk.job_ended(job_id)

    def finished(self, job_id: str, after_seq: int, limit: int = 1000) -> list[FinishedFragment]:
        return self.buyer_desk.finished(job_id, after_seq, limit)

    def result_chunks(self, fragment_id: int) -> Iterator[bytes]:
        return self.buyer_desk.result_chunks(fragment_id)

    def fragment_seq(self, fragment_id: int) -> int | None:
        """The fragment's acceptance seq now (a re-verified one may have a newer one)."""
        return self.store.fragment_seq(fragment_id)

    def get_cursor(self, job_id: str) -> int:
        return self.store.get_cursor(job_id)

    def set_cursor(self, job_id: str, seq: int) -> None:
        self.store.set_cursor(job_id, seq)
