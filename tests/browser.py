"""Headless Chromium for looking at the notebook views the way a reader does.

Debian's ``chromium`` and ``chromium-driver`` packages (scripts/test installs them as root);
selenium drives them without fetching anything. Used by tests/test_notebook_browser.py and by
scripts/screenshots, so what the tests check is what the screenshots show.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: The flags that work as root and offline: no sandbox, no GPU, nothing phoning home.
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)

#: Page colours of Jupyter's light and dark themes (JupyterLab's defaults, near enough).
THEMES = {
    "light": ("#ffffff", "rgb(33, 33, 33)"),
    "dark": ("#111111", "rgb(220, 220, 220)"),
}


def chromium_paths() -> tuple[str, str] | None:
    """(browser, driver), or None when this machine has no Chromium to drive."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        return None
    return browser, driver


@contextmanager
def chromium(width: int = 900, height: int = 900) -> Iterator[Any]:
    """A selenium driver on a fresh profile, removed afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    paths = chromium_paths()
    if paths is None:
        raise RuntimeError("chromium and chromedriver are not installed")
    browser, driver_path = paths
    profile = tempfile.mkdtemp(prefix="la-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def page(body: str, theme: str = "light") -> str:
    """A whole document around a view, coloured like a notebook output area."""
    background, colour = THEMES[theme]
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>view</title></head>'
        f'<body style="margin:0;padding:12px;background:{background};color:{colour};'
        f'font-family:sans-serif">{body}</body></html>'
    )


def show(driver: Any, body: str, folder: Path, theme: str = "light", name: str = "view") -> None:
    """Load ``body`` from a file (no server, no network) and wait until it is laid out."""
    path = folder / f"{name}-{theme}.html"
    path.write_text(page(body, theme), encoding="utf-8")
    driver.get(path.resolve().as_uri())
    driver.execute_script("return document.readyState")
