"""The real server with the project's config: where it listens, which Host it accepts, what a browser sees
of an error, and how uploads are capped and kept.

Starts ``python -m streamlit run`` from the repository root, so .streamlit/config.toml applies as it does
for ``make run``. The browser parts drive Debian's chromium and are skipped where it is absent.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tomllib
import urllib.request
from pathlib import Path

import psutil
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from explorer.safeio import DATA_LIMIT, MB
from explorer.ui.evaluate import ParsedUpload, UploadCache, upload_cache
import servers
from test_evaluate import _write_cola

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
CODE = "peer-session-2024"


def _start(script: str, env: dict[str, str], log: Path, args: list[str] = ()) -> tuple[subprocess.Popen, int]:
    """``streamlit run script`` with the project's config; returns the process and its port once it answers."""
    proc, url = servers.start(env, log, args, script=script, wait_s=90)
    return proc, int(url.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory, make_checkpoint):
    """The app, started as `make run` starts it (localhost), with an access code set and one tiny CoLA model."""
    root = tmp_path_factory.mktemp("server")
    ckpts = root / "checkpoints"
    ckpts.mkdir()
    shutil.copytree(make_checkpoint("electra", name="s", finetuning_task="cola", seed=3), ckpts / "srv-electra-cola")
    env = {"EXPLORER_MODELS": str(root / "models.toml"), "EXPLORER_DEFAULTS": "0", "HF_HUB_OFFLINE": "1",
           "EXPLORER_DATA": str(root / "data"), "EXPLORER_RESULTS": str(root / "results"), "EXPLORER_ACCESS_CODE": CODE}
    env.pop("EXPLORER_LAN", None)
    proc, port = _start(APP, env, root / "server.log", ["--checkpoints", str(ckpts)])
    yield {"proc": proc, "port": port, "url": f"http://127.0.0.1:{port}", "root": root}
    servers.stop(proc)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


def _other_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback (what a peer on the LAN would connect to)."""
    return [a.address for addrs in psutil.net_if_addrs().values() for a in addrs
            if a.family == socket.AF_INET and not a.address.startswith("127.")]


# ---- where it listens, which Host it accepts --------------------------------------------------------------------


def test_serves_this_machine_only_by_default(server):
    listening = [c.laddr for c in psutil.Process(server["proc"].pid).net_connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN]
    assert listening and {addr.ip for addr in listening} == {"127.0.0.1"}
    for address in _other_addresses():
        with socket.socket() as s, pytest.raises(OSError):
            s.settimeout(5)
            s.connect((address, server["port"]))


def _upgrade_status(port: int, host: str) -> int:
    """Opens the app's WebSocket (which carries every page) with a given Host header; returns the HTTP status."""
    request = (f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
               "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request.encode())
        return int(s.recv(200).split(b" ", 2)[1])


def test_a_foreign_host_header_is_refused(server):
    """DNS rebinding: a page on evil.example whose name now points here cannot open the app's socket."""
    assert _upgrade_status(server["port"], f"evil.example:{server['port']}") == 403
    assert _upgrade_status(server["port"], f"localhost:{server['port']}") == 101
    assert _upgrade_status(server["port"], f"127.0.0.1:{server['port']}") == 101


# ---- the code form and uploads in a real browser ------------------------------------------------------------


def _enter(page, code: str) -> None:
    page.get_by_label("Access code").fill(code)
    page.get_by_role("button", name="Enter").click()


def _uploaded_bytes_held(url: str) -> int:
    """Bytes in Streamlit's per-session upload store, from its metrics endpoint."""
    text = urllib.request.urlopen(f"{url}/_stcore/metrics", timeout=10).read().decode()
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in text.splitlines()
               if line.startswith("cache_memory_bytes") and "UploadedFileManager" in line)


@needs_chromium
def test_the_code_form_comes_first_and_an_upload_is_parsed_once_and_not_kept(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    page.goto(f"{server['url']}/evaluate", wait_until="networkidle")
    page.get_by_label("Access code").wait_for(timeout=60_000)
    assert page.get_by_text("Score checkpoints on the NIKL").count() == 0

    _enter(page, "wrong-code-123")
    page.get_by_text("That access code is not right").wait_for(timeout=30_000)
    assert page.get_by_text("Score checkpoints on the NIKL").count() == 0

    _enter(page, CODE)
    page.get_by_text("Score checkpoints on the NIKL").wait_for(timeout=60_000)  # the page the link named

    data = _write_cola(tmp_path / "NIKL_CoLA_dev.tsv", 60)
    page.locator("[data-testid='stFileUploader'] input[type=file]").first.set_input_files(str(data))
    page.get_by_text("60 items, format").wait_for(timeout=60_000)
    assert _uploaded_bytes_held(server["url"]) == 0  # parsed into the shared cache; the session's copy is gone

    # the next run finds the file through the shared cache, by its hash
    page.get_by_role("button", name="Evaluate", exact=True).click()
    page.get_by_text("Confusion matrices").wait_for(timeout=120_000)
    page.get_by_text("Evaluated on NIKL_CoLA_dev.tsv").wait_for(timeout=30_000)  # the uploaded file, by its name
    page.close()


@needs_chromium
def test_an_error_in_a_page_shows_no_traceback_to_the_browser(browser, tmp_path):
    script = tmp_path / "raises.py"
    script.write_text(
        "import streamlit as st\n"
        "st.write('before the error')\n"
        "def load_secret_thing():\n"
        "    raise RuntimeError('secret detail /home/someone/private.txt')\n"
        "load_secret_thing()\n",
        encoding="utf-8",
    )
    log = tmp_path / "raises.log"
    proc, port = _start(str(script), {}, log)
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}", wait_until="networkidle")
        shown = page.get_by_test_id("stException")
        shown.wait_for(timeout=60_000)
        text = page.inner_text("body")
        assert "before the error" in text
        for leak in ("secret detail", "private.txt", "load_secret_thing", "Traceback", "RuntimeError", "raises.py"):
            assert leak not in text
        page.close()
    finally:
        servers.stop(proc)
    terminal = log.read_text(errors="replace")
    assert "secret detail /home/someone/private.txt" in terminal and "load_secret_thing" in terminal


# ---- upload cap and the shared upload cache (AppTest) ------------------------------------------------------------


def test_the_servers_upload_cap_and_the_codes_are_the_same():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] * MB == DATA_LIMIT
    # the largest published NIKL/KoBEST file fits with room to spare
    shared = REPO.parent / "shared" / "data"
    if shared.is_dir():
        largest = max(p.stat().st_size for p in shared.rglob("*.tsv"))
        assert largest * 4 < DATA_LIMIT


@pytest.fixture
def evaluate_env(tmp_path, monkeypatch, make_checkpoint):
    ckpts = tmp_path / "checkpoints"
    ckpts.mkdir()
    shutil.copytree(make_checkpoint("electra", name="u1", finetuning_task="cola", seed=1), ckpts / "up-electra-cola")
    for key, value in {"EXPLORER_CHECKPOINTS": ckpts, "EXPLORER_MODELS": tmp_path / "models.toml", "EXPLORER_DEFAULTS": "0",
                       "EXPLORER_DATA": tmp_path / "data", "EXPLORER_RESULTS": tmp_path / "results"}.items():
        monkeypatch.setenv(key, str(value))
    for key in ("EXPLORER_LAN", "EXPLORER_ACCESS_CODE", "EXPLORER_ACCESS_CODE_FILE"):
        monkeypatch.delenv(key, raising=False)
    st.cache_resource.clear()
    yield tmp_path
    st.cache_resource.clear()


def _upload(content: bytes, name: str = "NIKL_CoLA_dev.tsv") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/evaluate.py")
    at.run()
    at.file_uploader(key="eval-up").set_value((name, content, "text/tab-separated-values"))
    return at.run()


def test_an_upload_over_the_cap_is_refused_with_its_size(evaluate_env):
    at = _upload(b"x" * (DATA_LIMIT + 1), name="huge.tsv")
    assert not at.exception
    assert any("huge.tsv is 20.0 MB" in e.value and "at most 20.0 MB" in e.value for e in at.error)
    assert not any("items, format" in c.value for c in at.caption)


def test_two_sessions_uploading_one_file_share_one_parse(evaluate_env):
    content = _write_cola(evaluate_env / "dev.tsv", 30).read_bytes()
    first, second = _upload(content), _upload(content)
    for at in (first, second):
        assert not at.exception and not at.error
        assert any("30 items, format" in c.value for c in at.caption)
    cache = upload_cache()
    assert len(cache._items) == 1


def test_the_same_bytes_under_another_name_keep_their_own_name(evaluate_env):
    content = _write_cola(evaluate_env / "dev.tsv", 30).read_bytes()
    mine, theirs = _upload(content, name="mine.tsv"), _upload(content, name="theirs.tsv")
    assert any(c.value.startswith("mine.tsv: 30 items") for c in mine.caption)
    assert any(c.value.startswith("theirs.tsv: 30 items") for c in theirs.caption)


def test_an_unreadable_upload_says_why(evaluate_env):
    at = _upload("source\tacceptability_label\tsource_annotation\tsentence\nX\tmaybe\t\t문장.\n".encode(), name="bad.tsv")
    assert not at.exception
    assert any("cannot be read" in e.value and "acceptability_label" in e.value for e in at.error)


def test_the_upload_cache_evicts_the_least_recently_used_by_bytes():
    cache = UploadCache(max_bytes=10, max_entries=5)
    for key in ("a", "b", "c"):
        cache.put((key, "cola"), ParsedUpload(key, b"xxxx"))
    assert cache.get(("a", "cola")) is None  # 12 bytes > 10: the oldest went
    cache.get(("b", "cola"))  # b used again: c is now the oldest
    cache.put(("d", "cola"), ParsedUpload("d", b"xxxx"))
    assert cache.get(("c", "cola")) is None and cache.get(("b", "cola")) and cache.get(("d", "cola"))
    cache.put(("big", "cola"), ParsedUpload("big", b"x" * 50))  # one entry over the bound is still kept for its session
    assert cache.get(("big", "cola")) and len(cache._items) == 1
