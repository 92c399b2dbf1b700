"""Resident memory and open file descriptors of this process, read from /proc (Linux only)."""

from __future__ import annotations

import os


def resident_mib() -> float:
    """Return this process's resident set size in MiB, or NaN where /proc is missing."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def open_files() -> int:
    """Return the number of open file descriptors."""
    return len(os.listdir("/proc/self/fd"))
