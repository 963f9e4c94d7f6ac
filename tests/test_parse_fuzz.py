"""Mutated scripts: whatever is fed in, only ``ScriptError`` comes out, and every problem is located in the file."""

from __future__ import annotations

import copy
import re
import tempfile
from pathlib import Path

import yaml
from examples import VALID_SCRIPTS
from helpers import example_budget
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voiceguide.errors import PlanError, Problem, ScriptError
from voiceguide.script.parse import STEP_KEYS, TOP_KEYS, check_file, parse_text
from voiceguide.script.routine import SOUND_NAMES, Routine
from voiceguide.timeline.plan import build_plan
from voiceguide.voice.engines.testing import TestEngine

YAML_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
FUZZ = settings(max_examples=example_budget(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
TEXTS = list(VALID_SCRIPTS.values())
TREES = [yaml.safe_load(t) for t in TEXTS]

WEIRD = st.one_of(
    st.none(), st.booleans(), st.integers(0, 12), st.integers(-10**12, 10**12), st.floats(), st.text(max_size=30),
    st.sampled_from(["8-12", "12-8", "1-2", "0.5", "0", "-1", "1:30", "{side}", "{sidee}", "yes", "20 s", "8 – 12", "", " ",
                     "a: b", "*a", "&a x", "!!python/object:os.system", "\t", "\x00"] + list(SOUND_NAMES)),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.sampled_from(STEP_KEYS + ("say", "seconds", "x")), st.integers(-5, 5), max_size=3),
)
KEYS = st.one_of(st.sampled_from(TOP_KEYS + STEP_KEYS + ("short", "seconds")), st.text(max_size=10))
SNIPPETS = st.sampled_from([":", ": ", "- ", "{", "}", "[", "]", "&a ", "*a", "<<: *a\n", "!!python/object:os.system ",
                            "!foo ", "\t", "'", '"', "\n", "\n  ", "---\n", "%YAML 1.1\n", "? ", "|\n", "#", "\ufeff",
                            "\x00", "\x85", "\ud7ff", "😀"])


def _paths(tree, prefix=()):
    yield prefix
    children = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, list) else ()
    for key, child in children:
        yield from _paths(child, prefix + (key,))


def _nested(value, depth: int, as_list: bool):
    for _ in range(depth):
        value = [value] if as_list else {"say": value}
    return value


@st.composite
def mutated_trees(draw):
    """A valid script's data with keys deleted or renamed, values retyped, and deep nesting."""
    tree = copy.deepcopy(draw(st.sampled_from(TREES)))
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(list(_paths(tree))))
        if not path:
            continue
        parent = tree
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        op = draw(st.sampled_from(["delete", "rename", "retype", "nest", "repeat"]))
        if op == "delete":
            del parent[key]
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(KEYS)] = parent.pop(key)
        elif op == "nest":
            parent[key] = _nested(parent[key], draw(st.integers(1, 60)), draw(st.booleans()))
        elif op == "repeat" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        else:
            parent[key] = draw(WEIRD)
    return yaml.safe_dump(tree, sort_keys=False, allow_unicode=True)


@st.composite
def mutated_texts(draw):
    """A valid script's text with YAML-significant characters and random text spliced in or cut out."""
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "cut", "repeat-line"]))
        if op == "insert":
            text = text[:at] + draw(st.one_of(SNIPPETS, st.text(max_size=20))) + text[at:]
        elif op == "cut":
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        else:
            lines = text.splitlines(keepends=True) or [""]
            i = draw(st.integers(0, len(lines) - 1))
            text = "".join(lines[: i + 1] + lines[i:])
    return text


def assert_located(problems: list[Problem], text: str, path: str) -> None:
    lines = len(YAML_LINE_BREAK.split(text))  # a lone '\r' (old Mac files) starts a line for YAML and editors
    for problem in problems:
        assert problem.location.path == path and problem.message
        assert 1 <= problem.location.line <= lines + 1, problem
        assert problem.location.col >= 1, problem
        assert problem.severity in ("error", "warning")


def assert_only_script_errors(text: str) -> Routine | None:
    try:
        return parse_text(text, "fuzz.yaml")
    except ScriptError as exc:
        assert exc.problems and any(p.severity == "error" for p in exc.problems)
        assert_located(exc.problems, text, "fuzz.yaml")
        return None


@FUZZ
@given(mutated_trees())
def test_mutated_data_gives_a_routine_or_located_problems(text):
    assert_only_script_errors(text)


@FUZZ
@given(mutated_texts())
def test_mutated_text_gives_a_routine_or_located_problems(text):
    assert_only_script_errors(text)


@settings(max_examples=example_budget(100), deadline=None)
@given(st.sampled_from(TEXTS), st.integers(0, 10_000), st.binary(min_size=1, max_size=30))
def test_random_bytes_in_a_file_give_located_problems(text, at, junk):
    data = text.encode("utf-8")
    at = min(at, len(data))
    data = data[:at] + junk + data[at:]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yaml"
        path.write_bytes(data)
        problems = check_file(path)
    assert_located(problems, data.decode("utf-8", errors="replace"), str(path))


class _ToneLengths:
    def speech(self, text: str) -> int:
        return TestEngine.length_samples(text)

    def sound(self, name: str) -> int:
        return 11025


@settings(max_examples=example_budget(100), deadline=None)
@given(mutated_trees())
def test_whatever_parses_can_be_planned(text):
    """The parser lets through only what the planner can lay out (or refuse as over three hours)."""
    routine = assert_only_script_errors(text)
    if routine is not None:
        try:
            build_plan(routine, _ToneLengths())
        except PlanError:
            pass
