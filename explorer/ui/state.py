"""Process-wide objects and first-start preparation, cached across sessions."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import streamlit as st

from explorer.defaults.prepare import is_prepared, prepare
from explorer.settings import Settings, load_settings

# torch and transformers (explorer.device, explorer.service) are imported where they are used, not here: app.py
# and every page import this module before drawing anything, and a fresh server is still loading them
# (explorer.ui.boot).
if TYPE_CHECKING:
    from explorer.service import Explorer


@st.cache_resource(show_spinner=False)
def get_explorer() -> Explorer:
    """One Explorer (and so one model cache) for every browser session.

    Flags after ``--`` on the ``streamlit run`` line reach the script as
    ``sys.argv[1:]`` (``--checkpoints DIR``).
    """
    from explorer.service import Explorer

    return Explorer(app_settings())


def app_settings() -> Settings:
    """The settings of this server: ``EXPLORER_*`` variables and the flags after ``--``.

    Read on every run (cheap), never cached: a bad setting is reported on each run until it is fixed.
    """
    return load_settings(sys.argv[1:])


def settings_or_stop() -> Settings:
    """``app_settings()``, or a message and a stopped page when they cannot be used.

    Checked before any page runs, without building the Explorer (which needs
    transformers: seconds on a fresh server).
    """
    try:
        return app_settings()
    except ValueError as exc:  # a bad EXPLORER_* variable or flag; the message names it
        st.error(f"The app cannot start with these settings: {exc}")
        st.stop()


def leave_legacy_multipage_mode() -> None:
    """Makes Streamlit run ``app.py`` even when the first visit is a page URL.

    Streamlit treats a ``pages/`` folder beside the main script as a legacy
    (v1) multipage app until some script calls ``st.navigation``. A first visit
    straight to ``/acceptability`` would then run the page file alone: no
    sidebar, no page config. Switching the process-wide flag off and rerunning
    lets ``app.py`` route the request as intended. Called at the top of
    ``app.py`` and of every page. Only a fresh session reruns, so nothing a
    user typed is lost (the flag is process-wide and stays off afterwards).
    A page that goes on running alone has skipped app.py's access gate, so it
    passes the gate here (for app.py itself that is the same check, done once
    more at no cost).
    """
    from streamlit.runtime.pages_manager import PagesManager

    from explorer.ui.access import require_access

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        if not st.session_state:
            st.rerun()
        require_access()


def ensure_defaults(settings: Settings) -> None:
    """Builds the offline defaults on first start, showing progress.

    ``make run`` prepares them before Streamlit starts, so this only runs
    when someone starts ``streamlit run app.py`` on a fresh machine.
    """
    if not settings.include_defaults or is_prepared(settings):
        return
    with st.status("First start: preparing the offline default models (about 2–3 minutes)…", expanded=True) as status:
        bar = st.progress(0.0)

        def progress(fraction: float, message: str) -> None:
            bar.progress(min(1.0, max(0.0, fraction)), text=message)

        try:
            prepare(settings, progress=progress)
        except Exception as exc:  # keep the app usable with user checkpoints
            status.update(label="Preparing the default models failed", state="error")
            st.error(f"The offline defaults could not be built: {exc}. User checkpoints still work.")
            return
        status.update(label="Default models ready", state="complete", expanded=False)


def device_picker() -> str:
    """Sidebar device choice, shared by all pages through session state."""
    from explorer.device import available_devices

    options = available_devices()
    default = app_settings().device
    index = options.index(default) if default in options else 0
    return st.sidebar.selectbox("Device", options, index=index, key="device", help="auto = CUDA, then Apple MPS, then CPU")


def precision_picker() -> str:
    """Sidebar precision choice (``explorer.device.PRECISIONS``), offered only where the hardware runs it."""
    from explorer.device import available_precisions, pick_device

    options = available_precisions(pick_device(st.session_state.get("device") or app_settings().device))
    if st.session_state.get("precision") not in options:
        st.session_state["precision"] = "fp32"
    return st.sidebar.selectbox(
        "Precision", options, key="precision",
        help="fp32: exact. bf16: the matmuls in bfloat16 (about twice as fast on CPUs with AMX or AVX512-BF16, "
             "offered only there); answers agree with fp32 except on borderline items. Results say which was used.",
    )


def current_precision() -> str:
    """The precision the sidebar chose (fp32 until someone picks another)."""
    return st.session_state.get("precision") or "fp32"
