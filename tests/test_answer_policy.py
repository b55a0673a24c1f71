"""Every threshold, weight and limit of answering lives in AnswerPolicy."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from assistant.answer.policy import DEFAULT_POLICY, AnswerPolicy
from assistant.settings import Settings

PACKAGE = Path(__file__).resolve().parents[1] / "assistant"
# The modules of the answering stage (the package, and the modules it still uses).
ANSWERING = [*sorted((PACKAGE / "answer").glob("*.py")),
             *(PACKAGE / f"{m}.py" for m in ("answering", "grounding", "comparison",
                                            "sentences", "prompting"))]
CONSTANT_RE = re.compile(r"^_?[A-Z][A-Z0-9_]*\s*(?::[^=]+)?=\s*[-+(]*\d", re.MULTILINE)
NEUTRAL = {"0.0", "1.0", "0.5"}  # zero, one, and the usual idf smoothing (df + 0.5)
FLOAT_RE = re.compile(r"(?<![\w.\"'])\d+\.\d+(?![\w\"'])")


def _code(path: Path) -> str:
    """The module without docstrings, comments and string literals."""
    text = re.sub(r'"""[\s\S]*?"""', "", path.read_text(encoding="utf-8"))
    text = re.sub(r"#.*", "", text)
    return re.sub(r'"[^"\n]*"|\'[^\'\n]*\'', '""', text)


def test_no_numeric_threshold_of_answering_outside_the_policy() -> None:
    found = []
    for path in ANSWERING:
        if path.name == "policy.py":
            continue
        code = _code(path)
        found += [f"{path.name}: {m.group().strip()}" for m in CONSTANT_RE.finditer(code)
                  if "CACHE" not in m.group()]  # memo sizes change no answer
        found += [f"{path.name}: {m.group()}" for m in FLOAT_RE.finditer(code)
                  if m.group() not in NEUTRAL]
    assert found == []


def test_the_grep_finds_what_it_looks_for(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('"""Doc 0.5."""\n_BAR = 0.8  # a bar\nx = y >= 1.05\ns = "v 2.0"\n')
    code = _code(module)
    assert [m.group().strip() for m in CONSTANT_RE.finditer(code)] == ["_BAR = 0"]
    assert [m.group() for m in FLOAT_RE.finditer(code)] == ["0.8", "1.05"]


def test_every_field_says_what_it_does_and_where_it_came_from() -> None:
    source = (PACKAGE / "answer" / "policy.py").read_text(encoding="utf-8")
    for f in dataclasses.fields(AnswerPolicy):
        doc = re.search(rf"\n    {f.name}: [^\n]+\n    \"\"\"([\s\S]*?)\"\"\"", source)
        assert doc is not None and len(doc.group(1)) > 20, f.name


def test_settings_override_the_gate_values() -> None:
    policy = Settings.from_env({}, min_relevance=0.5, extractive_threshold=2.0).answer_policy()
    assert (policy.min_relevance, policy.extractive_threshold) == (0.5, 2.0)
    assert Settings.from_env({}).answer_policy() == DEFAULT_POLICY
