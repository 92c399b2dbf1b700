"""Persona states: priming texts for a writer's mental state, loaded from TOML files."""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from mindgarden.core import paths
from mindgarden.core.errors import InvalidInputError

log = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")


@dataclass(frozen=True)
class Persona:
    """One persona state: a short name, a one-line description and the priming text."""

    name: str
    description: str
    priming: str
    temperature: float
    source: Path | None = None

    def to_toml(self) -> str:
        """Serialise as the TOML layout that ``load_persona_file`` reads."""

        def quote(text: str) -> str:
            escaped = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
            return f'"""\n{escaped}"""'

        return (
            f'name = "{self.name}"\n'
            f"description = {quote(self.description)}\n"
            f"temperature = {self.temperature}\n"
            f"priming = {quote(self.priming)}\n"
        )


def load_persona_file(path: Path) -> Persona:
    """Read one persona TOML file; raises InvalidInputError naming the file and the problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InvalidInputError(f"Persona file {path} cannot be read: {error}. Fix or delete the file.") from error

    name = data.get("name", path.stem)
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise InvalidInputError(
            f"Persona file {path} has an invalid name {name!r}: use lower-case letters, digits and dashes."
        )
    description = data.get("description", "")
    priming = data.get("priming", "")
    temperature = data.get("temperature", 1.0)
    if not isinstance(description, str) or not isinstance(priming, str):
        raise InvalidInputError(f"Persona file {path}: description and priming must be text.")
    if not isinstance(temperature, (int, float)) or not 0.0 <= temperature <= 5.0:
        raise InvalidInputError(f"Persona file {path}: temperature {temperature!r} must be a number from 0 to 5.")
    return Persona(name, description.strip(), priming.strip(), float(temperature), path)


def _load_folder(folder: Path, into: dict[str, Persona]) -> None:
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.toml")):
        try:
            persona = load_persona_file(path)
        except InvalidInputError as error:
            log.warning("Skipped persona file: %s", error)
            continue
        into[persona.name] = persona


def load_personas(user_dir: Path | None = None) -> dict[str, Persona]:
    """Load the bundled persona states, then the user's, which add to or override them."""
    personas: dict[str, Persona] = {}
    _load_folder(paths.resources_dir() / "personas", personas)
    _load_folder(user_dir or paths.user_personas_dir(), personas)
    if "neutral" not in personas:
        personas["neutral"] = Persona("neutral", "No priming.", "", 1.0)
    return dict(sorted(personas.items(), key=lambda item: (item[0] != "neutral", item[0])))


def save_user_persona(persona: Persona, user_dir: Path | None = None) -> Path:
    """Write a persona into the user's folder, where it overrides a bundled one of the same name."""
    if not NAME_PATTERN.match(persona.name):
        raise InvalidInputError(
            f"Persona name {persona.name!r} is invalid: use lower-case letters, digits and dashes."
        )
    folder = user_dir or paths.user_personas_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{persona.name}.toml"
    temporary = target.with_suffix(".toml.tmp")
    temporary.write_text(persona.to_toml(), encoding="utf-8")
    temporary.replace(target)
    return target


def resolve_personas(names: list[str] | tuple[str, ...], available: dict[str, Persona]) -> list[Persona]:
    """Look up persona names; raises InvalidInputError listing the valid names on a miss."""
    chosen = []
    for name in names:
        if name not in available:
            raise InvalidInputError(
                f"Persona state {name!r} not found. Available: {', '.join(available)}."
            )
        chosen.append(available[name])
    return chosen
