"""Starting the real app for the browser, server and load tests: one way, shared.

``streamlit run`` from the repository root through the launcher ``make run`` uses
(``python -m explorer.ui.boot run``: it warms the heavy imports up meanwhile), so
.streamlit/config.toml applies as it does for ``make run``; waits on the health check (a condition, not a sleep) and
fails the test with the server's log when it does not come up.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        return urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok"
    except OSError:
        return False


def start(env: dict[str, str], log: Path, app_args: Sequence[str] = (), script: str = APP,
          server_args: Sequence[str] = (), wait_s: float = 180) -> tuple[subprocess.Popen, str]:
    """Starts ``streamlit run script`` (through ``explorer.ui.boot``) on a free port with ``env`` over this process's environment.

    Returns:
        The process and its base URL, once ``/_stcore/health`` answers.
    """
    port = free_port()
    with log.open("wb") as out:  # the child keeps its own handle
        proc = subprocess.Popen(
            [sys.executable, "-m", "explorer.ui.boot", "run", script, "--server.port", str(port), *server_args, "--", *app_args],
            cwd=REPO, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait_s
    while not healthy(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("streamlit did not start:\n" + log.read_text(errors="replace")[-3000:])
        time.sleep(0.3)  # poll interval while the server starts
    return proc, url


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@contextmanager
def running(env: dict[str, str], log: Path, app_args: Sequence[str] = (), **kwargs) -> Iterator[tuple[subprocess.Popen, str]]:
    """``start`` … ``stop`` as a context, for fixtures."""
    proc, url = start(env, log, app_args, **kwargs)
    try:
        yield proc, url
    finally:
        stop(proc)


# ---- what a first visit shows ----------------------------------------------------------------------------------

# Installed before the page's first byte: records every moment the sidebar lists one of ``names``.
_WATCH_NAV = """
window.__seenInNav = [];
const watched = new Set(%s);
new MutationObserver(() => {
  for (const a of document.querySelectorAll('[data-testid=stSidebarNav] a, [data-testid=stSidebarNavLink]')) {
    const text = a.textContent.trim();
    if (watched.has(text)) window.__seenInNav.push(text);
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def legacy_page_names() -> list[str]:
    """What Streamlit's legacy (v1) multipage mode lists: the main script as ``app``, then each ``pages/`` file stem.

    (Measured on the app before it turned Streamlit's own list off: a fresh server's first visit listed exactly these.)
    """
    return ["app", *(p.stem.replace("_", " ") for p in sorted((REPO / "pages").glob("*.py")))]


def open_watching_legacy_list(browser, url: str, **page_args):
    """A new page at ``url`` that records whether Streamlit's legacy page list is ever drawn (see ``legacy_seen``)."""
    page = browser.new_page(**page_args)
    page.add_init_script(_WATCH_NAV % legacy_page_names())
    page.goto(url)
    return page


def legacy_seen(page) -> list[str]:
    """The legacy page names the sidebar listed at any moment since the page opened."""
    return sorted(set(page.evaluate("window.__seenInNav")))
