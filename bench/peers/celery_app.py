"""The Celery app of the peer benchmark (broker and result backend: the Redis started by
peer_celery.py, whose URL comes in CPMQ_REDIS_URL)."""

import os

import common as C
from celery import Celery

url = os.environ.get("CPMQ_REDIS_URL", "redis://127.0.0.1:6379/0")
app = Celery("cpmq_bench", broker=url, backend=url)


@app.task
def tiny(data: bytes) -> bytes:
    return C.tiny_task(data)


@app.task
def spin(iters: int) -> bytes:
    return C.run_spin_native(iters)


@app.task
def long_task(marker_dir: str, duration_s: float) -> int:
    return C.long_task(marker_dir, duration_s)
