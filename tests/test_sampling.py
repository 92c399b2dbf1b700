"""Expansion plans: validation and how conditions spread over branches."""

from __future__ import annotations

import pytest

from mindgarden.core.errors import InvalidInputError
from mindgarden.core.sampling import ExpansionPlan, SamplerSettings, parse_temperatures


@pytest.mark.parametrize("branches", [0, 17, -1])
def test_branch_count_out_of_range(branches):
    with pytest.raises(InvalidInputError, match="1 to 16"):
        ExpansionPlan(branches=branches).validate()


def test_grid_covers_persona_temperature_pairs():
    plan = ExpansionPlan(branches=4, temperatures=(0.7, 1.2), personas=("a", "b"), seed=10)
    specs = plan.branch_specs()
    assert [(spec.persona, spec.sampler.temperature) for spec in specs] == [
        ("a", 0.7), ("a", 1.2), ("b", 0.7), ("b", 1.2)]
    assert [spec.seed for spec in specs] == [10, 11, 12, 13]


def test_seeds_explicit_without_base():
    specs = ExpansionPlan(branches=3).branch_specs()
    assert all(isinstance(spec.seed, int) for spec in specs)
    assert len({spec.seed for spec in specs}) == 3


def test_parse_list_and_range():
    assert parse_temperatures("0.7, 1.2") == (0.7, 1.2)
    assert parse_temperatures("0.6-1.4:5") == (0.6, 0.8, 1.0, 1.2, 1.4)


@pytest.mark.parametrize("text", ["hot", "", "0.5-:x"])
def test_parse_rejects_garbage(text):
    with pytest.raises(InvalidInputError):
        parse_temperatures(text)


def test_sampler_rejects_bad_value():
    with pytest.raises(InvalidInputError, match="min_p"):
        SamplerSettings(min_p=2.0).validated()


def test_more_pairs_than_branches_uses_all():
    plan = ExpansionPlan(branches=4, temperatures=(0.6, 0.9, 1.2, 1.5), personas=("a", "b", "c", "d"), seed=1)
    specs = plan.branch_specs()
    assert [spec.persona for spec in specs] == ["a", "b", "c", "d"]
    assert sorted(spec.sampler.temperature for spec in specs) == [0.6, 0.9, 1.2, 1.5]


def test_rotation_varies_with_seed():
    pairs = set()
    for seed in range(4):
        plan = ExpansionPlan(branches=2, temperatures=(0.7, 1.3), personas=("a", "b", "c"), seed=seed)
        pairs.update((spec.persona, spec.sampler.temperature) for spec in plan.branch_specs())
    assert ("a", 0.7) in pairs
    assert ("a", 1.3) in pairs


def test_range_count_zero_named():
    with pytest.raises(InvalidInputError, match="count of at least 1"):
        parse_temperatures("1.4-0.6:0")
