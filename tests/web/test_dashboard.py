"""The dashboard as a user sees it: ``cpushare-hub serve --web`` in a real headless browser.

A protocol-speaking fake worker (its answers are the test's to time) works on a render job
of four 32x32 tiles submitted through the buyer socket; the browser shows the overview with
the job and the worker, then the job page, where a tile turns from the background colour to
the tile's pixels in the browser's screenshot within a second of the hub acknowledging the
result. Requests without the token are refused. Screenshots go to docs/img when
CPUSHARE_DOCS_SCREENSHOTS=1 (how docs/dashboard.md's pictures are made).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from browser import Browser, need_browser
from fakeworker import FakeWorker
from webhub import EXE, start_hub, status_of, stop

from cpushare_mq.client import Client
from cpushare_mq.outcome import Outcome
from cpushare_mq.povray.image import decode_png
from cpushare_mq.povray.tiles import cut_tiles
from cpushare_mq.protocol import MsgType

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
BACKGROUND = (0x20, 0x28, 0x30)
TILE_RGB = (230, 120, 20)
#: the canvas is drawn 640 CSS pixels wide: a 64-pixel image is scaled 10x
SCALE = 10


@pytest.fixture
def hub(tmp_path):
    proc, db, endpoint = start_hub(tmp_path)
    yield proc, db, endpoint
    stop(proc)


def test_token_file_and_401_without_token(hub):
    proc, db, _endpoint = hub
    web = Path(f"{db}.web")
    assert stat.S_IMODE(web.stat().st_mode) == 0o600
    url = web.read_text().strip()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=[\w-]{20,}", url), url
    base, token = url.split("/?token=")
    assert status_of(url) == 200
    assert status_of(f"{base}/api/overview", headers={"Authorization": f"Bearer {token}"}) == 200
    for path in ("/", "/api/overview", "/events/overview", "/job/x", "/static/dash.js",
                 "/job/x/image.png"):
        assert status_of(base + path) == 401, path
        assert status_of(f"{base}{path}?token={token[:-1]}") == 401, path
        assert status_of(f"{base}{path}?token=") == 401, path
    # read-only: nothing but GET exists, even with the token
    assert status_of(f"{base}/api/overview?token={token}", method="POST") == 405
    stop(proc)
    assert not web.exists(), "the hub removes <db>.web when it stops"


def _pixel(png: bytes, x: int, y: int) -> tuple[int, int, int]:
    return decode_png(png).pixel(x, y)


def _near(a, b, tol: int = 12) -> bool:
    return all(abs(p - q) <= tol for p, q in zip(a, b, strict=True))


def _save(png: bytes, name: str) -> None:
    if os.environ.get("CPUSHARE_DOCS_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        (DOCS_IMG / name).write_bytes(png)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_overview_and_render_tiles_live_in_the_browser(hub, tmp_path):
    need_browser()
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    proc, db, endpoint = hub
    url = Path(f"{db}.web").read_text().strip()
    base, token = url.split("/?token=")
    tiles = cut_tiles(64, 64, 32)
    with Client(f"{db}.sock") as client:
        job = client.submit(b"\x7fELF" + bytes(200), [t.encode() for t in tiles],
                            name="dashboard test render")
        job_id = job.id
    worker = FakeWorker(endpoint, slots=2, name="fake-seller")
    browser = None
    try:
        worker.hello()
        worker.ready()
        lease_msg = worker.wait_for(MsgType.LEASE, 30)
        while len(worker.leases) < 2:
            worker.wait_for(MsgType.LEASE, 30)
        assert lease_msg is not None
        browser = Browser()
        d = browser.driver
        d.get(url)
        WebDriverWait(d, 60).until(lambda d: job_id in d.find_element(By.ID, "jobs").text
                                   and "fake-seller" in d.find_element(By.ID, "workers").text)
        jobs_text = d.find_element(By.ID, "jobs").text
        assert "dashboard test render" in jobs_text and "running" in jobs_text
        _save(d.get_screenshot_as_png(), "dashboard-overview.png")

        d.get(f"{base}/job/{job_id}?token={token}")
        canvas = d.find_element(By.ID, "image")
        WebDriverWait(d, 60).until(lambda d: canvas.is_displayed() and
                                   canvas.get_attribute("width") == "64")
        refs = sorted(worker.leases, key=lambda r: worker.leases[r]["index"])
        answer_ref, flight_ref = refs
        answer_idx = worker.leases[answer_ref]["index"]
        flight_idx = worker.leases[flight_ref]["index"]
        ax, ay, aw, ah = _rect(tiles[answer_idx])
        fx, fy, _fw, _fh = _rect(tiles[flight_idx])
        centre = ((ax + aw // 2) * SCALE, (ay + ah // 2) * SCALE)
        # before: background, and the tile in flight is outlined
        WebDriverWait(d, 30).until(lambda d: _near(_pixel(canvas.screenshot_as_png,
                                                          fx * SCALE + 3, fy * SCALE + 30),
                                                   (0xF2, 0xC2, 0x30), 40))
        assert _near(_pixel(canvas.screenshot_as_png, *centre), BACKGROUND)

        worker.result(answer_ref, bytes(TILE_RGB) * (aw * ah))
        del worker.leases[answer_ref]
        worker.wait_for(MsgType.ACK, 30)          # the hub has committed the result
        acked = time.monotonic()
        while True:
            shot = canvas.screenshot_as_png
            seen = time.monotonic()
            if _near(_pixel(shot, *centre), TILE_RGB):
                break
            assert seen - acked < 1.0, "the tile did not appear within 1 s of the hub's ACK"
        print(f"tile appeared {seen - acked:.3f} s after the ACK")
        assert seen - acked < 1.0, f"tile appeared {seen - acked:.2f} s after the hub's ACK"
        # a failed tile is marked (a red cross), the others are still background
        worker.failure(flight_ref, Outcome.FRAGMENT_ERROR, "bad tile")
        del worker.leases[flight_ref]
        WebDriverWait(d, 30).until(lambda d: _near(_pixel(canvas.screenshot_as_png,
                                                          fx * SCALE + 2, fy * SCALE + 2),
                                                   (0xE0, 0x40, 0x40), 50))
        _save(d.get_screenshot_as_png(), "dashboard-job.png")
        WebDriverWait(d, 30).until(lambda d: "bad tile" in d.find_element(By.ID, "failed").text
                                   or "fragment_error" in d.find_element(By.ID, "failed").text)
        # the worker page shows its attempts
        d.get(f"{base}/worker/{worker.worker_id}?token={token}")
        WebDriverWait(d, 30).until(lambda d: job_id in d.find_element(By.ID, "attempts").text)
        # the image as far as it is done, as a PNG download
        with urllib.request.urlopen(f"{base}/job/{job_id}/image.png?token={token}") as r:
            img = decode_png(r.read())
        assert img.pixel(ax + 1, ay + 1) == TILE_RGB
    finally:
        if browser is not None:
            browser.close()
        worker.close()


def _rect(t) -> tuple[int, int, int, int]:
    return t.x0, t.y0, t.w, t.h


def test_bad_web_address_is_one_clear_line(tmp_path):
    r = subprocess.run([str(EXE), "serve", "--db", str(tmp_path / "h.db"), "--insecure",
                        "--bind", "tcp://127.0.0.1:0", "--web", "localhost:http"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "--web 'localhost:http'" in r.stderr and "HOST:PORT" in r.stderr, r.stderr
    assert shutil.which("true")   # the environment is sane (no stray hub left)
