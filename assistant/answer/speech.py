"""What a named person said: the sentences in which the reports have that person speak.

"What did he say when he landed in Taiwan?" (he: Jensen Huang, from the
conversation) asks for a sentence in which Jensen Huang speaks: one that names him,
or speaks of him as "he" after naming him ("..., he told journalists upon arrival
in Taiwan", :func:`assistant.answer.claims.referent`), with a reporting verb
("said", "told", "added") or a quotation. Which of his sentences answers is for
the question's other words to decide: :meth:`assistant.answer.decide.AnswerBuilder.said`
ranks them.

A question about what a person *thinks of* or *makes of* something asks the same:
the reports know it only from what the person said. The patterns are English
grammar, not words of the reports.
"""

from __future__ import annotations

import re

from assistant import verify
from assistant.answer.claims import Evidence, referent

# "what did/does/has X say / make of / think / tell / call / argue ...", "what does
# the report quote X (as) saying", "how did X describe / react to / respond to"
_ASKS_RE = re.compile(
    r"\bwhat\s+(?:did|does|do|has|had|have|would|will)\s+(?P<who>[^?]+?)\s+"
    r"(?:say|said|make\s+of|think|thought|tell|told|call|argue|add|note|warn|claim|mean)\b"
    r"|\bquotes?\s+(?P<quoted>[^?]+?)\s+(?:as\s+)?(?:saying|on|about)\b"
    r"|\bhow\s+(?:did|does|do|has|had)\s+(?P<how>[^?]+?)\s+"
    r"(?:describe|characteri[sz]e|react|respond|view|see)\b",
    re.IGNORECASE)
_QUOTE_RE = re.compile(r"[“”\"]")


def asked_speaker(question: str) -> str:
    """The person whose words ``question`` asks for ("" when it asks for no person's words).

    Only a person the question names (spaCy's PERSON): "What did Tencent's spokesperson
    say?" names no one, and what an organisation said is not asked here.
    """
    match = _ASKS_RE.search(question)
    if match is None:
        return ""
    group = next(g for g in ("who", "quoted", "how") if match.group(g) is not None)
    start, end = match.span(group)
    people = [e.text for e in verify.parse(question).ents
              if e.label_ == "PERSON" and start <= e.start_char and e.end_char <= end]
    return people[0].strip(" ,;:") if people else ""


def _names(sentence: str, person: str) -> bool:
    """True when ``sentence`` names ``person``, in full or by a part ("Huang")."""
    parts = [w for w in re.findall(r"[A-Za-z][\w'’-]+", person) if len(w) > 2]
    return verify.mentions(sentence, person) or any(
        re.search(rf"(?<!\w){re.escape(p)}(?!\w)", sentence) for p in parts)


def speaks(person: str, passage: str, sentence: str) -> bool:
    """True when ``sentence`` (of ``passage``) has ``person`` say something.

    It names the person or speaks of them as "he" / "she" after naming them, and it
    reports speech: a reporting verb or a quotation.
    """
    reporting = verify.DEFAULT_POLICY.reporting - {"accord", "reportedly"}
    said = bool(_QUOTE_RE.search(sentence)) or any(
        t.lemma_.lower() in reporting for t in verify.parse(sentence) if t.pos_ == "VERB")
    if not said:
        return False
    return _names(sentence, person) or _names(referent(passage, sentence), person)


def statement(person: str, passage: str, sentence: str, most: int) -> list[str]:
    """``sentence`` and the sentences next to it in which ``person`` speaks too.

    "Imports of the H200 reflected a “balanced outcome”, said Randy Abrams ..." and
    "Unlimited access ... could hinder ..., he added.": one statement of his. At most
    ``most`` sentences, in the passage's order.
    """
    units = Evidence(passage).units()
    if sentence not in units:
        return [sentence]
    at = units.index(sentence)
    taken = [at]
    for other in (at + 1, at - 1):
        if len(taken) < most and 0 <= other < len(units) \
                and speaks(person, passage, units[other]):
            taken.append(other)
    return [units[i] for i in sorted(taken)]
