"""Does the answer answer what was asked (spaCy's real pipeline; no language model)."""

from __future__ import annotations

import pytest

from assistant.answer.decide import AnswerBuilder
from assistant.answer.target import Cited, Restriction, Target, addresses, figure_phrase, target
from assistant.ingest.documents import load_corpus
from assistant.records import Answer, Citation
from conftest import CORPUS, SCMP, TOMS, FakeEmbedder

DOCS = {d.doc_id: d for d in load_corpus(CORPUS).documents}

H20 = ("The H20 contributed just $50 million in revenue during Nvidia's October quarter, "
       "compared to $4.6 billion in the period earlier this year.")
H200 = "The H200 sits one generation below Nvidia's new Blackwell platform."
UNITS = "The approval covered more than 400,000 units for ByteDance, Alibaba and Tencent."
TAX = "Chips would be imported into the United States for security reviews, taxed at 25%."
HUANG = "Nvidia CEO Jensen Huang disputed the information."
SAID = "\u201cWe have not received purchase orders,\u201d he told journalists in Taiwan."


def test_a_figure_question_names_its_attribute_and_owner() -> None:
    assert target("How much revenue did Nvidia make in the October quarter?") == Target(
        ("Nvidia",), True, ("revenue",), measures=("revenue",),
        restrictions=(Restriction("in", ("quart", "octob"), "the October quarter", True),),
        kinds=(("October", "quart"),), mentioned=("Nvidia", "October"), doers=("Nvidia",),
        periods=(("octob", "quart"),), months=("october",))
    assert target("What share of Nvidia's revenue comes from data centers?").attribute == (
        "share",)
    assert target("By what percentage did Nvidia's global revenue grow?").figure
    assert not target("What restrictions are regulators weighing?").figure  # words, not a figure
    assert not target("How many reporters wrote it?").figure  # a count may be stated in words
    # the first wh-word says what is asked: a "how much" further on is part of the topic
    assert not target("Purchases of which kind of hardware would determine how much Nvidia "
                      "hardware a company may buy?").figure
    assert target("In the quarter, how much revenue did the H20 bring?").figure


def test_a_figure_of_another_measure_does_not_answer() -> None:
    """Revenue is not a price; a fall is not a share; a generic noun takes any figure."""
    assert addresses(target("What price will companies pay for each H200?"), [Cited(H20)]) == \
        "no cited sentence gives a figure of the price asked for"
    fell = "Nvidia's overall China revenue fell 63% year over year to about $3 billion."
    rose = "ByteDance's spending on chips rose 20% this year."
    assert addresses(target("What share of the approved chips went to ByteDance?"),
                     [Cited(rose)]) == "no cited sentence gives a figure of the share asked for"
    # the question's own words say what else it measures: "revenue", "fell"
    assert addresses(target("What share of Nvidia's China revenue fell?"), [Cited(fell)]) == ""
    assert addresses(target("By what percentage did Nvidia's China revenue drop?"),
                     [Cited(fell)]) == ""
    assert addresses(target("What were Nvidia's sales in China?"), [Cited(fell)]) == ""
    # a sum with no word for what it measures may be the price asked for
    assert addresses(target("What price will companies pay for each H200?"),
                     [Cited("Each H200 will go for $30,000, people said.")]) == ""


def test_a_generic_figure_noun_accepts_any_figure() -> None:
    # "what figure ...?" asks for a figure, whatever it measures
    assert addresses(target("And what figure is that compared against?"), [Cited(H20)]) == ""
    assert addresses(target("What number did the report give?"), [Cited(HUANG)]) == (
        "no cited sentence gives a figure of the number asked for")


@pytest.mark.parametrize(("question", "cited", "reason"), [
    # the H20's revenue is not Nvidia's, though part of it
    ("How much revenue did Nvidia make in the October quarter?", [Cited(H20)],
     "no cited sentence gives a figure of the revenue asked for"),
    ("How much memory does the H200 have?", [Cited(H20, H200)],
     "the cited sentences do not speak of H200"),
    ("How much memory does the H20 have?", [Cited(H20)],
     "no cited sentence gives a figure of the memory asked for"),
    ("What share of the approved units went to Alibaba?", [Cited(UNITS)],
     "no cited sentence gives a figure of the share asked for"),
    ("What tax rate applies to the chips?", [Cited(TAX)], ""),
    ("What was Nvidia's worldwide revenue in the October quarter?", [Cited(H20)],
     "no cited sentence gives a figure of the revenue asked for"),
    # "he" points back: the sentence before names who said it
    ("What did Jensen Huang say about purchase orders?", [Cited(SAID, HUANG)], ""),
    ("What did Randy Abrams say about purchase orders?", [Cited(SAID, HUANG)],
     "the cited sentences do not speak of Randy Abrams"),
    # a count names whose units it counts
    ("How many units of the H20 were sold in China?", [Cited(UNITS)],
     "the cited sentences do not speak of H20"),
    # the title's topic may stand for a common-noun subject, never for another name
    ("How many H200 units did the approval cover?",
     [Cited(UNITS, title="Beijing weighs H200 imports")], ""),
    ("How much revenue did the H200 generate for Nvidia in China?",
     [Cited(H20, title="China discusses Nvidia H200 purchases")],
     "the cited sentences do not speak of H200"),
    # the title's topic owns what is asked, it does not act in it
    ("What tax rate does China impose on imported chips?",
     [Cited(TAX, title="China holds emergency meetings")],
     "the cited sentences do not speak of China"),
    # a verb may say what the figure measures: a price is not a revenue
    ("How much does a single H20 chip cost?", [Cited(H20)],
     "no cited sentence gives a figure of the cost asked for"),
    ("How much did the H20 earn?", [Cited(H20)], ""),
    # a change against the previous quarter is not a change year over year
    ("By how much did Nvidia's China revenue fall compared with the previous quarter?",
     [Cited("Nvidia's China revenue fell 63% year over year to about $3 billion.")],
     "the cited sentences compare year over year, not quarter over quarter as asked"),
    ("By how much did Nvidia's China revenue fall from the prior year?",
     [Cited("Nvidia's China revenue fell 63% year over year to about $3 billion.")], ""),
    # a clause describing the subject names no owner of the figure (w-10)
    ("What tax rate would the US apply to the chips?",
     [Cited("Chips manufactured by TSMC in Taiwan would be imported into the United States "
            "for security reviews, taxed at 25% and then re-exported to approved buyers.")],
     ""),
    # a capital stands for its country's government; a sentence naming neither does not
    ("At what rate would Washington tax the chips?", [Cited(TAX)], ""),
    ("At what rate would Beijing tax the chips?", [Cited(TAX)],
     "the cited sentences do not speak of Beijing"),
    # a name in the report's label counts (outlet, authors)
    ("What did the South China Morning Post say about purchase orders?",
     [Cited(SAID, HUANG, "South China Morning Post")], ""),
])
def test_cited_sentences_against_the_target(question: str, cited: list[Cited],
                                            reason: str) -> None:
    assert addresses(target(question), cited) == reason


def test_a_sentence_that_refers_to_nothing_does_not_borrow_its_neighbour() -> None:
    # The H20's sentence does not point back, so the H200 of the sentence before is not its
    assert addresses(target("How much revenue did the H200 bring in?"),
                     [Cited(H20, H200)]) == "the cited sentences do not speak of H200"


def test_a_name_in_the_place_of_the_asked_restriction_is_something_else() -> None:
    """A count for named buyers does not answer a count for other buyers."""
    want = target("How many units have been approved for China's state-backed telecom "
                  "operators?")
    assert addresses(want, [Cited(UNITS)]) == (
        "no cited sentence gives the count for China's state-backed telecom operators")
    # nor does a sentence before it on another matter that names those buyers
    access = "Access for telecom network operators was expected to remain under control."
    assert addresses(want, [Cited(UNITS, access)]) != ""
    # another cited sentence about something else does not make up for it
    assert addresses(want, [Cited(UNITS), Cited("Alibaba owns the Post.")]) != ""
    # the asked buyers themselves answer it; one of them, listed with the others, does not
    assert addresses(target("How many units were approved for ByteDance, Alibaba and "
                            "Tencent?"), [Cited(UNITS)]) == ""
    assert addresses(target("How many units were approved for Tencent?"), [Cited(UNITS)]) == \
        "the cited sentences give the count for Tencent together with others"
    # a count must speak of what narrows it: a sentence that does not say for whom
    # counts for anyone (it once left that to its context)
    bare = "The approval covered more than 400,000 units."
    assert addresses(want, [Cited(bare)]) != ""


def test_a_figure_for_a_narrower_thing_needs_that_thing_in_its_context() -> None:
    fell = "Nvidia's overall China revenue fell 63% year over year to about $3 billion."
    # a name the question narrows to must be spoken of, whatever the question asks
    assert addresses(target("How much revenue did Nvidia earn from Alibaba alone?"),
                     [Cited(fell)]) == "the cited sentences do not speak of Alibaba"
    # a title naming Alibaba does not make a sentence on Nvidia's figure about Alibaba
    assert addresses(target("How much revenue did Nvidia earn from Alibaba alone?"),
                     [Cited(fell, title="Alibaba and Tencent asked to assess demand")]) == \
        "the cited sentences do not speak of Alibaba"
    # it does for a sentence about "Chips", though a name stands in a clause about them
    into = target("How would the chips be moved into China?")
    chips = "Chips manufactured by TSMC in Taiwan would be re-exported to approved buyers."
    assert addresses(into, [Cited(chips, title="China holds emergency meetings")]) == ""
    nvidias = "Nvidia's chips would be re-exported to approved buyers."
    assert addresses(into, [Cited(nvidias, title="China holds emergency meetings")]) == \
        "the cited sentences do not speak of China"
    # a figure question's narrowing phrase must be there too ("from data centers")
    assert addresses(target("How much of Nvidia's revenue comes from data centers?"),
                     [Cited(fell)]) == "no cited sentence gives the figure for data centers"
    assert addresses(target("How much revenue did Nvidia make in China?"), [Cited(fell)]) == ""


def test_only_a_name_or_a_time_competes_with_the_restriction() -> None:
    # "on Thursday" is a time, "the H200" a thing: they do not fill the same place
    said = "Huang told reporters on Thursday that the government was still deciding."
    assert addresses(target("What did Huang say on the H200?"), [Cited(said)]) == ""
    # a description ("the US tech giant's chip") may name the asked thing another way
    ending = ("Approvals end the uncertainty over the US tech giant's second most powerful "
              "chip.")
    assert addresses(target("Do approvals end the uncertainty over the H200?"),
                     [Cited(ending)]) == ""
    # a time where a time was asked competes
    assert addresses(target("What happened on Friday?"),
                     [Cited("The meetings were held on Wednesday.")]) != ""
    # the asked-for thing itself ("on which date") restricts nothing
    assert target("On which date were the meetings held?").restrictions == ()
    # nor does a phrase that refers back ("at his firm"): a name may be who is meant
    role = "Randy Abrams is head of Taiwan research at UBS Group."
    assert target("What is Randy Abrams's role at his firm?").restrictions == ()
    assert addresses(target("What is Randy Abrams's role at his firm?"), [Cited(role)]) == ""
    assert addresses(target("What is Randy Abrams's role at Morgan Stanley?"),
                     [Cited(role)]) != ""


def test_a_sentence_about_the_names_noun_alone_may_be_about_it() -> None:
    """"H200 chips" asked; "Chips ... taxed at 25%" after a sentence on H200 exports."""
    want = target("At what rate would H200 chips be taxed under the export arrangement?")
    exports = "Trump's approval of H200 exports introduces a new mechanism."
    chips = "Chips manufactured by TSMC would be imported, taxed at 25% and re-exported."
    assert addresses(want, [Cited(chips, exports)]) == ""
    assert addresses(want, [Cited(chips, "", title="Emergency meetings on H200 purchases")]) \
        == ""
    # without the name nearby, or with another name on the noun, it is something else
    assert addresses(want, [Cited(chips)]) == "the cited sentences do not speak of H200"
    assert addresses(want, [Cited("The H20 chips would be taxed at 25%.", exports)]) == \
        "the cited sentences do not speak of H200"


def test_who_is_asked_to_have_said_something_must_be_quoted() -> None:
    headline = "More than 400,000 H200 chips reportedly approved for ByteDance and Tencent."
    said = "Imports reflected a balanced outcome, said Randy Abrams, head of research at UBS Group."
    assert addresses(target("What did Tencent's CEO say about the approvals?"),
                     [Cited(headline)]) == "the cited sentences quote no ceo and no one by name"
    assert addresses(target("What did the UBS analyst say about the imports?"), [Cited(said)]) == ""


def test_names_taken_from_the_conversation_may_be_called_by_a_common_noun() -> None:
    told = "Officials requested estimates and told attendees they would issue guidance."
    want = target("What did the National Development and Reform Commission tell attendees?")
    assert addresses(want, [Cited(told)]) != ""
    assert addresses(want, [Cited(told)], exempt=["the National Development and Reform "
                                                  "Commission"]) == ""


def test_a_name_from_the_conversation_is_not_called_by_another_name() -> None:
    headline = "More than 400,000 H200 chips reportedly approved for ByteDance and Tencent"
    want = target("How many units of the H20 were sold in China?")
    assert addresses(want, [Cited(headline)], exempt=["the H20"]) == \
        "the cited sentences do not speak of H20"


def test_a_reports_title_does_not_stand_for_its_sentences() -> None:
    """Tom's Hardware's title names the H200; its H20 sentence still does not."""
    from assistant.answer.decide import AnswerBuilder
    from assistant.ingest.documents import load_corpus
    from assistant.records import Answer, Citation
    from conftest import CORPUS, TOMS, FakeEmbedder

    docs = {d.doc_id: d for d in load_corpus(CORPUS).documents}
    assert "H200" in (docs[TOMS].title or "")
    quote = next(s for s in docs[TOMS].text.split(". ") if s.startswith("The H20 contributed"))
    start = docs[TOMS].text.index(quote)
    cited = Citation(1, "x", TOMS, docs[TOMS].title, start, start + len(quote), quote)
    answer = Answer("How much revenue did the H200 bring Nvidia in the October quarter?",
                    quote + " [1].", False, (cited,))
    checked = AnswerBuilder(docs, FakeEmbedder()).on_target(answer)
    assert checked.refused and checked.trace["target"] == \
        "the cited sentences do not speak of H200"


@pytest.mark.parametrize(("question", "sentence", "phrase"), [
    ("How many H200 units did the approval cover?", UNITS, "more than 400,000 units"),
    ("What was Nvidia's China revenue in the quarter?",
     "Nvidia's China revenue fell 63% year over year to about $3 billion.", "about $3 billion"),
    ("By what percentage did Nvidia's China revenue fall?",
     "Nvidia's China revenue fell 63% year over year to about $3 billion.", "63%"),
    ("What tax applies to the chips?", TAX, "25%"),
    # two sums of money: the reader needs the sentence to tell them apart
    ("How much revenue did the H20 bring in?", H20, ""),
    ("How many reporters wrote it?", UNITS, ""),  # a count of something else
])
def test_the_figure_that_answers(question: str, sentence: str, phrase: str) -> None:
    assert figure_phrase(question, sentence) == phrase


def _cited_answer(question: str, doc_id: str, opening: str) -> Answer:
    text = DOCS[doc_id].text
    start = text.index(opening)
    end = text.index(".", text.index(" ", start + 60)) + 1
    quote = text[start:end]
    citation = Citation(3, "x", doc_id, DOCS[doc_id].title, start, end, quote)
    return Answer(question, quote[:-1] + " [3].", False, (citation,))


@pytest.mark.parametrize(("question", "doc_id", "opening", "led"), [
    ("Is the H200 more capable than the H20?", TOMS, "The H200 sits",
     "Yes — the H200 sits one generation below"),
    ("How many H200 units did the approval cover?", SCMP, "The approval covered",
     "More than 400,000 units, according to Reuters [3]."),
    # "would be ... taxed at 25%": a bare "25%" would drop the condition, so it stays
    ("What tax would apply to the chips?", TOMS, "Chips manufactured", "Chips manufactured"),
    ("Is the H20 more capable than Blackwell?", TOMS, "The H200 sits", "The H200 sits"),
    # two questions in one: the figure alone would drop the second answer
    ("How many H200 units were approved, and for which companies?", SCMP,
     "The approval covered", "The approval covered more than 400,000 units for ByteDance"),
])
def test_yes_or_no_first_and_the_figure_alone(question: str, doc_id: str, opening: str,
                                              led: str) -> None:
    answer = AnswerBuilder(DOCS, FakeEmbedder()).lead(_cited_answer(question, doc_id, opening))
    assert answer.text.startswith(led)
    assert [c.n for c in answer.citations] == [3]


def test_a_share_is_not_a_change_and_another_quarter_is_not_the_asked_one() -> None:
    fell = ("Nvidia's overall China revenue fell 63% year over year to about $3 billion in "
            "the same quarter.")
    # "fell 63%" measures a change; a share of a total is another figure
    assert addresses(target("What share of Nvidia's total revenue came from China in the "
                            "October quarter?"), [Cited(fell)]) == (
        "no cited sentence gives a figure of the share asked for")
    assert addresses(target("What share of Nvidia revenue came from China?"),
                     [Cited("China accounted for a 13% share of Nvidia revenue.")]) == ""
    # "the same" quarter: the one the sentence before names
    assert addresses(target("By what percentage did Nvidia's China revenue drop year on year "
                            "in the October quarter?"), [Cited(fell, H20)]) == ""
    h20 = ("The H20 contributed just $50 million in revenue during Nvidia's October quarter, "
           "compared to $4.6 billion in the period earlier this year.")
    # a time competes under another preposition ("during"), when it is a time of its kind
    assert addresses(target("How much revenue did the H20 generate in the July quarter?"),
                     [Cited(h20)]) == ("the cited sentences speak of 'Nvidia's October "
                                       "quarter', not of 'the July quarter' as asked")
    assert addresses(target("How much revenue did the H20 generate in the October quarter?"),
                     [Cited(h20)]) == ""


def test_a_count_needs_what_narrows_it_but_not_the_word_for_a_claim() -> None:
    title = ("More than 400,000 H200 chips reportedly approved for ByteDance, Alibaba and "
             "Tencent as China balances AI needs with tech self-reliance push")
    assert addresses(target("How many H200 units did ByteDance say it needed in the demand "
                            "forecast it gave regulators?"), [Cited(title)]) == (
        "no cited sentence gives the count for the demand forecast")
    sources = ("Beijing has begun approving imports of Nvidia's H200, according to two sources "
               "familiar with the matter.")
    assert addresses(target("How many people familiar with the matter does the SCMP cite for "
                            "the claim that Beijing has started approving imports?"),
                     [Cited(sources, label="South China Morning Post")]) == ""


def test_a_figure_whose_subject_names_something_else_is_not_the_owners() -> None:
    want = target("What was Nvidia's China revenue in the October quarter?")
    h20 = Cited("The H20 contributed just $50 million in revenue during Nvidia's October "
                "quarter, compared to $4.6 billion when it could still ship into China.")
    overall = Cited("Nvidia's overall China revenue fell 63% to about $3 billion in the "
                    "October quarter.")
    assert "revenue" in addresses(want, [h20])
    assert addresses(want, [overall]) == ""
    # asked about the H20 itself, its sentence answers
    assert addresses(target("How much revenue did the H20 bring Nvidia?"), [h20]) == ""


def test_the_subject_of_the_asked_nouns_verb_owns_the_figure() -> None:
    """"How much revenue did Nvidia make?": Nvidia's revenue, not the H20's."""
    h20 = Cited("The H20 contributed just $50 million in revenue during Nvidia's October "
                "quarter, compared to $4.6 billion when it could still ship into China.")
    overall = Cited("Nvidia's overall China revenue fell 63% to about $3 billion in the "
                    "October quarter.")
    want = target("Roughly how much revenue did Nvidia make in China in its October quarter?")
    assert want.doers == ("Nvidia",)
    assert "revenue" in addresses(want, [h20])
    assert addresses(want, [overall]) == ""


def test_a_names_kind_may_come_from_how_the_reports_call_it() -> None:
    """"The H200s" asked; the reports write "H200 chips", so "Chips ..." may be about them."""
    from assistant.answer.target import named_kinds, with_kinds

    reports = ["More than 400,000 H200 chips were approved. The H200 sits below Blackwell.",
               "Beijing weighs H200 imports."]
    assert named_kinds("H200s", reports) == ("chip", "import")
    assert named_kinds("H200", reports) == ("chip", "import")
    assert named_kinds("Blackwell", reports) == ()
    want = target("What rate would the H200s be taxed at in the United States?")
    exports = "Trump's approval of H200 exports introduces a new mechanism."
    chips = ("Chips manufactured by TSMC would be imported into the United States, taxed at "
             "25% and re-exported.")
    assert addresses(want, [Cited(chips, exports)]) != ""
    kinds = with_kinds(want, lambda name: named_kinds(name, reports))
    assert addresses(kinds, [Cited(chips, exports)]) == ""
    # the name still has to stand before it, and another name's chips are not its own
    assert addresses(kinds, [Cited(chips)]) != ""
    assert addresses(kinds, [Cited("The H20 chips would be taxed at 25%.", exports)]) != ""


def test_the_same_time_refers_back_to_the_sentence_before() -> None:
    from assistant.answer.target import refers_back

    before = "The H20 contributed $50 million during Nvidia's October quarter."
    assert refers_back("China revenue fell to about $3 billion in the same quarter.", before)
    assert not refers_back("China revenue fell to about $3 billion this year.", before)


def test_a_figure_for_a_list_of_names_is_not_one_of_theirs() -> None:
    """400,000 units for ByteDance, Alibaba and Tencent are not Tencent's units."""
    covered = Cited("The approval covered more than 400,000 units for ByteDance, Alibaba Group "
                    "Holding and Tencent Holdings, while other firms awaited further approvals.",
                    title="Beijing weighs H200 imports")
    assert addresses(target("How many of the approved H200 units are earmarked specifically "
                            "for Tencent?"), [covered]) == \
        "the cited sentences give the count for Tencent together with others"
    assert addresses(target("How many H200 units were approved for ByteDance, Alibaba and "
                            "Tencent?"), [covered]) == ""
    assert addresses(target("How many units did the approval cover?"), [covered]) == ""


def test_a_count_for_a_named_subject_listed_with_others_is_not_its_own() -> None:
    """"Did ByteDance alone get ...?" is not answered by a count for three companies."""
    headline = Cited("More than 400,000 H200 chips reportedly approved for ByteDance, Alibaba "
                     "and Tencent as China balances AI needs", title="Beijing weighs H200 imports")
    assert addresses(target("How many H200 chips did ByteDance alone get approval to import?"),
                     [headline]) == ("the cited sentences give the figure for ByteDance "
                                     "together with others")
    assert addresses(target("How many H200 chips did ByteDance, Alibaba and Tencent get "
                            "approval to import?"), [headline]) == ""
    # "in total" sums up; it narrows nothing
    assert target("How many H200 chips were approved in total?").restrictions == ()
    assert addresses(target("How many H200 chips were approved in total?"), [headline]) == ""


def test_a_change_measured_against_another_period_is_not_the_asked_one() -> None:
    fell = Cited("Nvidia's overall China revenue fell 63% year over year to about $3 billion.")
    asked = target("By how much did Nvidia's China revenue fall quarter over quarter?")
    assert asked.basis == "quarter over quarter"
    assert addresses(asked, [fell]) == ("the cited sentences compare year over year, not "
                                        "quarter over quarter as asked")
    assert addresses(target("By how much did Nvidia's China revenue fall year-on-year?"),
                     [fell]) == ""


def test_a_who_question_for_a_role_wants_a_person() -> None:
    """"Who is the minister ...?" is not answered by a ministry; "Who led ...?" may be."""
    ministry = Cited("The emergency meetings were led by the National Development and Reform "
                     "Commission and the Ministry of Industry and Information Technology.")
    asked = target("Who is the minister of industry and information technology who chaired "
                   "the emergency meetings?")
    assert asked.person == "minister"
    assert addresses(asked, [ministry]) == ("the cited sentences name no person as the "
                                            "minister asked for")
    assert addresses(target("Who led the emergency meetings?"), [ministry]) == ""
    abrams = Cited("Imports of the H200 reflected a balanced outcome, said Randy Abrams, head "
                   "of Taiwan research at UBS Group.")
    assert addresses(target("Which analyst was quoted on the imports?"), [abrams]) == ""
    assert addresses(target("Who is the UBS analyst the SCMP quotes?"), [abrams]) == ""
    # a person the question names is not the answer
    assert addresses(target("Who is the analyst Randy Abrams works with?"), [abrams]) != ""


@pytest.mark.parametrize(("sentence", "why"), [
    # "earlier this year" is not a year back
    ("The chip brought in $50 million this quarter, against $4.6 billion earlier this year.",
     "the cited sentences give no figure for a year earlier, as asked"),
    ("The chip brought in $50 million this quarter, against $4.6 billion a year ago.", ""),
    ("The chip's revenue fell 63% year over year to $50 million.", ""),
    ("The chip brought in $4.6 billion in 2024.", ""),
])
def test_a_figure_of_a_year_earlier_needs_a_sentence_on_a_year_back(sentence: str,
                                                                     why: str) -> None:
    want = target("How much revenue did the chip bring in a year earlier?")
    assert want.year_ago and want.figure
    assert addresses(want, [Cited(sentence)]) == why


def test_total_or_overall_does_not_narrow_the_figure_asked_for() -> None:
    """"total revenue" is answered by "overall revenue"; "global revenue" is not."""
    sentence = "Nvidia's overall China revenue fell 63% to about $3 billion in the quarter."
    assert addresses(target("What was Nvidia's total China revenue in the quarter?"),
                     [Cited(sentence)]) == ""
    why = addresses(target("What was Nvidia's global revenue in the quarter?"), [Cited(sentence)])
    assert why == "no cited sentence gives a figure of the revenue asked for"


def test_a_person_asked_for_by_the_role_of_a_body_needs_that_body() -> None:
    """"Who is the head of the NDRC?" is not answered by a head of research at UBS."""
    quote = Cited("It was a balanced outcome, said Randy Abrams, head of research at UBS Group.")
    want = target("Who is the head of the NDRC who chaired the emergency meetings?")
    assert want.role_of == ("NDRC",)
    why = addresses(want, [quote])
    assert why == "the cited sentences do not speak of NDRC, whose head is asked"
    assert addresses(target("Who is the head of research at UBS?"), [quote]) == ""
    assert target("Who is Nvidia's CEO?").role_of == ("Nvidia",)


def test_how_many_of_the_named_units_is_a_count_for_the_one_asked() -> None:
    """"How many of the approved H200s went to ByteDance?": the count for ByteDance alone."""
    want = target("How many of the 400,000-plus approved H200s went to ByteDance specifically?")
    assert want.count
    quote = Cited("More than 400,000 H200 chips were approved for ByteDance, Alibaba and Tencent.")
    assert addresses(want, [quote]) == \
        "the cited sentences give the count for ByteDance together with others"


def test_a_count_for_a_name_the_parse_does_not_make_principal() -> None:
    """"How many units was Tencent approved to buy on its own?": Tencent's count alone."""
    want = target("How many H200 units was Tencent approved to buy on its own?")
    quote = Cited("More than 400,000 H200 chips reportedly approved for ByteDance, Alibaba and "
                  "Tencent as China balances AI needs with tech self-reliance push")
    assert addresses(want, [quote]) == \
        "the cited sentences give the figure for Tencent together with others"
    # the three asked together: their count
    asked = target("How many H200 units were ByteDance, Alibaba and Tencent approved to buy?")
    assert addresses(asked, [quote]) == ""


_EARLIER = ("The H20 contributed just $50 million in revenue during Nvidia’s October quarter, "
            "compared to $4.6 billion in the period earlier this year when the company could "
            "still ship H100-class processors into China.")


def test_a_figure_asked_for_a_year_is_not_one_given_for_a_period_of_its_own() -> None:
    asked = target("How much revenue did the H100 earn Nvidia in China in 2022?")
    assert asked.years == ("2022",)
    assert "not for 2022" in addresses(asked, [Cited(_EARLIER)])
    # the year with it: answered; a sentence with no period of its own is left alone
    assert addresses(asked, [Cited(_EARLIER.replace("this year", "in 2022"))]) == ""
    approved = target("How many H200 chips did Beijing approve in 2025?")
    assert addresses(approved, [Cited(
        "The approval covered more than 400,000 H200 chips, according to Reuters, which "
        "first reported the news on Wednesday.")]) == ""
    # a year as a figure is no year asked of
    assert target("How many of the 2,022 units were shipped?").years == ()


_ABRAMS = ("Imports of the H200 reflected a “balanced outcome”, said Randy Abrams, head of "
           "Taiwan research at UBS Group.")


def test_a_noun_qualified_by_another_place_answers_about_that_place() -> None:
    asked = target("Who heads UBS Group's China research team?")
    assert "'Taiwan research'" in addresses(asked, [Cited(_ABRAMS)])
    assert addresses(target("Who is the head of Taiwan research at UBS?"), [Cited(_ABRAMS)]) \
        == ""
    assert addresses(target("Who heads UBS's China research?"), [Cited(
        _ABRAMS.replace("head of Taiwan research", "head of Taiwan and China research"))]) == ""


def test_whose_role_a_who_question_asks_is_a_principal_name() -> None:
    assert target("Who heads UBS Group's Japan research team?").names == ("UBS Group", "Japan")
    assert "Japan" in addresses(target("Who heads UBS Group's Japan research team?"),
                                [Cited(_ABRAMS)])
    assert target("Who led the meetings?").names == ()


def test_the_name_of_a_named_makers_thing_must_speak_of_the_maker() -> None:
    """"What is the name of the Huawei chip ...?" is not answered by a sentence about
    chips that does not speak of Huawei; it is by one that does."""
    want = target("What is the name of the Huawei chip that Chinese firms were told to use?")
    assert want.names == ("Huawei",) and want.owners == ("Huawei",)
    assert addresses(want, [Cited(TAX)]) == "the cited sentences do not speak of Huawei"
    assert addresses(want, [Cited("Firms were told to buy Huawei's Ascend 910C chips.")]) == ""
    # "Which Nvidia chip ...?" may be answered by the chip's name alone ("The H20 ...")
    assert target("Which Nvidia chip brought in $50 million?").names == ()


def test_a_when_question_is_answered_by_a_date_of_what_its_subject_did() -> None:
    """A date of what China did, after Trump's decision, does not say when Washington
    acted; a date of what Beijing (China's seat of government) did may say when China did."""
    meetings = ("China convened emergency meetings with its largest technology companies on "
                "Wednesday, December 10, following President Donald Trump's decision to "
                "allow exports of the chip.")
    want = target("On what date did Washington clear the H200 for export to China?")
    assert "Washington" in want.names
    assert addresses(want, [Cited(meetings)]) == "the cited sentences do not speak of Washington"
    assert addresses(target("On what date did Beijing hold the emergency meetings?"),
                     [Cited(meetings)]) == ""
    # a "when" opening a clause asks no time: "Where was Huang when he spoke?"
    assert target("Where was Jensen Huang when he told reporters that?").names == ()
    # "how many times" asks for a ratio, not a time: the H200's figure is asked
    assert target("By how many times does the H200's computing performance exceed that "
                  "of the H20?").names == ("H200",)


def test_a_title_held_in_an_organisation_must_be_given() -> None:
    """"Who is the chief executive of UBS Group?" is not answered by a sentence naming a
    UBS head of research (x-48 was answered "Randy Abrams [3]"); "CEO" gives the title."""
    abrams = ("Imports of the H200 reflected a \u201cbalanced outcome\u201d, said Randy Abrams, "
              "head of Taiwan research at UBS Group.")
    assert addresses(target("Who is the chief executive of UBS Group?"), [Cited(abrams)]) == \
        "the cited sentences do not give anyone the title 'chief executive' asked for"
    assert addresses(target("Who is the head of Taiwan research at UBS Group?"),
                     [Cited(abrams)]) == ""
    assert addresses(target("Who is Nvidia's chief executive?"), [Cited(HUANG)]) == ""
    # a role of any kind may be described otherwise: "Which UBS analyst ...?"
    assert target("Which UBS analyst described the imports as a balanced outcome?").title == ()


def test_a_country_in_a_phrase_may_be_spoken_of_by_its_peoples_adjective() -> None:
    """x-10 ("taxed ... before being re-exported to China?") was refused: the sentence says
    "re-exported to approved Chinese buyers". A country that acts (the subject) is not
    spoken of so: China's own tariff is not a tax on chips sold to Chinese buyers."""
    taxed = ("Chips manufactured by TSMC in Taiwan would be imported into the United States "
             "for security reviews, taxed at 25% and then re-exported to approved Chinese "
             "buyers.")
    assert addresses(target("At what rate are the chips taxed when they pass through the US "
                            "before being re-exported to China?"), [Cited(taxed)]) == ""
    assert addresses(target("What import tariff does China levy on H200 chips entering the "
                            "country?"), [Cited(taxed)]) == \
        "the cited sentences do not speak of China"
    # a people's adjective of another country is not this one
    assert addresses(target("At what rate are the chips taxed before being re-exported to "
                            "Japan?"), [Cited(taxed)]) == \
        "the cited sentences do not speak of Japan"


def test_a_figure_compared_against_belongs_to_what_its_own_phrase_names() -> None:
    """blind18's y-14: the $4.6 billion "compared to" the H20's $50 million is the revenue
    of the period when Nvidia could still ship H100-class processors, not the H20's; but it
    is no figure for the October quarter, which the H20's is."""
    h100 = ("The H20 contributed just $50 million in revenue during Nvidia's October "
            "quarter, compared to $4.6 billion in the period earlier this year when the "
            "company could still ship H100-class processors into China.")
    assert addresses(target("How much revenue did Nvidia get in the earlier period this year "
                            "when it could still send H100-class processors to China?"),
                     [Cited(h100)]) == ""
    assert addresses(target("Roughly how much revenue did Nvidia make in China in its "
                            "October quarter?"), [Cited(h100)]) == \
        "no cited sentence gives a figure of the revenue asked for"
    # a standard that names nothing of the question stays the subject's
    assert addresses(target("How much revenue did Nvidia get in the earlier period this "
                            "year?"), [Cited(H20)]) == \
        "no cited sentence gives a figure of the revenue asked for"


def test_a_when_question_about_meeting_a_named_person_needs_that_person() -> None:
    """The date of China's meetings, "following President Donald Trump's decision", does
    not say when Trump met Jensen Huang (b-44, s-44, x-43 are unanswerable)."""
    meetings = ("China convened emergency meetings with its largest technology companies on "
                "Wednesday, December 10, following President Donald Trump's decision to allow "
                "exports of the chip.")
    assert addresses(target("On what date did Trump meet Jensen Huang before approving H200 "
                            "exports?"), [Cited(meetings)]) == \
        "the cited sentences do not speak of Jensen Huang"
    assert addresses(target("On what date did China convene the meetings?"),
                     [Cited(meetings)]) == ""


def test_a_figure_for_a_named_month_needs_that_month() -> None:
    """blind19's z-47: the October quarter's 63% fall is no answer for the July quarter."""
    fell = Cited("Nvidia's overall China revenue fell 63% year over year to about $3 billion "
                 "in the same quarter.", H20)
    assert addresses(target("By how much did Nvidia's China revenue fall year over year in "
                            "the July quarter?"), [fell]) == \
        "the cited sentences give no figure for July as asked"
    assert addresses(target("By how much did Nvidia's China revenue fall year over year in "
                            "the October quarter?"), [fell]) == ""


def test_a_which_question_asks_for_a_kind_its_noun_compounds_name() -> None:
    """"Which sqlite3 cursor method": a method of sqlite3's cursors, not any method."""
    from assistant.answer.target import with_named_qualifiers

    asked = target("Which sqlite3 cursor method executes an SQL statement?")
    assert asked.qualifiers == ("sqlite3", "cursor")
    # in an adjective's place: describes the thing ("homegrown" for what is "domestic")
    assert target("Which homegrown chip supplier were firms told to prioritise?"
                  ).qualifiers == ("chip",)
    for question in ("Which domestic supplier were firms told to favour?",  # an adjective
                     "Which Chinese companies were approved?",  # a nationality
                     "How many H200 units were approved?", "What share of revenue fell?"):
        assert target(question).qualifiers == (), question
    # names only: words the vocabulary cuts into pieces, and that the reports write
    pieces = {"sqlite3": 5, "cursor": 3}
    named = with_named_qualifiers(asked, lambda w: pieces.get(w, 3), lambda w: True)
    assert named.qualifiers == ("sqlite3",)
    assert with_named_qualifiers(asked, lambda w: pieces.get(w, 3),
                                 lambda w: w != "sqlite3").qualifiers == ()  # never written
    option = "-n N, --number=N: how many times to execute 'statement'."
    assert addresses(named, [Cited(option, title="timeit — Measure execution time")]) == (
        "the cited sentences do not speak of 'sqlite3', the kind of thing asked")
    assert addresses(named, [Cited("Execute a single SQL statement.",
                                   title="sqlite3 — DB-API 2.0 interface")]) == ""
    assert addresses(named, [Cited("Use sqlite3.connect() and the cursor's execute().")]) == ""


def test_the_answer_stage_checks_the_kinds_the_reports_write_by_the_models_vocabulary() -> None:
    """Wiring: the builder keeps a qualifier its embedder cuts into pieces and some report
    writes ("Nvidia"), and refuses an answer whose cited sentence does not name it."""
    from assistant.answer.decide import AnswerBuilder
    from assistant.ingest.documents import load_corpus
    from assistant.records import Answer, Citation
    from conftest import CORPUS, SCMP, FakeEmbedder

    class Vocabulary(FakeEmbedder):
        def count_tokens(self, text: str) -> int:  # "nvidia" in three pieces, as MiniLM does
            return 5 if text in ("nvidia", "zipfile") else 3

    docs = {d.doc_id: d for d in load_corpus(CORPUS).documents}
    quote = next(s for s in docs[SCMP].text.split(". ") if "Randy Abrams" in s)
    start = docs[SCMP].text.index(quote)
    cited = Citation(1, "x", SCMP, docs[SCMP].title, start, start + len(quote), quote)
    for question, refused in (("Which Nvidia product reflected a balanced outcome?", True),
                              # a word the vocabulary holds whole is not checked
                              ("Which UBS product reflected a balanced outcome?", False),
                              # a word no report writes is the question's own
                              ("Which zipfile product reflected a balanced outcome?", False)):
        answer = Answer(question, quote + " [1].", False, (cited,))
        for embedder, checks in ((Vocabulary(), refused), (FakeEmbedder(), False)):
            checked = AnswerBuilder(docs, embedder).on_target(answer)
            assert checked.refused is checks, (question, checked.trace)
