"""Entry point for ``python -m mindgarden``."""

from __future__ import annotations

import sys

from mindgarden.cli import main

if __name__ == "__main__":
    sys.exit(main())
