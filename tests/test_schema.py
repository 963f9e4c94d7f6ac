"""The JSON Schema shipped for editors agrees with the parser on what a routine script is."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest
import yaml
from examples import BUILTIN_SCRIPTS, VALID_SCRIPTS

from voiceguide.errors import ScriptError
from voiceguide.script.parse import COMMON_KEYS, KIND_KEYS, PHASE_KEYS, STEP_KEYS, TOP_KEYS, parse_text
from voiceguide.script.routine import SOUND_NAMES


@pytest.fixture(scope="module")
def schema() -> dict:
    """Read from the installed package, where editors are pointed at it."""
    return json.loads(resources.files("voiceguide.script").joinpath("routine.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator(schema) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_schema_knows_the_parsers_keys_and_sounds(schema):
    step = schema["$defs"]["step"]
    assert list(schema["properties"]) == list(TOP_KEYS)
    assert set(step["properties"]) == set(STEP_KEYS)
    assert {b["required"][0]: set(b["propertyNames"]["enum"]) for b in step["oneOf"]} == {
        kind: set(COMMON_KEYS) | set(keys) for kind, keys in KIND_KEYS.items()}
    assert set(schema["$defs"]["phase"]["properties"]) == set(PHASE_KEYS)
    assert schema["$defs"]["sound"]["enum"] == list(SOUND_NAMES)


def test_the_schema_avoids_keywords_editors_ignore(schema):
    """VS Code's YAML support validates with draft-07 keywords; 'unevaluatedProperties' would pass typos silently."""
    assert "unevaluated" not in json.dumps(schema)


@pytest.mark.parametrize("name", sorted(VALID_SCRIPTS))
def test_the_contract_example_the_builtins_and_other_valid_scripts_pass(validator, name):
    """``VALID_SCRIPTS`` holds the contract's complete example (copied verbatim) and every scripts/*.yaml."""
    errors = [e.message for e in validator.iter_errors(yaml.safe_load(VALID_SCRIPTS[name]))]
    assert errors == []


def test_every_builtin_is_among_them():
    assert {p.stem for p in BUILTIN_SCRIPTS} <= set(VALID_SCRIPTS) and BUILTIN_SCRIPTS


INVALID = {
    "no title": "steps: [{say: x}]",
    "empty steps": "title: T\nsteps: []",
    "unknown top key": "title: T\ntitel: U\nsteps: [{say: x}]",
    "unknown step key": "title: T\nsteps: [{say: x, holdd: 3}]",
    "two kinds": "title: T\nsteps: [{hold: 20, rest: 5}]",
    "no kind": "title: T\nsteps: [{name: Bridge}]",
    "key of another kind": "title: T\nsteps: [{hold: 20, count: false}]",
    "reps without cycle": "title: T\nsteps: [{reps: 8}]",
    "empty cycle": "title: T\nsteps: [{reps: 8, cycle: []}]",
    "phase without seconds": "title: T\nsteps: [{reps: 8, cycle: [{say: x}]}]",
    "zero reps": "title: T\nsteps: [{reps: 0, cycle: [{say: x, seconds: 3}]}]",
    "absurd reps": "title: T\nsteps: [{reps: 500, cycle: [{say: x, seconds: 3}]}]",
    "negative hold": "title: T\nsteps: [{hold: -5}]",
    "hold under a second": "title: T\nsteps: [{hold: 0.01}]",
    "word for a hold": "title: T\nsteps: [{hold: long}]",
    "unknown sound": "title: T\nsteps: [{say: x, sound: gong}]",
    "unknown sound key": "title: T\nsounds: {gong: a.wav}\nsteps: [{say: x}]",
    "rate out of range": "title: T\nrate: 3\nsteps: [{say: x}]",
    "sides as text": "title: T\nsteps: [{sides: both, say: x}]",
    "caution as text": "title: T\ncaution: maybe\nsteps: [{say: x}]",
    "breathe half": "title: T\nsteps: [{hold: 20, breathe: {inhale: 4}}]",
    "text too long": "title: T\nsteps: [{say: " + "x" * 401 + "}]",
}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_scripts_are_rejected_by_the_schema_and_the_parser_alike(validator, name):
    text = INVALID[name] + "\n"
    assert list(validator.iter_errors(yaml.safe_load(text))), "the schema accepted it"
    with pytest.raises(ScriptError):
        parse_text(text)
