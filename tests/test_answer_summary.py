"""A summary request gets the report's own lead, quoted and cited, without the model."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assistant.answer.summary import asks_for_summary
from assistant.core import Assistant
from conftest import SCMP, TOMS

Make = Callable[..., Assistant]


@pytest.mark.parametrize(("question", "asks"), [
    ("Summarise the South China Morning Post report.", True),
    ("Give me a short summary of the Tom's Hardware article.", True),
    ("What are the main points of the report about the meetings?", True),
    ("What is the article about?", True),
    ("What's the SCMP piece about?", True),
    ("what is the Tom's Hardware story all about", True),
    ("Give me a rundown of the Tom's Hardware article.", True),
    ("What are the key takeaways from the report?", True),
    ("In a few sentences, what is the overall story across both reports?", True),
    ("What's the big picture here?", True),
    ("What is the report about the meetings saying on prices?", False),
    ("What's the SCMP report's figure about the approvals?", False),
    ("How many units were approved?", False),
    ("What did the summit decide?", False),
])
def test_summary_requests_are_recognised(question: str, asks: bool) -> None:
    assert asks_for_summary(question) is asks


def test_a_named_report_is_summarised_by_its_lead(make_assistant: Make) -> None:
    a = make_assistant(["Passage: 1\nAnswer: not used [1]."])
    answer = a.ask("Summarise the South China Morning Post report.")
    assert not answer.refused and a.generator.prompts == []  # type: ignore[attr-defined]
    assert {c.doc_id for c in answer.citations} == {SCMP}
    assert answer.text.startswith("Beijing weighs H200 imports amid uncertainty")
    assert "Beijing has begun approving imports" in answer.text
    assert "Advertisement" not in answer.text and "Reading Time" not in answer.text
    for c in answer.citations:  # every quote is the report's text where it stands
        assert a.document(c.doc_id).text[c.start:c.end] == c.quote
        assert a.lookup(c.id).text == c.quote
    assert answer.trace["summary"] == SCMP


def test_two_named_reports_each_get_their_lead(make_assistant: Make) -> None:
    a = make_assistant(["Passage: 1\nAnswer: not used [1]."])
    answer = a.ask("Summarise the SCMP and Tom's Hardware reports")
    assert {c.doc_id for c in answer.citations} == {SCMP, TOMS}
    assert "South China Morning Post: " in answer.text and "Tom's Hardware: " in answer.text


def test_a_summary_of_both_reports_unnamed_gets_each_retrieved_reports_lead(
        make_assistant: Make) -> None:
    a = make_assistant(["Passage: 1\nAnswer: not used [1]."])
    answer = a.ask("In a few sentences, what is the overall story across both reports?")
    assert not answer.refused and a.generator.prompts == []  # type: ignore[attr-defined]
    assert {c.doc_id for c in answer.citations} == {SCMP, TOMS}
    assert "South China Morning Post: " in answer.text and "Tom's Hardware: " in answer.text
    # one report's summary stays one report's; a question kept to one report gets its own
    one = a.ask("In a few sentences, what is the overall story of the report?")
    assert len({c.doc_id for c in one.citations}) == 1
    kept = a.ask("What is the overall story across both reports?", reports=[TOMS])
    assert {c.doc_id for c in kept.citations} == {TOMS}, kept.text


@pytest.mark.parametrize(("question", "about"), [
    ("Summarise the report.", ""),
    ("Summarise it", ""),
    ("What is this article about?", ""),
    ("Give me a rundown of the article as a whole.", ""),
    ("Summarise what the report says about the new tax mechanism.", "new tax mechanism"),
    ("Give me the gist of the article on Randy Abrams' view?", "Randy Abrams' view"),
    # who is quoted is part of the topic, not only the words after "about"
    ("Summarise what UBS's Randy Abrams says about H200 imports.", "UBS Randy Abrams H200 imports"),
    ("Summarise the account of the meetings: who ran them and who took part",
     "meetings: who ran them and who took part"),
])
def test_a_summary_may_be_about_a_topic(question: str, about: str) -> None:
    from assistant.answer.summary import topic

    assert topic(question) == about


def test_a_summary_about_a_topic_quotes_the_reports_sentences_on_it(make_assistant: Make
                                                                    ) -> None:
    a = make_assistant(["Passage: 1\nAnswer: not used [1]."])
    answer = a.ask("Summarise what Tom's Hardware says about chips imported into the United "
                   "States for security reviews and taxed at 25%.")
    assert not answer.refused and {c.doc_id for c in answer.citations} == {TOMS}
    assert "taxed at 25%" in answer.text  # not only the report's lead
    for c in answer.citations:
        assert a.document(c.doc_id).text[c.start:c.end] == c.quote


def test_a_summary_of_what_someone_says_quotes_them_and_what_they_go_on_to_say(
        make_assistant: Make) -> None:
    a = make_assistant(["Passage: 1\nAnswer: not used [1]."])
    answer = a.ask("Summarise what UBS's Randy Abrams says in the SCMP about the H200 imports.")
    assert not answer.refused and {c.doc_id for c in answer.citations} == {SCMP}
    assert "balanced outcome" in answer.text
    assert "he added" in answer.text  # the next sentence goes on about him
    assert "Beijing weighs" not in answer.text  # not the report's headline


def test_a_topic_sentence_comes_with_the_rest_of_its_paragraph() -> None:
    from assistant.answer.summary import on_topic

    # sentence 3 ranks best; 4 and 5 go on in its paragraph; then the next best, 0
    assert on_topic([3, 0, 1], [0, 0, 1, 2, 2, 2, 3], 4) == [0, 3, 4, 5]
    assert on_topic([3, 0, 1], [0, 0, 1, 2, 2, 2, 3], 2) == [3, 4]
    assert on_topic([5, 4], [0, 1, 2, 3, 4, 4], 4) == [4, 5]  # never before the best


def test_a_summary_of_proposals_quotes_the_paragraph_that_lists_them(make_assistant: Make
                                                                     ) -> None:
    a = make_assistant(["Passage: 1\nAnswer: not used [1]."])
    answer = a.ask("Summarise the restrictions Chinese regulators are reportedly considering "
                   "on H200 purchases and use.")
    assert "One proposal would cap" in answer.text
    assert "Another would bar H200 use" in answer.text


def test_what_one_report_says_about_a_topic_is_its_summary_on_it(make_assistant: Make) -> None:
    """"What does Tom's Hardware say about X?" quotes that report's sentences on X."""
    a = make_assistant(["Passage: 1\nAnswer: not used [1]."])
    answer = a.ask("What does Tom's Hardware say about the restrictions Chinese regulators "
                   "are reportedly considering on H200 purchases and use?")
    assert not answer.refused and a.generator.prompts == []  # type: ignore[attr-defined]
    assert {c.doc_id for c in answer.citations} == {TOMS}
    assert "One proposal would cap" in answer.text and "Another would bar" in answer.text


@pytest.mark.parametrize("question", [
    "What did Randy Abrams say about the tax?",  # a person, not a report
    "What does each report say about Tencent?",  # several reports: one account each
    "What do the SCMP and Tom's Hardware say about Jensen Huang?",
])
def test_what_a_person_or_several_reports_say_is_no_summary(make_assistant: Make,
                                                             question: str) -> None:
    a = make_assistant(["Passage: 1\nAnswer: not used [1]."])
    assert "summary" not in a.ask(question).trace
