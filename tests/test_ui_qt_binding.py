"""The installed Qt binding keeps Python's reference counts intact when signals are emitted."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    changed = Signal(float)


def test_signal_emit_keeps_true_refcount():
    emitter = _Emitter()
    before = sys.getrefcount(True)
    for _ in range(200):
        emitter.changed.emit(1.5)
    after = sys.getrefcount(True)
    # PySide6 6.12.0 lost one reference per emit, which aborts Python 3.11 in bool_dealloc.
    assert after >= before - 5
