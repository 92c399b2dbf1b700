"""Locations of user data, the session database and the bundled default model."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "MindGarden"
HOME_ENV = "MINDGARDEN_HOME"
MODEL_ENV = "MINDGARDEN_MODEL"

DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


def data_dir() -> Path:
    """Return the user data directory, created if missing; ``MINDGARDEN_HOME`` overrides it."""
    override = os.environ.get(HOME_ENV)
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_path() -> Path:
    return data_dir() / "sessions.sqlite3"


def user_personas_dir() -> Path:
    return data_dir() / "personas"


def user_models_dir() -> Path:
    return data_dir() / "models"


def install_root() -> Path:
    """Return the folder that contains ``resources/`` and ``models/``.

    In a source checkout or editable install this is the repository root; in a
    PyInstaller bundle it is the bundle's data folder.
    """
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root)
    return Path(__file__).resolve().parents[2]


def resources_dir() -> Path:
    return install_root() / "resources"


def bundled_models_dir() -> Path:
    return install_root() / "models"


def default_model_candidates() -> list[Path]:
    """Return the places searched for the default model, in order."""
    candidates = []
    override = os.environ.get(MODEL_ENV)
    if override:
        candidates.append(Path(override))
    candidates.append(user_models_dir() / DEFAULT_MODEL_FILE)
    candidates.append(bundled_models_dir() / DEFAULT_MODEL_FILE)
    return candidates


def find_default_model() -> Path | None:
    """Return the first existing default model file, or None when it was never provisioned."""
    for candidate in default_model_candidates():
        if candidate.is_file():
            return candidate
    return None
