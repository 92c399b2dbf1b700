"""Persona states: bundled files, user overrides and bad files."""

from __future__ import annotations

from mindgarden.core import paths
from mindgarden.core.personas import Persona, load_personas, save_user_persona

REQUIRED = {"neutral", "unhurried", "rested-morning", "tired-night", "winter-date", "summer-date", "sceptical-expert"}


def test_bundled_personas_complete():
    personas = load_personas()
    assert len(personas) >= 8
    assert REQUIRED <= set(personas)
    assert personas["neutral"].priming == ""
    for persona in personas.values():
        assert persona.description
        assert 0.0 <= persona.temperature <= 2.0
        if persona.name != "neutral":
            assert len(persona.priming) > 40, persona.name


def test_user_persona_overrides_bundled(home):
    save_user_persona(Persona("sceptical-expert", "Mine.", "My own priming text for this state.", 0.5))
    save_user_persona(Persona("night-owl", "New one.", "Wide awake at 3 a.m.", 1.4))
    personas = load_personas()
    assert personas["sceptical-expert"].description == "Mine."
    assert personas["night-owl"].temperature == 1.4


def test_bad_user_file_skipped(home):
    folder = paths.user_personas_dir()
    folder.mkdir(parents=True)
    (folder / "broken.toml").write_text("name = [unclosed", encoding="utf-8")
    personas = load_personas()
    assert "broken" not in personas
    assert "neutral" in personas
