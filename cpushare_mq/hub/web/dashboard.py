"""The dashboard's shell: an aiohttp server on its own thread and event loop.

:class:`Dashboard` is started by the hub (``Hub(web="127.0.0.1:8080")`` or
``cpushare-hub serve --web HOST:PORT``) after the worker socket is bound, and stopped with
it. It reads the hub only through its public snapshot methods and the store read-only (see
:mod:`.views`); its blocking work runs on a small thread pool of its own, so the hub's loop
never waits for a page.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from ...errors import ConfigError
from .access import (
    base_url,
    new_token,
    parse_web_address,
    remove_web_file,
    write_web_file,
)
from .reader import StoreReader
from .views import Views

log = logging.getLogger(__name__)

#: threads for the dashboard's blocking work (SQLite reads, the hub's snapshots)
POOL_THREADS = 4


class Dashboard:
    """Serve the dashboard of ``hub`` on ``address`` (``HOST:PORT``; port 0 = any)."""

    def __init__(self, hub, address: str, *, push_interval_s: float = 1.0):
        self.hub = hub
        self.address = parse_web_address(address)
        self.token = new_token()
        self.push_interval_s = push_interval_s
        self.url: str = ""            # base URL with the token, once started
        self.base: str = ""           # base URL without it
        self.web_file: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._pool = ThreadPoolExecutor(POOL_THREADS, thread_name_prefix="cpushare-web")
        self._reader = StoreReader(hub.db_path)

    def job_url(self, job_id: str) -> str:
        return f"{self.base}/job/{job_id}?token={self.token}"

    def start(self) -> Dashboard:
        try:
            import aiohttp  # noqa: F401 - checked here for a clear message
        except ImportError as exc:
            raise ConfigError("the dashboard needs aiohttp: pip install aiohttp "
                              "(or drop --web)") from exc
        self._thread = threading.Thread(target=self._run, name="cpushare-web", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            self._thread.join(5)
            raise self._error
        if not self._ready.is_set():
            raise ConfigError("the dashboard did not start within 30 s")
        self.url = f"{self.base}/?token={self.token}"
        self.web_file = write_web_file(self.hub.db_path, self.url)
        if not self.address.loopback:
            log.warning("dashboard listens on %s, not loopback: its token travels in plain "
                        "HTTP; prefer 127.0.0.1 and an SSH tunnel", self.address.host)
        log.info("dashboard at %s (also in %s)", self.url, self.web_file)
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._start_site())
        except BaseException as exc:  # noqa: BLE001 - reported to start()'s caller
            self._error = exc if isinstance(exc, ConfigError) else ConfigError(
                f"cannot serve the dashboard on {self.address.host}:{self.address.port}: {exc}")
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for t in pending:
                t.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    async def _shutdown(self) -> None:
        from .app import close_streams
        await close_streams(self._runner.app)
        await self._runner.cleanup()

    async def _start_site(self) -> None:
        from aiohttp import web

        from .app import make_app
        views = Views(self.hub, self._reader)
        app = make_app(views, self.token, self._pool, self.push_interval_s)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False,
                                     shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.address.host, self.address.port,
                           reuse_address=True)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base = base_url(self.address.host, port)

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(5)
            except Exception as exc:  # noqa: BLE001 - stopping anyway
                log.warning("dashboard did not shut down cleanly: %r", exc)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._reader.close()
        if self.url:
            remove_web_file(self.hub.db_path, self.url)
