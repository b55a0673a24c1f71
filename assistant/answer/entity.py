"""Who, which organisation, where, when: the name a sentence gives in the asked role.

A small model asked "Which outlet first reported that the US was weighing
approval?" may pick the wrong passage, or name the report's own outlet. The
answer to such a question is a name (a place, a date) that a passage sentence
states *in the role the question asks about*: the subject of "first reported ...
that the U.S. was weighing approval", not "Reuters" of "according to Reuters" in
the same sentence. That role is read here in code, from spaCy's parse, which is
what a small model is bad at:

1. :func:`asked` reads what the question asks for at its first wh-word: a name
   ("who", "which outlet"), a place ("where", "which city") or a time ("when",
   "which day"); any other question asks for none of these.
2. :func:`candidates` takes the names of that kind in a sentence (not those the
   question itself names) and keeps each one whose nearest governing verb is one
   of the question's verbs (by lemma; any reporting verb for a reporting verb:
   "told" for "said"), or which a relative clause of that verb describes
   ("Reuters, which first reported ..."). Its clause is that verb with
   everything it governs.
3. Each kept candidate is scored by how many of the question's other content
   words its clause holds; the best clause must hold ``min_matched`` of them.

A "which <noun>" question may also be answered by a name a sentence gives as an
example of that noun (:func:`members`: "suppliers such as Huawei", "Randy Abrams,
head of Taiwan research"), whatever verb governs it.

The word lists are English grammar (wh-words, nouns that ask for a place or a
time, the prepositions that introduce examples), not words of the reports.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant import verify
from assistant.text import stem, terms

_FIRST_WH_RE = re.compile(r"\b(?:who|whom|whose|which|what|when|where|why|how)\b",
                          re.IGNORECASE)
# an imperative that asks for a name: "Name the supplier ...", "Identify the analyst ..."
_NAME_REQUEST_RE = re.compile(r"^\W*(?:please\s+)?(?:name|identify)\s+(?:the|a|an|one|any)\b",
                              re.IGNORECASE)
_PLACE_NOUNS = frozenset("city cities town towns country countries province provinces "
                         "place places location locations region regions".split())
_TIME_NOUNS = frozenset("day days date dates year years month months week weeks".split())
_PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})
_TIME_LABELS = frozenset({"DATE", "TIME"})
_NOT_NAMES = frozenset({"NORP", "ORDINAL", "CARDINAL", "PERCENT", "MONEY", "QUANTITY",
                        "DATE", "TIME"})
_LIGHT_VERBS = frozenset({"be", "have", "do", "get", "make"})


def asked(question: str) -> str:
    """What ``question`` asks for at its first wh-word: "name", "place", "time" or "".

    "who / whom / whose", "which <noun>" and "name (or identify) the <noun>" ask
    for a name, "where" and "which (or what) city" for a place, "when" and "which
    (or what) day" for a time. Other "what ...", "how ...", "why ..." and yes/no
    questions ask for none of these.
    """
    if _NAME_REQUEST_RE.match(question):  # "Name the supplier that ...": no wh-word
        return "name"
    first = _FIRST_WH_RE.search(question)
    if first is None:
        return ""
    word = first.group().lower()
    if word in ("who", "whom", "whose"):
        return "name"
    if word == "where":
        return "place"
    if word == "when":
        return "time"
    if word not in ("which", "what"):
        return ""
    lowered = {w.lower().strip("?,.") for w in question[first.end():].split()[:2]}
    if not lowered:
        return ""
    if lowered & _PLACE_NOUNS:
        return "place"
    if lowered & _TIME_NOUNS:
        return "time"
    return "name" if word == "which" else ""  # "what restrictions" asks for no name


@dataclass(frozen=True)
class Candidate:
    """A name of the asked kind in a sentence, in the role the question asks about."""

    name: str
    clause: str  # the governing verb's clause, as written in the sentence
    matched: int  # the question's content words the clause holds


def _question_verbs(doc: Any) -> set[str]:
    """The lemmas of the question's content verbs ("report", "tell"), light verbs aside.

    A word with an auxiliary is a verb, whatever the small parser tagged it: "When did
    Bloomberg first report ...?" gets "report" as a noun.
    """
    found = {t.lemma_.lower() for t in doc
             if (t.pos_ == "VERB" or any(c.dep_ in ("aux", "auxpass") for c in t.children))
             and t.lemma_.lower() not in _LIGHT_VERBS}
    # "Which analyst called the imports a balanced outcome?" asks who said they were one
    if any(_characterises(t) for t in doc):
        found.add("say")
    # "Who is the owner of the Post?" asks who owns it: the verb of an agent noun asked
    # for ("owner", "maker", "supplier"), in each English spelling it may take
    for token in doc:
        lemma = token.lemma_.lower()
        if token.dep_ in ("attr", "nsubj") and token.head.lemma_ == "be" \
                and token.pos_ == "NOUN" and lemma.endswith(("er", "or")):
            found |= {lemma[:-2], lemma[:-1]} | ({f"{lemma[:-3]}y"} if lemma.endswith("ier")
                                                else set())
    # "Who makes the H200s?" asks who manufactures them; "make" is a light verb otherwise
    if any(t.lemma_.lower() in _PRODUCING and any(c.dep_ == "dobj" for c in t.children)
           for t in doc):
        found |= _PRODUCING
    return found


# English verbs for making a product: "Who makes / manufactures / fabricates the chips?"
# and "Chips manufactured by TSMC" say the same
_PRODUCING = frozenset({"make", "manufacture", "fabricate", "produce", "build"})


# English verbs that characterise something in words: "call / term / dub / label X
# a Y", "describe / characterise / portray X as Y"
_NAMING_VERBS = frozenset({"call", "term", "dub", "label"})
_AS_VERBS = frozenset({"describe", "characterize", "characterise", "portray", "depict"})


def _characterises(token: Any) -> bool:
    """True for an active verb that says what something is called or described as.

    Not a passive one: "Which chip is described as more capable?" asks what is described.
    """
    lemma = token.lemma_.lower()
    if any(c.dep_ in ("nsubjpass", "auxpass") for c in token.children):
        return False
    if lemma in _NAMING_VERBS:  # "called the imports a balanced outcome": two objects
        return any(c.dep_ == "oprd" for c in token.children) and any(
            c.dep_ == "dobj" for c in token.children)
    return lemma in _AS_VERBS and any(c.dep_ == "prep" and c.lower_ == "as"
                                      for c in token.children)


def _clause_text(sentence: str, tokens: list[Any], verb: Any) -> str:
    """The clause as written: the whole sentence for its main verb or a broken quote."""
    tokens = sorted(tokens, key=lambda t: t.i)
    while tokens and tokens[0].dep_ in ("mark", "cc", "punct", "prep") and tokens[0] != verb:
        tokens = tokens[1:]  # "after Bloomberg first reported ...": from "Bloomberg"
    while tokens and tokens[-1].dep_ in ("cc", "punct"):
        tokens = tokens[:-1]
    if verb.dep_ == "ROOT" or not tokens:
        return sentence
    text = sentence[tokens[0].idx:tokens[-1].idx + len(tokens[-1].text)]
    if text.count("“") != text.count("”") or text.count('"') % 2:
        return sentence
    return text


# How a name hangs from its verb (spaCy dependency labels). A name asked for by "who /
# which ..." is an argument of the verb: its subject, object or a prepositional object
# ("approved for ByteDance"); a place or a time is an adverbial: the object of a
# preposition ("upon arrival in Taiwan", "in November") or a bare adverbial ("Wednesday").
# A possessive ("Trump's approval") is neither: the approval is the argument.
_ARGUMENT = frozenset({"nsubj", "nsubjpass", "dobj", "iobj", "dative", "attr", "oprd",
                       "agent", "pobj"})
_ADVERBIAL = frozenset({"pobj", "npadvmod"})
_THROUGH = frozenset({"prep", "pobj", "conj", "appos", "compound", "agent", "pcomp"})


def _governing_verb(token: Any, kind: str) -> Any | None:
    """The verb ``token`` (a name's head word) fills a role of, for the asked kind.

    Up from the name through prepositions, their objects, lists and appositions to
    the first verb; ``None`` when the name hangs from it otherwise (a possessive, a
    modifier), or when its first link is not one the asked kind takes.
    """
    first = token.dep_
    while first in ("conj", "appos") and token.head.i != token.i:
        token = token.head  # "Alibaba and ByteDance": the list's first name holds the role
        first = token.dep_
    if first not in (_ADVERBIAL if kind in ("place", "time") else _ARGUMENT):
        return None
    if kind in ("place", "time") and first == "pobj" and token.head.dep_ == "agent":
        return None  # "by Beijing" is who acted, not where
    while token.head.i != token.i:
        head = token.head
        if head.pos_ in ("VERB", "AUX"):
            return head
        if token.dep_ not in _THROUGH | _ARGUMENT | _ADVERBIAL:
            return None  # a modifier's name ("Nvidia's CEO's ...")
        token = head
    return None


def _own_clause(verb: Any) -> list[Any]:
    """``verb`` and what it governs, without the clauses coordinated with or added to it.

    "... follows a meeting with X and introduces a new mechanism": the mechanism is
    another predicate's; what was reported ("reported that the U.S. was weighing
    approval") stays.
    """
    apart = [c for c in verb.children if c.dep_ in ("conj", "advcl", "parataxis", "relcl")
             and c.pos_ in ("VERB", "AUX")]
    skipped = {t.i for c in apart for t in c.subtree}
    return [t for t in verb.subtree if t.i not in skipped]


def _matches(verb: Any, wanted: set[str], same_verb: bool = False) -> bool:
    lemma = str(verb.lemma_).lower()
    if same_verb:
        return lemma in wanted
    # "according to X" names a source; "the analyst quoted" asks who said it
    reporting = (verify.DEFAULT_POLICY.reporting - {"accord"}) | {"quote"}
    return lemma in wanted or (lemma in reporting and bool(wanted & reporting))


def _kind_fits(kind: str, label: str) -> bool:
    if kind == "place":
        return label in _PLACE_LABELS
    if kind == "time":
        return label in _TIME_LABELS
    return label not in _NOT_NAMES


def candidates(question: str, sentence: str, exclude: Sequence[str] = (),
               same_verb: bool = False) -> list[Candidate]:
    """The names of the asked kind in ``sentence`` that hold the asked role, best first.

    ``exclude`` are names not to offer (those the conversation gave the question).
    ``same_verb``: only with the question's own verb, not another reporting verb ("said"
    does not stand for "wrote").
    """
    kind = asked(question)
    if not kind:
        return []
    qdoc = verify.parse(question)
    verbs = _question_verbs(qdoc)
    if not verbs:
        return []
    wanted = terms(question)
    asked_names = verify.names(question)
    doc = verify.parse(sentence)
    found: dict[str, Candidate] = {}
    in_ents = {t.i for ent in doc.ents for t in ent}
    # a proper noun the small model leaves untagged as the subject ("Alibaba owns the Post.")
    bare = [doc[min([t.i, *(c.i for c in t.children if c.dep_ == "compound")]):t.i + 1]
            for t in doc if kind == "name" and t.pos_ == "PROPN" and t.i not in in_ents
            and t.dep_ in ("nsubj", "nsubjpass")]
    for ent in [*doc.ents, *bare]:
        name = ent.text.strip(" ,;:")
        if (not name or not _kind_fits(kind, ent.label_)
                or any(verify.mentions(name, e) or verify.mentions(e, name)
                       for e in (*asked_names, *exclude))):
            continue
        root = ent.root
        clauses = [t for t in root.children if t.dep_ in ("relcl", "acl")
                   and t.pos_ == "VERB" and _matches(t, verbs, same_verb)] if kind == "name" else []
        verb = _governing_verb(root, kind)
        if verb is not None and _matches(verb, verbs, same_verb):
            clauses.append(verb)
        # "China does not currently produce an equivalent" names no one who produces it
        clauses = [c for c in clauses if not any(t.dep_ == "neg" for t in c.children)]
        for clause_verb in clauses:
            tokens = _own_clause(clause_verb)
            if clause_verb.dep_ in ("relcl", "acl"):  # "Reuters, which first reported ..."
                tokens = [*ent, *tokens]
            described = clause_verb.head  # "Chips manufactured by TSMC would be imported
            # ...": what the chips are said to undergo counts too
            if clause_verb.dep_ == "acl" and described.head.pos_ in ("VERB", "AUX") \
                    and described.dep_ in ("nsubj", "nsubjpass", "dobj"):
                tokens = list({t.i: t for t in (*tokens, *_own_clause(described.head))}
                              .values())
            matched = len(wanted & terms(" ".join(t.text for t in tokens)) - {
                stem(str(clause_verb.text))})
            clause = _clause_text(sentence, tokens, clause_verb)
            best = found.get(name)
            if best is None or matched > best.matched:
                found[name] = Candidate(name, clause, matched)
    return sorted(found.values(), key=lambda c: -c.matched)


# "suppliers such as Huawei", "analysts including X", "chipmakers like TSMC": a noun
# and the names it is given as examples of (English grammar, not words of the reports)
_EXAMPLE_PREPOSITIONS = frozenset({"like", "including"})


def asked_kind(question: str) -> str:
    """The key of the noun a name question asks for, or "".

    "supplier" of "Which domestic chip supplier ...?" and of "Name the supplier ...".
    """
    if asked(question) != "name":
        return ""
    doc = verify.parse(question)
    # the words after "which", or after "name the": the last noun of them ("domestic chip
    # supplier"); the parse itself may be garbled ("Earlier this year, which ...")
    request = _NAME_REQUEST_RE.match(question)
    if request is not None:  # its last word: the determiner ("the")
        anchor = next((t for t in reversed(doc) if t.idx < request.end()), None)
    else:
        anchor = next((t for t in doc if t.lower_ == "which"), None)
    noun = None
    for token in doc[anchor.i + 1:] if anchor is not None else ():
        if token.pos_ not in ("ADJ", "NOUN") or (
                noun is not None and token.dep_ in ("nsubj", "nsubjpass")
                and noun.head.i != token.i):
            break  # "the supplier firms were told to favour": the firms are told
        noun = token if token.pos_ == "NOUN" else noun
    return verify.word_key(noun) if noun is not None and noun.pos_ == "NOUN" else ""


def _examples(noun: Any) -> list[Any]:
    """The name tokens ``noun`` is given examples of: "such as X and Y", "like X", "X, a Z"."""
    out: list[Any] = []
    for child in noun.children:
        such = child.lower_ == "as" and (child.i > 0 and child.doc[child.i - 1].lower_ == "such")
        if child.dep_ == "prep" and (child.lower_ in _EXAMPLE_PREPOSITIONS or such):
            out += [x for o in child.children if o.dep_ == "pobj" for x in (o, *o.conjuncts)]
        elif child.dep_ == "appos":
            out.append(child)
    if noun.dep_ == "appos":
        out.append(noun.head)
    return [t for t in out if t.ent_type_ and t.ent_type_ not in _NOT_NAMES]


def members(question: str, sentence: str, exclude: Sequence[str] = ()) -> list[Candidate]:
    """The names ``sentence`` gives as examples of the noun the question asks for.

    "Which domestic supplier were companies told to favour?" and "... urged companies
    to avoid Nvidia hardware and prioritize suppliers such as Huawei": Huawei, in the
    clause of the verb that governs "suppliers". The question's own names and
    ``exclude`` are not offered.
    """
    kind = asked_kind(question)
    if not kind:
        return []
    wanted = terms(question)
    asked_names = [*verify.names(question), *exclude]
    doc = verify.parse(sentence)
    found: dict[str, Candidate] = {}
    for noun in doc:
        if noun.pos_ != "NOUN" or verify.word_key(noun) != kind:
            continue
        verb = _governing_verb(noun, "name")
        tokens = _own_clause(verb) if verb is not None else list(doc)
        clause = _clause_text(sentence, tokens, verb) if verb is not None else sentence
        matched = len(wanted & terms(" ".join(t.text for t in tokens)))
        for token in _examples(noun):
            ent = next((e for e in doc.ents if e.start <= token.i < e.end), None)
            name = (ent.text if ent is not None else token.text).strip(" ,;:")
            if name and name not in found and not any(
                    verify.mentions(name, e) or verify.mentions(e, name) for e in asked_names):
                found[name] = Candidate(name, clause, matched)
    return sorted(found.values(), key=lambda c: -c.matched)
