"""The claims step's checks of the model's answer check (which words answer the question)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assistant.answer.claims import (
    Evidence,
    answers_quantity,
    asked_quantity,
    counts_a_list,
    extract_is_grounded,
    ground,
    missing_numbers,
    numbers,
    split_answer,
    terms,
)
from assistant.core import Assistant
from conftest import TOMS, other_passage
from conftest import passage_number as _passage_number

Make = Callable[..., Assistant]

LED = ("According to the report, the meetings were led by the National Development and "
       "Reform Commission and the Ministry of Industry and Information Technology.")
QUESTION = "Which two agencies led China's December 10 meetings on the H200?"


def test_words_the_check_repeats_from_the_question_need_not_be_quoted() -> None:
    echoed = ("The National Development and Reform Commission and the Ministry of Industry "
              "and Information Technology led China's December 10 meetings on the H200.")
    assert extract_is_grounded(echoed, [LED], question=QUESTION)
    assert not extract_is_grounded(echoed, [LED])  # without the question: "December 10"


def test_a_figure_the_quote_writes_out_in_words_is_quoted() -> None:
    sources = "Beijing has begun approving imports, according to two sources familiar with it."
    question = "How many sources did the SCMP cite?"
    assert extract_is_grounded("2", [sources], question=question)
    assert extract_is_grounded("2 sources", [sources], question=question)
    assert not extract_is_grounded("3", [sources], question=question)
    # an ordinal is not a count: "second" does not write out 2
    assert not extract_is_grounded("2", ["It is the second most powerful chip."],
                                   question="How many chips are there?")


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
    ("How long will the security reviews take?", "25%", False),  # a duration is asked
    ("How long will the security reviews take?", "about two weeks", True),
    ("How soon will Beijing decide?", "by the end of the month", True),
    # a date is a day of a month; a day may also be a day of the week
    ("On what exact date did Beijing put its hold on shipments?", "earlier this month", False),
    ("On what date were the meetings held?", "on December 10", True),
    ("On what date did Reuters report it?", "on Wednesday", False),
    ("On which day of the week did Reuters report it?", "on Wednesday", True),
    ("What day were the meetings held?", "Dec. 10", True),
    # a who-question is not answered by the names it gives itself
    ("Who heads the National Development and Reform Commission?",
     "The National Development and Reform Commission", False),
    ("Who led the emergency meetings?", "The National Development and Reform Commission", True),
    ("So who disputed the report?", "Jensen Huang", True),
    ("Who is Randy Abrams?", "Randy Abrams", False),
    ("Who is Randy Abrams?", "head of Taiwan research at UBS Group", True),
    # "what is the name of X?" asks for a name the question does not give
    ("What is the name of the Huawei chip firms were urged to adopt?", "window guidance",
     False),
    ("What is the name of the Huawei chip firms were urged to adopt?", "Huawei", False),
    ("What's the name of the Huawei chip firms were urged to adopt?", "the Ascend 910C", True),
])
def test_a_which_year_or_which_place_question_needs_one(question: str, extract: str,
                                                       fits: bool) -> None:
    from assistant.answer.claims import answers_kind

    assert answers_kind(question, extract) is fits


def test_uncited_sentence_is_attributed_in_code(make_assistant: Make) -> None:
    a = make_assistant(["Chips would be taxed at 25% and then re-exported to approved buyers."])
    answer = a.ask("Which tax applies to the re-exported H200 chips?")
    assert not answer.refused
    assert [c.doc_id for c in answer.citations] == [TOMS]
    assert "25%" in answer.citations[0].quote


def test_wrong_marker_is_recited_to_the_supporting_passage(make_assistant: Make) -> None:
    def reply(messages: list[dict[str, str]]) -> str:
        wrong = other_passage(messages, "overseen AI chip procurement")
        return f"The agencies have overseen AI chip procurement since 2022 [{wrong}]."

    answer = make_assistant(reply).ask("Since when have the agencies overseen AI chip procurement?")
    assert [c.doc_id for c in answer.citations] == [TOMS]
    assert "2022" in answer.citations[0].quote


def test_grounding_helpers() -> None:
    assert numbers("H200 chips, 400,000 units, $4.6 billion, 25%") == {"400000", "$4.6", "25%"}
    assert numbers("63 percent, 7 per cent, US$ 3 bn") == {"63%", "7%", "$3"}
    # a percentage is not a dollar amount, nor the other way round; a bare number is either
    assert missing_numbers("It is 50%.", "It made $50 million.") == {"50%"}
    assert missing_numbers("It made $50 million.", "It is 50%.") == {"$50"}
    assert missing_numbers("It fell 63 and made 4.6 billion.",
                           "It fell 63%, to $4.6 billion.") == set()
    assert Evidence("Nvidia made $50 million in revenue.").score(
        "Nvidia gets 50% of its revenue.") == 0.0
    assert Evidence("Revenue fell 63% to about $3 billion.").score(
        "Revenue fell 63% to about $3 billion.") == 1.0
    assert Evidence("Revenue fell 63% to about $3 billion.").score(
        "Revenue fell 63% to $3 billion.") == 0.0  # "about" dropped: a qualifier is kept
    assert Evidence("Revenue fell 63%.").score("Revenue fell 64%.") == 0.0
    assert split_answer("One claim [1]. [2] Second claim.") == [("One claim.", [1]),
                                                                  ("Second claim.", [2])]
    evidence = [Evidence("nothing relevant at all"), Evidence("Chips are taxed at 25%. Fine.")]
    grounded, unsupported = ground("Taxed at 25% [2]. Nonsense words here [1].", evidence)
    assert [g.passages for g in grounded] == [(2,)]
    assert len(unsupported) == 1 and unsupported[0].startswith("Nonsense words here. — ")
    # a sentence the model repeats (passage after passage) is shown once
    grounded, unsupported = ground("Taxed at 25% [2]. Taxed at 25% [1]. Taxed  at 25% [2].",
                                   evidence)
    assert [g.text for g in grounded] == ["Taxed at 25%."]
    assert [u.split(" — ")[1] for u in unsupported] == ["it repeats a sentence before it"] * 2
    # A claim must be backed by one sentence, not by words scattered over the passage.
    mixed = Evidence("The H200 sits below Blackwell. The H20 made $50 million in revenue.")
    assert mixed.score("The H200 made $50 million in revenue.") == 0.0
    assert mixed.score("The H20 made $50 million in revenue.") == 1.0
    # ... nor by an adjacent sentence whose name is not the one the figure belongs to.
    assert mixed.score("The H200 sits below Blackwell and made $50 million.") == 0.0
    assert Evidence("By Ann Cao in Shanghai.", "South China Morning Post").score(
        "South China Morning Post, by Ann Cao in Shanghai.") == 1.0


def test_dotted_abbreviations_are_one_word() -> None:
    assert terms("the U.S. was weighing it") == terms("the US was weighing it") == {"us", "weigh"}
    assert "uk" in terms("exports to the U.K. rose")


def test_related_word_forms_share_a_stem() -> None:
    # the plural goes before the derivational ending: "approvals" matches "approval"
    forms = ["approvals", "approval", "approved", "approving"]
    assert len({frozenset(terms(w)) for w in forms}) == 1
    assert terms("proposals") == terms("proposal") == terms("proposed")
    assert terms("the processes") == terms("a process") and terms("status") == {"status"}
    # a consonant doubled before "-ed" or "-ing" is one: "barred" is "bar"
    assert terms("barred") == terms("bar") and terms("shipping") == terms("ships")
    assert terms("added") == terms("adds") and terms("passed") == terms("pass")


@pytest.mark.parametrize(("question", "extract", "answers"), [
    ("How many people were cited?", "Two sources", True),
    ("How much revenue did the H20 bring in?", "$50 million", True),
    ("How many generations below Blackwell is the H200?", "one generation", True),
    ("How many companies were named?", "One company", True),
    ("How much memory does the H200 have?", "One generation below", False),
    ("How much memory does the H200 have?", "Blackwell platform", False),
    ("Where did Huang speak?", "Taiwan", True),  # not a quantity question
])
def test_a_quantity_needs_an_amount_and_one_must_count_what_was_asked(
        question: str, extract: str, answers: bool) -> None:
    assert answers_quantity(question, extract) is answers


def test_a_how_much_question_needs_the_right_kind_of_figure() -> None:
    from assistant.answer.claims import figure_fits

    revenue = ["The H20 contributed just $50 million in revenue during the October quarter."]
    assert not figure_fits("How much memory does the H200 have?", "50 million", revenue)
    assert figure_fits("How much revenue did the H20 bring in?", "50 million", revenue)
    # "how much" with no noun after it asks for a sum of money as well
    assert figure_fits("How much did the H20 bring in for Nvidia?", "$50 million", revenue)
    assert not figure_fits("How much memory did the H20 bring?", "$50 million", revenue)
    assert not figure_fits("How many units were approved?", "63%", ["Revenue fell 63%."])
    assert figure_fits("By how much did revenue fall?", "63%", ["Revenue fell 63%."])
    assert figure_fits("How many H200 chips were approved?", "400,000",
                       ["More than 400,000 units were approved."])
    assert figure_fits("What is the tax?", "$5", ["A $5 tax."])  # not a how-much question


def test_a_count_of_the_items_a_sentence_lists_is_grounded() -> None:
    listed = ["The meetings were led by the National Development and Reform Commission and "
              "the Ministry of Industry and Information Technology."]
    assert counts_a_list("How many agencies led the meetings?", "2", listed)
    assert counts_a_list("How many agencies led the meetings?", "two", listed)
    assert not counts_a_list("How many agencies led the meetings?", "3", listed)
    assert not counts_a_list("Which agencies led the meetings?", "2", listed)
    assert counts_a_list("How many cities?", "4", ["Labs opened in Oxford, Leeds, York and Bath."])


def test_a_when_question_needs_a_sentence_placing_something_in_time() -> None:
    from assistant.answer.claims import asks_when, names_time

    assert asks_when("When is the first batch of H200 chips expected to arrive?")
    assert asks_when("And when had they asked for those estimates?")
    assert asks_when("When exactly did Huang meet Trump?")
    assert not asks_when("When the SCMP says 'the US tech giant', which company does it mean?")
    assert not names_time("The first batch was expected to go to Big Tech companies, which "
                          "were in urgent need of the GPU, a source said.")
    assert names_time("Officials requested estimates earlier in the week.")
    assert names_time("Companies began discussions after Bloomberg first reported in November.")
    assert names_time("The controls took effect back in 2022.")


def test_a_when_answer_whose_sentence_names_no_time_is_refused(tmp_path: object,
                                                                fake_embedder: object) -> None:
    from pathlib import Path

    from assistant.settings import Settings
    from conftest import CORPUS, ScriptedGenerator

    batch = "The first batch was expected to go to Big Tech companies"

    def reply(messages: list[dict[str, str]]) -> str:
        return f"Passage: 1\nAnswer: {batch} [{_passage_number(messages, batch)}]."

    cfg = Settings.from_env(extractive_threshold=9.0, context_mode="corpus")
    a = Assistant.open(corpus_dir=CORPUS, index_dir=Path(str(tmp_path)) / "index", settings=cfg,
                       embedder=fake_embedder,  # type: ignore[arg-type]
                       generator=ScriptedGenerator(reply, extract="Big Tech companies"))
    answer = a.ask("When is the first batch of H200 chips expected to arrive at Big Tech firms?")
    assert answer.refused
    assert any("place nothing in time" in u for u in answer.unsupported), answer.unsupported
    # asked who gets it, the same sentence answers
    assert not a.ask("Which companies is the first batch of H200 chips expected to go to?").refused


def test_a_who_answer_restating_the_question_is_checked_by_its_name() -> None:
    """"The analyst quoted in the piece is Randy Abrams, ..." keeps only what answers."""
    from assistant.answer.claims import Evidence, ground

    passage = [Evidence("Imports of the H200 reflected a balanced outcome, said Randy Abrams, "
                        "head of Taiwan research at UBS Group.", "South China Morning Post")]
    question = "Who is the UBS analyst quoted in the SCMP piece?"
    grounded, _ = ground("The UBS analyst quoted in the SCMP piece is Randy Abrams, head of "
                         "Taiwan research at UBS Group [1].", passage, question=question)
    assert [g.text for g in grounded] == ["Randy Abrams, head of Taiwan research at UBS Group."]
    grounded, _ = ground("Randy Abrams is the UBS analyst quoted in the SCMP piece [1].",
                         passage, question=question)
    assert [g.text for g in grounded] == ["Randy Abrams."]
    # a name the passage does not give, or words the question does not have, stay unsupported
    for reply in ("The analyst is Jensen Huang [1].",
                  "The UBS analyst quoted is a Taiwan researcher named Randy Abrams [1]."):
        assert ground(reply, passage, question=question)[0] == []
    # not for a question that asks no name
    assert ground("The UBS analyst quoted in the SCMP piece is Randy Abrams [1].", passage,
                  question="What did the UBS analyst quoted in the SCMP piece say?")[0] == []


def test_a_dropped_attribution_to_he_is_given_back_as_the_person_named_before() -> None:
    """"..., he added" is attributed to the person the passage named, never "according to he"."""
    from assistant.answer.claims import Evidence, ground

    passage = [Evidence("Imports of the H200 reflected a balanced outcome, said Randy Abrams, "
                        "head of Taiwan research at UBS Group. Unlimited access to Nvidia's "
                        "advanced chips could hinder the growth of China's domestic industry, "
                        "making some form of framework necessary for regulators to limit "
                        "adoption percentage and manage demand, he added.",
                        "South China Morning Post")]
    grounded, _ = ground("Unlimited access to Nvidia's advanced chips could hinder the growth of "
                         "China's domestic industry, making some form of framework necessary for "
                         "regulators to limit adoption percentage and manage demand [1].",
                         passage, question="What did he make of the imports?")
    assert [g.text for g in grounded] == [
        "Unlimited access to Nvidia's advanced chips could hinder the growth of China's "
        "domestic industry, making some form of framework necessary for regulators to limit "
        "adoption percentage and manage demand, according to Randy Abrams."]


def test_a_restated_list_of_names_is_checked_alone_whatever_the_parse() -> None:
    """The restatement's parse hangs "are" off "credited"; the split at "are" still holds."""
    from assistant.answer.claims import Evidence, ground

    byline = [Evidence("By Ann Cao in Shanghai, Coco Feng in Guangdong and Wency Chen in "
                       "Shanghai", "South China Morning Post")]
    grounded, _ = ground("The journalists credited on the SCMP piece about Beijing weighing H200 "
                         "imports are Ann Cao, Coco Feng, and Wency Chen [1].", byline,
                         question="Who are the journalists credited on the SCMP piece about "
                                  "Beijing weighing H200 imports?")
    assert [g.text for g in grounded] == ["Ann Cao, Coco Feng, and Wency Chen."]


def test_a_sentence_saying_a_name_of_itself_is_not_a_claim() -> None:
    """"X is led by X and Y" holds only the passage's words, and says nothing."""
    from assistant.answer.claims import Evidence, ground

    passage = [Evidence("The meetings were led by the National Development and Reform "
                        "Commission and the Ministry of Industry and Information Technology.")]
    grounded, unsupported = ground(
        "The National Development and Reform Commission is led by the National Development and "
        "Reform Commission and the Ministry of Industry and Information Technology [1].",
        passage, question="Who heads the National Development and Reform Commission?")
    assert grounded == [] and "of National Development and Reform Commission itself" in \
        unsupported[0]
    # a name in the subject and in another clause is fine
    assert ground("The meetings were led by the National Development and Reform Commission "
                  "[1].", passage)[0] != []
