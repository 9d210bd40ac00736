"""``cpushare-povray render --view``: the URL of the render's job page on the hub's dashboard.

The embedded hub is started with its dashboard (loopback, any free port); with ``--api`` the
dashboard of that hub is found in the file it writes beside its database (``DB.web``, next to
the default buyer socket ``DB.sock``). The job id comes from povray-server's line
``povray-server: job ID: ...``; the URL is printed once (and opened with ``--open``).
"""

from __future__ import annotations

import re
import sys
import webbrowser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ..errors import ConfigError

_JOB_LINE = re.compile(r"^povray-server: job (j-[0-9A-Za-z-]+):")


def job_id_in(line: str) -> str | None:
    m = _JOB_LINE.match(line.strip())
    return m[1] if m else None


def job_page(dashboard_url: str, job_id: str) -> str:
    """``http://HOST:PORT/?token=T`` (the hub's DB.web) -> that job's page."""
    parts = urlsplit(dashboard_url)
    token = parse_qs(parts.query).get("token", [""])[0]
    return f"{parts.scheme}://{parts.netloc}/job/{job_id}?token={token}"


def dashboard_of(hub_address: str) -> str:
    """The dashboard URL of the hub whose buyer socket is ``hub_address`` (DB.sock)."""
    path = hub_address.removeprefix("unix:")
    if not path.endswith(".sock"):
        raise ConfigError(f"--view: cannot tell where the dashboard of hub {hub_address!r} is; "
                          "it is found beside a buyer socket named DB.sock (the default)")
    web = Path(path[:-len(".sock")] + ".web")
    try:
        url = web.read_text().strip()
    except OSError as exc:
        raise ConfigError(f"--view: no dashboard address in {web} ({exc.strerror}); start the "
                          "hub with --web 127.0.0.1:8080, or drop --view") from exc
    if not url.startswith("http://") or "token=" not in url:
        raise ConfigError(f"--view: {web} does not hold a dashboard URL; restart the hub")
    return url


class Viewer:
    """Prints (and opens) the job page once povray-server names its job."""

    def __init__(self, dashboard_url: str, open_browser: bool = False, out=None):
        self.dashboard_url = dashboard_url
        self.open_browser = open_browser
        self.out = out or sys.stdout
        self.url: str | None = None

    def line(self, line: str) -> None:
        job_id = job_id_in(line)
        if job_id is None or self.url is not None:
            return
        self.url = job_page(self.dashboard_url, job_id)
        print(f"view:       {self.url}", file=self.out, flush=True)
        if self.open_browser:
            webbrowser.open(self.url)
