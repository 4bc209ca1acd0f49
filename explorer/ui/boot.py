"""A fresh server's first page, fast: the heavy imports load in the background.

Importing torch and transformers (and the model-loading code on top of them)
takes 4–9 s on 2 cores. Nothing on the first screen needs them: the navigation
and Home's title come from the task registry alone. So the server starts
importing them in a background thread the moment it starts (``python -m
explorer.ui.boot run app.py ...``, what ``make run`` and the tests launch), and
``app.py`` starts the same thread on its first run when Streamlit was started
directly (``streamlit run app.py``). A page that needs a module before the
thread has it simply waits on Python's import lock, so nothing runs twice.
"""

from __future__ import annotations

import importlib
import sys
import threading
import traceback

# What Home needs beyond the first screen: the device list (torch), the registry
# and model loading (transformers), Home's table.
HEAVY_MODULES = ("explorer.device", "explorer.service", "explorer.ui.home")

_lock = threading.Lock()
_thread: threading.Thread | None = None


def _import_all() -> None:
    for name in HEAVY_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # the page that imports it shows the error; the terminal gets the details now
            print(f"ko-model-explorer: warming up {name} failed:\n{traceback.format_exc()}", file=sys.stderr, flush=True)


def warm_up() -> threading.Thread:
    """Starts importing ``HEAVY_MODULES`` in a daemon thread, once per process."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_import_all, name="explorer-warm-up", daemon=True)
            _thread.start()
        return _thread


def warming_up() -> bool:
    """Whether the background imports are still running (a fresh server)."""
    return _thread is not None and _thread.is_alive()


def main(argv: list[str] | None = None) -> None:
    """``python -m explorer.ui.boot run app.py [flags] -- [app args]``: ``streamlit run``, warming up meanwhile."""
    from streamlit.web import cli

    warm_up()
    sys.argv = ["streamlit", *(sys.argv[1:] if argv is None else argv)]
    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
