"""Debian's chromium, headless, driven by selenium through Debian's chromedriver.

Nothing is downloaded at run time: the browser and its driver are the installed Debian
packages (``make test`` installs them when run as root on Debian); without them the browser
tests are skipped, saying so.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def need_browser() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        pytest.skip(f"no headless browser: {', '.join(missing)} not installed "
                    "(apt-get install chromium chromium-driver; make test does it as root)")
    pytest.importorskip("selenium", reason="selenium not installed (pip install -e '.[test]')")


class Browser:
    def __init__(self, width: int = 1280, height: int = 1600):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        self.profile = tempfile.mkdtemp(prefix="cpushare-chromium-")
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-extensions",
                  "--force-device-scale-factor=1", f"--window-size={width},{height}",
                  f"--user-data-dir={self.profile}"):
            opts.add_argument(a)
        self.driver = webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER))
        self.driver.set_page_load_timeout(60)

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)
