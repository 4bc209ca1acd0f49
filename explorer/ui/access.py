"""The access gate: app.py calls ``require_access`` before any page runs."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import streamlit as st

from explorer.access import AccessSetupError, Attempts, check_code, is_loopback_address, lan_requested, new_access_code, read_access_code

_GRANTED = "access_granted"
_ATTEMPTS = "access_attempts"


@dataclass(frozen=True)
class Policy:
    code: str | None  # None: no code needed
    problem: str | None = None  # the settings are unusable: nobody gets in


@st.cache_resource(show_spinner=False)
def access_policy() -> Policy:
    """Read once per server process, so every session checks against the same code.

    A server bound beyond this machine needs a code even when it was started
    without the launcher (``streamlit run app.py --server.address 0.0.0.0``);
    then the code is made up here and printed to the terminal the server runs in.
    """
    open_to_lan = lan_requested() or not is_loopback_address(st.get_option("server.address"))
    try:
        code = read_access_code()
    except AccessSetupError as exc:
        print(f"ko-model-explorer: {exc}", file=sys.stderr, flush=True)
        return Policy(None, problem=f"This server's access code setting cannot be used: {exc}")
    if code is None and open_to_lan:
        code = new_access_code()
        print(f"\n  ko-model-explorer is open to the network. Access code: {code}\n", file=sys.stderr, flush=True)
    return Policy(code)


def require_access() -> None:
    """Shows the code form and stops the script until this session has typed the right code."""
    policy = access_policy()
    if policy.problem:
        st.error(policy.problem + " Whoever started it should fix the setting and restart.")
        st.stop()
    if policy.code is None or st.session_state.get(_GRANTED):
        return
    st.title("ko-model-explorer")
    st.caption("This is a shared session. Type the access code that was printed where the server was started.")
    with st.form("access_form"):
        typed = st.text_input("Access code", type="password", key="access_code_input")
        submitted = st.form_submit_button("Enter", type="primary")
    if submitted:
        attempts = st.session_state.setdefault(_ATTEMPTS, Attempts())
        verdict = check_code(attempts, typed or "", policy.code, time.monotonic())
        if verdict.granted:
            st.session_state[_GRANTED] = True
            st.rerun()
        st.error(verdict.message)
    st.stop()
