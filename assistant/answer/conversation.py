"""Step 1 of answering: a follow-up question, made to stand on its own.

"Where was he when he spoke to journalists?" asked after "Who is Nvidia's CEO?"
means "Where was Jensen Huang when he spoke to journalists?". Every later step
(retrieval, the model's prompt, the checks of the answer) reads the standalone
question, so none of them has to guess what "he" is.

Two kinds of follow-up are resolved, with spaCy's parse (:func:`assistant.verify.parse`):

* **Pronouns.** "he/him/his/she/her" take the latest person named; "it/its" the
  latest singular thing; "they/them/their" the latest group (names joined by
  "and", or a plural noun phrase). Candidates come from the last exchange first:
  when the earlier question asked for a name ("Which outlet ...?", "Who ...?"),
  its answer's names come before the question's own, otherwise after.
* **Ellipsis.** "And what about X?", "What about X?", "And with X?", "And X?" repeat the
  previous question about X: the phrase of the previous question after the same
  preposition, or of the same kind, is replaced by X; failing that, the previous
  question is put before "What about X?".
* **"The other report".** "the other report" (article, outlet, story ...) is the one
  report of the conversation that its latest turn naming a report did not name: of
  two reports in all, the other one; of more, the one other report the conversation
  named. "What about the other report?" asks the previous question of it, and "What
  about the other report — which sectors ...?" asks "According to <it>, which sectors
  ...?". Reports are known by their outlets' names
  (:func:`assistant.answer.comparison.outlet_names`).

A question with nothing to resolve is returned unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assistant import verify
from assistant.answer import comparison
from assistant.models.generation import Message

_PERSON = frozenset({"he", "him", "his", "she", "her", "hers", "himself", "herself"})
_THING = frozenset({"it", "its"})
_GROUP = frozenset({"they", "them", "their", "theirs"})
_DEMONSTRATIVES = frozenset({"that", "this", "those", "these"})
_ARTICLES = frozenset({"a", "an", "the"})
_PLURAL_DEMONSTRATIVES = frozenset({"those", "these"})  # alone, a group: "when were those held?"
_POSSESSIVE = frozenset({"his", "its", "their", "theirs", "hers"})
_OBJECT = frozenset({"him", "them", "himself", "herself"})  # "her" may be either
# words that bring in a group the conversation has not named ("the other firms")
_NEW_GROUP = frozenset("other another remaining some several many both all".split())
_ELLIPSIS_RE = re.compile(
    r"^\W*(?:and\s+)?(?:(?:what|how)\s+about|(?P<prep>with|for|in|on|at|from|to|of|versus|vs\.?)"
    r"(?=\s))\s+(?P<focus>.+?)\W*$", re.IGNORECASE)
_AND_RE = re.compile(r"^\W*and\b", re.IGNORECASE)
# "And Coco Feng?": "and" and a noun phrase alone, the previous question about it
_AND_ALONE_RE = re.compile(r"^\W*and\s+(?P<focus>[^?]+?)\W*$", re.IGNORECASE)
# the parts of speech of a noun phrase standing alone ("the other two firms", "Tencent's")
_PHRASE_POS = frozenset({"NOUN", "PROPN", "DET", "ADJ", "NUM", "CCONJ", "PUNCT", "PART",
                         "PRON"})
_MARKUP_RE = re.compile(r"<[^>]*>|\[\d+\]|&#91;\d+&#93;")
_WH = frozenset({"what", "which", "who", "whom", "whose", "where", "when", "why", "how"})
_PERSON_LABELS = frozenset({"PERSON"})
_THING_LABELS = frozenset({"ORG", "GPE", "PRODUCT", "NORP", "FAC", "LOC", "EVENT",
                           "WORK_OF_ART", "LAW"})
_OWNER_LABELS = frozenset({"ORG", "PRODUCT"})  # what "its CEO", "its market share" belong to
_OWNER = "owner"  # the label of a name written as a possessor ("Nvidia's")
_REFUSAL_RE = re.compile(r"^\W*the reports do not say\b", re.IGNORECASE)
_OTHER_REPORT_RE = re.compile(r"\bthe\s+other\s+(?:report|article|outlet|story|piece|"
                              r"publication|newspaper|paper|site|source)\b", re.IGNORECASE)
# "does it say / name ...?" after "the other report": the report does the saying
_REPORT_ITSELF_RE = re.compile(r"\b(?:does|did|has|had)\s+(?P<it>it|they)\s+(?:say|report|"
                               r"mention|name|describe|claim|write|note|cite|give|state|list|"
                               r"attribute|credit|add|quote|explain|suggest|put)\b|"
                               # "who wrote it?": the report is written
                               r"\b(?:wrote|writes?|written|published|publish(?:es)?|"
                               r"authored|edited)\s+(?P<it2>it)\b", re.IGNORECASE)
_ALONE_RE = re.compile(r"^\W*(?:and\s+)?(?:what|how)\s+about\s+(?P<report>[^?]+?)\W*$",
                       re.IGNORECASE)
# "What about <report> — <a question of its own>?": that question, asked of the report
_ABOUT_REPORT_RE = re.compile(r"^\W*(?:and\s+)?(?:(?:what|how)\s+about\s+|(?:in|from|for)\s+)?"
                              r"(?P<report>.+?)"
                              r"\s*(?:[—–:;,]|\s-)\s*(?P<rest>\S.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class Mention:
    """Something an earlier turn named: its words and what a pronoun may stand for it."""

    text: str
    kind: str  # "person", "thing" or "group"
    label: str = ""  # spaCy's entity label of a name ("ORG"), "" for a common noun phrase
    joined: bool = False  # names or nouns joined by "and" ("Alibaba and Tencent")
    topic: bool = False  # what an answered "what X ...?" asked about ("the restrictions")


@dataclass(frozen=True)
class Resolved:
    """A question as asked and as it stands alone (equal when there was nothing to resolve)."""

    asked: str
    standalone: str
    replaced: tuple[tuple[str, str], ...] = ()  # (words of the question, what they stand for)

    @property
    def changed(self) -> bool:
        """True when the question needed the conversation to stand alone."""
        return self.standalone != self.asked


def plain(text: str) -> str:
    """An earlier turn without markup or citation markers."""
    return " ".join(_MARKUP_RE.sub(" ", text).split())


def mentions(text: str) -> list[Mention]:
    """What ``text`` names, in order: people, things and groups (names joined by "and")."""
    doc = verify.parse(plain(text))
    found: list[Mention] = []
    for ent in doc.ents:
        if ent.label_ in _PERSON_LABELS:
            found.append(Mention(ent.text, "person", ent.label_))
        elif ent.label_ in _OWNER_LABELS:
            found.append(Mention(ent.text, "thing", ent.label_))
    for token in doc:  # "Nvidia" of "Nvidia's China revenue": a name that owns something
        if token.dep_ == "poss" and token.pos_ == "PROPN" \
                and not token.head.text[:1].isupper():  # "Tom's Hardware" is one name
            left = min([token.i, *(c.i for c in token.children if c.dep_ == "compound")])
            found.append(Mention(doc[left:token.i + 1].text, "thing", _OWNER))
    for chunk in doc.noun_chunks:
        words = [t for t in chunk if t.lower_ not in _WH and t.pos_ != "PRON"]
        if (not words or chunk.root.pos_ == "PRON" or chunk.root.lower_ in _WH
                or any(t.lower_ in _WH for t in chunk)):  # "which company": the unknown asked
            continue
        start = words[0].i
        text_ = doc[start:chunk.end].text
        if any(ent.label_ in _PERSON_LABELS and ent.start <= chunk.root.i < ent.end
               for ent in doc.ents):
            continue
        conj = [t for t in chunk.root.conjuncts if t.i > chunk.root.i]
        if conj:
            end = max(t.right_edge.i for t in conj) + 1
            found.append(Mention(doc[start:end].text, "group", joined=True))
        plural = chunk.root.tag_ in ("NNS", "NNPS")
        if plural or chunk.root.pos_ in ("PROPN", "NOUN"):
            found.append(Mention(text_, "group" if plural else "thing"))
    order = {m.text: plain(text).find(m.text) for m in found}
    return sorted(dict.fromkeys(found), key=lambda m: order[m.text])


_OPENERS = frozenset({"and", "so", "then", "but", "also"})  # words before a follow-up's wh-word


def asks_for_name(question: str) -> bool:
    """True when the question's answer is a name ("Who ...?", "Which outlet ...?")."""
    doc = verify.parse(question)  # "And which chip ...?" asks for a name too
    first = next((t for t in doc if t.is_alpha and t.lower_ not in _OPENERS), None)
    return first is not None and first.lower_ in ("who", "whom", "which")


def asks_for_doer(question: str) -> bool:
    """True when the question asks who did something: its wh-phrase is an active subject.

    "Who led the meetings?", "Which agency ran them?"; not "Which companies were asked
    to provide forecasts?" (to whom it was done).
    """
    if not asks_for_name(question):
        return False
    doc = verify.parse(question)
    wh = next(t for t in doc if t.is_alpha and t.lower_ not in _OPENERS)
    return bool(wh.dep_ == "nsubj" or (wh.dep_ == "det" and wh.head.dep_ == "nsubj"))


def _candidates(question: str, answer: str) -> list[Mention]:
    """Mentions of one exchange, most likely antecedent first.

    When the question asked for a name, the names its answer gives come first
    (not the answer's other words: "The meetings were led by X and Y"), those with
    the noun it asked for first ("Which platform ...?": "Nvidia's Blackwell platform").
    """
    asked = mentions(question)
    said = mentions(answer) if answer else []
    if not asks_for_name(question):
        return [*_answered_topic(question, answer), *asked, *said]
    named = [m for m in said if _named(m)
             or m.kind == "person" or (m.kind == "group" and " and " in m.text)]
    named = _doers_first(named, question, answer)
    noun = _asked_noun(question)  # "Which Nvidia platform ...?": "Nvidia's Blackwell platform"
    named = sorted(named, key=lambda m: not (noun and m.text.lower().split()[-1:] in (
        [noun], [noun + "s"])))
    return [*named, *asked, *(m for m in said if m not in named)]


def _named(mention: Mention) -> bool:
    """True for a capitalised name, not a common noun opening a sentence ("Chips ...")."""
    if not mention.text[:1].isupper():
        return False
    if mention.text.lower().startswith("the "):  # "The H20", "The Information"; not "The
        return _capitalised(mention.text)  # meetings were led by ..."
    first = verify.parse(mention.text)[0]
    return bool(mention.label) or not first.is_sent_start or first.pos_ == "PROPN"


def _doers_first(named: list[Mention], question: str, answer: str) -> list[Mention]:
    """``named`` with the names that do what ``question`` asks about (:func:`_doers`) first."""
    doers = _doers(question, answer)
    return sorted(named, key=lambda m: not any(m.text in d or d in m.text for d in doers))


def _doers(question: str, answer: str) -> list[str]:
    """The answer's names that do what the question asks about.

    "Which news agency first reported it?" answered "... for ByteDance ..., according
    to Reuters, which first reported the news": Reuters, the one that "reported"
    (its subject, the noun a relative clause with it describes, or the agent of a
    passive: "led by X").
    """
    verb = next((t for t in verify.parse(question) if t.dep_ == "ROOT"), None)
    if verb is None or verb.pos_ != "VERB":
        return []
    doc = verify.parse(plain(answer))
    found: list[str] = []
    for token in doc:
        if token.pos_ != "VERB" or verify.word_key(token) != verify.word_key(verb):
            continue
        heads = [c for c in token.children if c.dep_ == "nsubj" and c.pos_ == "PROPN"]
        heads += [g for c in token.children if c.dep_ == "agent" for g in c.children]
        if token.dep_ == "relcl":
            heads.append(token.head)
        for head in heads:
            found += [ent.text for ent in doc.ents
                      if any(ent.start <= t.i < ent.end for t in (head, *head.conjuncts))]
    return found


def _answered_topic(question: str, answer: str) -> list[Mention]:
    """What a "what X ...?" question asked about, once answered: "the restrictions".

    "What restrictions are regulators considering?", answered, makes the
    restrictions the topic: "How would they be communicated?" asks about them.
    Unanswered, the asked-for thing is unknown and stands for nothing.
    """
    if not answer:
        return []
    doc = verify.parse(plain(question))
    for token in doc:
        noun = token.head
        if token.lower_ == "what" and token.dep_ == "det" and noun.pos_ == "NOUN":
            words = [t for t in noun.subtree if t.i > token.i and t.i <= noun.i]
            text = " ".join(["the", *(t.text for t in words)])
            return [Mention(text, "group" if noun.tag_ == "NNS" else "thing", topic=True)]
        # "What was Nvidia's China revenue ...?": the subject of "be" is what was asked of
        if token.lower_ == "what" and token.dep_ == "attr" and noun.lemma_ == "be":
            subject = next((c for c in noun.children if c.dep_ == "nsubj"
                            and c.pos_ == "NOUN"), None)
            if subject is not None:
                words = [t for t in subject.subtree if t.i <= subject.i]
                text = doc[words[0].i:subject.i + 1].text
                return [Mention(text, "group" if subject.tag_ == "NNS" else "thing",
                                topic=True)]
    return []


def _antecedent(kind: str, exchanges: Sequence[tuple[str, str]], owner: bool = False,
                subject: bool = False, avoid: Sequence[str] = (), passive: bool = False
                ) -> Mention | None:
    """The latest mention of ``kind`` over the exchanges, newest exchange first.

    ``owner``: a possessive "its" ("its CEO") takes the latest organisation or
    product named, before other things. ``subject``: a pronoun that is the subject
    of its question keeps the subject of the question before ("What did Chinese
    agencies ask the companies for?", then "What did they say would follow?"),
    after what an answered "what X" question asked about; and a subject "they" after a
    who-question is the organisation (or the names joined) answering it ("Who makes the
    H200 chips?", then "after they make them"). ``avoid`` are what another pronoun of
    the same clause stands for: "they make them" are two things. ``passive``: the
    pronoun is a passive subject, what was done rather than who did it, so after a
    who-question it takes the question's own mentions before the names answering it
    ("Who led the meetings?", then "When were they held?").
    """
    for question, answer in reversed(exchanges):
        candidates = [m for m in _candidates(question, answer) if m.text not in avoid]
        done_to = passive and bool(answer) and asks_for_doer(question)
        if subject and not done_to and kind == "group" and answer and asks_for_name(question):
            # the answer's names come first for a name question; names joined by "and"
            # before one organisation of them
            for mention in sorted(candidates, key=lambda m: not m.joined):
                if mention.label == "ORG" or (mention.kind == "group" and mention.joined):
                    return mention
        if owner:
            candidates = sorted(candidates,
                                key=lambda m: m.label not in (*_OWNER_LABELS, _OWNER))
        if kind == "group":  # the topic, then names joined by "and", then plural phrases
            candidates = sorted(candidates, key=lambda m: (not m.topic, not m.joined))
        if subject:
            said_by = _subject_phrase(question)
            candidates = sorted(candidates, key=lambda m: (
                not m.topic, not (said_by and (m.text in said_by or said_by in m.text))))
        if done_to:  # what was done, not who did it: "Who led the meetings?", then
            own = mentions(question)  # "When were they held?"
            candidates = sorted(candidates, key=lambda m: m not in own)
        for mention in candidates:
            if mention.kind == kind:
                return mention
        if kind == "group":  # "they" for an organisation: "What did they tell attendees?"
            for mention in candidates:
                if mention.kind == "thing" and _capitalised(mention.text):
                    return mention
    return None


def _capitalised(text: str) -> bool:
    """True for a capitalised name ("Nvidia", "The Information"), not "A 25% tax" nor "the US"."""
    words = text.split()
    if not words or not words[0][:1].isupper():  # "the US" is left alone, as it was
        return False
    return words[0].lower() not in _ARTICLES or (len(words) > 1 and words[1][:1].isupper())


def _subject_phrase(question: str) -> str:
    """The words of the subject of ``question``'s main verb ("" when it is a wh-word)."""
    for token in verify.parse(question):
        if token.dep_ in ("nsubj", "nsubjpass") and token.head.dep_ == "ROOT":
            words = [t for t in token.subtree if t.lower_ not in _WH]
            if len(words) == len(list(token.subtree)) and token.pos_ != "PRON":
                return " ".join(t.text for t in words)
    return ""


def _asked_noun(question: str) -> str:
    """The noun a name question asks for ("Which news agency ...?": "agency"), or ""."""
    for token in verify.parse(question):
        if token.lower_ in ("which", "what") and token.dep_ == "det" and token.head.pos_ == "NOUN":
            return str(token.head.lemma_.lower())
    return ""


def _demonstrated(noun: Any, exchanges: Sequence[tuple[str, str]]) -> str:
    """What "that agency" / "those sectors" points at in the conversation ("": unclear).

    Newest exchange first: the names answering a question that asked for such a
    thing ("Which news agency first reported it?" answered "Reuters ..."), else a
    phrase of the exchange with the same head noun ("that quarter": "the October
    quarter"), not itself pointing back.
    """
    lemma = noun.lemma_.lower()
    for question, answer in reversed(exchanges):
        if answer and asks_for_name(question) and _asked_noun(question) == lemma:
            named = _doers_first([m for m in mentions(answer) if m.label and m.label != _OWNER],
                                 question, answer)
            if named:
                return named[0].text
        phrases: list[Mention] = [*mentions(question), *(mentions(answer) if answer else [])]
        for mention in phrases:
            words = verify.parse(mention.text)
            if (len(words) > 1 and words[-1].lemma_.lower() == lemma
                    and words[0].lower_ not in _DEMONSTRATIVES and words[0].pos_ != "PRON"
                    and not any(t.lower_ in _WH for t in words)):
                return mention.text
    return ""


def _substitute_pronouns(question: str, exchanges: Sequence[tuple[str, str]]
                         ) -> tuple[str, tuple[tuple[str, str], ...]]:
    """``question`` with its third-person pronouns replaced by what they stand for.

    A demonstrative before a noun ("that agency", "those sectors") is replaced with
    the noun by what it points at (:func:`_demonstrated`).
    """
    doc = verify.parse(question)
    pieces: list[str] = []
    replaced: list[tuple[str, str]] = []
    heads: list[int] = []  # the head word of each replaced pronoun, in order
    taken: set[str] = set()
    skip = -1  # the noun of a demonstrative phrase already replaced
    for token in doc:
        word = token.lower_
        if token.i <= skip:
            continue
        if (word in _DEMONSTRATIVES and token.dep_ == "det" and token.head.pos_ == "NOUN"
                and token.head.i == token.i + 1):
            pointed = _demonstrated(token.head, exchanges)
            if pointed:
                replaced.append((f"{token.text} {token.head.text}", pointed))
                heads.append(-1)
                pieces.append(pointed + token.head.whitespace_)
                skip = token.head.i
                continue
        if (word in ("that", "this") and token.i + 1 < len(doc)
                and doc[token.i + 1].lower_ == "one"):
            one = _the_one(exchanges)
            if one:  # "is that one allowed ...?" after "Which platform ...? Blackwell."
                replaced.append((f"{token.text} {doc[token.i + 1].text}", one))
                heads.append(doc[token.i + 1].head.i)
                pieces.append(one + doc[token.i + 1].whitespace_)
                skip = token.i + 1
                continue
        if _points_at_event(token):
            event = _event(exchanges[-1])
            if event:  # "On what day was that?": what the last exchange said happened
                replaced.append((token.text, event))
                heads.append(token.head.i)
                pieces.append(f"{token.text} ({event}){token.whitespace_}")
                continue
        kind = ("person" if word in _PERSON else "thing" if word in _THING
                else "group" if word in _GROUP or (word in _PLURAL_DEMONSTRATIVES
                                                   and token.pos_ == "PRON") else "")
        if not kind or token.pos_ not in ("PRON", "DET"):
            pieces.append(token.text_with_ws)
            continue
        if word in taken and kind == "person":  # "Where was he when he spoke": name once
            pieces.append(token.text_with_ws)
            continue
        if word not in _OBJECT and _brought_in(doc, token, kind):  # "the other firms —
            # have they been cleared?"; not "Trump ... after he met him"
            pieces.append(token.text_with_ws)
            continue
        # a pronoun is never its own clause's other pronoun ("they make them")
        avoid = [b for (_, b), i in zip(replaced, heads, strict=True) if i == token.head.i]
        found = _antecedent(kind, exchanges, owner=word == "its",
                            subject=token.dep_ in ("nsubj", "nsubjpass"), avoid=avoid,
                            passive=token.dep_ == "nsubjpass")
        if found is None:
            pieces.append(token.text_with_ws)
            continue
        taken.add(word)
        text = found.text + ("'s" if word in _POSSESSIVE and token.dep_ == "poss" else "")
        replaced.append((token.text, found.text))
        heads.append(token.head.i)
        pieces.append(text + token.whitespace_)
    return "".join(pieces), tuple(replaced)


def _the_one(exchanges: Sequence[tuple[str, str]]) -> str:
    """What "that one" / "this one" stands for: the one thing the last exchange named first.

    Its most likely antecedent (:func:`_candidates`: for a name question, the name
    answering it), a person or a thing, not a group.
    """
    if not exchanges:
        return ""
    question, answer = exchanges[-1]
    return next((m.text for m in _candidates(question, answer) if m.kind != "group"), "")


def _points_at_event(token: Any) -> bool:
    """True when ``token`` is "that" or "this" standing for what happened, not for a thing.

    "On what day was that?", "Who makes them before that happens?", "What did the CEO
    make of that?"; not "that day" (a determiner), "the chip that was approved" (a
    relative pronoun), "Is that the chip ...?" (a thing named by its noun), nor "when he
    said that" (the words said).
    """
    if token.lower_ not in ("that", "this") or token.pos_ != "PRON" or token.tag_ != "DT":
        return False
    if token.dep_ not in ("nsubj", "nsubjpass", "pobj", "dobj"):
        return False
    head = token.head
    if token.dep_ == "dobj" and head.lemma_.lower() in verify.DEFAULT_POLICY.reporting:
        return False
    return not (head.lemma_.lower() == "be"
                and any(c.dep_ == "attr" and c.pos_ in ("NOUN", "PROPN") for c in head.children))


def _event(exchange: tuple[str, str]) -> str:
    """What an exchange says happened, as words a follow-up's "that" can stand for ("" if none).

    An answer that is a sentence says it ("Beijing put a temporary hold on H200
    shipments"). A short answer to a question whose wh-phrase is the subject takes
    that phrase's place ("Who first reported the approval?" answered "Reuters":
    "Reuters first reported the approval"). Otherwise the question's words without
    the wh-phrase (and a preposition before it), then the answer ("would H200s be
    taxed in the US: 25%").
    """
    question, answer = exchange
    if not answer:
        return ""
    said = verify.parse(answer)
    first = next(iter(said.sents), None)
    if first is not None and any(t.dep_ == "ROOT" and t.pos_ in ("VERB", "AUX")
                                 and any(c.dep_ in ("nsubj", "nsubjpass") for c in t.children)
                                 for t in first):
        return str(first.text).strip().rstrip(".").strip()
    short = answer.strip().rstrip(".").strip()
    doc = verify.parse(question)
    wh = next((t for t in doc if t.lower_ in _WH), None)
    if wh is None:
        return ""
    end = wh.i  # the wh-phrase: "who", "which news agency", "how much revenue"
    if wh.dep_ == "det" and wh.head.i > wh.i:
        end = wh.head.i
    elif end + 1 < len(doc) and doc[end + 1].lower_ in ("much", "many"):
        end += 1
        if end + 1 < len(doc) and doc[end + 1].pos_ == "NOUN":
            end += 1
    asked = set(range(wh.i, end + 1))
    if wh.i > 0 and doc[wh.i - 1].pos_ == "ADP":  # "at what rate"
        asked.add(wh.i - 1)
    kept = [t for t in doc if t.i not in asked and not (t.is_punct and t.i == len(doc) - 1)]
    rest = "".join(t.text_with_ws for t in kept).strip().rstrip(" ,")
    if _wh_subject(doc, min(asked), end):  # "Who ...?", "What tax is ...?"
        return f"{short} {rest}".strip()
    return f"{rest}: {short}" if rest else ""


def _wh_subject(doc: Any, start: int, end: int) -> bool:
    """True when the wh-phrase ``doc[start:end + 1]`` is the question's subject.

    It opens the question and no subject follows an auxiliary after it: "Who first
    reported ...?", "What tax is charged ...?"; not "Which sectors might China keep
    ...?" (the word order tells it where the small parser may not).
    """
    if any(t.is_alpha for t in doc[:start]):
        return False
    after = doc[end + 1:end + 3]
    return not (len(after) == 2 and after[0].pos_ == "AUX"
                and after[1].pos_ in ("NOUN", "PROPN", "PRON", "DET", "NUM", "ADJ"))


def _brought_in(doc: Any, pronoun: Any, kind: str) -> bool:
    """True when the question itself names what ``pronoun`` stands for, before it.

    "And what about the other firms — have they been cleared too?": a group the
    conversation has not named, before "they" ("the chips" is the last turn's); "What
    did Huang say when he landed?": a person before "he". A noun the question asks for
    ("Which firms did they approve?") is not it.
    """
    asked: set[int] = set()  # "which sectors", "how many units": up to the asked noun
    for wh in (t for t in doc if t.lower_ in _WH):
        for t in doc[wh.i + 1:pronoun.i]:
            if t.pos_ in ("VERB", "AUX", "ADP"):  # not "what about the firms"
                break
            asked.add(t.i)
            if t.pos_ in ("NOUN", "PROPN"):
                break
    before = [t for t in doc if t.i < pronoun.i and t.i not in asked]
    if kind == "group":  # a new group, not "the chips" of the last turn
        return any(t.tag_ in ("NNS", "NNPS") and t.dep_ != "poss" and (
            t.tag_ == "NNPS" or any(c.lower_ in _NEW_GROUP for c in t.children))
            for t in before)
    if kind == "person":
        return any(t.ent_type_ in _PERSON_LABELS for t in before)
    return False


def _same_kind_phrase(previous: str, focus: str) -> str | None:
    """The phrase of ``previous`` that ``focus`` takes the place of, if one is clear."""
    focus_doc = verify.parse(focus)
    head = next(iter(focus_doc.noun_chunks), None)
    head_lemma = head.root.lemma_.lower() if head is not None else focus_doc[-1].lemma_.lower()
    focus_person = any(e.label_ in _PERSON_LABELS for e in focus_doc.ents)
    doc = verify.parse(previous)
    for chunk in doc.noun_chunks:
        words = [t for t in chunk if t.lower_ not in _WH and t.pos_ != "PRON"]
        if not words:
            continue
        if chunk.root.lemma_.lower() == head_lemma:
            return str(doc[words[0].i:chunk.end].text)
    if focus_person:
        for ent in doc.ents:
            if ent.label_ in _PERSON_LABELS:
                return str(ent.text)
    return None


def _expand_ellipsis(question: str, previous: str) -> str | None:
    """An "and what about X?" as the previous question about X (``None``: not an ellipsis)."""
    match = _ELLIPSIS_RE.match(question) or _AND_ALONE_RE.match(question)
    if match is None or not previous:
        return None
    alone = match.re is _AND_ALONE_RE
    focus = match.group("focus")
    prep = None if alone else match.group("prep")
    if any(t.pos_ in ("VERB", "AUX") or t.lower_ in _WH for t in verify.parse(focus)):
        return None  # "And in which sectors would they bar it?" is a question of its own
    if alone and not all(t.pos_ in _PHRASE_POS for t in verify.parse(focus)):
        return None  # "And then?" is not about something new
    if not alone and prep is None and not re.match(
            r"^\W*(?:and\s+)?(?:what|how)\s+about\b", question, re.IGNORECASE):
        return None
    if prep is not None and not _AND_RE.match(question):
        return None  # "With whom ...?" is a question of its own
    target: str | None = None
    if prep is not None:
        after = re.search(rf"\b{re.escape(prep)}\s+(.+?)(?:[?.!]|\s+(?:and|or|but)\s|$)",
                          previous, re.IGNORECASE)
        if after is not None:
            target = after.group(1)
    if target is None:
        target = _same_kind_phrase(previous, focus)
    if target is not None and target in previous:
        return previous.replace(target, focus, 1)
    return f"{previous.rstrip()} What about {focus}?"


def resolve(question: str, turns: Sequence[Message],
            reports: Mapping[str, tuple[str, ...]] | None = None) -> Resolved:
    """``question`` made to stand alone, from the earlier ``turns`` of the conversation.

    ``reports`` are the names of each report (doc id: outlet and its initials), for
    "the other report".
    """
    names = dict(reports or {})
    exchanges: list[tuple[str, str]] = []
    pending: str | None = None
    for turn in turns:
        if turn["role"] == "user":
            if pending is not None:
                exchanges.append((pending, ""))
            # each earlier question stands alone too, so a third turn sees names
            pending = _standalone(plain(turn["content"]), exchanges, names)[0]
        elif pending is not None:  # a refusal names nothing ("The reports do not say.")
            said = plain(turn["content"])
            exchanges.append((pending, "" if _REFUSAL_RE.match(said) else said))
            pending = None
    if pending is not None:
        exchanges.append((pending, ""))
    if not exchanges:
        return Resolved(question, question)
    standalone, replaced = _standalone(question, exchanges, names)
    return Resolved(question, standalone, replaced)


def _standalone(question: str, exchanges: Sequence[tuple[str, str]],
                reports: Mapping[str, tuple[str, ...]]
                ) -> tuple[str, tuple[tuple[str, str], ...]]:
    if not exchanges:
        return question, ()
    asked = _asked_of_report(question, exchanges, reports)
    if asked is not None:
        other, rest = asked
        if rest is not None:  # a question of its own, asked of the report
            standalone = rest
            substituted, replaced = _substitute_pronouns(standalone, exchanges)
            return substituted, ((question, standalone), *replaced)
        previous = exchanges[-1][0]  # "What about <report>?": the question before
        named = comparison.named_reports(previous, reports)
        if named:
            aliases = [a for d in named for a in reports[d]]
            standalone = re.sub("|".join(rf"\b(?:the\s+)?{re.escape(a)}\b" for a in aliases),
                                other.replace("\\", r"\\"), previous.replace("’", "'"),
                                count=1)
        else:
            standalone = f"According to {other}, {previous[:1].lower()}{previous[1:]}"
        return standalone, ((question, standalone),)
    expanded = _expand_ellipsis(question, exchanges[-1][0])
    if expanded is not None:
        return expanded, ((question, expanded),)
    return _substitute_pronouns(question, exchanges)


def _asked_of_report(question: str, exchanges: Sequence[tuple[str, str]],
                     reports: Mapping[str, tuple[str, ...]]
                     ) -> tuple[str, str | None] | None:
    """The report ``question`` turns to, and ``question`` asked of it.

    The report is "the other report" (:func:`_other_report`), or one the question names
    in "What about <report> — ...?". ``None`` when the question turns to no report, or
    the conversation does not make clear which one "the other report" is. "What about
    the other report — which sectors ...?" is "According to <outlet>, which sectors
    ...?" ("what does it say ...?": what the report says); "Does the other report
    mention it?" names the outlet in its place. The question is ``None`` when it is
    "What about <report>?" alone (the previous question, asked of it).
    """
    if not reports:
        return None
    match = _OTHER_REPORT_RE.search(question)
    if match is not None:
        other = _other_report(exchanges, reports)
        if other is None:
            return None
        named = f"{question[:match.start()]}{other}{question[match.end():]}"
    else:
        about = _ABOUT_REPORT_RE.match(question) or _ALONE_RE.match(question)
        if about is None or not _only_a_report(about.group("report"), reports):
            return None
        other, named = about.group("report").strip(), question
    about = _ABOUT_REPORT_RE.match(named)
    if about is not None and about.group("report").strip() == other:
        rest = about.group("rest").strip()
        itself = _REPORT_ITSELF_RE.search(rest)  # "does it name ...?": the report does
        if itself is not None:
            group = "it" if itself.group("it") else "it2"
            named = f"{rest[:itself.start(group)]}{other}{rest[itself.end(group):]}"
            return other, f"{named[:1].upper()}{named[1:]}"
        if rest[:1].isupper() and verify.parse(rest)[0].pos_ != "PROPN":
            rest = f"{rest[:1].lower()}{rest[1:]}"
        return other, f"According to {other}, {rest}"
    if re.fullmatch(rf"\W*(?:and\s+)?(?:(?:what|how)\s+about|in|for|from)\s+"
                    rf"{re.escape(other)}\W*", named, re.IGNORECASE):
        return other, None
    return other, named  # "Does the other report mention it?": the report named instead


def _other_report(exchanges: Sequence[tuple[str, str]],
                  reports: Mapping[str, tuple[str, ...]]) -> str | None:
    """The outlet of "the other report": the one report the latest turn naming one did not.

    Of two reports in all, the other one; of more, the one other report the conversation
    named. ``None`` when no turn names a report, or that leaves more than one.
    """
    focus: set[str] = set()
    for asked, answered in reversed(exchanges):  # the latest turn that names a report
        focus = comparison.named_reports(asked, reports) or \
            comparison.named_reports(answered, reports)
        if focus:
            break
    pool = set(reports) if len(reports) == 2 else {
        d for asked, answered in exchanges
        for d in comparison.named_reports(f"{asked} {answered}", reports)}
    others = sorted(pool - focus)
    return reports[others[0]][0] if focus and len(others) == 1 else None


# words that may stand with a report's name: "the SCMP piece"
_REPORT_WORDS = frozenset("the report article piece story outlet coverage account".split())


def _only_a_report(words: str, reports: Mapping[str, tuple[str, ...]]) -> bool:
    """True when ``words`` name one report and nothing else ("the SCMP piece")."""
    named = comparison.named_reports(words, reports)
    if len(named) != 1:
        return False
    left = comparison.without_reports(words, reports)
    return all(w.lower() in _REPORT_WORDS for w in re.findall(r"[\w']+", left))
