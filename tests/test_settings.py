"""User settings: round trip, per-value fallback on invalid input and atomic saving."""

from __future__ import annotations

import dataclasses
import json

import pytest

from mindgarden.core.errors import StorageError
from mindgarden.core.sampling import SamplerSettings
from mindgarden.core.settings import Settings, load_settings, save_settings, settings_path


def test_missing_file_gives_defaults():
    settings, problems = load_settings()
    assert settings == Settings()
    assert problems == []


def test_round_trip_keeps_every_value(home):
    changed = Settings(
        branches=6, low_temperature=0.4, high_temperature=1.8, max_new_tokens=200,
        personas=("neutral", "deadline"),
        sampler=dataclasses.replace(SamplerSettings(), min_p=0.1, top_k=40, dry_multiplier=0.8, mirostat_tau=5.0),
        model_path="/models/other.gguf", theme="dark",
    )
    written = save_settings(changed)
    assert written == settings_path()
    assert written.parent == home

    loaded, problems = load_settings()
    assert problems == []
    assert loaded == changed


def test_invalid_value_falls_back_alone():
    path = settings_path()
    path.write_text(json.dumps({
        "branches": 99, "theme": "purple", "max_new_tokens": 300, "low_temperature": 0.5,
        "sampler": {"top_p": 0.0, "top_k": 20, "bogus": 1},
    }), encoding="utf-8")

    loaded, problems = load_settings()

    assert loaded.branches == Settings().branches
    assert loaded.theme == "system"
    assert loaded.max_new_tokens == 300
    assert loaded.low_temperature == 0.5
    assert loaded.sampler.top_p == SamplerSettings().top_p
    assert loaded.sampler.top_k == 20
    assert len(problems) == 4
    branch_problem = next(problem for problem in problems if "'branches'" in problem)
    assert "99" in branch_problem
    assert str(path) in branch_problem
    assert any("'purple'" in problem for problem in problems)
    assert any("sampler.top_p" in problem for problem in problems)
    assert any("sampler.bogus" in problem for problem in problems)


def test_wrong_types_are_rejected():
    settings_path().write_text(json.dumps({
        "branches": True, "personas": ["Not Valid"], "model_path": "", "sampler": {"top_k": 2.5},
    }), encoding="utf-8")

    loaded, problems = load_settings()

    assert loaded == Settings()
    assert len(problems) == 4


def test_unreadable_file_gives_defaults_and_message():
    path = settings_path()
    path.write_text("{not json", encoding="utf-8")

    loaded, problems = load_settings()

    assert loaded == Settings()
    assert len(problems) == 1
    assert str(path) in problems[0]


def test_save_leaves_no_temporary_file(home):
    save_settings(Settings(theme="light"))
    save_settings(Settings(theme="dark"))
    assert sorted(path.name for path in home.iterdir()) == ["settings.json"]
    assert load_settings()[0].theme == "dark"


def test_save_into_unwritable_path_raises(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    with pytest.raises(StorageError, match="blocker"):
        save_settings(Settings(), blocker / "settings.json")


def test_gpu_layers_round_trip_and_check(home):
    from mindgarden.core import settings as settings_module

    saved = settings_module.Settings(gpu_layers=12)
    settings_module.save_settings(saved)
    assert settings_module.load_settings()[0].gpu_layers == 12
    path = home / "settings.json"
    data = path.read_text()
    path.write_text(data.replace('"gpu_layers": 12', '"gpu_layers": -3'))
    loaded, messages = settings_module.load_settings()
    assert loaded.gpu_layers is None
    assert any("gpu_layers" in message for message in messages)
