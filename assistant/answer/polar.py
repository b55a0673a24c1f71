"""Yes or no, settled in code: the question's statement checked against the cited sentences.

A small model's bare "No [1]." to "Is the H200 more capable than the H20?" is a
claim the verifier cannot check (it has no content words), and it was wrong while
its passage said "vastly more capable". So the yes or no is settled here: the
question is turned into its statement ("The H200 is more capable than the H20.")
and verified against the cited sentences. Supported: yes. Failing on polarity or
direction (the sentence says "not", or the opposite: "accelerate" for "hold
back"): no. Anything else: the reports do not settle it, and
a bare yes or no is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from assistant import verify
from assistant.answer.policy import DEFAULT_POLICY, AnswerPolicy

# The auxiliary that opens a yes/no question, after at most a short framing phrase set off
# by a comma ("According to Jensen Huang, has Nvidia ...?", "Under the plan, can ...?").
_POLAR_RE = re.compile(r"^\W*(?P<frame>[^,?]{1,80},\s*)?(?P<aux>(?:is|are|was|were|do|does|did|"
                       r"has|have|had|can|could|will|would|should|may|might|must|shall)\b)",
                       re.IGNORECASE)
_LEAD_RE = re.compile(r"^\s*(?P<word>yes|no)\b[\s,.;:!-]*", re.IGNORECASE)


def is_polar(question: str) -> bool:
    """True for a yes/no question ("Is ...?", "Did ...?", "Under the plan, can ...?")."""
    return bool(_POLAR_RE.match(question))


def statement(question: str) -> str:
    """The statement a yes/no question asks about ("" when its parse gives none).

    The auxiliary moves after the subject: "Is the H200 more capable than the
    H20?" → "The H200 is more capable than the H20."; "Did Beijing approve
    imports?" → "Beijing did approve imports."; a framing phrase stays in front:
    "According to Huang, has Nvidia received orders?" → "According to Huang, Nvidia
    has received orders."
    """
    match = _POLAR_RE.match(question)
    if match is None:
        return ""
    reported = _reported(question)
    if reported:
        return reported
    if match.group("frame"):  # the framing phrase stays in front of the statement
        asked = question[match.start("aux"):]
        core = statement(asked)
        # the subject's first word as the question writes it: "..., the H200 is ..." but
        # "..., Nvidia ..." and "..., Blackwell chips can ..."
        first = verify.parse(core)[:1]
        if core and first and first[0].pos_ != "PROPN" and first[0].text not in (
                "I", *asked.split()[1:]):
            core = core[:1].lower() + core[1:]
        return f"{question[:match.start('aux')].strip()} {core}" if core else ""
    doc = verify.parse(question)
    parsed = _from_parse(doc)
    first = next((t for t in doc if not t.is_punct), None)
    if first is None:
        return ""
    aux = first.lower_
    if parsed and _reading(parsed, aux) is not None:
        return parsed
    # the small parser reads questions worse than statements ("Is the H200 Nvidia's most
    # powerful AI chip?" gives the subject "the H200 Nvidia's most powerful AI chip"): each
    # place the auxiliary can go is tried as a statement, and the best-formed is taken
    return _best_split(question, doc[first.i + 1:], aux) or parsed


# verbs by which a report or a person states something: "Does the SCMP say that ...?",
# "Did Huang describe the H200 as ...?" (English, not words of the reports)
_STATING = frozenset("say report state claim write note suggest indicate disclose reveal "
                     "confirm acknowledge argue assert".split())
# what a question calls a report ("Does the piece say ...?"): what it says is its statement;
# what a person or an outlet is asked to have said is checked against who says it
_WRITINGS = frozenset("report piece article story item coverage".split())
_DESCRIBING = frozenset("describe characterise characterize call portray present label "
                        "term".split())


def _reported(question: str) -> str:
    """The statement of a question asking whether a report says it, framed as the report's.

    "Does the SCMP piece say access ... is expected to stay under tight control?" →
    "According to the SCMP piece, access ... is expected to stay under tight control.";
    "Does the SCMP describe the H200 as Nvidia's most powerful chip?" → "According to
    the SCMP, the H200 is Nvidia's most powerful chip." (``""`` for other questions.)
    The verifier reads such a frame as the report's or the person's attribution.
    """
    doc = verify.parse(question)
    first = next((t for t in doc if not t.is_punct), None)
    verb = next((t for t in doc if t.dep_ == "ROOT"), None)
    if first is None or verb is None or first.lower_ not in ("does", "did", "do") \
            or first.head.i != verb.i or verb.pos_ != "VERB":
        return ""
    subject = next((c for c in verb.children if c.dep_ == "nsubj"), None)
    if subject is None:
        return ""
    who = doc[subject.left_edge.i:subject.right_edge.i + 1].text
    said = ""
    lemma = verb.lemma_.lower()
    if lemma in _STATING and subject.lemma_.lower() in _WRITINGS:
        clause = next((c for c in verb.children if c.dep_ == "ccomp"), None)
        if clause is not None:
            words = [t for t in clause.subtree if not (t.dep_ == "mark" and t.lower_ == "that")]
            said = doc[words[0].i:words[-1].i + 1].text if words else ""
    elif lemma in _DESCRIBING:
        thing = next((c for c in verb.children if c.dep_ == "dobj"), None)
        as_ = next((c for c in verb.children if c.dep_ == "prep" and c.lower_ == "as"), None)
        what = next((c for c in as_.children if c.dep_ == "pobj"), None) \
            if as_ is not None else None
        if thing is not None and what is not None:
            plural = thing.tag_ in ("NNS", "NNPS")
            said = (f"{doc[thing.left_edge.i:thing.right_edge.i + 1].text} "
                    f"{'are' if plural else 'is'} "
                    f"{doc[what.left_edge.i:what.right_edge.i + 1].text}")
    if not said:
        return ""
    first_word = verify.parse(said)[0]
    if first_word.pos_ != "PROPN" and first_word.text != "I":
        said = said[:1].lower() + said[1:]
    return f"According to {who}, {said.rstrip(' ?.')}."


def _from_parse(doc: Any) -> str:
    """The statement with the auxiliary moved after the question's parsed subject."""
    words = [t for t in doc if not t.is_punct or t.text in _KEPT]
    if not words:
        return ""
    aux = words[0]
    if aux.dep_ == "ROOT" and aux.lower_ in _MODALS:
        return _moved(words)  # "Can Nvidia ship ...?" parsed as a noun "Nvidia ship ..."
    subject = next((t for t in doc if t.dep_ in ("nsubj", "nsubjpass", "expl")
                    and t.i > aux.i), None)
    if subject is None:
        return ""
    chunk = next((c for c in doc.noun_chunks if c.start <= subject.i < c.end), None)
    left, right = (chunk.start, chunk.end) if chunk is not None else (subject.i, subject.i + 1)
    # the subject's own phrase after it, up to a verb ("state-backed companies *such as
    # telecom network operators* are expected"), when the statement then reads as one
    longer = right
    for child in (c for c in subject.children if c.dep_ == "prep" and c.left_edge.i == right
                  and c.lower_ in _NOUN_PREPOSITIONS):
        words = list(child.subtree)
        end = next((t.i for t in words if t.pos_ in ("VERB", "AUX")), words[-1].i + 1)
        if end > right and not any(t.dep_ in ("nsubj", "nsubjpass") for t in doc[right:end]):
            longer = end
    if longer > right:
        text = _composed(doc, aux, left, longer)
        if _reading(text, aux.lower_) is not None:
            return text
    return _composed(doc, aux, left, right)


# prepositions whose phrase belongs to the noun before it ("companies such as X", "the
# account of Y"), not to the verb ("was in Taiwan") (English grammar)
_NOUN_PREPOSITIONS = frozenset({"of", "as", "like", "including"})


def _composed(doc: Any, aux: Any, left: int, right: int) -> str:
    """The question's words with ``doc[left:right]`` (the subject) first, then ``aux``."""
    rest = [t for t in doc if t.i > aux.i and not left <= t.i < right
            and (not t.is_punct or t.text in _KEPT)]
    text = " ".join([doc[left:right].text, aux.lower_, *(t.text for t in rest)])
    text = re.sub(r"\s+([,;:'’%])", r"\1", text).replace(" 's", "'s")
    return text[:1].upper() + text[1:] + "."


def _best_split(question: str, after: Any, aux: str) -> str:
    """The auxiliary put before each word ``after`` it in turn; the best-formed statement.

    A split counts when the statement's parse reads it (:func:`_reading`); a verb's
    auxiliary ("Big Tech firms are expected") beats a copula ("Big Tech are firms"), a
    copula with a complement ("is to keep ...") beats one with a place ("is under
    discussion"), and then the shorter subject wins.
    """
    if len(after) < 2:
        return ""
    start = after[0].idx
    body = question[start:].rstrip().rstrip("?").rstrip()
    best: tuple[int, int, str] | None = None
    for token in after[1:]:
        cut = token.idx - start
        if cut >= len(body) or not question[token.idx - 1].isspace():
            continue  # never inside "state-backed" or "Nvidia's"
        text = f"{body[:cut]}{aux} {body[cut:]}"
        text = text[:1].upper() + text[1:] + "."
        rank = _reading(text, aux)
        if rank is not None and (best is None or (rank, cut) < best[:2]):
            best = (rank, cut, text)
    return best[2] if best is not None else ""


_NOMINAL_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS", "CD", "PRP"})
_COMPLEMENTS = frozenset({"attr", "acomp", "oprd", "ccomp", "xcomp", "dobj"})
_BE = frozenset({"is", "are", "was", "were"})
_HAVE = frozenset({"has", "have", "had"})


def _reading(text: str, aux: str) -> int | None:
    """How well ``text`` reads as a statement with ``aux`` after its subject (lower is better).

    ``None`` unless the subject's words are exactly those before the auxiliary and end
    in a noun, and the auxiliary serves the main verb (only adverbs between; a base form
    after "did" or "can", a participle after "has" or "is") or is the main verb with one
    complement. 0: an auxiliary; 1: a copula with a complement; 2: a copula with a place.
    """
    parsed = verify.parse(text)
    at = next((t.i for t in parsed if t.lower_ == aux and t.i >= 1), None)
    if at is None or parsed[at - 1].tag_ not in _NOMINAL_TAGS or any(
            t.dep_ == "dep" for t in parsed):
        return None
    moved = parsed[at]
    if moved.dep_ in ("aux", "auxpass") and moved.head.dep_ == "ROOT" and moved.head.i > at:
        verb = moved.head
        between = [t for t in parsed if at < t.i < verb.i]
        if not all(t.tag_.startswith("RB") or t.dep_ in ("neg", "aux", "auxpass")
                   for t in between):
            return None
        if aux in _HAVE or aux in _BE:
            fits = verb.tag_ == "VBN" or (aux in _BE and verb.tag_ == "VBG")
        else:
            fits = verb.tag_ in ("VB", "VBP") or verb.lower_ == verb.lemma_ or any(
                t.lower_ in ("be", "have") for t in between)
        head, rank = verb, 0
        if not fits:
            return None
    elif moved.dep_ == "ROOT" and aux in _BE | _HAVE:
        after = [c for c in moved.children if c.i > at and c.dep_ in (*_COMPLEMENTS, "prep",
                                                                         "npadvmod")]
        if len(after) != 1:
            return None
        head, rank = moved, (1 if after[0].dep_ in _COMPLEMENTS else 2)
    else:
        return None
    subjects = [c for c in head.children if c.dep_ in ("nsubj", "nsubjpass", "expl")
                and c.i < at]
    if len(subjects) != 1:
        return None
    words = list(subjects[0].subtree)
    return rank if words[0].i == 0 and words[-1].i == at - 1 else None


# auxiliaries that never stand as a question's main verb: "Can Nvidia ship Blackwell chips?"
# parsed with "can" as the root read "Nvidia ship Blackwell chips" as one noun
_KEPT = frozenset("%")  # punctuation that is part of what is said ("25%")
_MODALS = frozenset("do does did can could will would should may might must shall".split())


def _moved(words: Sequence[Any]) -> str:
    """The statement with the auxiliary moved after the fewest words that make a subject.

    Each split is parsed as a statement ("Nvidia can ship Blackwell chips to China.");
    the first whose auxiliary serves a main verb with its subject in front is taken.
    """
    aux, rest = words[0].lower_, [t.text for t in words[1:]]
    for k in range(1, len(rest)):
        text = " ".join([*rest[:k], aux, *rest[k:]])
        text = re.sub(r"\s+([,;:'’%])", r"\1", text).replace(" 's", "'s")
        text = text[:1].upper() + text[1:] + "."
        parsed = verify.parse(text)
        verb = next((t for t in parsed if t.i == k), None)  # the auxiliary, moved
        if verb is None or verb.dep_ != "aux" or verb.head.dep_ != "ROOT" \
                or verb.head.pos_ != "VERB":
            continue
        if any(c.dep_ in ("nsubj", "nsubjpass") and c.i < k for c in verb.head.children):
            return text
    return ""


def settle(question: str, sentences: Sequence[str],
           similarity: verify.Similarity | None = None, labels: Sequence[str] = (),
           policy: AnswerPolicy = DEFAULT_POLICY) -> str:
    """``"yes"``, ``"no"`` or ``""`` (not settled) for ``question`` by ``sentences``.

    ``similarity`` lets the statement reword a sentence ("did hold meetings" for
    "convened meetings") for a no (the sentence says "not", or the opposite); a yes
    needs the statement's own words in the sentence.
    ``labels`` are the sentences' reports' labels, in order ("According to Tom's
    Hardware, is ...?" is settled by a sentence of Tom's Hardware). ``policy`` gives
    ``core_share`` (:func:`_statements`).
    """
    found = ""
    for claim in _statements(question, policy.core_share):
        for sentence, label in zip(sentences, [*labels, *[""] * len(sentences)], strict=False):
            told = _as_told_by(question, claim, label)
            # a yes needs the statement's own words: a reworded match (half the words and a
            # close embedding) let "a meeting with Huang" say yes to "Huang received orders"
            if verify.verify(told, sentence, label=label).supported:
                return "yes"
            verdict = verify.verify(told, sentence, similarity=similarity, label=label)
            if verdict.check == "direction" or (  # the opposite of X, or "not X"
                    verdict.check == "polarity" and _negated(sentence) != _negated(told)):
                found = "no"
            found = found or by_parts(told, sentence)
    return found


# English words that forbid what they are said of ("Blackwell remains off-limits"), the
# auxiliaries that ask whether something may be done, those that leave it undone
# ("would issue guidance"), and the adverbs that ask whether it has been done by now
_FORBIDDEN = frozenset("off-limits banned barred prohibited forbidden blocked".split())
_PERMISSION = frozenset({"can", "could", "may"})
_UNREAL = frozenset({"would", "will", "could", "may", "might", "should", "shall"})
_BY_NOW = frozenset({"already", "yet"})
_EXACT_RE = re.compile(r"\b(?:exactly|precisely)\s+\W?$", re.IGNORECASE)
# the words that introduce a figure compared against ("compared to $4.6 billion")
_BASELINE_RE = re.compile(r"\b(?:compared (?:to|with)|versus|vs\.?|from|against)\s+\W?"
                          r"(?:about |around |some )?\W?$", re.IGNORECASE)
_APART = ("conj", "advcl", "parataxis", "ccomp", "relcl", "cc")


def _clause(verb: Any) -> list[Any]:
    """``verb`` and the words that belong to its own clause (not to a joined one)."""
    skipped = {t.i for c in verb.children if c.dep_ in _APART for t in c.subtree}
    return [t for t in verb.subtree if t.i not in skipped]


def _framed(doc: Any) -> set[int]:
    """The words of an "according to X" frame (who says it, not what is said)."""
    return {t.i for a in doc if a.lower_ == "according" for t in a.subtree}


def by_parts(claim: str, sentence: str) -> str:
    """``"yes"``, ``"no"`` or ``""``: the statement ``claim`` settled by its parts.

    For a sentence that words the statement too differently for the verifier to
    compare it whole, the parts a yes or no turns on are compared in code:

    * the statement's verb with one of its objects, said the other way ("Nvidia has
      received purchase orders" / "we have not received purchase orders"): no;
    * something asked about as already done that the sentence leaves undone ("had the
      agencies already issued guidance" / "they would issue guidance"): no;
    * something asked about as allowed that the sentence says is forbidden ("can
      Nvidia ship Blackwell chips" / "Blackwell remains off-limits"): no;
    * a figure compared with the sentence's figure of the same kind for the same
      subject ("less than $100 million" / "$50 million": yes; "exactly 400,000" /
      "more than 400,000": no);
    * a superlative the sentence ranks lower ("most powerful" / "second most
      powerful"): no;
    * a passive statement said actively by the same doer ("is owned by Alibaba" /
      "Alibaba owns the Post"): yes.
    """
    doc, evidence = verify.parse(claim), verify.parse(sentence)
    verb = next((t for t in doc if t.dep_ == "ROOT"), None)
    if verb is None:
        return ""
    said = _what_was_said(verb, evidence)
    if said is not None:  # "Did Huang say Nvidia had received orders?": what he said
        verb = said
    return (_by_figures(claim, sentence, doc) or _by_rank(doc, evidence)
            or (_by_verb(doc, verb, evidence) if verb.pos_ == "VERB" else "")
            or (_by_voice(verb, evidence) if verb.pos_ == "VERB" else ""))


def _by_voice(verb: Any, evidence: Any) -> str:
    """``"yes"`` when a passive statement is said actively, by the same doer, of its subject.

    "The South China Morning Post is owned by Alibaba" / "Alibaba owns the Post": the
    sentence's verb is the statement's, its subject names the statement's agent, its
    object is the head of the statement's subject, and neither is negated.
    """
    subject = next((c for c in verb.children if c.dep_ == "nsubjpass"), None)
    agents = [t for c in verb.children if c.dep_ == "agent" for t in c.subtree
              if t.dep_ != "agent"]
    names = [t.text for t in agents if _is_name(t)]
    if subject is None or not names or any(t.dep_ == "neg" for t in verb.children):
        return ""
    for token in evidence:
        if token.pos_ != "VERB" or verify.word_key(token) != verify.word_key(verb) or any(
                t.dep_ in ("neg", "auxpass") for t in token.children):
            continue
        doers = " ".join(t.text for c in token.children if c.dep_ == "nsubj" for t in c.subtree)
        done = [c for c in token.children if c.dep_ == "dobj"]
        if doers and all(verify.mentions(doers, n) for n in names) and any(
                verify.word_key(c) == verify.word_key(subject) for c in done):
            return "yes"
    return ""


def _superlatives(doc: Any) -> dict[str, bool]:
    """Each superlative's adjective and whether an ordinal ranks it.

    "most powerful": powerful, unranked; "second most powerful": powerful, ranked;
    "largest": large.
    """
    ordinals = verify.DEFAULT_POLICY.ordinals
    found: dict[str, bool] = {}
    for token in doc:
        if token.tag_ == "JJS" or (token.tag_ == "RBS" and token.lower_ == "most"):
            adjective = token.head if token.lower_ == "most" else token
            if adjective.pos_ != "ADJ":
                continue
            ranked = any(t.lower_ in ordinals for t in doc[max(token.i - 2, 0):token.i])
            found[verify.word_key(adjective)] = ranked
    return found


def _by_rank(doc: Any, evidence: Any) -> str:
    """``"no"`` when the statement's unranked superlative is ranked lower in the sentence.

    "The H200 is Nvidia's most powerful AI chip" / "... the H200, the US tech giant's
    second most powerful artificial intelligence chip": no. The sentence names the
    statement's subject.
    """
    subject = [t for t in doc if t.dep_ in ("nsubj", "nsubjpass")]
    names = [t.text for s in subject for t in s.subtree if _is_name(t)]
    if not names or not all(verify.mentions(evidence.text, n) for n in names):
        return ""
    stated = _superlatives(evidence)
    for adjective, ranked in _superlatives(doc).items():
        if not ranked and stated.get(adjective):
            return "no"
    return ""


def _what_was_said(verb: Any, evidence: Any) -> Any | None:
    """The verb of what a reporting verb's subject is asked to have said, if quoted.

    "X did say Nvidia had received orders": "received", when a sentence of the
    evidence has a reporting verb whose subject is X, or a pronoun that may stand for
    X ("..., he told journalists" for a person); ``None`` otherwise.
    """
    reporting = {verify.word_root(w) for w in verify.DEFAULT_POLICY.reporting}
    if verify.word_key(verb) not in reporting:
        return None
    said = next((c for c in verb.children if c.dep_ == "ccomp" and c.pos_ in ("VERB", "AUX")),
                None)
    speaker = [t for c in verb.children if c.dep_ == "nsubj" for t in c.subtree
               if t.pos_ == "PROPN"]
    if said is None or not speaker:
        return None
    for token in evidence:
        if token.dep_ != "nsubj" or verify.word_key(token.head) not in reporting:
            continue
        person = any(t.ent_type_ == "PERSON" for t in speaker)
        if (token.pos_ == "PRON" and (token.lower_ in _PERSONAL) == person) or any(
                verify.word_key(t) == verify.word_key(token) for t in speaker):
            return said
    return None


_PERSONAL = frozenset({"he", "she"})  # a pronoun for a person; "they" or "it" for a body


def _by_verb(doc: Any, verb: Any, evidence: Any) -> str:
    framed = _framed(doc)
    subject = {t.i for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")
               for t in c.subtree}
    own = _clause(verb)
    objects = {verify.word_key(t) for t in own if t.pos_ in ("NOUN", "PROPN")
               and t.i not in subject and t.i not in framed}
    names = {verify.word_key(t) for t in own if _is_name(t)
             and t.i not in subject and t.i not in framed}
    # "can Blackwell chips be exported?": what is allowed is the passive's subject
    allowed = names | {verify.word_key(t) for t in doc if t.i in subject and _is_name(t)} \
        if any(c.dep_ == "nsubjpass" for c in verb.children) else names
    auxes = {t.lower_ for t in verb.children if t.dep_ == "aux"}
    asked_negated = any(t.dep_ == "neg" for t in verb.children)
    by_now = any(t.lower_ in _BY_NOW for t in verb.children if t.dep_ == "advmod")
    their_names = {verify.word_key(t) for t in doc if t.i in subject and t.pos_ == "PROPN"}
    if auxes & _PERMISSION or verify.word_key(verb) in ("allow", "permit"):
        for token in evidence:
            if (token.dep_ in ("nsubj", "nsubjpass") and token.pos_ == "PROPN"
                    and verify.word_key(token) in allowed):
                said = " ".join(t.lower_ for t in _clause(token.head))
                if any(word in said.replace(" - ", "-") for word in _FORBIDDEN):
                    return "no"
    for token in evidence:
        if token.pos_ != "VERB" or verify.word_key(token) != verify.word_key(verb):
            continue
        clause = _clause(token)
        if not objects & {verify.word_key(t) for t in clause if t.pos_ in ("NOUN", "PROPN")}:
            continue
        doers = [t for c in token.children if c.dep_ in ("nsubj", "nsubjpass")
                 for t in c.subtree if t.pos_ == "PROPN"]
        if their_names and doers and not their_names & {verify.word_key(t) for t in doers}:
            continue  # someone else does it
        negated = any(t.dep_ == "neg" for t in token.children)
        if negated != asked_negated:
            return "no"
        undone = any(t.dep_ == "aux" and t.lower_ in _UNREAL for t in token.children) or any(
            t.dep_ == "mark" and t.lower_ == "if" for t in clause)
        if by_now and undone and not auxes & _UNREAL:
            return "no"
    return ""


def _is_name(token: Any) -> bool:
    """True for a proper noun, or a capitalised word within the sentence tagged otherwise.

    The small parser tags "Blackwell" in "ship Blackwell chips" as an adjective.
    """
    return bool(token.pos_ == "PROPN" or (
        token.pos_ in ("ADJ", "NOUN") and token.text[:1].isupper() and not token.is_sent_start))


def _by_figures(claim: str, sentence: str, doc: Any) -> str:
    # the sentence speaks of the statement's subject: its names, or its head noun
    subject = [t for t in doc if t.dep_ in ("nsubj", "nsubjpass")]
    names = [t.text for s in subject for t in s.subtree if t.pos_ == "PROPN"]
    words = {verify.word_key(t) for t in verify.parse(sentence)}
    if not subject or not all(verify.mentions(sentence, n) for n in names) or (
            not names and not {verify.word_key(s) for s in subject} <= words):
        return ""
    policy = verify.DEFAULT_POLICY
    for asked in verify.numbers(claim):
        if asked.kind in ("ordinal",):
            continue
        exact = bool(_EXACT_RE.search(claim[:asked.start]))
        bound = policy.qualifiers.get(verify.qualifier(claim, asked.start), "")
        if not exact and bound not in ("at least", "at most"):
            continue
        stated = [n for n in verify.numbers(sentence) if n.kind == asked.kind
                  and not _BASELINE_RE.search(sentence[:n.start])]
        if asked.kind == "plain":  # a count: of the same thing
            counted = _counted(claim, asked)
            stated = [n for n in stated if counted and _counted(sentence, n) == counted]
        if len(stated) != 1:
            continue
        given = stated[0]
        theirs = policy.qualifiers.get(verify.qualifier(sentence, given.start), "")
        if exact:
            if theirs in ("at least", "at most") and given.value == asked.value:
                return "no"
            if not theirs:
                return "yes" if given.value == asked.value else "no"
            continue
        if theirs in ("", "roughly") or theirs == bound:
            above = given.value > asked.value
            below = given.value < asked.value
            if bound == "at least":
                if above or (theirs == bound and given.value >= asked.value):
                    return "yes"
                if not theirs and not above:
                    return "no"
            else:
                if below or (theirs == bound and given.value <= asked.value):
                    return "yes"
                if not theirs and not below:
                    return "no"
    return ""


def _counted(text: str, number: verify.Number) -> str:
    """The noun a count counts ("400,000 H200 units": "unit"), or ""."""
    for token in verify.parse(text):
        if token.idx >= number.end and token.pos_ == "NOUN":
            return verify.word_key(token)
        if token.idx >= number.end and token.pos_ not in ("PROPN", "ADJ", "NUM", "PUNCT"):
            return ""
    return ""


def _negated(text: str) -> bool:
    """True when a verb of ``text`` is negated ("have not received"; not "no market share").

    A "no" inside a noun phrase says what there is none of, not that the statement
    is false: "Huang said Nvidia has virtually no market share" does not answer "Did
    Huang say anything about market share?" with a no.
    """
    return any(t.dep_ == "neg" for t in verify.parse(text))


def _statements(question: str, core_share: int) -> list[str]:
    """The question's statement, then the same without its relative clauses.

    A relative clause describes what the question is about and is not what it asks:
    "Is the H200 more capable than the H20 that Nvidia built for China?" is settled by
    "The H200 ... remains vastly more capable than the export-compliant H20", which
    does not say who built the H20. Not when the clauses carried most of the question
    (more than ``core_share`` times the words left).
    """
    claim = statement(question)
    if not claim:
        return []
    doc = verify.parse(question)
    dropped: set[int] = set()
    for token in doc:
        if token.dep_ == "relcl":
            dropped.update(t.i for t in token.subtree)
    if not dropped:
        return [claim]
    text = "".join(t.text_with_ws for t in doc if t.i not in dropped)
    core = statement(" ".join(text.split()).replace(" ?", "?"))
    # "Is one of the restrictions regulators are weighing a ban on ...?" is not "One is of
    # the restrictions."
    if core_share * len(_content_words(core)) < len(_content_words(claim)):
        return [claim]
    return list(dict.fromkeys(c for c in (claim, core) if c))


def _content_words(text: str) -> set[str]:
    return {verify.word_key(t) for t in verify.parse(text)
            if t.pos_ in ("NOUN", "PROPN", "VERB", "ADJ", "NUM") and not t.is_stop}


_ACCORDING_RE = re.compile(r"^\W*according to (?P<source>[^,]+),\s*", re.IGNORECASE)


def _as_told_by(question: str, claim: str, label: str) -> str:
    """``claim`` without an "According to X," frame naming the report's own outlet.

    "According to Tom's Hardware, is the H200 more capable ...?" asks what a sentence
    of Tom's Hardware states, so that sentence settles the bare statement; a frame
    naming someone else ("According to Jensen Huang, ...") stays, for the verifier's
    attribution checks.
    """
    frame = _ACCORDING_RE.match(question)
    if frame is None or not label or not verify.mentions(label, frame.group("source")):
        return claim
    framed = _ACCORDING_RE.match(claim)
    rest = claim[framed.end():] if framed is not None else claim
    return rest[:1].upper() + rest[1:]


def bears_on(question: str, sentences: Sequence[str], label: str = "",
             policy: verify.VerifierPolicy = verify.DEFAULT_POLICY) -> bool:
    """True when one of ``sentences`` speaks to ``question``'s statement, settled or not.

    It holds at least ``min_coverage_reworded`` of the statement's content words, the
    share below which the verifier treats a sentence as about something else ("The
    H200 sits one generation below Blackwell" does not bear on "Had the agencies
    issued their guidance?"; "Beijing has begun approving imports, according to two
    sources" bears on "Has Beijing decided to allow imports?"). ``label`` is their
    reports' labels (what the statement may attribute to them).
    """
    claim = statement(question)
    return bool(claim) and any(
        verify.verify(_as_told_by(question, claim, label), s, label=label,
                      policy=policy).coverage >= policy.min_coverage_reworded
        for s in sentences)


def leading(text: str) -> tuple[str, str]:
    """A sentence's leading yes or no (lower case, "" if none) and the rest of it."""
    match = _LEAD_RE.match(text)
    if match is None:
        return "", text
    rest = text[match.end():]
    return match.group("word").lower(), rest[:1].upper() + rest[1:]
