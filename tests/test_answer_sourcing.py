"""Whom a report credits, answered from its whole text without the model."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assistant.answer import sourcing
from assistant.core import Assistant
from conftest import SCMP, TOMS

Make = Callable[..., Assistant]


@pytest.mark.parametrize("question", [
    "Which outlets does each article credit for its main news?",
    "How do the two reports differ in the sources they cite?",
    "Which outside news organisations does each report rely on?",
    "Which outlet did Tom's Hardware credit as the source of the story?",
    "How does the SCMP source its story?",
    "On reporting from which outlet does Tom's Hardware base its account of the meetings?",
    "Which news organisations does the article draw on?",
    "Which outside news organisations does each report lean on?",
    # x-04 and y-05 went to the model, which quoted the meetings' own sentence
    "Whose reporting is the Tom's Hardware story on the emergency meetings based on?",
    "which publication was Tom's Hardware relying on for the emergency meetings story",
])
def test_a_question_about_whom_a_report_credits_is_read(question: str) -> None:
    assert sourcing.asks_for_sources(question)


@pytest.mark.parametrize("question", [
    "How many sources did the SCMP rely on for the claim that Beijing approved imports?",
    "What did sources familiar with the matter say about the first batch?",
    "Which image agency is credited for the photo that runs with the SCMP report?",
    "Which outlet first reported that Washington was weighing approval?",  # a name lookup
    "What does each report attribute to Jensen Huang?",
    "Which chip is the new platform based on?",
    "The two pieces lean on different kinds of numbers - how do they differ?",
])
def test_other_questions_are_not_about_sources(question: str) -> None:
    assert not sourcing.asks_for_sources(question)


def test_the_frames_a_report_credits_a_source_in() -> None:
    assert sourcing.credited("Beijing has begun approving imports, according to two sources "
                             "familiar with the matter.") == [
        "two sources familiar with the matter"]
    assert sourcing.credited("The approval covered 400,000 units, according to Reuters, which "
                             "first reported the news on Wednesday.") == ["Reuters"]
    assert "The Information" in sourcing.credited(
        "U.S. officials told The Information that the arrangement was a middle ground.")
    said = "Imports reflected a balanced outcome, said Randy Abrams, head of research at UBS."
    assert sourcing.credited(said) == ["Randy Abrams"]
    assert sourcing.credited(said, people=False) == []
    assert sourcing.credited("The H200 sits one generation below Blackwell.") == []
    # every unnamed source is one kind of source; named ones are told apart
    assert {sourcing.source_key(s) for s in ("a source", "two sources familiar")} == {""}
    assert sourcing.source_key("The Information") != sourcing.source_key("Reuters")


def test_each_reports_sources_are_quoted_without_the_model(make_assistant: Make) -> None:
    a = make_assistant(["Passage: 1\nAnswer: not used [1]."])
    answer = a.ask("Which outside news organisations does each report rely on?")
    assert a.generator.prompts == []  # type: ignore[attr-defined]
    assert answer.text.startswith("South China Morning Post: ")
    assert "Tom's Hardware: " in answer.text
    for name in ("Reuters", "The Information", "Bloomberg"):
        assert name in answer.text
    assert "two sources familiar" not in answer.text  # no outlet
    assert {c.doc_id for c in answer.citations} == {SCMP, TOMS}
    for c in answer.citations:
        assert a.document(c.doc_id).text[c.start:c.end] == c.quote == a.lookup(c.id).text
    # one report named: its sources only, people and unnamed sources included
    scmp = a.ask("Whom does the SCMP rely on for its story, and how does it source it?")
    assert {c.doc_id for c in scmp.citations} == {SCMP}
    assert "two sources familiar" in scmp.text and "Reuters" in scmp.text
    assert "Randy Abrams" in scmp.text


_BOTH = ("Companies are said to have begun preliminary discussions with Nvidia about potential "
         "orders after Bloomberg first reported in November that the U.S. was weighing "
         "approval, and, according to Reuters, the likes of Alibaba and ByteDance are said to "
         "be “keen” to begin purchasing Nvidia’s chips.")


def test_which_outlet_reported_something_is_the_source_credited_with_it() -> None:
    from assistant.answer.sourcing import asks_which_outlet, credited_for

    asked = "Which outlet first reported in November that Washington was weighing approval?"
    assert asks_which_outlet(asked)
    assert asks_which_outlet("The account is based on reporting from which outlet?")
    assert not asks_which_outlet("Which outlet published the article headlined 'X'?")
    assert not asks_which_outlet("Which companies were approved?")
    assert credited_for(asked, _BOTH)[0] == "Bloomberg"
    assert credited_for("Which agency said Alibaba and ByteDance are keen to buy?",
                        _BOTH)[0] == "Reuters"
    # rare words count for more: "November" tells the two apart
    rare = {"november": 5.0}
    assert credited_for("Which outlet reported in November on Nvidia?", _BOTH,
                        lambda w: rare.get(w, 1.0))[0] == "Bloomberg"
    assert credited_for(asked, "Nvidia makes chips.") == ("", 0)
