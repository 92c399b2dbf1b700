"""User settings in settings.json in the data folder: validated on load, saved atomically."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mindgarden.core import paths
from mindgarden.core.errors import InvalidInputError, StorageError
from mindgarden.core.personas import NAME_PATTERN
from mindgarden.core.sampling import MAX_BRANCHES, MAX_TEMPERATURE, SamplerSettings

log = logging.getLogger(__name__)

SETTINGS_FILE = "settings.json"
THEMES = ("system", "light", "dark")
MAX_NEW_TOKENS = 4096
DEFAULT_PERSONAS = ("neutral", "unhurried", "sceptical-expert", "tired-night")

# Base sampler values that the settings file may set; temperature comes from the range instead.
SAMPLER_KEYS = (
    "min_p", "top_p", "top_k", "xtc_probability", "xtc_threshold", "top_n_sigma", "dry_multiplier",
    "dry_base", "dry_allowed_length", "repeat_penalty", "mirostat_tau",
)


@dataclass(frozen=True)
class Settings:
    """Defaults of the expansion panel, the base sampler, the model source and the colour theme.

    ``model_path`` None means the bundled default model. With ``use_remote`` set, loading a
    model connects to ``remote_base_url`` and requests ``remote_model`` instead. The server's
    API key is never stored here: the system keyring keeps it.
    """

    branches: int = 4
    low_temperature: float = 0.7
    high_temperature: float = 1.3
    max_new_tokens: int = 96
    personas: tuple[str, ...] = DEFAULT_PERSONAS
    sampler: SamplerSettings = field(default_factory=SamplerSettings)
    model_path: str | None = None
    # None: as many layers as the GPU's free memory holds; 0: CPU only.
    gpu_layers: int | None = None
    theme: str = "system"
    use_remote: bool = False
    remote_base_url: str | None = None
    remote_model: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON layout that ``load_settings`` reads."""
        sampler = self.sampler.to_dict()
        return {
            "branches": self.branches,
            "low_temperature": self.low_temperature,
            "high_temperature": self.high_temperature,
            "max_new_tokens": self.max_new_tokens,
            "personas": list(self.personas),
            "sampler": {key: sampler[key] for key in SAMPLER_KEYS},
            "model_path": self.model_path,
            "gpu_layers": self.gpu_layers,
            "theme": self.theme,
            "use_remote": self.use_remote,
            "remote_base_url": self.remote_base_url,
            "remote_model": self.remote_model,
        }


def settings_path() -> Path:
    return paths.data_dir() / SETTINGS_FILE


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_top_level(key: str, value: Any) -> tuple[Any, str | None]:
    """Return the value converted to its field type, or a reason why it is invalid."""
    if key == "branches":
        if _is_int(value) and 1 <= value <= MAX_BRANCHES:
            return value, None
        return None, f"it must be a whole number from 1 to {MAX_BRANCHES}"
    if key in ("low_temperature", "high_temperature"):
        if _is_number(value) and 0.0 <= value <= MAX_TEMPERATURE:
            return float(value), None
        return None, f"it must be a number from 0 to {MAX_TEMPERATURE}"
    if key == "max_new_tokens":
        if _is_int(value) and 1 <= value <= MAX_NEW_TOKENS:
            return value, None
        return None, f"it must be a whole number from 1 to {MAX_NEW_TOKENS}"
    if key == "personas":
        if (isinstance(value, list) and value
                and all(isinstance(name, str) and NAME_PATTERN.match(name) for name in value)):
            return tuple(value), None
        return None, "it must be a non-empty list of persona names (lower-case letters, digits and dashes)"
    if key == "model_path":
        if value is None or (isinstance(value, str) and value.strip()):
            return (value.strip() if value else None), None
        return None, "it must be the path of a GGUF file, or null for the bundled model"
    if key == "gpu_layers":
        if value is None or (_is_int(value) and 0 <= value <= 999):
            return value, None
        return None, "it must be null (automatic), 0 (CPU only) or a layer count up to 999"
    if key == "theme":
        if value in THEMES:
            return value, None
        return None, f"it must be one of {', '.join(THEMES)}"
    if key == "use_remote":
        if isinstance(value, bool):
            return value, None
        return None, "it must be true or false"
    if key == "remote_base_url":
        if value is None or (isinstance(value, str) and value.strip().lower().startswith(("http://", "https://"))):
            return (value.strip() if value else None), None
        return None, "it must be an http:// or https:// address, or null"
    if key == "remote_model":
        if value is None or (isinstance(value, str) and value.strip()):
            return (value.strip() if value else None), None
        return None, "it must be the model name the server serves, or null"
    raise KeyError(key)


def _check_sampler_value(key: str, value: Any) -> str | None:
    """Return why a base sampler value is invalid, or None when it is valid."""
    default = getattr(SamplerSettings(), key)
    if isinstance(default, int) and not _is_int(value):
        return "it must be a whole number"
    if isinstance(default, float) and not _is_number(value):
        return "it must be a number"
    try:
        SamplerSettings(**{key: value}).validated()
    except InvalidInputError as error:
        return str(error)
    return None


def _load_sampler(raw: Any, path: Path, problems: list[str]) -> SamplerSettings:
    if not isinstance(raw, dict):
        problems.append(f"Setting 'sampler' in {path} is invalid: it must be an object of sampler values. "
                        "Using the default sampler settings.")
        return SamplerSettings()
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in SAMPLER_KEYS:
            problems.append(f"Setting 'sampler.{key}' in {path} is unknown and was ignored. "
                            f"Known sampler settings: {', '.join(SAMPLER_KEYS)}.")
            continue
        reason = _check_sampler_value(key, value)
        if reason is not None:
            default = getattr(SamplerSettings(), key)
            problems.append(f"Setting 'sampler.{key}' = {value!r} in {path} is invalid: {reason}. "
                            f"Using the default {default!r}.")
            continue
        values[key] = value
    return SamplerSettings(**values)


def load_settings(path: Path | None = None) -> tuple[Settings, list[str]]:
    """Read the settings file; a missing file gives the defaults.

    Each invalid value falls back to its default and adds a message naming the value and
    the file; the valid values are kept. Returns the settings and those messages.
    """
    path = path or settings_path()
    defaults = Settings()
    problems: list[str] = []
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return defaults, problems
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        message = (f"Settings file {path} cannot be read ({error}), so every setting uses its default. "
                   "Fix the file, or save settings to replace it.")
        log.warning("%s", message)
        return defaults, [message]
    if not isinstance(raw, dict):
        message = f"Settings file {path} must contain a JSON object, so every setting uses its default."
        log.warning("%s", message)
        return defaults, [message]

    values: dict[str, Any] = {}
    field_names = {item.name for item in dataclasses.fields(Settings)}
    for key, value in raw.items():
        if key not in field_names:
            problems.append(f"Setting {key!r} in {path} is unknown and was ignored.")
            continue
        if key == "sampler":
            values[key] = _load_sampler(value, path, problems)
            continue
        converted, reason = _check_top_level(key, value)
        if reason is not None:
            problems.append(f"Setting {key!r} = {value!r} in {path} is invalid: {reason}. "
                            f"Using the default {getattr(defaults, key)!r}.")
            continue
        values[key] = converted

    for problem in problems:
        log.warning("%s", problem)
    return dataclasses.replace(defaults, **values), problems


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write the settings to a temporary file, then replace the old file with it.

    Raises StorageError naming the file when the folder cannot be written.
    """
    path = path or settings_path()
    text = json.dumps(settings.to_dict(), indent=2, sort_keys=True) + "\n"
    temporary: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".tmp", delete=False) as handle:
            temporary = Path(handle.name)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:
        log.error("Saving settings to %s failed: %s", path, error)
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise StorageError(f"Saving settings to {path} failed: {error}. "
                           "Check the folder's permissions and free space.") from error
    log.info("Saved settings to %s", path)
    return path
