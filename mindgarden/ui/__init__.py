"""Qt desktop interface: adapts the core thought tree to views and sends user intent back."""

from __future__ import annotations
