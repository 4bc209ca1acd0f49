"""Reading files that users and classmates hand us, with bounds.

A checkpoint folder copied from someone's drive may hold a ``config.json``
that is a FIFO (reading blocks forever), a link to ``/dev/zero`` (reading
never ends), or a file of gigabytes. Every small file the app reads (configs,
TOML, JSON results, data files) goes through ``read_limited``: it refuses
anything that is not a regular file and never reads more than a stated limit,
so one bad file costs a message, not the server.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

KB = 1024
MB = 1024 * KB

# Limits sized to what real files need, with room to spare: the largest config
# in the hub's Korean models is a few KB; a models.toml is hand-written; the
# largest published NIKL/KoBEST file (NIKL WiC train) is about 2.3 MB. DATA_LIMIT
# also caps uploads: server.maxUploadSize in .streamlit/config.toml is the same 20 MB.
CONFIG_LIMIT = 4 * MB
TOML_LIMIT = 1 * MB
DATA_LIMIT = 20 * MB


class FileRefused(ValueError):
    """A file cannot be read safely; the message is written for the user."""


def read_limited(path: Path | str, limit: int, what: str = "file") -> bytes:
    """Reads a regular file of at most ``limit`` bytes.

    Args:
        path: The file.
        limit: The most bytes accepted.
        what: How the message names the file (``config``, ``data file``).

    Raises:
        FileRefused: for a FIFO, device, socket or folder, and for a file over ``limit``.
        FileNotFoundError / PermissionError: as ``open`` raises them.
    """
    path = Path(path)
    # O_NONBLOCK: opening a FIFO with no writer would otherwise block before we can look at it.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(f"{path.name} is not a regular file ({_kind(info.st_mode)}); the {what} was not read.")
        if info.st_size > limit:
            raise FileRefused(f"{path.name} is {size_text(info.st_size)}; a {what} may be at most {size_text(limit)}, so it was not read.")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)  # a file growing while we read is bounded too
    finally:
        os.close(fd)
    if len(data) > limit:
        raise FileRefused(f"{path.name} grew past {size_text(limit)} while it was read; the {what} was not read.")
    return data


def read_limited_text(path: Path | str, limit: int, what: str = "file") -> str:
    """``read_limited`` decoded as UTF-8 (a BOM is dropped)."""
    return read_limited(path, limit, what).decode("utf-8-sig")


def is_regular_file(path: Path | str) -> bool:
    """True for a regular file (following links), False for FIFOs, devices, folders and missing paths."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def size_text(n: int) -> str:
    """Bytes as a person reads them: 812 bytes, 3.4 KB, 64 MB."""
    if n < KB:
        return f"{n} bytes"
    if n < MB:
        return f"{n / KB:.1f} KB"
    return f"{n / MB:.1f} MB"


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "not a plain file"
