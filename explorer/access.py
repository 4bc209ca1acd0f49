"""Who may open the app: where it listens, the access code, the Host allow-list.

By default the server listens on 127.0.0.1 only and needs no code. A peer
session (``make run LAN=1`` or ``EXPLORER_LAN=1 make run``) listens on every
interface, and then every browser session must type a shared access code
before any page renders. The code comes from ``EXPLORER_ACCESS_CODE``, or a
file named by ``EXPLORER_ACCESS_CODE_FILE``; without either, one is made up at
start and printed to the terminal (never put in a URL, where it would end up
in browser history and shared links).

``python -m explorer.access`` is the launcher ``make run`` uses: it settles
the mode, prints the code, and starts ``streamlit run app.py`` with the bind
address and Host allow-list. The gate in ``explorer.ui.access`` checks the
code inside the app. No Streamlit here, so all of it is testable alone.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from explorer.safeio import KB, FileRefused, read_limited
from explorer.settings import load_settings

LAN_ENV = "EXPLORER_LAN"
CODE_ENV = "EXPLORER_ACCESS_CODE"
CODE_FILE_ENV = "EXPLORER_ACCESS_CODE_FILE"
HOSTS_ENV = "EXPLORER_ALLOWED_HOSTS"

# Host names a browser on this machine uses; .streamlit/config.toml lists the same.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
LAN_ADDRESS = "0.0.0.0"
LOCAL_ADDRESS = "127.0.0.1"

# A code shorter than this can be guessed within the attempts a session is allowed.
MIN_CODE_LENGTH = 8
CODE_FILE_LIMIT = 4 * KB
# Letters and digits that cannot be misread for each other (no 0/o, 1/l/i).
_CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"

# Wrong codes a session may type before it has to wait; each further one doubles the wait.
FREE_ATTEMPTS = 5
FIRST_WAIT_S = 10.0
MAX_WAIT_S = 300.0


class AccessSetupError(ValueError):
    """The access settings cannot be used; the message is written for whoever starts the server."""


def is_on(value: str | None) -> bool:
    """True for the ways people write 'yes' in an environment variable."""
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def lan_requested(env: dict[str, str] | os._Environ = os.environ) -> bool:
    return is_on(env.get(LAN_ENV))


def is_loopback_address(address: str | None) -> bool:
    """Whether a ``server.address`` reaches this machine only.

    ``None`` or empty means Streamlit's default, which is every interface.
    """
    if not address:
        return False
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: assume it may be reachable from elsewhere


def read_access_code(env: dict[str, str] | os._Environ = os.environ) -> str | None:
    """The configured access code, or None when neither variable is set.

    Raises:
        AccessSetupError: the code is too short, or its file cannot be read.
    """
    code = env.get(CODE_ENV)
    source = CODE_ENV
    if not code and env.get(CODE_FILE_ENV):
        path = Path(env[CODE_FILE_ENV]).expanduser()
        source = str(path)
        try:
            code = read_limited(path, CODE_FILE_LIMIT, what="access code file").decode("utf-8")
        except (FileRefused, OSError, UnicodeDecodeError) as exc:
            raise AccessSetupError(f"The access code file {path} cannot be read: {exc}") from None
    if not code:
        return None
    code = code.strip()
    if len(code) < MIN_CODE_LENGTH:
        raise AccessSetupError(
            f"The access code from {source} has {len(code)} characters; use at least {MIN_CODE_LENGTH}, "
            f"or unset it and one is made up for you."
        )
    return code


def new_access_code() -> str:
    """A random code of 12 easily read characters (about 60 bits), in groups of four."""
    chars = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
    return "-".join(chars[i : i + 4] for i in range(0, 12, 4))


def code_matches(given: str, expected: str) -> bool:
    """Constant-time comparison, so the time taken does not tell how much of a guess was right."""
    return hmac.compare_digest(given.strip().encode("utf-8"), expected.encode("utf-8"))


@dataclass
class Attempts:
    """One browser session's wrong codes (kept in its session state)."""

    failures: int = 0
    last_failure: float = 0.0

    def wait_left(self, now: float) -> float:
        """Seconds before this session may try again; 0 when it may."""
        if self.failures < FREE_ATTEMPTS:
            return 0.0
        wait = min(MAX_WAIT_S, FIRST_WAIT_S * 2 ** (self.failures - FREE_ATTEMPTS))
        return max(0.0, self.last_failure + wait - now)


@dataclass(frozen=True)
class Verdict:
    granted: bool
    message: str = ""


def check_code(attempts: Attempts, given: str, expected: str, now: float) -> Verdict:
    """Checks a typed code, counting wrong ones; while a session must wait, no code is checked at all."""
    wait = attempts.wait_left(now)
    if wait > 0:
        return Verdict(False, f"Too many wrong codes. Try again in {wait:.0f} s.")
    if code_matches(given, expected):
        attempts.failures = 0
        return Verdict(True)
    attempts.failures += 1
    attempts.last_failure = now
    left = FREE_ATTEMPTS - attempts.failures
    hint = f" {left} more tries before a wait." if left > 0 else " Wait a moment before the next try."
    return Verdict(False, "That access code is not right. Ask whoever started the server for it." + hint)


def machine_hosts() -> list[str]:
    """This machine's names and addresses, as peers on the LAN would type them in the address bar."""
    names = {socket.gethostname()}
    try:
        names.add(socket.getfqdn())
    except OSError:
        pass
    names |= {f"{n.split('.')[0]}.local" for n in list(names) if n}  # mDNS name (macOS, Avahi)
    try:
        import psutil  # installed with accelerate; lists every interface's address

        for addrs in psutil.net_if_addrs().values():
            names |= {a.address.split("%")[0] for a in addrs if a.family in (socket.AF_INET, socket.AF_INET6)}
    except ImportError:
        try:
            names |= set(socket.gethostbyname_ex(socket.gethostname())[2])
        except OSError:
            pass
    return sorted(n for n in names if n and not n.startswith("localhost"))  # getfqdn() may answer localhost


def allowed_hosts(lan: bool, env: dict[str, str] | os._Environ = os.environ) -> list[str]:
    """Host headers the server accepts: local names, plus in LAN mode the machine's and ``EXPLORER_ALLOWED_HOSTS``."""
    hosts = list(LOCAL_HOSTS)
    if lan:
        hosts += machine_hosts()
    hosts += (env.get(HOSTS_ENV) or "").replace(",", " ").split()
    return list(dict.fromkeys(h.lower() for h in hosts))


def server_flags(lan: bool, env: dict[str, str] | os._Environ = os.environ) -> list[str]:
    """``streamlit run`` flags for the mode: bind address and Host allow-list."""
    flags = ["--server.address", LAN_ADDRESS if lan else LOCAL_ADDRESS]
    for host in allowed_hosts(lan, env):
        flags += ["--server.allowedHosts", host]
    return flags


def main(argv: list[str] | None = None) -> None:
    """``python -m explorer.access [--lan] [--port N] [-- app args]``: start the app in the chosen mode."""
    args = list(sys.argv[1:] if argv is None else argv)
    app_args = args[args.index("--") + 1 :] if "--" in args else []
    own = args[: args.index("--")] if "--" in args else args
    lan = "--lan" in own or lan_requested()
    port = own[own.index("--port") + 1] if "--port" in own else "8501"
    env = dict(os.environ)
    try:
        code = read_access_code(env)
        load_settings(app_args, env)  # a bad flag or EXPLORER_* variable stops here, with its name
    except (AccessSetupError, ValueError) as exc:
        sys.exit(f"Not started: {exc}")
    if lan:
        env[LAN_ENV] = "1"
        if code is None:
            code = new_access_code()
            env[CODE_ENV] = code  # the app process reads it; environments are private to the user
        print(f"\n  Peer session: serving on every interface, port {port}.")
        print(f"  Peers open http://{_lan_address()}:{port} and type the access code: {code}\n", flush=True)
    app = str(Path(__file__).resolve().parent.parent / "app.py")
    # explorer.ui.boot is `streamlit run` that starts importing torch and transformers while the server starts.
    command = [sys.executable, "-m", "explorer.ui.boot", "run", app, "--server.port", port, *server_flags(lan, env), "--", *app_args]
    os.execve(sys.executable, command, env)


def _lan_address() -> str:
    """The address peers most likely reach: the one the default route leaves from (nothing is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed, only picks the outgoing interface
            return s.getsockname()[0]
    except OSError:
        return socket.gethostname()


if __name__ == "__main__":
    main()
