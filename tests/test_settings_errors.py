"""A bad setting is named where the server or the command starts, never a traceback or a silent default."""

from __future__ import annotations

import subprocess
import sys

import pytest

from explorer.cli import main
from explorer.settings import load_settings

REPO = __import__("pathlib").Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("env", "named"), [
    ({"EXPLORER_MAX_MODELS": "x"}, "EXPLORER_MAX_MODELS must be a whole number of models"),
    ({"EXPLORER_MAX_MODELS": "0"}, "EXPLORER_MAX_MODELS must be a whole number of models"),
    ({"EXPLORER_CACHE_MB": "lots"}, "EXPLORER_CACHE_MB must be a whole number of megabytes"),
])
def test_bad_environment_values_are_refused_by_name(env, named):
    with pytest.raises(ValueError, match=named):
        load_settings([], env)


def test_flags_win_and_are_checked_too():
    assert load_settings(["--max-models", "3", "--cache-mb", "512"], {"EXPLORER_MAX_MODELS": "x"}).max_models == 3
    with pytest.raises(ValueError, match="--max-models"):
        load_settings(["--max-models", "many"], {})


def test_the_cli_says_which_variable_is_wrong(monkeypatch, capsys):
    monkeypatch.setenv("EXPLORER_MAX_MODELS", "x")
    assert main(["models"]) == 2
    assert "EXPLORER_MAX_MODELS must be a whole number" in capsys.readouterr().err


def test_the_launcher_does_not_start_the_server_with_a_bad_setting():
    out = subprocess.run([sys.executable, "-m", "explorer.access", "--port", "1"], cwd=REPO, capture_output=True,
                         text=True, env={"PATH": "/usr/bin:/bin", "EXPLORER_CACHE_MB": "0"}, timeout=120)
    assert out.returncode != 0 and "Not started: EXPLORER_CACHE_MB must be a whole number" in out.stderr


def test_the_app_shows_the_setting_instead_of_a_page(monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("EXPLORER_CACHE_MB", "-5")
    from explorer.ui.state import get_explorer

    get_explorer.clear()
    try:
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
        assert any("EXPLORER_CACHE_MB must be a whole number" in e.value for e in at.error)
        assert not at.exception
    finally:
        get_explorer.clear()
