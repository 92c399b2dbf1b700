"""The domain and inference layers must work without Qt."""

from __future__ import annotations

import subprocess
import sys

BLOCKER = """
import sys
class BlockQt:
    def find_spec(self, name, path=None, target=None):
        if name == "PySide6" or name.startswith("PySide6.") or name.startswith("shiboken6"):
            raise ImportError("PySide6 is blocked in this test")
        return None
sys.meta_path.insert(0, BlockQt())
import pkgutil, importlib
import mindgarden.core, mindgarden.engine
for package in (mindgarden.core, mindgarden.engine):
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
import mindgarden.cli
print("ok", sorted(name for name in sys.modules if name.startswith("PySide6")))
"""


def test_core_and_engine_import_without_qt():
    completed = subprocess.run([sys.executable, "-c", BLOCKER], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "ok []"
