"""Every threshold, weight and limit of answering lives in AnswerPolicy."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from assistant.answer.policy import DEFAULT_POLICY, AnswerPolicy, from_settings
from assistant.settings import Settings

PACKAGE = Path(__file__).resolve().parents[1] / "assistant"
# The modules of the answering stage.
ANSWERING = sorted((PACKAGE / "answer").glob("*.py"))
CONSTANT_RE = re.compile(r"^_?[A-Z][A-Z0-9_]*\s*(?::[^=]+)?=\s*[-+(]*\d", re.MULTILINE)
NEUTRAL = {"0.0", "1.0", "0.5"}  # zero, one, and the usual idf smoothing (df + 0.5)
FLOAT_RE = re.compile(r"(?<![\w.\"'])\d+\.\d+(?![\w\"'])")


def _code(path: Path) -> str:
    """The module without docstrings, comments and string literals."""
    text = re.sub(r'"""[\s\S]*?"""', "", path.read_text(encoding="utf-8"))
    text = re.sub(r"#.*", "", text)
    return re.sub(r'"[^"\n]*"|\'[^\'\n]*\'', '""', text)


def test_no_numeric_threshold_of_answering_outside_the_policy() -> None:
    assert {p.stem for p in ANSWERING} >= {"decide", "claims", "draft", "evidence", "target"}
    found = []
    for path in ANSWERING:
        if path.name in ("policy.py", "calibrate.py"):  # the values, and the tool fitting them
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
        doc = re.search(rf"\n    {f.name}: [^\n]+\n(?: {{8}}[^\n]*\n)*    \"\"\"([\s\S]*?)\"\"\"",
                        source)  # the annotation may run on over lines indented further
        assert doc is not None and len(doc.group(1)) > 20, f.name


def test_settings_override_the_gate_values() -> None:
    policy = from_settings(Settings.from_env({}, min_relevance=0.5, extractive_threshold=2.0))
    assert (policy.min_relevance, policy.extractive_threshold) == (0.5, 2.0)
    assert from_settings(Settings.from_env({})) == DEFAULT_POLICY


def test_fit_takes_the_bars_from_the_calibration_split_only() -> None:
    from assistant.answer.calibrate import Scores, fit, report

    cal = [Scores("a", True, 0.52, False, 1.6, True), Scores("b", True, 0.33, True, 0.9, False),
           Scores("c", True, 0.47, False, 1.2, False), Scores("u", False, 0.2, False, 1.12, False)]
    fitted = fit(cal, DEFAULT_POLICY)
    # every answerable passes the gate (b passes by its name, so it does not lower the bar);
    # no unanswerable's best sentence reaches the extractive bar
    assert (fitted.min_relevance, fitted.extractive_threshold) == (0.45, 1.15)
    assert report(cal, fitted).answerable_quoted_right == (1, 3)
    test = [Scores("t", True, 0.41, False, 1.3, True), Scores("v", False, 0.5, False, 1.2, False)]
    figures = report(test, fitted)  # reported, not refitted
    assert figures.answerable_through_gate == (0, 1) and figures.unanswerable_quoted == (1, 1)


def test_a_policy_file_round_trips_and_bad_ones_are_refused(tmp_path: Path) -> None:
    import pytest

    from assistant.answer.policy import load_policy, save_policy
    from assistant.errors import ConfigError

    path = tmp_path / "policy.json"
    tuned = dataclasses.replace(DEFAULT_POLICY, min_relevance=0.25, settle_sentences=5,
                                fallbacks=("entity", "accounts"))
    save_policy(tuned, path)
    assert load_policy(path) == tuned
    settings = Settings.from_env({"ASSISTANT_ANSWER_POLICY": str(path)})
    assert from_settings(settings) == tuned
    assert from_settings(settings.with_overrides(min_relevance=0.6)).min_relevance == 0.6
    for text, message in (("[1]", "must be a JSON object"), ("{", "not valid JSON"),
                          ('{"bogus": 1}', "unknown key 'bogus'"),
                          ('{"settle_sentences": 2.5}', "settle_sentences must be a int"),
                          ('{"min_relevance": "high"}', "min_relevance must be a float"),
                          ('{"fallbacks": ["magic"]}', "fallbacks must be a list of")):
        path.write_text(text)
        with pytest.raises(ConfigError, match=message):
            load_policy(path)


def test_a_fallback_switched_off_does_not_run(tmp_path: Path) -> None:
    from assistant.answer.decide import AnswerBuilder
    from assistant.answer.draft import REFUSAL
    from assistant.ingest.documents import load_corpus
    from assistant.records import Answer
    from conftest import CORPUS, FakeEmbedder

    docs = {d.doc_id: d for d in load_corpus(CORPUS).documents}
    off = AnswerBuilder(docs, FakeEmbedder(), dataclasses.replace(DEFAULT_POLICY, fallbacks=()))
    refused = Answer("Which outlet?", REFUSAL, True)
    assert off.chosen(refused, "Passage: 1", []) == (refused, [])
    assert not off.uses("chosen") and AnswerBuilder(docs, FakeEmbedder()).uses("chosen")
