"""Sampler settings of one branch and the plan that spreads them over an expansion."""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from typing import Any

from mindgarden.core.errors import InvalidInputError

MAX_BRANCHES = 16
MAX_TEMPERATURE = 5.0


@dataclass(frozen=True)
class SamplerSettings:
    """Sampler settings of one branch, applied in llama.cpp's order (penalties, DRY, filters, temperature).

    A value of 0 for ``top_k``, 1.0 for ``top_p``, 0.0 for ``min_p``, ``xtc_probability``,
    ``top_n_sigma`` and ``dry_multiplier``, and 1.0 for ``repeat_penalty`` turns that sampler off.
    """

    temperature: float = 1.0
    min_p: float = 0.05
    top_p: float = 1.0
    top_k: int = 0
    typical_p: float = 1.0
    top_n_sigma: float = 0.0
    xtc_probability: float = 0.0
    xtc_threshold: float = 0.1
    dry_multiplier: float = 0.0
    dry_base: float = 1.75
    dry_allowed_length: int = 2
    dry_penalty_last_n: int = -1
    repeat_penalty: float = 1.0
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    penalty_last_n: int = 64
    mirostat_tau: float = 0.0
    mirostat_eta: float = 0.1

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SamplerSettings:
        """Build settings from a dict, ignoring unknown keys so older sessions still load."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

    def validated(self) -> SamplerSettings:
        """Return self after checking every value; raises InvalidInputError naming the bad one."""
        checks = [
            ("temperature", 0.0 <= self.temperature <= MAX_TEMPERATURE, f"between 0 and {MAX_TEMPERATURE}"),
            ("min_p", 0.0 <= self.min_p <= 1.0, "between 0 and 1"),
            ("top_p", 0.0 < self.top_p <= 1.0, "above 0 and at most 1"),
            ("top_k", self.top_k >= 0, "0 (off) or a positive count"),
            ("typical_p", 0.0 < self.typical_p <= 1.0, "above 0 and at most 1"),
            ("top_n_sigma", self.top_n_sigma >= 0.0, "0 (off) or positive"),
            ("xtc_probability", 0.0 <= self.xtc_probability <= 1.0, "between 0 and 1"),
            ("xtc_threshold", 0.0 <= self.xtc_threshold <= 0.5, "between 0 and 0.5"),
            ("dry_multiplier", self.dry_multiplier >= 0.0, "0 (off) or positive"),
            ("repeat_penalty", self.repeat_penalty > 0.0, "positive (1 is off)"),
            ("mirostat_tau", self.mirostat_tau >= 0.0, "0 (off) or positive"),
        ]
        for name, ok, expected in checks:
            if not ok:
                raise InvalidInputError(
                    f"Sampler setting {name}={getattr(self, name)!r} is invalid: it must be {expected}."
                )
        return self


@dataclass(frozen=True)
class BranchSpec:
    """Conditions of one branch in an expansion: persona state, sampler settings and seed."""

    persona: str
    sampler: SamplerSettings
    seed: int


@dataclass(frozen=True)
class ExpansionPlan:
    """The requested expansion: branch count, temperatures, persona states and token limit."""

    branches: int = 4
    temperatures: tuple[float, ...] = (0.7, 1.0, 1.3)
    personas: tuple[str, ...] = ("neutral",)
    max_new_tokens: int = 96
    base_sampler: SamplerSettings = field(default_factory=SamplerSettings)
    seed: int | None = None

    def validate(self) -> None:
        """Raise InvalidInputError naming the first invalid value."""
        if not isinstance(self.branches, int) or not 1 <= self.branches <= MAX_BRANCHES:
            raise InvalidInputError(
                f"Branch count {self.branches!r} is out of range: choose 1 to {MAX_BRANCHES} branches."
            )
        if not self.temperatures:
            raise InvalidInputError("No temperature given: give at least one, for example 0.8.")
        for value in self.temperatures:
            if not 0.0 <= value <= MAX_TEMPERATURE:
                raise InvalidInputError(
                    f"Temperature {value!r} is out of range: use values from 0 to {MAX_TEMPERATURE}."
                )
        if not self.personas:
            raise InvalidInputError("No persona state chosen: pick at least one, for example neutral.")
        if not 1 <= self.max_new_tokens <= 4096:
            raise InvalidInputError(
                f"Max new tokens {self.max_new_tokens!r} is out of range: choose 1 to 4096."
            )
        self.base_sampler.validated()

    def conditions(self, base_seed: int) -> list[tuple[str, float]]:
        """Return the (persona, temperature) of each branch.

        When the branches can cover every persona × temperature pair, they walk that grid,
        so four branches over two personas and two temperatures cover all four pairs.
        Otherwise branch i takes persona i and temperature i + offset (both cycling), which
        uses every persona and every temperature. The offset comes from the seed, so over
        many expansions each persona meets each temperature instead of always the same one.
        """
        persona_count, temperature_count = len(self.personas), len(self.temperatures)
        if persona_count * temperature_count <= self.branches:
            grid = [(persona, temperature) for persona in self.personas for temperature in self.temperatures]
            return [grid[index % len(grid)] for index in range(self.branches)]
        offset = base_seed % temperature_count
        return [(self.personas[index % persona_count], self.temperatures[(index + offset) % temperature_count])
                for index in range(self.branches)]

    def branch_specs(self) -> list[BranchSpec]:
        """Spread personas and temperatures over the branches, each with an explicit seed."""
        self.validate()
        base_seed = self.seed if self.seed is not None else random.SystemRandom().randrange(2**31 - MAX_BRANCHES)
        specs = []
        for index, (persona, temperature) in enumerate(self.conditions(base_seed)):
            sampler = dataclasses.replace(self.base_sampler, temperature=temperature)
            specs.append(BranchSpec(persona=persona, sampler=sampler, seed=base_seed + index))
        return specs


def temperature_range(low: float, high: float, count: int) -> tuple[float, ...]:
    """Return ``count`` temperatures spread evenly from ``low`` to ``high``."""
    if count == 1:
        return (round((low + high) / 2, 3),)
    step = (high - low) / (count - 1)
    return tuple(round(low + step * index, 3) for index in range(count))


def parse_temperatures(text: str) -> tuple[float, ...]:
    """Parse ``"0.7,1.2"`` as a list or ``"0.6-1.4:5"`` as a range of 5 values."""
    cleaned = text.strip()
    try:
        if ":" in cleaned and "-" in cleaned.split(":")[0][1:]:
            bounds, count = cleaned.split(":")
            low, high = bounds.split("-", 1) if not bounds.startswith("-") else (bounds, "")
            if int(count) < 1:
                raise InvalidInputError(
                    f"Temperature range {text!r} asks for {int(count)} values: give a count of at least 1, "
                    "as in 0.6-1.4:5."
                )
            return temperature_range(float(low), float(high), int(count))
        values = tuple(float(part) for part in cleaned.split(",") if part.strip())
    except ValueError:
        raise InvalidInputError(
            f"Temperatures {text!r} are invalid: write a list such as 0.7,1.2 or a range such as 0.6-1.4:5."
        ) from None
    if not values:
        raise InvalidInputError(f"Temperatures {text!r} are empty: write a list such as 0.7,1.2.")
    return values
