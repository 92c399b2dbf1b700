"""A native crash leaves a report that the next start finds once."""

from __future__ import annotations

import os
import subprocess
import sys

from mindgarden.core import crashlog, paths

CRASHER = """
import ctypes
from mindgarden.core import crashlog
crashlog.enable()
ctypes.string_at(0)
"""


def test_segfault_report_offered_once(home):
    completed = subprocess.run([sys.executable, "-c", CRASHER], env={**os.environ, paths.HOME_ENV: str(home)},
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode != 0
    report = crashlog.take_previous_report()
    assert report is not None
    kept, text = report
    assert "Segmentation fault" in text
    assert kept.exists()
    assert crashlog.take_previous_report() is None


def test_clean_run_leaves_no_report(home):
    completed = subprocess.run([sys.executable, "-c", "from mindgarden.core import crashlog; crashlog.enable()"],
                               env={**os.environ, paths.HOME_ENV: str(home)}, timeout=60)
    assert completed.returncode == 0
    assert crashlog.take_previous_report() is None
