"""Native crash reports: faulthandler writes into the data folder, the next start offers them."""

from __future__ import annotations

import faulthandler
import logging
import time
from pathlib import Path
from typing import IO

from mindgarden.core import paths

log = logging.getLogger(__name__)

CRASH_FILE = "crash.log"
_handle: IO[str] | None = None


def enable() -> Path:
    """Send faulthandler's traceback of a native crash to ``crash.log`` in the data folder."""
    global _handle
    path = paths.data_dir() / CRASH_FILE
    if _handle is None:
        _handle = path.open("w", encoding="utf-8")
        faulthandler.enable(file=_handle, all_threads=True)
        log.info("Native crash reports go to %s", path)
    return path


def take_previous_report() -> tuple[Path, str] | None:
    """Return a crash report left by an earlier run, renamed so it is offered only once.

    Call this before ``enable``, which starts a new, empty crash file.
    """
    path = paths.data_dir() / CRASH_FILE
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    if not text.strip():
        return None
    kept = path.with_name(f"crash-{time.strftime('%Y%m%d-%H%M%S')}.log")
    path.replace(kept)
    log.warning("A previous run crashed in native code; its report is in %s", kept)
    return kept, text
