"""Does the answer answer what was asked? The question's target against the cited sentences.

A verified sentence about something else is not an answer: "$50 million in
revenue" from the H20's sentence does not answer how much the H200 earned, and
a count of units does not answer what share went to one buyer. The target of a
question (:func:`target`) is read from spaCy's parse:

* its **principal names** (whose attribute is asked for, who is asked to have said
  something), each of which must stand in a cited sentence, or in the sentence
  before it when the cited sentence refers back ("he told journalists", "the GPU"
  after "GPUs"), or in the report's label (outlet, authors), or in its title when
  the cited sentence's subject is a common noun ("The approval covered ..." in a
  report titled about the H200; never "The H20 contributed ...");
* for a question asking for a **figure** ("how much/many ...", "what share /
  price / rate ..."), the attribute asked for: a cited sentence must hold a figure
  together with that attribute (its word, a word of the same root, or for money and
  shares a figure of that kind), and every adjective restricting the attribute
  ("global revenue") must stand in that sentence; a figure asked for a year ("in
  2022") is not one a sentence gives for a period of its own ("earlier this year")
  unless the year stands with it;
* the **kind of thing** a "which" question asks for, when a name qualifies its noun
  ("Which *sqlite3* cursor method ...?"): a cited sentence, the sentence before it, or
  its report's title or label must write that name. Only names count: words the
  embedding model's vocabulary cuts into pieces and some report writes
  (:func:`with_named_qualifiers`); "Which *news* agency ...?" is answered by
  "Reuters" without the word;
* a **place qualifying a noun** ("UBS's China research team"): a cited sentence that
  qualifies the same noun by another place ("head of Taiwan research") answers about
  that place, unless the asked place stands with it too.

The word lists are the language's words for money and shares
(:data:`assistant.answer.claims.MONEY_WORDS`, :data:`assistant.answer.claims.SHARE_WORDS`),
not words of the reports.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from assistant import verify
from assistant.answer import claims
from assistant.ingest.chunking import sentence_spans

_FIGURE_NOUNS = frozenset("number amount figure total count size quantity".split())
_WH_WORDS = frozenset("what which who whom whose when where why how".split())


@dataclass(frozen=True)
class Target:
    """What a question asks for: its names, and for a figure question the attribute."""

    names: tuple[str, ...]
    figure: bool = False
    attribute: tuple[str, ...] = ()  # lemmas of the asked-for noun and its compounds
    modifiers: tuple[str, ...] = ()  # lemmas of adjectives restricting it ("global")
    speaker: str = ""  # the noun of who is asked to have said something ("CEO")
    owners: tuple[str, ...] = ()  # names within the asked-for noun's phrase ("H200 units")
    restrictions: tuple[Restriction, ...] = ()  # "approved *for telecom operators*"
    measures: tuple[str, ...] = ()  # the question's words of :data:`MEASURES` ("price")
    count: bool = False  # "how many <things>?": a count, which a sentence may give in words
    # a name and the common noun it qualifies in the question ("H200", "chip"): a cited
    # sentence about that noun alone ("Chips manufactured by TSMC ...") may be about it
    kinds: tuple[tuple[str, str], ...] = ()
    mentioned: tuple[str, ...] = ()  # every name the question has, principal or not
    doers: tuple[str, ...] = ()  # the subject of the asked noun's verb ("did Nvidia make")
    basis: str = ""  # what a change is measured against: "quarter over quarter"
    person: str = ""  # the role a who-question asks a person for ("minister", "analyst")
    year_ago: bool = False  # asks for a figure of a year earlier ("a year ago", "last year")
    years: tuple[str, ...] = ()  # the years the question asks of ("in 2022")
    # a place that qualifies a noun of the question, and that noun with its compounds:
    # ("China", ("research", "team")) of "UBS Group's China research team"
    places: tuple[tuple[str, tuple[str, ...]], ...] = ()
    role_of: tuple[str, ...] = ()  # whose person is asked for ("the head of *the NDRC*")
    # the words of a title held in an organisation ("chief executive" of "the chief
    # executive of UBS Group"): the person's title must be given, not another role
    title: tuple[str, ...] = ()
    # the word keys of each period the question names ("the October quarter": "octob",
    # "quart"), read from the parse's dates
    periods: tuple[tuple[str, ...], ...] = ()
    months: tuple[str, ...] = ()  # the months the question's dates name ("the July quarter")
    # the words compounded with the noun a "which <noun>" question asks for, as written
    # ("sqlite3", "cursor" of "Which sqlite3 cursor method ...?"): what kind of thing is
    # asked. :func:`with_named_qualifiers` keeps those that are names
    qualifiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Restriction:
    """A prepositional phrase of the question that narrows what is asked.

    "How many units were approved *for telecom operators*?": ``preposition`` "for",
    ``heads`` the word keys of its object's noun, its compounds and conjuncts
    ("operator", "telecom"), ``text`` the phrase as written.
    """

    preposition: str
    heads: tuple[str, ...]
    text: str
    time: bool = False  # the object is a date or a time ("in November")
    name: str = ""  # the object's name ("Alibaba" of "from Alibaba alone"), if it is one


@dataclass(frozen=True)
class Cited:
    """A cited sentence, the sentence before it, its report's byline and its title."""

    sentence: str
    before: str = ""
    label: str = ""
    title: str = ""


def _asked_noun(doc: Any) -> Any | None:
    """The noun a figure question asks about: "how much revenue", "what share", "what was X"."""
    for token in doc:
        if token.lower_ in ("much", "many") and token.i > 0 and doc[token.i - 1].lower_ == "how":
            if token.head.pos_ in ("NOUN", "PROPN"):
                return token.head
            # "how many of the approved units": the noun after "of"
            return next((o for p in token.children if p.lower_ == "of"
                         for o in p.children if o.dep_ == "pobj"
                         and o.pos_ in ("NOUN", "PROPN")), None)  # "of the ... H200s"
        if token.lower_ in ("what", "which") and token.dep_ == "det" \
                and token.head.pos_ == "NOUN":
            return token.head
        if token.lower_ == "what" and token.dep_ == "attr":
            subject = [c for c in token.head.children if c.dep_ in ("nsubj", "nsubjpass")]
            return subject[0] if subject and subject[0].pos_ == "NOUN" else None
    return None


def _names_in(tokens: Any, names: Sequence[str]) -> list[str]:
    """Which of ``names`` (the question's) are written within ``tokens``."""
    text = " ".join(t.text for t in tokens)
    return [n for n in names if verify.mentions(text, n)]


def _doers(noun: Any, names: Sequence[str]) -> tuple[str, ...]:
    """The names in the subject of the verb whose object the asked-for noun is.

    "How much revenue did Nvidia make?": Nvidia, whose figure is asked though the
    noun's own phrase names no owner.
    """
    found: list[str] = []
    if noun.dep_ == "dobj" and noun.head.pos_ in ("VERB", "AUX"):
        for child in noun.head.children:
            if child.dep_ in ("nsubj", "nsubjpass"):
                found += _names_in(list(child.subtree), names)
    return tuple(dict.fromkeys(found))


def _principal_names(doc: Any, noun: Any | None, names: Sequence[str]) -> tuple[str, ...]:
    """The names the asked-for thing belongs to, or who is asked to have said something.

    Names of the attribute's own phrase ("Nvidia's global revenue", "the price of an
    H200"), the subject of a figure question's verb ("How much revenue did the H200
    make?"), and the subject of a reporting verb ("What did Huang say?"). Other
    names of a question only set the scene, and the answering sentence may leave
    them to its neighbours. Nationalities ("Chinese") are never principal.
    """
    found: list[str] = []
    if noun is not None:
        found += _names_in(list(noun.subtree), names)
    for token in doc:
        if token.dep_ != "ROOT":
            continue
        reporting = token.lemma_.lower() in verify.DEFAULT_POLICY.reporting
        if noun is not None or reporting:
            for child in token.children:
                if child.dep_ in ("nsubj", "nsubjpass") and (noun is None or child.i != noun.i):
                    found += _names_in(list(child.subtree), names)
                # "did the H200 generate": the small parser may make the subject a compound
                if noun is not None and child.dep_ == "compound":
                    found += _names_in([child], names)
    for token in doc:  # "Who heads UBS Group's research team?": whose team is asked
        if noun is None and token.dep_ == "dobj" and token.head.dep_ == "ROOT" \
                and _asks_who(doc):
            found += _names_in([t for c in token.children if c.dep_ in ("poss", "compound")
                                for t in c.subtree], names)
    nationalities = {e.text for e in doc.ents if e.label_ == "NORP"}
    return tuple(dict.fromkeys(n for n in found if n not in nationalities))


def _qualifying_names(doc: Any, noun: Any, names: Sequence[str]) -> tuple[str, ...]:
    """The names that qualify the thing whose name a question asks for.

    "What is the name of the Huawei chip ...?" asks for a Huawei chip: a sentence that
    does not speak of Huawei (a chip no name qualifies, or another maker's) does not
    answer. The names are the qualifiers of the noun after "name of"; nationalities
    ("Chinese firms") are not. "Which Nvidia chip ...?" is left alone: its answer may
    name the chip ("the H20") without its maker.
    """
    if noun.lemma_.lower() != "name":
        return ()
    thing = next((o for p in noun.children if p.lower_ == "of"
                  for o in p.children if o.dep_ == "pobj"), None)
    if thing is None:
        return ()
    nationalities = {e.text for e in doc.ents if e.label_ == "NORP"}
    found = _names_in([t for c in thing.children if c.dep_ in _QUALIFIERS
                       for t in c.subtree], names)
    return tuple(dict.fromkeys(n for n in found if n not in nationalities))


_TIME_NOUNS = frozenset("date day month year time week".split())


def _asks_time(doc: Any) -> bool:
    """True when a parsed question asks when: "When did ...?", "On what date / which day ...?".

    Not a "when" that opens a clause ("Where was Huang when he spoke?"), nor "how many
    times".
    """
    return claims.asks_when(doc.text) or any((
        t.lower_ in ("what", "which") and t.dep_ == "det"
        and t.head.lemma_.lower() in _TIME_NOUNS) for t in doc)


def _timed_subject(doc: Any, names: Sequence[str]) -> tuple[str, ...]:
    """For a question asking when (:func:`_asks_time`), the names of its verb's subject and object.

    The object counts when it is a name itself ("did Trump meet *Jensen Huang*").

    "On what date did Washington clear the H200?" asks when Washington acted: a
    sentence dating what China did ("China convened meetings on December 10,
    following Trump's decision ...") and not speaking of Washington does not answer.
    """
    nationalities = {e.text for e in doc.ents if e.label_ == "NORP"}
    # and a name it was done to: "In which month did Trump meet Jensen Huang?" asks when
    # they met, which a date of Trump's decision does not say
    found = [n for token in doc if token.dep_ == "ROOT" for child in token.children
             if (child.dep_ in ("nsubj", "nsubjpass") and child.lower_ not in _WH_WORDS)
             or (child.dep_ == "dobj" and child.pos_ == "PROPN")
             for n in _names_in(list(child.subtree), names)]
    return tuple(dict.fromkeys(n for n in found if n not in nationalities))


def _asks_who(doc: Any) -> bool:
    """True when a parsed question asks who does something ("Who heads ...?")."""
    first = next((t for t in doc if t.is_alpha), None)
    return first is not None and first.lower_ in ("who", "whom") and first.dep_ == "nsubj"


def _speaker(doc: Any) -> str:
    """The common noun of a reporting verb's subject ("What did Tencent's CEO say?": "ceo")."""
    for token in doc:
        if token.dep_ == "ROOT" and token.lemma_.lower() in verify.DEFAULT_POLICY.reporting:
            for child in token.children:
                asked = any(c.lower_ in ("which", "what") for c in child.children)
                if child.dep_ in ("nsubj", "nsubjpass") and child.pos_ == "NOUN" \
                        and not asked:  # "Which outlet reported ...?" asks for the speaker
                    return str(child.lemma_).lower()
    return ""


def question_names(question: str) -> list[str]:
    """The names :func:`assistant.verify.names` finds in ``question``, without stray punctuation."""
    return [n.strip(" ,;:") for n in verify.names(question) if n.strip(" ,;:")]


def target(question: str) -> Target:
    """What ``question`` asks: its names, the phrases narrowing it, any attribute asked.

    See :func:`_asked` for the names and the attribute, :func:`_restrictions` for the
    phrases.
    """
    doc = verify.parse(question)
    words = {t.lemma_.lower() for t in doc} | {t.lower_ for t in doc}
    names = question_names(question)
    role = _role(doc)
    return dataclasses.replace(_asked(question), restrictions=_restrictions(doc),
                               measures=tuple(sorted(words & _MEASURE_WORDS)),
                               kinds=_kinds(doc, names), mentioned=tuple(names),
                               basis=_basis(question),
                               person=role.lower_ if role is not None else "",
                               year_ago=bool(_YEAR_AGO_RE.search(question)),
                               years=tuple(dict.fromkeys(_YEAR_RE.findall(question))),
                               places=_places(doc),
                               role_of=_role_of(role, names) if role is not None else (),
                               title=_title(role) if role is not None else (),
                               periods=_periods(doc), months=_months(doc),
                               qualifiers=_qualifiers(doc))


# the months of the year (English), as a question's dates name them
_MONTHS = frozenset("january february march april may june july august september october "
                    "november december".split())


def _qualifiers(doc: Any) -> tuple[str, ...]:
    """The compounds of the noun a "which / what <noun>" question asks a name for.

    "Which sqlite3 cursor method ...?": "sqlite3", "cursor": nouns that name the kind.
    Not a modifier in an adjective's place, which describes the thing and which a
    sentence may say otherwise ("homegrown" for the "domestic" supplier; the small
    parser puts "hmac" there too, so "Which hmac function" goes unchecked), not a
    nationality, and not for a figure, a count or a time.
    """
    asked = next((t.head for t in doc if t.lower_ in ("which", "what") and t.dep_ == "det"
                  and t.head.pos_ in ("NOUN", "PROPN")), None)
    if asked is None or claims.asked_quantity(doc.text) or _asks_time(doc) \
            or asked.lemma_.lower() in claims.MONEY_WORDS | claims.SHARE_WORDS | _FIGURE_NOUNS:
        return ()
    nationalities = {e.text for e in doc.ents if e.label_ == "NORP"}
    return tuple(c.text for c in asked.children if c.i < asked.i and c.text not in nationalities
                 and c.dep_ == "compound")


def with_named_qualifiers(want: Target, pieces: Callable[[str], int],
                          written: Callable[[str], bool]) -> Target:
    """``want`` keeping the qualifiers that are names the reports write.

    ``pieces`` counts a word's pieces in the embedding model's vocabulary (the
    tokenizer's [CLS] and [SEP] included). A word the vocabulary holds whole is an
    ordinary word ("news", "chip", "government"), which a sentence answering the
    question may leave out ("suppliers such as Huawei" for "Which domestic chip
    vendor ...?"); one it cuts into pieces is a name, a code word or a rare word
    ("Nvidia", "zipfile", "asyncio"). ``written`` says whether the reports write the
    word anywhere: a word they never write is the question's own, which no sentence
    can be matched against (it may be their thing called otherwise). The vocabulary
    is the model's, not of any corpus.
    """
    named = tuple(q for q in want.qualifiers if pieces(q.lower()) > 3 and written(q))
    return dataclasses.replace(want, qualifiers=named)


def _speaks_of(text: str, word: str) -> bool:
    """True when ``text`` has ``word`` (or its plural) as a word of its own, or names it."""
    return re.search(rf"(?<![\w.]){re.escape(word)}(?:s|es)?(?![\w])", text,
                     re.IGNORECASE) is not None or verify.mentions(text, word)


def _months(doc: Any) -> tuple[str, ...]:
    """The months named in the dates of a parsed question ("the July quarter": "july")."""
    return tuple(dict.fromkeys(t.lower_ for ent in doc.ents if ent.label_ == "DATE"
                               for t in ent if t.lower_ in _MONTHS))


def _periods(doc: Any) -> tuple[tuple[str, ...], ...]:
    """The content words of each date of a parsed question ("the October quarter")."""
    return tuple(keys for keys in (tuple(verify.word_key(t) for t in ent
                                         if t.is_alpha and not t.is_stop)
                                   for ent in doc.ents if ent.label_ == "DATE") if keys)


# English nouns for a role only a person fills: "Who is the minister of ...?" asks for a
# person, and a ministry is not an answer
_PERSON_ROLES = frozenset("""
minister secretary president chairman chairwoman chairperson ceo cfo cto coo founder
executive director manager spokesperson spokesman spokeswoman analyst economist
reporter journalist editor author writer photographer columnist correspondent
governor mayor senator ambassador premier chancellor commissioner lawyer judge
researcher scientist engineer source whistleblower head chief leader
""".split())


def _role(doc: Any) -> Any | None:
    """The noun of the role a question asks a person for, or None.

    "Who is the minister of ...?", "Who is Nvidia's CEO?", "Which analyst was
    quoted?" ask for a person; "Who led the meetings?" may be answered by agencies.
    """
    first = next((t for t in doc if not t.is_punct), None)
    if first is None:
        return None
    if first.lower_ in ("which", "what") and first.dep_ == "det":
        noun = first.head
    elif first.lower_ != "who" or first.head.lemma_ != "be":
        return None
    else:
        noun = next((c for c in first.head.children if c.dep_ in ("nsubj", "attr")
                     and c.i != first.i and c.pos_ in ("NOUN", "PROPN")), None)
    return noun if noun is not None and noun.lemma_.lower() in _PERSON_ROLES else None


def _title(role: Any) -> tuple[str, ...]:
    """The words of a role held in an organisation ("chief executive"), or ().

    "The chief executive of UBS Group", "UBS's chief executive" ask for a title; "Which UBS
    analyst ...?" for a role of any kind (an analyst may be described otherwise, as the
    "head of research").
    """
    held = any((c.dep_ == "prep" and c.lower_ == "of") or c.dep_ == "poss"
               for c in role.children)
    if not held:
        return ()
    return (*(c.lower_ for c in role.children if c.dep_ in ("amod", "compound")
              and c.i < role.i and c.pos_ in ("ADJ", "NOUN")), role.lower_)


def _gives_title(cited: Cited, title: Sequence[str]) -> bool:
    """True when the cited sentence (or the one it refers back to) gives the title asked.

    In words, or as its initials ("CEO" for "chief executive").
    """
    text = cited.sentence
    if cited.before and refers_back(cited.sentence, cited.before):
        text = f"{cited.before} {text}"
    words = {t.lower_ for t in verify.parse(text)}
    initials = "".join(w[0] for w in title).upper()
    return all(w in words for w in title) or any(
        t.isupper() and len(t) >= 2 and t.startswith(initials) for t in text.split())


def _role_of(role: Any, names: Sequence[str]) -> tuple[str, ...]:
    """The names whose ``role`` is asked: "the head of the NDRC", "Nvidia's CEO".

    Not those of a clause on it ("who chaired the meetings with Alibaba").
    """
    clauses = {t.i for c in role.children if c.dep_ in ("relcl", "acl") for t in c.subtree}
    own = [t for t in role.subtree if t.i not in clauses and t.i != role.i]
    return tuple(n for n in _names_in(own, names) if not verify.mentions(role.text, n))


# a change measured against a period: "year over year", "quarter-on-quarter"
_BASIS_RE = re.compile(r"\b(year|quarter|month|week|day)[- ](?:over|on)[- ]\1\b", re.IGNORECASE)
# the same, said with the period before ("compared with the previous quarter", "from the
# prior year"); English phrasing, found by a blind15 unanswerable (v-48)
_PREVIOUS_RE = re.compile(r"\b(?:compared (?:with|to)|from|than|versus|vs\.?|against|over) "
                          r"(?:the|a|its) (?:previous|prior|preceding|last) "
                          r"(year|quarter|month|week|day)\b", re.IGNORECASE)


# a period a year back (English): "a year earlier", "year-ago", "last year"; a sentence
# gives a figure for it with such words, with "year over year", or with the year itself
_YEAR_AGO_RE = re.compile(r"\b(?:(?:a|one)\s+year\s+(?:earlier|ago|before|prior)|year[- ]"
                          r"(?:earlier|ago|prior)|(?:last|previous|prior|preceding)\s+year|"
                          r"the\s+year\s+before)\b", re.IGNORECASE)
_A_YEAR_RE = re.compile(r"\b(?:19|20)\d\d\b")


# a year as a number: "in 2022"
_YEAR_RE = re.compile(r"(?<![\d.,$])\b((?:19|20)\d\d)\b(?![\d.,%]\d)")
# the words of a period a figure is given for ("the October quarter", "earlier this year")
_PERIOD_WORDS = frozenset("year years quarter quarters month months period half".split())


_PLACE_LABELS = frozenset({"GPE", "LOC"})


def _places(doc: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Places that qualify a noun of a parsed question, with that noun and its compounds."""
    found = []
    for token in doc:
        noun = token.head
        if token.ent_type_ in _PLACE_LABELS and token.dep_ in ("compound", "amod") \
                and noun.pos_ == "NOUN":
            ent = next(e for e in doc.ents if e.start <= token.i < e.end)
            nouns = [noun, *(c for c in noun.children if c.dep_ == "compound"
                             and c.pos_ == "NOUN")]
            found.append((str(ent.text), tuple(verify.word_key(t) for t in nouns)))
    return tuple(found)


def _other_place(sentence: str, nouns: Sequence[str]) -> str:
    """A phrase of ``sentence`` that qualifies one of ``nouns`` by a place ("Taiwan research")."""
    for token in verify.parse(sentence):
        if token.pos_ != "NOUN" or verify.word_key(token) not in nouns:
            continue
        for child in token.children:
            if child.dep_ in ("compound", "amod") and child.ent_type_ in _PLACE_LABELS:
                return f"{child.text} {token.text}"
    return ""


def _other_period(years: Sequence[str], cited: Sequence[Cited]) -> str:
    """The period a cited sentence gives its figure for, when it is not the asked year.

    ``""`` when a cited sentence (with its context) names one of ``years``, or none
    names a period of its own. A period is a date of the sentence (spaCy's DATE) with
    a year's number or a word of :data:`_PERIOD_WORDS`: "earlier this year" or
    "Nvidia's October quarter" is not 2022, though a report of 2022 might say so, for
    the reports' dates are not always known; "on Wednesday" names no period.
    """
    if any(y in _context(c) for c in cited for y in years):
        return ""
    for c in cited:
        for ent in verify.parse(c.sentence).ents:
            words = {t.lower_ for t in ent}
            if ent.label_ == "DATE" and (words & _PERIOD_WORDS or _YEAR_RE.search(ent.text)):
                return str(ent.text)
    return ""


def _of_a_year_ago(text: str) -> bool:
    """True when ``text`` speaks of a year back: "a year ago", "year over year", "2024"."""
    return bool(_YEAR_AGO_RE.search(text) or _basis(text).startswith("year")
                or _A_YEAR_RE.search(text))


def _basis(text: str) -> str:
    """The period a change in ``text`` is measured against ("year over year"), or ""."""
    match = _BASIS_RE.search(text) or _PREVIOUS_RE.search(text)
    return f"{match.group(1).lower()} over {match.group(1).lower()}" if match else ""


def _asked(question: str) -> Target:
    """The principal names of ``question`` and, for a measure question, the attribute asked.

    A measure question asks "how much ...?" or "what share / price / rate ...?"
    (a noun for money, a share or a figure). "How many ...?" counts things, which
    a sentence may state without a figure ("one proposal ... another"), so it
    asks for no figure here.
    """
    doc = verify.parse(question)
    names = question_names(question)
    quantity = claims.asked_quantity(question)
    how_much = quantity is not None and quantity.group("which").lower() == "much"
    how_many = quantity is not None and quantity.group("which").lower() == "many"
    timed = _asks_time(doc)
    noun = None if timed else _asked_noun(doc)  # "On what date ...?" asks for no figure
    if noun is None:
        subject = _timed_subject(doc, names) if timed else ()
        return Target(tuple(dict.fromkeys((*_principal_names(doc, None, names), *subject))),
                      figure=how_much, speaker=_speaker(doc))
    attribute = tuple(dict.fromkeys(
        [noun.lemma_.lower(), *(c.lemma_.lower() for c in noun.children
                                if c.dep_ == "compound" and c.pos_ == "NOUN")]))
    measured = set(attribute) & (claims.MONEY_WORDS | claims.SHARE_WORDS | _FIGURE_NOUNS)
    owners = tuple(_names_in(list(noun.subtree), names))
    if how_many and not measured:  # a count: whose units, but a sentence may count in words
        return Target(_principal_names(doc, noun, names), speaker=_speaker(doc), owners=owners,
                      count=True)
    if not how_much and not measured:  # "What restrictions ...?": words
        qualifying = _qualifying_names(doc, noun, names)
        return Target(tuple(dict.fromkeys((*_principal_names(doc, None, names), *qualifying))),
                      speaker=_speaker(doc), owners=qualifying)
    modifiers = tuple(c.lemma_.lower() for c in noun.children  # "global", not "total"
                      if c.dep_ == "amod" and c.pos_ == "ADJ"
                      and c.lower_ not in ("much", "many") and c.lower_ not in _NOT_NARROWING)
    return Target(_principal_names(doc, noun, names), True, attribute, modifiers,
                  owners=owners, doers=_doers(noun, names))


def refers_back(sentence: str, before: str) -> bool:
    """True when ``sentence`` points at something named in ``before``.

    A personal pronoun ("he told journalists") does, and so does a demonstrative
    ("both agencies", "these measures") or "the same" ("in the same quarter", though
    a time); a noun phrase with "the" does when ``before`` uses its noun ("the GPU"
    after "graphics processing units (GPUs)").
    "The period" after a sentence with no period in it is new, not a reference.
    """
    earlier: set[str] | None = None
    for token in verify.parse(sentence):
        if token.lower_ in verify.REFERRING_PRONOUNS and token.pos_ == "PRON":
            return True
        if token.lower_ == "same" and token.dep_ == "amod":  # "in the same quarter"
            return True
        if token.dep_ != "det" or token.head.pos_ != "NOUN" or token.head.ent_type_ in (
                "DATE", "TIME"):  # "this year", "that day": time, not a reference
            continue
        if token.lower_ in verify.REFERRING_DETERMINERS:
            return True
        if token.lower_ == "the":
            earlier = _roots(before) if earlier is None else earlier
            if verify.word_key(token.head) in earlier:
                return True
    return False


def _named_subject(sentence: str) -> bool:
    """True when the subject of ``sentence``'s main verb has a name ("The H20 contributed").

    Such a sentence is about that name; one with a common-noun subject ("The approval
    covered ...") may be about its report's topic. A headline without a verb ("More
    than 400,000 H200 chips reportedly approved ...") is about its head noun's phrase.
    """
    doc = verify.parse(sentence)
    for token in doc:
        if token.dep_ != "ROOT":
            continue
        subjects = [c for c in token.children if c.dep_ in ("nsubj", "nsubjpass")]
        if not subjects and token.pos_ in ("NOUN", "PROPN"):
            phrase = [t for t in token.subtree if t.i <= token.i]
        elif subjects:
            phrase = list(subjects[0].subtree)
        else:
            return False
        return bool(verify.names(" ".join(t.text for t in phrase)))
    return False


def _of_another(sentence: str, want: Target, exempt: Sequence[str] = ()) -> bool:
    """True when ``sentence``'s subject names something other than whose figure is asked.

    "The H20 contributed just $50 million in revenue" gives the H20's figure, not
    "Nvidia's China revenue" (the question's owners, Nvidia and China), though it
    names both elsewhere; "China accounted for 13% of Nvidia revenue" is of a name the
    question has. Only a question naming the owner of the asked-for figure (in its
    phrase, or as the subject of its verb: "How much revenue did Nvidia make?"), and a
    sentence whose subject has a name, are judged.
    """
    if not (want.owners or want.doers):
        return False
    subject = _subject_names(sentence)
    asked = [*want.names, *want.mentioned, *exempt]

    def named(names: Sequence[str]) -> bool:
        return any(verify.mentions(name, a) or verify.mentions(a, name)
                   for name in names for a in asked)

    def of_period(standard: str) -> bool:  # not for another period than the question's
        words = _words(standard)
        return all(set(period) <= words for period in want.periods)

    # a figure the subject's is compared with belongs to what its own phrase names, in
    # the question's period: "The H20 contributed $50 million ..., compared to $4.6
    # billion in the period earlier this year when the company could still ship
    # H100-class processors" gives a figure of the H100 era
    return bool(subject) and not named(subject) and not any(
        named(verify.names(standard)) and of_period(standard)
        for standard in _standards(sentence))


# words that introduce the standard a figure is compared with (English grammar)
_COMPARING = frozenset("compared comparing versus vs vs. against than".split())


def _standards(sentence: str) -> list[str]:
    """The phrases of ``sentence`` that hold a figure compared with another one.

    "compared to $4.6 billion in the period earlier this year ...": the phrase of the
    comparing word ("compared", "versus", "against", "than") above the figure.
    """
    doc = verify.parse(sentence)
    found = []
    for figure in verify.numbers(sentence):
        span = doc.char_span(figure.start, figure.end, alignment_mode="expand")
        if span is None:
            continue
        word = next((t for t in span.root.ancestors if t.lower_ in _COMPARING), None)
        if word is not None:
            found.append(" ".join(t.text for t in word.subtree))
    return found


def _subject_names(sentence: str) -> list[str]:
    """The names in the subject of ``sentence``'s main verb ([] when it has none).

    A clause describing the subject is not its name: "Chips manufactured by TSMC in
    Taiwan would be ... taxed at 25%" gives no name's figure (w-10).
    """
    for token in verify.parse(sentence):
        if token.dep_ == "ROOT":
            subjects = [c for c in token.children if c.dep_ in ("nsubj", "nsubjpass")]
            if not subjects:
                return []
            clauses = {t.i for c in subjects[0].children if c.dep_ in ("acl", "relcl")
                       for t in c.subtree}
            return verify.names(" ".join(t.text for t in subjects[0].subtree
                                         if t.i not in clauses))
    return []


def _roots(text: str) -> set[str]:
    return {verify.word_key(t) for t in verify.parse(text) if t.is_alpha}


def _words(text: str) -> set[str]:
    """The keys of ``text``'s words, model names ("H200") included."""
    return {verify.word_key(t) for t in verify.parse(text)
            if any(ch.isalpha() for ch in t.text)}


def _figure_of(sentence: str, want: Target) -> bool:
    """True when ``sentence`` states a figure of the attribute ``want`` asks for."""
    figures = verify.numbers(sentence)
    if not figures:
        return False
    roots = _roots(sentence)
    asked = {verify.word_root(a) for a in want.attribute}
    if want.modifiers and not {verify.word_root(m) for m in want.modifiers} <= roots:
        return False
    if asked & roots or set(want.attribute) & _FIGURE_NOUNS:
        return True
    if not asked:  # "How much does the chip cost?": the verb says what the figure measures
        return not _another_measure(want.measures, sentence)
    if set(want.measures) & _SHARE and not set(want.measures) & _CHANGE:
        # a share is not a change: "fell 63%" is no share of anything
        figures = [f for f in figures if f.kind != "percent" or not _a_change(sentence, f)]
    kinds = {f.kind for f in figures}
    of_kind = bool(("money" in kinds and set(want.attribute) & claims.MONEY_WORDS)
                   or ("percent" in kinds and set(want.attribute) & claims.SHARE_WORDS))
    return of_kind and not _another_measure(want.measures, sentence)


def _a_change(sentence: str, figure: verify.Number) -> bool:
    """True when a percentage of ``sentence`` measures a change ("fell 63%"), not a share.

    Read from the parse: the first verb above the figure is a word of change, and no
    word of share stands between them ("rose to a 13% share" is a share).
    """
    doc = verify.parse(sentence)
    span = doc.char_span(figure.start, figure.end, alignment_mode="expand")
    if span is None:
        return False
    for token in span.root.ancestors:
        lemma = str(token.lemma_).lower()
        if lemma in _SHARE:
            return False
        if token.pos_ in ("VERB", "AUX"):
            return lemma in _CHANGE or token.lower_ in _CHANGE
    return False


# What a sum of money or a percentage measures, in the language's words (written by hand,
# not from any report): a figure of one group does not answer a question about another
# ("$50 million in revenue" is not a price). Words in no group ("amount", "money",
# "percent", "percentage") ask for any figure of their kind.
MEASURES: tuple[frozenset[str], ...] = tuple(frozenset(group.split()) for group in (
    "revenue revenues sales income earn earned earnings turnover",
    "price prices cost costs pay paid charge fee fees bill spend spending",
    "value worth valuation",
    "profit profits loss losses margin",
    "tax taxes levy tariff duty rate",
    "fund funding investment invest budget",
    "share proportion portion",
    "growth grow fall fell decline drop rise rose increase decrease change cut",
))


_MEASURE_WORDS = frozenset().union(*MEASURES)
_SHARE = next(group for group in MEASURES if "share" in group)
_CHANGE = next(group for group in MEASURES if "growth" in group)


def _another_measure(measures: Sequence[str], sentence: str) -> bool:
    """True when ``sentence`` measures only other things than the question's ``measures``.

    "What price ...?" against "$50 million in revenue"; but "What share of the revenue
    fell ...?" asks about a share, a revenue and a fall, and "fell 63%" is one of them.
    """
    asked = {i for i, group in enumerate(MEASURES) if set(measures) & group}
    if not asked:
        return False
    words = {t.lemma_.lower() for t in verify.parse(sentence)} | {
        t.lower_ for t in verify.parse(sentence)}
    said = {i for i, group in enumerate(MEASURES) if words & group}
    return bool(said) and not said & asked


# Prepositions whose phrase does not narrow what is asked: "of" belongs to its noun,
# "than", "as" and "like" compare ("according to" names a source and is left out too).
_OPEN_PREPOSITIONS = frozenset("of than as like".split())
_FILLERS = ("NOUN", "PROPN")


# words that sum up rather than narrow: "in total", "in all", "in general", "total revenue"
_NOT_NARROWING = frozenset({"total", "all", "sum", "whole", "general", "short", "brief",
                            "overall", "entire", "combined", "full"})


def _restrictions(doc: Any) -> tuple[Restriction, ...]:
    """The phrases of a parsed question that narrow what is asked (:class:`Restriction`)."""
    found: list[Restriction] = []
    for token in doc:
        if (token.dep_ != "prep" or token.lower_ in _OPEN_PREPOSITIONS
                or token.head.lower_ == "according"):
            continue
        for obj in (c for c in token.children if c.dep_ == "pobj" and c.pos_ in _FILLERS):
            if any(t.lower_ in _WH_WORDS for t in obj.subtree):  # "on which date": asked
                continue
            if obj.lower_ in _NOT_NARROWING:  # "in total", "in all", "as a whole"
                continue
            if len(obj.text) < 3 or not any(ch.isalpha() for ch in obj.text):  # "re", "-"
                continue
            if obj.pos_ == "NOUN" and any(c.dep_ in ("acl", "ccomp") for c in obj.children):
                continue  # "for the claim that Beijing ...": what is claimed, not the word
            if any(c.dep_ == "poss" and c.tag_ == "PRP$" for c in obj.children):
                continue  # "at his firm" refers back; whoever fills it may be meant
            nouns = [obj, *(c for c in obj.children if c.dep_ == "compound" and c.pos_ in _FILLERS),
                     *(c for c in obj.conjuncts if c.pos_ in _FILLERS)]
            heads = tuple(dict.fromkeys(verify.word_key(t) for t in nouns))
            phrase = doc[obj.left_edge.i:obj.right_edge.i + 1].text
            name = " ".join(t.text for t in sorted(nouns[:1] + [
                c for c in obj.children if c.dep_ == "compound" and c.pos_ == "PROPN"],
                key=lambda t: t.i)) if obj.pos_ == "PROPN" and not _is_time(obj) else ""
            found.append(Restriction(token.lower_, heads, phrase, _is_time(obj), name))
    return tuple(found)


def _other_filler(restriction: Restriction, cited: Cited) -> str:
    """What ``cited`` gives in the restriction's place, when it gives something else.

    ``""`` when the sentence, its label, its title or the sentence before it (when it
    refers back to it, :func:`_context`) names the restriction's noun, or when the
    sentence has no phrase with the same preposition (it may leave the restriction to
    its context; a time restriction's phrase may have another preposition: "during the
    October quarter" competes with "in the July quarter"). Otherwise the sentence's own
    phrase: "for ByteDance, Alibaba and Tencent" where "for telecom operators" was asked.
    Only a name fills the same place ("the US tech giant's chip" may describe the
    H200 asked about; "for ByteDance" names someone else), and only a time where a time
    was asked ("on Thursday" does not compete with "on the H200").
    """
    context = _words(_context(cited))
    # a time is the same time only whole: "the October quarter" is not "the July quarter"
    if (set(restriction.heads) <= context if restriction.time
            else set(restriction.heads) & context):
        return ""
    prepositions = _TIME_PREPOSITIONS if restriction.time else {restriction.preposition}
    for token in verify.parse(cited.sentence):
        if token.lower_ not in prepositions or token.dep_ != "prep":
            continue
        for obj in (c for c in token.children if c.dep_ == "pobj" and c.pos_ in _FILLERS):
            if _is_time(obj) != restriction.time or not (restriction.time
                                                         or obj.pos_ == "PROPN"):
                continue
            if restriction.time and not _same_unit(obj, restriction):
                continue  # "year over year" is no other quarter; "the same quarter" is it
            return str(obj.doc[obj.left_edge.i:obj.right_edge.i + 1].text)
    return ""


def _same_unit(obj: Any, restriction: Restriction) -> bool:
    """Whether a time ``obj`` names another time of the restriction's kind.

    "Nvidia's October quarter" for "the July quarter" (both quarters) and "October" for
    "July" (both named); not "year" for a quarter, nor a time that points back ("the
    same quarter", "that month").
    """
    if any(c.lower_ in _POINTING for c in obj.children):
        return False
    named = obj.pos_ == "PROPN" and restriction.text[:1].isupper()
    return named or verify.word_key(obj) == restriction.heads[0]


# the prepositions that put something in time: "in the July quarter" and "during the
# October quarter" fill the same place
_TIME_PREPOSITIONS = frozenset("in during for over at on throughout since by before after "
                               "until".split())


_POINTING = frozenset("same that this those these".split())


def _context(cited: Cited) -> str:
    """A cited sentence with its label, its title, and the sentence before it if needed.

    The title counts for a sentence whose subject is not a name or qualified by one
    (:func:`_subject_qualified`).

    The sentence before counts when the cited one refers back to it; a neighbour on
    another matter does not ("access for state-backed companies, such as
    telecommunication network operators" before "The approval covered 400,000 units
    for ByteDance ...").
    """
    before = cited.before if cited.before and refers_back(cited.sentence, cited.before) else ""
    # the title says what a sentence about "the chips" is about, not one about a name's
    # figure ("Nvidia's overall China revenue fell ..." under a title on H200 purchases)
    title = "" if _subject_qualified(cited.sentence) else cited.title
    return " ".join((cited.sentence, before, cited.label, title))


def _is_time(token: Any) -> bool:
    return bool(token.ent_type_ in ("DATE", "TIME"))


_QUALIFIERS = ("compound", "nmod", "amod", "poss")


def _kinds(doc: Any, names: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """Each name of the question that qualifies a common noun, with that noun's key."""
    found: list[tuple[str, str]] = []
    for noun in doc:
        if noun.pos_ != "NOUN":
            continue
        qualifiers = [c.text for c in noun.children if c.dep_ in _QUALIFIERS
                      and c.pos_ in ("PROPN", "NUM")]
        found += [(name, verify.word_key(noun)) for name in names
                  if any(q in name.split() for q in qualifiers)]
    return tuple(dict.fromkeys(found))


def named_kinds(name: str, texts: Iterable[str]) -> tuple[str, ...]:
    """The keys of the common nouns ``name`` qualifies in ``texts`` ("H200 chips": "chip").

    What the reports call a thing by its kind: a question about "the H200s" is about
    "H200 chips" when the reports write so, and a cited sentence about "Chips ..."
    after one naming the H200 may be about them (:func:`_of_its_kind`). A plural
    code ("H200s") is looked up by its singular.
    """
    bare = name[:-1] if verify.is_plural_code(name) else name
    pattern = re.compile(rf"(?<![\w-]){re.escape(bare)}s?\s+[a-z]")
    found: list[str] = []
    for text in texts:
        matches = list(pattern.finditer(text))
        spans = sentence_spans(text, 0, len(text)) if matches else []
        for match in matches:
            start, end = next(((a, b) for a, b in spans if a <= match.start() < b),
                              (match.start(), len(text)))
            sentence = text[start:end]
            at = match.start() - start
            token = next((t for t in verify.parse(sentence) if t.idx == at), None)
            if (token is not None and token.dep_ in _QUALIFIERS and token.head.pos_ == "NOUN"
                    and token.head.i > token.i):
                found.append(verify.word_key(token.head))
    return tuple(dict.fromkeys(found))


def with_kinds(want: Target, kinds: Callable[[str], Sequence[str]]) -> Target:
    """``want`` with, for each name the question gives no noun, the reports' nouns for it."""
    given = {name for name, _ in want.kinds}
    extra = [(name, noun) for name in want.names if name not in given for noun in kinds(name)]
    return dataclasses.replace(want, kinds=(*want.kinds, *extra)) if extra else want


def _unnamed_subject(sentence: str) -> str:
    """The key of ``sentence``'s subject noun when no name qualifies it ("Chips ...")."""
    for token in verify.parse(sentence):
        if token.dep_ in ("nsubj", "nsubjpass") and token.head.dep_ == "ROOT" \
                and token.pos_ == "NOUN":
            named = any(c.dep_ in _QUALIFIERS and c.pos_ in ("PROPN", "NUM")
                        for c in token.children)
            return "" if named else verify.word_key(token)
    return ""


def _subject_qualified(sentence: str) -> bool:
    """True when the main verb's subject is a name or a noun a name qualifies.

    "Nvidia's overall China revenue fell ...": yes; "Chips manufactured by TSMC would
    be imported ...": no (the name stands in a clause about the chips).
    """
    for token in verify.parse(sentence):  # the first subject: the small parser may hang
        if token.dep_ in ("nsubj", "nsubjpass"):  # it on an auxiliary ("chips would be re-")
            return token.pos_ == "PROPN" or any(
                c.dep_ in _QUALIFIERS and c.pos_ in ("PROPN", "NUM") for c in token.children)
    return False


def _of_its_kind(name: str, want: Target, cited: Cited) -> bool:
    """True when ``cited`` speaks of the name's noun alone, and its context names it.

    "At what rate would H200 chips be taxed?" and "Chips manufactured by TSMC would be
    ... taxed at 25%" after a sentence on "H200 exports" (or in a report whose title
    names the H200); never "The H20 chips ...".
    """
    nouns = {noun for n, noun in want.kinds if n == name}
    return bool(nouns) and _unnamed_subject(cited.sentence) in nouns and (
        verify.mentions(cited.before, name) or verify.mentions(cited.title, name))


def _names_its_country(sentence: str, name: str) -> bool:
    """True when ``name`` is a capital and ``sentence`` names its country ("Washington").

    The capitals are the verifier policy's ``seats_of_government``.
    """
    country = dict(verify.DEFAULT_POLICY.seats_of_government).get(name.lower())
    return country is not None and verify.mentions(sentence, country)


def _names_its_people(sentence: str, name: str) -> bool:
    """True when ``sentence`` speaks of the country ``name`` by its people's adjective.

    "approved Chinese buyers" speaks of China; see :func:`_of_the_people`.
    """
    return any(_of_the_people(ent.text, name) for ent in verify.parse(sentence).ents
               if ent.label_ == "NORP")


def _of_the_people(adjective: str, country: str) -> bool:
    """True when ``adjective`` is a people's adjective formed on ``country``'s name.

    English forms it by a suffix on the name, its last letter often dropped: Chinese,
    Japanese, Taiwanese, Korean, Russian, German. (A few are not formed so, "French"
    or "British"; they are not found.)
    """
    stem = country[:-1] if len(country) > 4 else country
    return (country[:1].isupper() and len(stem) >= 4
            and adjective.lower().startswith(stem.lower()) and adjective.lower() != country.lower())


def _quotes_speaker(speaker: str, cited: Cited) -> bool:
    """True when ``cited`` names the speaker's role ("CEO") or a person (who said it)."""
    text = " ".join((cited.sentence, cited.before))
    return (verify.word_root(speaker) in _roots(f"{text} {cited.label}")
            or any(e.label_ == "PERSON" for e in verify.parse(text).ents))


def _names_person(cited: Cited, asked: Sequence[str]) -> bool:
    """True when ``cited`` names a person the question does not name.

    The sentence before counts when the cited one refers back to it ("he told journalists").
    """
    texts = [cited.sentence]
    if cited.before and refers_back(cited.sentence, cited.before):
        texts.append(cited.before)
    return any(e.label_ == "PERSON" and not any(verify.mentions(e.text, n) for n in asked)
               for text in texts for e in verify.parse(text).ents)


_JOINERS = frozenset({",", "and", "or", "&"})


def _group_figure(name: str, want: Target, cited: Sequence[Cited], exempt: Sequence[str]) -> bool:
    """True when every cited sentence naming ``name`` lists it with a name not asked about.

    "400,000 units for ByteDance, Alibaba and Tencent" is the three companies' count,
    not Tencent's (:func:`_listed_with_others`).
    """
    naming = [c for c in cited if verify.mentions(c.sentence, name)]
    return bool(naming) and all(
        _listed_with_others(c.sentence, name, [*want.mentioned, *exempt]) for c in naming)


def _listed_with_others(sentence: str, name: str, asked: Sequence[str]) -> bool:
    """True when ``name`` stands in a list with a name the question does not ask about.

    "The approval covered 400,000 units for ByteDance, Alibaba Group Holding and
    Tencent Holdings": the figure is the three companies', not Tencent's alone.
    """
    doc = verify.parse(sentence)
    first = name.split()[0].lower()
    for token in doc:
        if token.lower_ != first:
            continue
        left, right = token.i, token.i
        while left > 0 and (doc[left - 1].text in _JOINERS or doc[left - 1].text[:1].isupper()):
            left -= 1
        while right + 1 < len(doc) and (doc[right + 1].text in _JOINERS
                                        or doc[right + 1].text[:1].isupper()):
            right += 1
        groups: list[str] = []
        words: list[str] = []
        for t in doc[left:right + 1]:
            if t.text in _JOINERS:
                groups += [" ".join(words)] if words else []
                words = []
            else:
                words.append(t.text)
        groups += [" ".join(words)] if words else []
        others = [g for g in groups if not verify.mentions(g, name)
                  and not any(verify.mentions(g, a) or verify.mentions(a, g) for a in asked)]
        if len(groups) > 1 and others:
            return True
    return False


def addresses(want: Target, cited: Sequence[Cited], exempt: Sequence[str] = ()) -> str:
    """Why the cited sentences do not answer the question (``""`` when they do).

    ``exempt`` are names the question took from the conversation (a resolved "they"):
    the cited sentence may call them by a common noun ("Officials ...").
    """
    if not cited:
        return ""
    for word in want.qualifiers:  # a timeit option is no sqlite3 cursor method
        if not any(_speaks_of(t, word) for c in cited
                   for t in (c.sentence, c.before, c.title, c.label)):
            return f"the cited sentences do not speak of '{word}', the kind of thing asked"
    if want.speaker and not any(_quotes_speaker(want.speaker, c) for c in cited):
        return f"the cited sentences quote no {want.speaker} and no one by name"
    if want.person and not any(_names_person(c, want.mentioned) for c in cited):
        return f"the cited sentences name no person as the {want.person} asked for"
    if want.title and not any(_gives_title(c, want.title) for c in cited):
        return (f"the cited sentences do not give anyone the title "
                f"'{' '.join(want.title)}' asked for")
    for name in want.role_of:  # the head of UBS research is not the head of the NDRC
        if not any(verify.mentions(_context(c), name) for c in cited):
            return f"the cited sentences do not speak of {name}, whose {want.person} is asked"
    for place, nouns in want.places:  # the head of Taiwan research is not of China research
        # the sentence itself (a title "... for China tech giants" is about something else)
        if any(verify.mentions(c.sentence, place) or (
                c.before and refers_back(c.sentence, c.before)
                and verify.mentions(c.before, place)) for c in cited):
            continue
        elsewhere = [found for found in (_other_place(c.sentence, nouns) for c in cited)
                     if found]
        if elsewhere:
            return f"the cited sentences speak of '{elsewhere[0]}', not of {place} as asked"
    # a country named in a phrase of the question ("re-exported *to China*"), not as who
    # acts, may be spoken of by its people's adjective ("to approved Chinese buyers")
    phrased = {r.name for r in want.restrictions if r.name}
    for name in want.names:
        # a name from the conversation may be called by a common noun ("Officials"),
        # not by another name ("the H200 chips" for the H20)
        if any(verify.mentions(name, e) or verify.mentions(e, name) for e in exempt) and \
                not all(_named_subject(c.sentence) for c in cited):
            continue
        # the title's topic may own the asked-for thing ("H200 units"), never act in it
        topic = name in want.owners
        if not any(verify.mentions(c.sentence, name) or verify.mentions(c.label, name)
                   or _names_its_country(c.sentence, name)
                   or (name in phrased and _names_its_people(c.sentence, name))
                   or (c.before and refers_back(c.sentence, c.before)
                       and verify.mentions(c.before, name))
                   or (topic and verify.mentions(c.title, name)
                       and not _named_subject(c.sentence))
                   or _of_its_kind(name, want, c)
                   for c in cited):
            return f"the cited sentences do not speak of {name}"
    if want.figure and not any(_figure_of(c.sentence, want)
                               and not _of_another(c.sentence, want, exempt) for c in cited):
        asked = " ".join(reversed(want.attribute)) or " ".join(want.measures) or "figure"
        return f"no cited sentence gives a figure of the {asked} asked for"
    for restriction in want.restrictions:
        if any(verify.mentions(restriction.text, e) or verify.mentions(e, restriction.text)
               for e in exempt):
            continue
        if restriction.name and not any(verify.mentions(_context(c), restriction.name)
                                        or _names_its_people(c.sentence, restriction.name)
                                        for c in cited):
            return f"the cited sentences do not speak of {restriction.name}"
        if (want.figure or want.count) and not restriction.time and not any(
                set(restriction.heads) & _words(_context(c)) or (
                    restriction.name and (verify.mentions(_context(c), restriction.name)
                                          or _names_its_people(c.sentence, restriction.name)))
                for c in cited):  # "the US" is spoken of as "the United States" too
            asked = "figure" if want.figure else "count"
            return f"no cited sentence gives the {asked} for {restriction.text}"
        # a name the small parser tags as a noun ("for Tencent") counts here too
        one = restriction.name or (restriction.text if restriction.text[:1].isupper() else "")
        if (want.figure or want.count) and one and _group_figure(one, want, cited, exempt):
            asked = "figure" if want.figure else "count"
            return (f"the cited sentences give the {asked} for {restriction.text} together "
                    "with others")
        # one cited sentence giving it for someone else is enough: the others may be
        # about something else altogether ("Alibaba owns the Post")
        other = [found for found in (_other_filler(restriction, c) for c in cited) if found]
        if other:
            return (f"the cited sentences speak of '{other[0]}', not of "
                    f"'{restriction.text}' as asked")
    if want.basis and want.figure and all(_basis(c.sentence) not in ("", want.basis)
                                          for c in cited):  # "63% year over year"
        return (f"the cited sentences compare {_basis(cited[0].sentence)}, not {want.basis} "
                "as asked")
    if want.year_ago and (want.figure or want.count) and not any(
            _of_a_year_ago(c.sentence) or (c.before and refers_back(c.sentence, c.before)
                                           and _of_a_year_ago(c.before))
            for c in cited):  # "earlier this year" is not
        return "the cited sentences give no figure for a year earlier, as asked"
    if want.months and want.figure and not any(
            set(want.months) <= {w.lower() for w in re.findall(r"[A-Za-z]+", _context(c))}
            for c in cited):  # the October quarter's figure is not the July quarter's
        return (f"the cited sentences give no figure for {' or '.join(want.months).title()}"
                " as asked")
    if want.years and (want.figure or want.count):
        period = _other_period(want.years, cited)
        if period:
            return (f"the cited sentences give the figure for '{period}', not for "
                    f"{' or '.join(want.years)} as asked")
    # any name of the question, not only its principal ones: "How many units was Tencent
    # approved to buy on its own?" (the parse may hang Tencent off the verb oddly)
    for name in want.mentioned if want.figure or want.count else ():
        if _group_figure(name, want, cited, exempt):  # "did ByteDance alone get ...?"
            return f"the cited sentences give the figure for {name} together with others"
    return ""


_UNIT_AFTER = re.compile(r"(?:\s*(?:thousand|million|billion|trillion|bn)\b)?"
                         r"(?:\s*(?:%|percent\b|per cent\b))?", re.IGNORECASE)


def _figure_text(sentence: str, figure: verify.Number) -> tuple[int, int]:
    """The extent of ``figure`` as written: with its currency sign, scale and percent sign."""
    start = figure.start - 1 if figure.start and sentence[figure.start - 1] in "$€£" else \
        figure.start
    unit = _UNIT_AFTER.match(sentence, figure.end)
    return start, unit.end() if unit else figure.end


_WH_WORDS = frozenset("who whom whose which what when where why how".split())


def asks_more(question: str) -> bool:
    """True when ``question`` asks two things ("How many ..., and for which companies?")."""
    return sum(1 for t in verify.parse(question) if t.lower_ in _WH_WORDS) > 1


def figure_phrase(question: str, sentence: str) -> str:
    """The figure of ``sentence`` that answers ``question``, as a short phrase, or "".

    For "how much / how many / what share ..." questions (:func:`target`): the one
    figure of the sentence of the asked kind ("more than 400,000 units", "25%",
    "about $3 billion"): money for a sum of money, a percentage for a share or a
    rate, else a figure of the asked noun; with its qualifier and, for a count, the
    noun it counts. "" when the sentence holds no such figure or several (the
    reader needs the sentence to tell them apart), and for dates.
    """
    doc = verify.parse(question)
    quantity = claims.asked_quantity(question)
    how_many = quantity is not None and quantity.group("which").lower() == "many"
    want = target(question)
    if not (want.figure or how_many):
        return ""
    asked_noun = _asked_noun(doc)
    counted = verify.word_root(str(asked_noun.lemma_).lower()) if asked_noun is not None else ""
    attribute = set(want.attribute)
    roots = {verify.word_root(a) for a in attribute}
    kinds = ({"money"} if attribute & claims.MONEY_WORDS else set()) | (
        {"percent"} if attribute & claims.SHARE_WORDS else set())
    parsed = verify.parse(sentence)
    found: list[str] = []
    for figure in verify.numbers(sentence):
        start, end = _figure_text(sentence, figure)
        span = parsed.char_span(start, end, alignment_mode="expand")
        if span is None or any(t.ent_type_ in ("DATE", "TIME") for t in span):
            continue
        noun = span.root.head if span.root.head.i >= span.end else None
        noun_root = verify.word_root(str(noun.lemma_).lower()) if noun is not None else ""
        if how_many and not want.figure:  # a count: of the noun asked for
            if noun is None or noun_root != counted:
                continue
            end = noun.idx + len(noun.text)
        elif kinds:  # money for a sum, a percentage for a share ("tax": either)
            if figure.kind not in kinds:
                continue
        elif not (noun_root and noun_root in roots):
            continue
        said = verify.qualifier(sentence, start)
        text = sentence[start:end]
        found.append(f"{said} {text}" if said else text)
    return found[0] if len(found) == 1 else ""
