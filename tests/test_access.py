"""The access code: settings, the rate limit, the launcher, and the gate in front of every page (AppTest)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from explorer import access
from explorer.access import (
    FREE_ATTEMPTS,
    AccessSetupError,
    Attempts,
    check_code,
    is_loopback_address,
    new_access_code,
    read_access_code,
    server_flags,
)

APP = str(Path(__file__).resolve().parent.parent / "app.py")
CODE = "peer-session-2024"


# ---- settings -------------------------------------------------------------------------------------------------


def test_code_comes_from_the_environment_or_a_file(tmp_path):
    assert read_access_code({}) is None
    assert read_access_code({"EXPLORER_ACCESS_CODE": f"  {CODE}\n"}) == CODE
    secret = tmp_path / "code.txt"
    secret.write_text(CODE + "\n", encoding="utf-8")
    assert read_access_code({"EXPLORER_ACCESS_CODE_FILE": str(secret)}) == CODE


@pytest.mark.parametrize("env, words", [
    ({"EXPLORER_ACCESS_CODE": "1234"}, "at least 8"),
    ({"EXPLORER_ACCESS_CODE_FILE": "/nonexistent/code.txt"}, "cannot be read"),
    ({"EXPLORER_ACCESS_CODE_FILE": "/dev/zero"}, "not a regular file"),
])
def test_unusable_code_settings_are_refused_with_a_reason(env, words):
    with pytest.raises(AccessSetupError, match=words):
        read_access_code(env)


def test_an_oversized_code_file_is_not_read(tmp_path):
    big = tmp_path / "code.txt"
    big.write_bytes(b"x" * (access.CODE_FILE_LIMIT + 1))
    with pytest.raises(AccessSetupError, match="may be at most"):
        read_access_code({"EXPLORER_ACCESS_CODE_FILE": str(big)})


def test_generated_codes_are_long_readable_and_different():
    codes = {new_access_code() for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        assert len(code.replace("-", "")) == 12 and set(code.replace("-", "")) <= set(access._CODE_ALPHABET)


@pytest.mark.parametrize("address, loopback", [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("[::1]", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.20", False), (None, False), ("", False), ("myhost", False),
])
def test_which_addresses_reach_this_machine_only(address, loopback):
    # None or empty is Streamlit's default: every interface
    assert is_loopback_address(address) is loopback


def test_default_flags_bind_loopback_and_accept_local_hosts_only():
    flags = server_flags(lan=False, env={})
    assert flags[:2] == ["--server.address", "127.0.0.1"]
    hosts = flags[3::2]
    assert set(hosts) == {"localhost", "127.0.0.1", "::1"}


def test_lan_flags_bind_every_interface_and_add_this_machines_names_and_extra_hosts():
    import socket

    flags = server_flags(lan=True, env={"EXPLORER_ALLOWED_HOSTS": "explorer.lab, 10.0.0.7"})
    assert flags[:2] == ["--server.address", "0.0.0.0"]
    hosts = flags[3::2]
    assert {"localhost", "explorer.lab", "10.0.0.7", socket.gethostname().lower()} <= set(hosts)
    assert "*" not in hosts


# ---- rate limit -----------------------------------------------------------------------------------------------


def test_wrong_codes_are_counted_and_then_even_the_right_code_must_wait():
    attempts = Attempts()
    for i in range(FREE_ATTEMPTS):
        verdict = check_code(attempts, "guess", CODE, now=100.0 + i)
        assert not verdict.granted and "not right" in verdict.message
    locked = check_code(attempts, CODE, CODE, now=100.0 + FREE_ATTEMPTS)
    assert not locked.granted and "Try again in" in locked.message
    assert check_code(attempts, CODE, CODE, now=100.0 + FREE_ATTEMPTS + access.FIRST_WAIT_S).granted


def test_each_wrong_code_after_the_free_ones_doubles_the_wait():
    attempts = Attempts(failures=FREE_ATTEMPTS, last_failure=0.0)
    first = attempts.wait_left(now=0.0)
    check_code(attempts, "guess", CODE, now=first)
    assert attempts.wait_left(now=first) == pytest.approx(2 * first)
    assert Attempts(failures=100, last_failure=0.0).wait_left(now=0.0) == access.MAX_WAIT_S


def test_surrounding_spaces_are_forgiven_but_nothing_else():
    assert check_code(Attempts(), f" {CODE}\n", CODE, now=0).granted
    assert not check_code(Attempts(), CODE.upper(), CODE, now=0).granted
    assert not check_code(Attempts(), CODE[:-1], CODE, now=0).granted


# ---- launcher -------------------------------------------------------------------------------------------------


def _launch(monkeypatch, argv, env):
    """Runs the launcher up to the exec of streamlit; returns (command, environment) it would run."""
    for key in ("EXPLORER_LAN", "EXPLORER_ACCESS_CODE", "EXPLORER_ACCESS_CODE_FILE", "EXPLORER_ALLOWED_HOSTS"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    seen = {}
    monkeypatch.setattr(os, "execve", lambda path, command, child_env: seen.update(command=command, env=child_env))
    access.main(argv)
    return seen["command"], seen["env"]


def test_launcher_serves_localhost_without_a_code_by_default(monkeypatch, capsys):
    command, env = _launch(monkeypatch, ["--port", "8600", "--", "--checkpoints", "/x"], {})
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert command[command.index("--server.port") + 1] == "8600"
    assert command[-3:] == ["--", "--checkpoints", "/x"]
    assert "EXPLORER_ACCESS_CODE" not in env and "access code" not in capsys.readouterr().out


def test_launcher_in_lan_mode_makes_up_a_code_prints_it_and_hands_it_to_the_app_only(monkeypatch, capsys):
    command, env = _launch(monkeypatch, ["--lan", "--port", "8600"], {})
    code = env["EXPLORER_ACCESS_CODE"]
    assert command[command.index("--server.address") + 1] == "0.0.0.0"
    assert code in capsys.readouterr().out
    assert not any(code in part for part in command)  # not in the process list, not in a URL


def test_launcher_lan_switch_from_the_environment_keeps_a_given_code(monkeypatch, capsys):
    command, env = _launch(monkeypatch, [], {"EXPLORER_LAN": "1", "EXPLORER_ACCESS_CODE": CODE})
    assert command[command.index("--server.address") + 1] == "0.0.0.0"
    assert env["EXPLORER_ACCESS_CODE"] == CODE


def test_launcher_refuses_to_start_with_a_short_code(monkeypatch):
    with pytest.raises(SystemExit, match="at least 8"):
        _launch(monkeypatch, ["--lan"], {"EXPLORER_ACCESS_CODE": "abc"})


# ---- the gate (AppTest) ---------------------------------------------------------------------------------------


@pytest.fixture
def app_env(tmp_path, monkeypatch, make_checkpoint):
    """One tiny CoLA checkpoint and no defaults, so Home has a table to show once the gate opens."""
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    shutil.copytree(make_checkpoint("electra", name="e", finetuning_task="cola", seed=1), folder / "tiny-electra-cola")
    for key, value in {"EXPLORER_CHECKPOINTS": folder, "EXPLORER_MODELS": tmp_path / "models.toml", "EXPLORER_DEFAULTS": "0"}.items():
        monkeypatch.setenv(key, str(value))
    for key in ("EXPLORER_LAN", "EXPLORER_ACCESS_CODE", "EXPLORER_ACCESS_CODE_FILE"):
        monkeypatch.delenv(key, raising=False)
    st.cache_resource.clear()  # the access policy is read once per process
    yield monkeypatch
    st.cache_resource.clear()


def _open(page: str | None = None) -> AppTest:
    """A fresh session, run the way later runs go.

    AppTest resets Streamlit's legacy-pages flag before every run, so its first
    run takes app.py's one-time rerun path and later runs do not; the form's
    widget ids (which include the running script's hash) only match from the
    second run on. In a real server every run after the first takes one path.
    """
    at = AppTest.from_file(APP, default_timeout=60)
    if page:
        at.switch_page(page)
    return at.run().run()


def _shows_page_content(at: AppTest) -> bool:
    return bool(at.dataframe) or any("tiny-electra-cola" in str(m.value) for m in at.markdown)


def _type_code(at: AppTest, code: str) -> AppTest:
    at.text_input(key="access_code_input").input(code)
    at.button[0].click()  # the form's submit button
    return at.run()


def test_lan_mode_shows_only_the_code_form_until_the_right_code(app_env):
    app_env.setenv("EXPLORER_LAN", "1")
    app_env.setenv("EXPLORER_ACCESS_CODE", CODE)
    at = _open()
    assert not at.exception
    assert at.text_input(key="access_code_input").label == "Access code"
    assert not _shows_page_content(at)

    _type_code(at, "wrong-code-123")
    assert any("not right" in e.value for e in at.error)
    assert not _shows_page_content(at)

    _type_code(at, CODE)
    assert not at.exception and not at.error
    assert _shows_page_content(at)
    assert "tiny-electra-cola" in set(at.dataframe[0].value["model"])
    at.run()  # the session stays in
    assert _shows_page_content(at) and not at.text_input


def test_a_page_url_is_gated_too(app_env):
    app_env.setenv("EXPLORER_LAN", "1")
    app_env.setenv("EXPLORER_ACCESS_CODE", CODE)
    at = _open("pages/evaluate.py")
    assert at.text_input(key="access_code_input")
    assert not any(t.value == "Evaluate" for t in at.title)


def test_too_many_wrong_codes_lock_the_session_out_for_a_while(app_env):
    app_env.setenv("EXPLORER_ACCESS_CODE", CODE)  # localhost mode with a code set: gated as well
    at = _open()
    for _ in range(FREE_ATTEMPTS):
        _type_code(at, "wrong-code-123")
    _type_code(at, CODE)
    assert any("Try again in" in e.value for e in at.error)
    assert not _shows_page_content(at)


def test_localhost_without_a_code_opens_straight_away(app_env):
    at = _open()
    assert not at.exception and not at.text_input
    assert _shows_page_content(at)


def test_lan_mode_without_a_code_makes_one_up_and_prints_it(app_env, capsys):
    """Started without the launcher: the server still does not open without a code."""
    app_env.setenv("EXPLORER_LAN", "1")
    at = _open()
    assert at.text_input(key="access_code_input") and not _shows_page_content(at)
    assert "Access code:" in capsys.readouterr().err


def test_an_unreadable_code_file_keeps_everyone_out_with_a_reason(app_env, tmp_path):
    app_env.setenv("EXPLORER_LAN", "1")
    app_env.setenv("EXPLORER_ACCESS_CODE_FILE", str(tmp_path / "missing.txt"))
    at = _open()
    assert not at.exception
    assert any("access code setting cannot be used" in e.value for e in at.error)
    assert not _shows_page_content(at) and not at.text_input
