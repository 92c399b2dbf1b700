"""MindGarden: grow branching thought trees from an idea with a local language model."""

from __future__ import annotations

__version__ = "0.1.0"
