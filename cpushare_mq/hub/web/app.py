"""The dashboard's HTTP routes (aiohttp): pages, JSON, server-sent events, downloads.

Read-only: only GET (and HEAD) routes exist. Every request passes :func:`require_token`
first. Blocking work (the hub's snapshots, SQLite reads, decompression) runs in the
dashboard's own thread pool, never on the hub's loop and never on this event loop. Pushes
are bounded: one page update per ``push_interval_s`` per stream, tiles at most
``1 / TILE_MIN_INTERVAL_S`` times a second, a cap on open streams, and a page that nobody
watches costs nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from importlib import resources

from aiohttp import web

from ...errors import CpushareError, StoreError, UnknownJob
from .access import COOKIE, offered_token, token_ok
from .image import ImageSpec, paste, png_bytes, tile_update
from .views import Views

log = logging.getLogger(__name__)

#: the most server-sent-event streams open at once (each costs a push per second)
MAX_STREAMS = 32
#: tiles: the shortest time between two pushes, the most tiles and about the most result
#: bytes in one (so at most 256 tiles a second: a render of thousands of tiles is followed
#: live; a job of 100,000 tiny tiles is drawn behind the hub rather than slowing it down)
TILE_MIN_INTERVAL_S = 0.25
TILE_ROWS_PER_QUERY = 64
TILE_PUSH_BYTES = 4 << 20
#: tiles in flight: re-read at most this often (the whole in-flight list each time)
FLIGHT_INTERVAL_S = 0.5

VIEWS = web.AppKey("views", Views)
POOL = web.AppKey("pool", ThreadPoolExecutor)
STATE = web.AppKey("state", dict)

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
                               "style-src 'self'; script-src 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",       # the token is in the URL: never pass it on
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def make_app(views: Views, token: str, pool: ThreadPoolExecutor,
             push_interval_s: float = 1.0) -> web.Application:
    app = web.Application(middlewares=[_middleware(token)], client_max_size=4096)
    app[VIEWS] = views
    app[POOL] = pool
    app[STATE] = {"streams": 0, "push_interval_s": push_interval_s, "tasks": set()}
    app.router.add_get("/", _page("overview.html"))
    app.router.add_get("/job/{job_id}", _page("job.html"))
    app.router.add_get("/worker/{worker_id}", _page("worker.html"))
    app.router.add_get("/static/{name}", _static)
    app.router.add_get("/api/overview", _api_overview)
    app.router.add_get("/api/job/{job_id}", _api_job)
    app.router.add_get("/api/worker/{worker_id}", _api_worker)
    app.router.add_get("/events/overview", _events_overview)
    app.router.add_get("/events/job/{job_id}", _events_job)
    app.router.add_get("/job/{job_id}/result/{idx}", _download_result)
    app.router.add_get("/job/{job_id}/image.png", _download_image)
    return app


async def close_streams(app: web.Application) -> None:
    """Before shutting down: end every open event stream (they never end by themselves)."""
    tasks = list(app[STATE]["tasks"])
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _middleware(token: str):
    @web.middleware
    async def require_token(request: web.Request, handler):
        offered = offered_token(request.query, request.cookies,
                                request.headers.get("Authorization"))
        if not token_ok(token, offered):
            return web.Response(status=401, text="401: this dashboard needs its token; open "
                                "the URL written in the hub's <db>.web file\n",
                                headers=SECURITY_HEADERS)
        try:
            resp = await handler(request)
        except web.HTTPException as exc:
            exc.headers.update(SECURITY_HEADERS)
            raise
        if not resp.prepared:
            resp.headers.update(SECURITY_HEADERS)
            if request.query.get("token"):
                resp.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
        return resp
    return require_token


async def _run(request: web.Request, fn, *args):
    return await asyncio.get_running_loop().run_in_executor(request.app[POOL], fn, *args)


def _json(data) -> web.Response:
    return web.Response(text=json.dumps(data, default=str), content_type="application/json")


def _static_text(name: str) -> str:
    return resources.files(__package__).joinpath("static", name).read_text()


def _page(name: str):
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=_static_text(name), content_type="text/html")
    return handler


_TYPES = {".js": "text/javascript", ".css": "text/css"}


async def _static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    kind = next((t for ext, t in _TYPES.items() if name.endswith(ext)), None)
    if kind is None or "/" in name or name.startswith("."):
        raise web.HTTPNotFound(text=f"no static file {name!r}")
    try:
        return web.Response(text=_static_text(name), content_type=kind)
    except FileNotFoundError:
        raise web.HTTPNotFound(text=f"no static file {name!r}") from None


async def _api_overview(request: web.Request) -> web.Response:
    return _json(await _run(request, request.app[VIEWS].overview))


async def _api_job(request: web.Request) -> web.Response:
    try:
        return _json(await _run(request, request.app[VIEWS].job, request.match_info["job_id"]))
    except UnknownJob as exc:
        raise web.HTTPNotFound(text=f"{exc}\n") from None


async def _api_worker(request: web.Request) -> web.Response:
    data = await _run(request, request.app[VIEWS].worker, request.match_info["worker_id"])
    if data is None:
        raise web.HTTPNotFound(text=f"no worker {request.match_info['worker_id']!r}\n")
    return _json(data)


# -- server-sent events -----------------------------------------------------------------

class _Stream:
    """One SSE response; counts against :data:`MAX_STREAMS`."""

    def __init__(self, request: web.Request):
        self.request = request
        self.state = request.app[STATE]
        self.resp: web.StreamResponse | None = None

    async def __aenter__(self) -> _Stream:
        if self.state["streams"] >= MAX_STREAMS:
            raise web.HTTPServiceUnavailable(text=f"too many open dashboard pages "
                                             f"({MAX_STREAMS}); close some\n")
        self.state["streams"] += 1
        self.task = asyncio.current_task()
        self.state["tasks"].add(self.task)
        self.resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                                **SECURITY_HEADERS})
        await self.resp.prepare(self.request)
        return self

    async def __aexit__(self, *exc) -> bool:
        self.state["streams"] -= 1
        self.state["tasks"].discard(self.task)
        # a closed page ends its stream: not an error
        return exc[0] is not None and issubclass(exc[0], ConnectionError)

    async def send(self, event: str, data) -> None:
        await self.resp.write(f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n".encode())


async def _events_overview(request: web.Request) -> web.StreamResponse:
    views = request.app[VIEWS]
    period = request.app[STATE]["push_interval_s"]
    async with _Stream(request) as s:
        while True:
            await s.send("overview", await _run(request, views.overview))
            await asyncio.sleep(period)
    return s.resp


async def _events_job(request: web.Request) -> web.StreamResponse:
    views = request.app[VIEWS]
    job_id = request.match_info["job_id"]
    try:
        first = await _run(request, views.job, job_id)
    except UnknownJob as exc:
        raise web.HTTPNotFound(text=f"{exc}\n") from None
    async with _Stream(request) as s:
        await s.send("job", first)
        img = await _run(request, views.image, job_id, first["job"]["total"])
        tasks = [asyncio.create_task(_job_summaries(request, s, job_id))]
        if img is not None:
            await s.send("image", img.as_dict())
            tasks.append(asyncio.create_task(_tiles(request, s, job_id, img)))
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
    return s.resp


async def _job_summaries(request: web.Request, s: _Stream, job_id: str) -> None:
    views = request.app[VIEWS]
    period = request.app[STATE]["push_interval_s"]
    while True:
        await asyncio.sleep(period)
        await s.send("job", await _run(request, views.job, job_id))


def _tile_batch(views: Views, job_id: str, img: ImageSpec,
                after_seq: int) -> tuple[list, int, bool]:
    """Tiles finished after ``after_seq`` (up to :data:`TILE_ROWS_PER_QUERY`, fewer when
    the tiles are big), the last seq, and whether more may be waiting (a full batch)."""
    biggest = max(w * h * 3 for _x, _y, w, h in img.rects)
    limit = max(1, min(TILE_ROWS_PER_QUERY, TILE_PUSH_BYTES // biggest))
    try:
        rows = views.reader.finished_results(job_id, after_seq, limit)
    except StoreError as exc:
        log.warning("dashboard: tiles of job %s: %s", job_id, exc)
        return [], after_seq, False
    return ([tile_update(img, idx, ok, data) for _seq, idx, ok, data in rows],
            rows[-1][0] if rows else after_seq, len(rows) >= limit)


async def _tiles(request: web.Request, s: _Stream, job_id: str, img: ImageSpec) -> None:
    """Finished tiles in acceptance order (a re-verified tile comes again and is redrawn),
    and the tiles in flight whenever they change. Wakes on the hub's own notification of
    new results (``wait_for_change``), at most every :data:`TILE_MIN_INTERVAL_S`."""
    views = request.app[VIEWS]
    hub = views.hub
    loop = asyncio.get_running_loop()
    seq, flight, flight_at, last = 0, None, 0.0, 0.0
    while True:
        # at most one push per TILE_MIN_INTERVAL_S, but no added delay after a quiet spell
        await asyncio.sleep(max(0.0, TILE_MIN_INTERVAL_S - (loop.time() - last)))
        last = loop.time()
        tiles, seq_now, more = await _run(request, _tile_batch, views, job_id, img, seq)
        if tiles:
            await s.send("tiles", {"tiles": tiles})
            seq = seq_now
        if loop.time() - flight_at >= FLIGHT_INTERVAL_S or flight is None:
            flight_at = loop.time()
            now_flight = await _run(request, views.reader.in_flight, job_id)
            if now_flight != flight:
                flight = now_flight
                await s.send("flight", {"tiles": flight})
        if not more:
            ended = await _run(request, hub.job_ended, job_id)
            if ended and not flight:
                await asyncio.sleep(5.0)
            elif not ended:
                await _run(request, hub.wait_for_change, job_id, seq, 0.5)


# -- downloads ----------------------------------------------------------------------------

async def _download_result(request: web.Request) -> web.Response:
    job_id = request.match_info["job_id"]
    try:
        idx = int(request.match_info["idx"])
    except ValueError:
        raise web.HTTPBadRequest(text="the fragment index must be a number\n") from None
    try:
        data = await _run(request, request.app[VIEWS].reader.result, job_id, idx)
    except CpushareError as exc:
        raise web.HTTPNotFound(text=f"{exc}\n") from None
    if data is None:
        raise web.HTTPNotFound(text=f"fragment {idx} of job {job_id} has no accepted result\n")
    return web.Response(body=data, content_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{job_id}-{idx}.out"'})


def _assemble(views: Views, job_id: str) -> bytes | None:
    row = views.reader.job(job_id)
    img = views.image(job_id, row["total"])
    if img is None:
        return None
    canvas = bytearray(img.width * img.height * 3)
    seq = 0
    while True:
        rows = views.reader.finished_after(job_id, seq, 1000)
        for row_seq, idx, fid, ok, _size, attempt in rows:
            seq = row_seq
            if ok and 0 <= idx < len(img.rects):
                rgb = views.reader.result_of(fid, attempt)
                x, y, w, h = img.rects[idx]
                if len(rgb) == w * h * 3:
                    paste(canvas, img.width, img.rects[idx], rgb)
        if len(rows) < 1000:
            break
    return png_bytes(img.width, img.height, bytes(canvas))


async def _download_image(request: web.Request) -> web.Response:
    job_id = request.match_info["job_id"]
    try:
        data = await _run(request, _assemble, request.app[VIEWS], job_id)
    except CpushareError as exc:
        raise web.HTTPNotFound(text=f"{exc}\n") from None
    if data is None:
        raise web.HTTPNotFound(text=f"job {job_id} is not an image (its fragments are not tiles)\n")
    return web.Response(body=data, content_type="image/png")
