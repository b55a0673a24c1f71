"""The claims step's checks of the model's answer check (which words answer the question)."""

from __future__ import annotations

import pytest

from assistant.answer.claims import answers_quantity, asked_quantity, extract_is_grounded

LED = ("According to the report, the meetings were led by the National Development and "
       "Reform Commission and the Ministry of Industry and Information Technology.")
QUESTION = "Which two agencies led China's December 10 meetings on the H200?"


def test_words_the_check_repeats_from_the_question_need_not_be_quoted() -> None:
    echoed = ("The National Development and Reform Commission and the Ministry of Industry "
              "and Information Technology led China's December 10 meetings on the H200.")
    assert extract_is_grounded(echoed, [LED], question=QUESTION)
    assert not extract_is_grounded(echoed, [LED])  # without the question: "December 10"


@pytest.mark.parametrize("extract", [
    "The Cyberspace Administration of China led China's December 10 meetings",  # not there
    "December 10 meetings on the H200",  # only the question's words, which the quote lacks
    "The agencies met on December 12",  # a number neither the quote nor the question has
])
def test_what_the_check_adds_must_still_be_quoted(extract: str) -> None:
    assert not extract_is_grounded(extract, [LED], question=QUESTION)


@pytest.mark.parametrize(("question", "how"), [
    ("How many H200 units were approved?", "many"),
    ("And how much revenue did the H20 bring?", "much"),
    ("Which kind of hardware would determine how much Nvidia hardware a company may buy?",
     None),
    ("Who said how many chips were needed?", None),
])
def test_the_first_wh_word_says_whether_an_amount_is_asked(question: str, how: str | None
                                                           ) -> None:
    asked = asked_quantity(question)
    assert (asked.group("which").lower() if asked else None) == how


def test_an_embedded_how_much_asks_for_no_amount() -> None:
    question = "Purchases of which kind of hardware would determine how much a company may buy?"
    assert answers_quantity(question, "domestic accelerators")
    assert not answers_quantity("How much hardware may a company buy?", "domestic accelerators")



@pytest.mark.parametrize(("question", "extract", "fits"), [
    ("In which year did Nvidia launch the H20?", "October", False),
    ("In which year did Nvidia launch the H20?", "in 2023", True),
    ("In which city were the December 10 meetings held?", "Wednesday", False),
    ("In which city were the December 10 meetings held?", "Beijing", True),
    ("Which month did Bloomberg report it?", "November", True),
    ("Which company makes the chips?", "TSMC", True),  # not a kind this check knows
    ("Who said which year it was?", "Jensen Huang", True),  # the question asks who
])
def test_a_which_year_or_which_place_question_needs_one(question: str, extract: str,
                                                       fits: bool) -> None:
    from assistant.answer.claims import answers_kind

    assert answers_kind(question, extract) is fits
