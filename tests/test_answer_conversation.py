"""Follow-up questions made to stand alone (spaCy's real pipeline; no language model)."""

from __future__ import annotations

import pytest

from assistant.answer.conversation import Resolved, resolve


def _turns(*texts: str) -> list[dict[str, str]]:
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": t}
            for i, t in enumerate(texts)]


@pytest.mark.parametrize(("turns", "question", "expected"), [
    # he/she: the person the last exchange named (the answer's, when it was asked for)
    (("Which analyst called it a balanced outcome?", "Randy Abrams said so [1]."),
     "Where does he work?", "Where does Randy Abrams work?"),
    (("Who said China had not placed orders?",
      'Nvidia CEO Jensen Huang said so <a class="cite">&#91;1&#93;</a>.'),
     "What did she say about market share?", "What did Jensen Huang say about market share?"),
    # it/its: the thing the question was about
    (("What is the H200?", "The H200 is Nvidia's second most powerful AI chip [1]."),
     "Who makes it?", "Who makes the H200?"),
    (("What did the H20 earn Nvidia in the October quarter?", "$50 million [1]."),
     "And how did its overall China revenue do?",
     "And how did Nvidia's overall China revenue do?"),
    # they: names joined by "and" in the answer to a "which" question
    (("Which government bodies ran the meetings?",
      "The meetings were led by the National Development and Reform Commission and the "
      "Ministry of Industry and Information Technology [1]."),
     "Since when have they overseen chip procurement?",
     "Since when have the National Development and Reform Commission and the Ministry of "
     "Industry and Information Technology overseen chip procurement?"),
    # a passive "they" after "who did it?" is what was done, not who did it
    (("Who led China's emergency meetings on Nvidia H200 purchases?",
      "The National Development and Reform Commission and the Ministry of Industry and "
      "Information Technology."),
     "and when were they held?", "and when were China's emergency meetings held?"),
    (("Which agencies led China's emergency meetings on the H200?",
      "The National Development and Reform Commission and the Ministry of Industry and "
      "Information Technology."),
     "And when were those held?", "And when were China's emergency meetings held?"),
    # ... but after "which were done to?" it is the names answering it
    (("Which companies were asked to provide demand forecasts?",
      "Representatives from Alibaba, ByteDance, and Tencent were asked [4]."),
     "And when were they asked?", "And when were Alibaba, ByteDance, and Tencent asked?"),
    # they/it: the thing a "what X" question asked about, once answered
    (("What restrictions are Chinese regulators considering on H200 purchases?",
      "A cap relative to existing and planned purchases of domestic accelerators [8]."),
     "How would they be communicated to companies if adopted?",
     "How would the restrictions be communicated to companies if adopted?"),
    # the topic comes before names the answer joins by "and"
    (("What restrictions are Chinese regulators considering on H200 purchases?",
      "Barring H200 use in finance and energy [8]."),
     "How would they be communicated to companies if adopted?",
     "How would the restrictions be communicated to companies if adopted?"),
    (("What tax rate would apply to H200s under the export arrangement?", "25% [7]."),
     "Which company makes the chips subject to it?",
     "Which company makes the chips subject to the tax rate?"),
    # "and what about X?": the previous question, about X
    (("Who is Randy Abrams?", "Head of Taiwan research at UBS Group [1]."),
     "And what about Jensen Huang?", "Who is Jensen Huang?"),
    (("How does the H200 compare with Blackwell?", "It sits one generation below [1]."),
     "And with the H20?", "How does the H200 compare with the H20?"),
    (("Who is Tom's Hardware's source for the meetings?", "The Information [1]."),
     "What about Bloomberg?",
     "Who is Tom's Hardware's source for the meetings? What about Bloomberg?"),
    # "and X?": a noun phrase alone after "and" is an ellipsis too
    (("Where was Ann Cao reporting from?", "Shanghai [1]."),
     "And Coco Feng?", "Where was Coco Feng reporting from?"),
])
def test_follow_ups_stand_alone(turns: tuple[str, ...], question: str, expected: str) -> None:
    resolved = resolve(question, _turns(*turns))
    assert resolved.standalone == expected
    assert resolved.changed and resolved.asked == question


def test_a_third_turn_sees_the_names_of_the_first() -> None:
    turns = _turns("Who is Nvidia's CEO?", "Jensen Huang [1].",
                   "Where did he speak to journalists?", "In Taiwan [1].")
    assert resolve("What did he say there?", turns).standalone == \
        "What did Jensen Huang say there?"


@pytest.mark.parametrize(("turns", "question"), [
    ((), "Who is he?"),  # no conversation: nothing to resolve
    (("Who is Randy Abrams?", "Head of research [1]."), "How many chips were approved?"),
    (("Who is Randy Abrams?", "An analyst [1]."), "With whom did Trump meet?"),
    # the question names what its pronoun stands for, before it
    (("How many units were approved?", "More than 400,000 units [1]."),
     "And what about the other firms — have they been cleared too?"),
    (("Who disputed the report?", "Jensen Huang [1]."),
     "What did Donald Trump say when he met journalists?"),
    (("Where was Ann Cao reporting from?", "Shanghai [1]."), "And then?"),  # no phrase
])
def test_questions_of_their_own_are_left_alone(turns: tuple[str, ...], question: str) -> None:
    assert resolve(question, _turns(*turns)) == Resolved(question, question)


def test_a_group_the_last_turn_named_is_still_resolved() -> None:
    """"the chips" is the last turn's H200s: "they" stands for them, and says so."""
    turns = _turns("What tax rate applies to H200s under Trump's new export mechanism?", "25%.")
    resolved = resolve("Where are the chips made before they get routed through the US?", turns)
    assert resolved.standalone == "Where are the chips made before H200s get routed through the US?"


def test_an_object_pronoun_is_not_the_subject_named_before_it() -> None:
    turns = _turns("Who disputed the report?", "Jensen Huang [1].")
    assert resolve("What did Donald Trump say after he met him?", turns).standalone == \
        "What did Donald Trump say after he met Jensen Huang?"


def test_and_with_a_clause_is_not_an_ellipsis() -> None:
    turns = _turns("What are regulators considering?", "A cap on purchases [1].")
    resolved = resolve("And in which sectors would they bar purchases?", turns)
    assert resolved.standalone == "And in which sectors would regulators bar purchases?"


def test_a_refusal_names_nothing_and_the_asked_unknown_is_no_antecedent() -> None:
    refused = _turns("Which company owns the South China Morning Post?",
                     "The reports do not say.")
    standalone = resolve("Was it among the companies covered?", refused).standalone
    assert "company among" not in standalone and "The reports" not in standalone
    answered = _turns("Which company owns the South China Morning Post?",
                      "Alibaba owns the Post [2].")
    assert resolve("Was it among the companies covered?", answered).standalone == \
        "Was Alibaba among the companies covered?"


def test_an_unanswered_what_question_leaves_its_topic_unknown() -> None:
    refused = _turns("What restrictions are Chinese regulators considering?",
                     "The reports do not say.")
    assert "restrictions" not in resolve("Are they strict?", refused).standalone


def test_adjectives_joined_by_and_are_not_a_group_of_names() -> None:
    # "existing and planned purchases" is one plural noun phrase, not two names
    turns = _turns("What did the proposal cap?",
                   "Purchases relative to existing and planned purchases of chips by "
                   "Alibaba and Tencent [8].")
    assert resolve("Did they agree?", turns).standalone == "Did Alibaba and Tencent agree?"


def test_its_is_the_name_that_owns_something() -> None:
    turns = _turns("How sharply did Nvidia's China revenue fall in the October quarter?",
                   "Nvidia's overall China revenue fell 63% to about $3 billion [6].")
    assert resolve("And what has its CEO said about its market share?", turns).standalone == \
        "And what has Nvidia's CEO said about Nvidia's market share?"


@pytest.mark.parametrize(("turns", "question", "expected"), [
    # "that agency": the name answering a question that asked which agency
    (("Which news agency first reported the approvals?", "Reuters first reported it [2]."),
     "And what does the other outlet cite that agency for?",
     "And what does the other outlet cite Reuters for?"),
    (("Which company makes the chips?", "Chips made by TSMC in Taiwan would be imported [7]."),
     "Is that company mentioned in the other report?",
     "Is TSMC mentioned in the other report?"),
    # "that quarter": the phrase of the conversation with the same noun
    (("What did the H20 earn Nvidia in the October quarter?", "$50 million [6]."),
     "How did Nvidia's China revenue do in that quarter?",
     "How did Nvidia's China revenue do in the October quarter?"),
])
def test_a_demonstrative_phrase_takes_what_it_points_at(turns: tuple[str, str], question: str,
                                                        expected: str) -> None:
    assert resolve(question, _turns(*turns)).standalone == expected


def test_a_demonstrative_without_a_clear_antecedent_stays() -> None:
    turns = _turns("Which sectors could be barred?", "Sectors regarded as sensitive [8].")
    assert resolve("Why were those sectors singled out?", turns).standalone == \
        "Why were those sectors singled out?"


def test_the_name_that_does_what_was_asked_comes_before_other_names() -> None:
    answer = ("The approval covered more than 400,000 units for ByteDance, Alibaba and Tencent, "
              "according to Reuters, which first reported the news on Wednesday [2].")
    turns = _turns("Which news agency first reported the approvals?", answer)
    assert resolve("What else did it report?", turns).standalone == "What else did Reuters report?"
    assert resolve("Does the other outlet cite that agency?", turns).standalone == \
        "Does the other outlet cite Reuters?"


def test_a_subject_pronoun_keeps_the_subject_of_the_question_before() -> None:
    turns = _turns("What did Chinese officials ask the companies for?",
                   "Representatives from Alibaba, ByteDance, and Tencent were asked to provide "
                   "demand forecasts [4].")
    assert resolve("What did they say would follow?", turns).standalone == \
        "What did Chinese officials say would follow?"
    # not the subject: the names the answer joins
    assert resolve("Did regulators approve them?", turns).standalone == \
        "Did regulators approve Alibaba, ByteDance, and Tencent?"


def test_they_after_a_who_question_is_who_answered_and_them_is_something_else() -> None:
    """"they make them": the maker answering "who", and the thing made, not "Chips" twice."""
    turns = _turns("Who manufactures the H200 chips according to Tom's Hardware?",
                   "Chips manufactured by TSMC in Taiwan would be imported into the United "
                   "States for security reviews and re-exported to approved Chinese buyers [7].")
    resolved = resolve("and after they make them, what route do the chips take?", turns)
    assert resolved.standalone == ("and after TSMC make the H200 chips, what route do the "
                                   "chips take?")
    # names joined by "and" answering "which companies" stay together
    joined = _turns("Which companies were asked to provide demand forecasts?",
                    "Representatives from Alibaba, ByteDance, and Tencent were asked to provide "
                    "demand forecasts [4].")
    assert resolve("What were they asked to do?", joined).standalone.startswith(
        "What were Alibaba, ByteDance, and Tencent asked")


def test_it_after_a_which_noun_question_is_the_answers_phrase_with_that_noun() -> None:
    """"Which Nvidia platform ...?" answered; "it" is the platform, not "Tom" of the outlet."""
    turns = _turns("Which Nvidia platform does Tom's Hardware say sits one generation above "
                   "the H200?",
                   "The H200 sits one generation below Nvidia’s new Blackwell platform but "
                   "remains vastly more capable than the H20 [6].")
    assert resolve("Can Chinese buyers get it under the new arrangement?", turns).standalone == \
        "Can Chinese buyers get Nvidia’s new Blackwell platform under the new arrangement?"


_REPORTS = {"scmp": ("South China Morning Post", "SCMP"), "toms": ("Tom's Hardware",)}
_ASKED_OF_SCMP = [{"role": "user", "content": "According to the SCMP, whose access to the H200 "
                   "was expected to stay tightly controlled?"},
                  {"role": "assistant", "content": "State-backed companies [1]."}]


@pytest.mark.parametrize(("question", "expected"), [
    ("What about the other report — which sectors might be barred from using the chip?",
     "According to Tom's Hardware, which sectors might be barred from using the chip?"),
    ("And in the other article: who led the meetings?",
     "According to Tom's Hardware, who led the meetings?"),
    ("What about the other report?",  # the previous question, asked of the other report
     "According to Tom's Hardware, whose access to the H200 was expected to stay tightly "
     "controlled?"),
    ("The other report, what does it say about Huawei?",  # "it" is the report
     "What does Tom's Hardware say about Huawei?"),
    ("How does the other outlet describe the meetings?",
     "How does Tom's Hardware describe the meetings?"),
])
def test_the_other_report_is_the_one_the_conversation_did_not_name(question: str,
                                                                   expected: str) -> None:
    assert resolve(question, _ASKED_OF_SCMP, _REPORTS).standalone == expected


def test_a_report_named_in_what_about_takes_the_question() -> None:
    asked = [{"role": "user", "content": "According to Tom's Hardware, what triggered the "
              "emergency meetings?"}, {"role": "assistant", "content": "Trump's decision [1]."}]
    assert resolve("What about the SCMP - what does it say came before the approval?", asked,
                   _REPORTS).standalone == "What does the SCMP say came before the approval?"
    assert resolve("What about the SCMP piece: who wrote it?", asked, _REPORTS).standalone \
        == "Who wrote the SCMP piece?"
    assert resolve("What about the SCMP?", asked, _REPORTS).standalone \
        == "According to the SCMP, what triggered the emergency meetings?"
    # not a report alone: an ellipsis as before
    assert "Huawei" in resolve("What about Huawei?", asked, _REPORTS).standalone


def test_the_other_report_stays_when_it_is_unclear_which_one_it_is() -> None:
    question = "What about the other report — who led the meetings?"
    three = {**_REPORTS, "reuters": ("Reuters",)}  # the conversation named only one of three
    assert resolve(question, _ASKED_OF_SCMP, three).standalone == question
    unnamed = [{"role": "user", "content": "Who led the meetings?"},
               {"role": "assistant", "content": "Two agencies [1]."}]
    assert resolve(question, unnamed, _REPORTS).standalone == question
    # of three, the one other report the conversation named
    both = [*_ASKED_OF_SCMP, {"role": "user", "content": "Does Reuters say so too?"},
            {"role": "assistant", "content": "Yes [2]."}]
    assert resolve("And the other report: who led the meetings?", both, three).standalone \
        == "According to South China Morning Post, who led the meetings?"


@pytest.mark.parametrize(("turns", "question", "expected"), [
    # a short name answering a who-question takes the wh-phrase's place
    (("Who first reported the approval of more than 400,000 H200s?", "Reuters."),
     "On what day was that?",
     "On what day was that (Reuters first reported the approval of more than 400,000 H200s)?"),
    # an answer that is a sentence says what happened
    (("What did Beijing do to H200 shipments?", "Beijing put a temporary hold on them [1]."),
     "What had Washington done before that?",
     "What had Washington done before that (Beijing put a temporary hold on them)?"),
    # otherwise the question's words without its wh-phrase, then the answer
    (("Under Trump's plan, at what rate would H200s be taxed in the US?", "25%."),
     "And what happens after that?",
     "And what happens after that (Under Trump's plan, would H200s be taxed in the US: 25%)?"),
])
def test_that_standing_for_what_happened_is_spelt_out(turns: tuple[str, ...], question: str,
                                                      expected: str) -> None:
    assert resolve(question, _turns(*turns)).standalone == expected


@pytest.mark.parametrize("question", [
    "Which chips were approved that day?",  # a determiner
    "Where was he when he said that?",  # the words said
    "Is that the chip that was approved?",  # a thing, named by its noun
])
def test_that_standing_for_a_thing_or_words_is_not_an_event(question: str) -> None:
    turns = _turns("Who first reported the approval?", "Reuters.")
    assert "(Reuters" not in resolve(question, turns).standalone


@pytest.mark.parametrize(("turns", "question", "expected"), [
    # an answer "The H20" names the chip asked for (blind18's y-36 took "the Chinese market")
    (("Which Nvidia chip was built specifically for the Chinese market?", "The H20."),
     "How much revenue did it make in the October quarter?",
     "How much revenue did The H20 make in the October quarter?"),
    # "that one" is the one thing the last exchange named first (y-40, p-36)
    (("Which Nvidia platform is the H200 one generation below?", "Blackwell."),
     "Is that one allowed to go to China?", "Is Blackwell allowed to go to China?"),
    # "And which ...?" asks for a name as "Which ...?" does (x-40)
    (("And which outlet said Alibaba and ByteDance wanted to buy the chips?", "Reuters."),
     "What word did it use?", "What word did Reuters use?"),
    # an answered "What was X?" makes X the topic (y-34 took "Nvidia")
    (("What was Nvidia's China revenue in the October quarter?", "About $3 billion."),
     "How much did it fall year over year?",
     "How much did Nvidia's China revenue fall year over year?"),
])
def test_the_thing_an_answered_exchange_was_about(turns: tuple[str, str], question: str,
                                                  expected: str) -> None:
    assert resolve(question, _turns(*turns)).standalone == expected


def test_they_after_names_joined_by_and_is_all_of_them() -> None:
    turns = _turns("Which agencies led the meetings?", "The National Development and Reform "
                   "Commission and the Ministry of Industry and Information Technology.")
    assert resolve("Since when have they overseen chip procurement?", turns).standalone == (
        "Since when have The National Development and Reform Commission and the Ministry of "
        "Industry and Information Technology overseen chip procurement?")
