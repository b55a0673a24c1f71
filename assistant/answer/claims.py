"""Check an answer against its passages, sentence by sentence, in code.

Each sentence of the answer must be supported by a passage it cites, as judged
by :func:`assistant.verify.verify` (names, numbers and their roles, polarity,
modality and attribution, coverage). A sentence whose markers point at a
passage that does not support it is re-cited to the retrieved passage that
does; a sentence no passage supports is taken out of the answer and reported as
unsupported, with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant.answer.policy import DEFAULT_POLICY, AnswerPolicy
from assistant.citations import MARKER_RE, markers
from assistant.ingest.chunking import sentence_spans
from assistant.text import stem, terms
from assistant.verify import DEFAULT_POLICY as VERIFIER_POLICY
from assistant.verify import (
    Similarity,
    Verdict,
    asks_for_name,
    list_lengths,
    parse,
    qualifier,
    verify,
)
from assistant.verify import names as verify_names
from assistant.verify import numbers as numbers_in

_NUMBER_RE = re.compile(r"(\$\s?)?(?<![A-Za-z\d.])(\d[\d,]*(?:\.\d+)?)(?![A-Za-z\d])"
                        r"(\s*(?:%|percent\b|per cent\b))?", re.IGNORECASE)
_IDENTIFIER_RE = re.compile(r"\b(?:[A-Za-z]+\d[\w-]*|\d+[A-Za-z][\w-]*)\b")


def numbers(text: str) -> set[str]:
    """Numbers in ``text``, normalised, with their unit if it is % or $.

    ``400,000`` → ``400000``, ``63 percent`` → ``63%``, ``$4.6 billion`` → ``$4.6``.
    """
    return {("$" if dollar else "") + n.replace(",", "").rstrip(".") + ("%" if pct else "")
            for dollar, n, pct in _NUMBER_RE.findall(text)}


def missing_numbers(claim: str, evidence: str) -> set[str]:
    """Numbers of ``claim`` that ``evidence`` does not state.

    A percentage or a dollar amount needs the same kind of figure (50% is not
    "$50 million"); a bare number is also matched by that number with a unit.
    """
    stated = numbers(evidence)
    return {n for n in numbers(claim)
            if n not in stated and f"{n}%" not in stated and f"${n}" not in stated}




def identifiers(text: str) -> set[str]:
    """Model names and codes such as ``H200`` or ``H100-class``, lower-cased."""
    return {m.lower() for m in _IDENTIFIER_RE.findall(text)}


@dataclass(frozen=True)
class Evidence:
    """A retrieved passage as the verifier sees it: its text, label and headings.

    ``label`` is its report's title, outlet and authors; ``context`` the headings the
    passage sits under below the title (see :func:`assistant.verify.verify`).
    """

    text: str
    label: str = ""
    similarity: Similarity | None = None  # the embedding cosine, for reworded claims
    context: str = ""

    def units(self) -> list[str]:
        """The sentences of the passage."""
        return [self.text[a:b] for a, b in sentence_spans(self.text, 0, len(self.text))]

    def verdict(self, sentence: str, question: str = "") -> Verdict:
        """:func:`assistant.verify.verify` of ``sentence`` against this passage.

        Names and numbers that the claim only repeats from ``question`` need to
        appear somewhere in the passage, not in the supporting sentence itself.
        """
        return verify(sentence, self.text, label=self.label, given=question,
                      similarity=self.similarity, context=self.context)

    def score(self, sentence: str, question: str = "") -> float:
        """The claim's coverage when the passage supports it, else 0."""
        return self.best(sentence, question)[0]

    def best(self, sentence: str, question: str = "") -> tuple[float, str]:
        """The support for ``sentence`` (coverage, or 0) and the passage sentences giving it."""
        found = self.verdict(sentence, question)
        return (found.coverage if found.supported else 0.0), found.quote


@dataclass(frozen=True)
class GroundedSentence:
    """A sentence of the answer with the passages (1-based numbers) that support it."""

    text: str
    passages: tuple[int, ...]
    score: float
    span: str = ""
    supports: tuple[tuple[int, str], ...] = ()  # each cited passage and its supporting sentence


def split_answer(text: str) -> list[tuple[str, list[int]]]:
    """The answer's sentences with their markers.

    A marker right after a full stop belongs to that sentence, unless the sentence
    already ends with a marker; then it opens the next one.
    """
    text = re.sub(r"(?<!\])([.!?])\s*((?:\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\]\s*)+)", r" \2\1 ", text)
    out = []
    for start, end in sentence_spans(text, 0, len(text)):
        sentence = text[start:end]
        found = markers(sentence)
        bare = MARKER_RE.sub("", sentence)
        bare = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s{2,}", " ", bare)).strip()
        if bare.strip(" .,;:!?"):
            out.append((bare, found))
        elif out and found:
            out[-1][1].extend(found)
    return out


def ground(text: str, evidence: Sequence[Evidence], preferred: int | None = None,
           question: str = "", policy: AnswerPolicy = DEFAULT_POLICY
           ) -> tuple[list[GroundedSentence], list[str]]:
    """Check each sentence of ``text`` against ``evidence`` (passages, marker n = index + 1).

    Every sentence goes through :func:`assistant.verify.verify` against every
    passage. A sentence without a marker is taken to cite ``preferred`` (the
    passage the model said it answers from), when there is one. The model's
    markers are kept where the passage supports the sentence about as well as the
    best one; otherwise the sentence is re-cited to the best supporting passage.

    A sentence that repeats an earlier one word for word is left out.

    Returns the supported sentences with the passages that support them, and the
    unsupported sentences, each with the reason (``"sentence — reason"``).
    """
    grounded: list[GroundedSentence] = []
    unsupported: list[str] = []
    seen: set[str] = set()
    for sentence, cited in split_answer(text):
        said = " ".join(sentence.casefold().split())
        if said in seen:  # a small model may repeat itself, passage after passage
            unsupported.append(f"{sentence} — it repeats a sentence before it")
            continue
        seen.add(said)
        if not cited and preferred is not None:
            cited = [preferred]
        itself = _said_of_itself(sentence)
        if itself:  # "The Commission is led by the Commission and ...": garbled, not a claim
            unsupported.append(f"{sentence} — it says {itself} of {itself} itself")
            continue
        found = {n: evidence[n - 1].verdict(sentence, question)
                 for n in range(1, len(evidence) + 1)}
        scores = {n: v.coverage for n, v in found.items() if v.supported}
        if not scores:  # a claim that only drops who reported it gets the attribution back
            sentence, found = _attributed(sentence, found, evidence, question)
            scores = {n: v.coverage for n, v in found.items() if v.supported}
        if not scores:  # one that drops a figure's qualifier gets it back (and then, maybe,
            # its attribution)
            sentence, found = _qualified(sentence, found, evidence, question)
            scores = {n: v.coverage for n, v in found.items() if v.supported}
            if not scores:
                sentence, found = _attributed(sentence, found, evidence, question)
                scores = {n: v.coverage for n, v in found.items() if v.supported}
        if not scores:  # "The analyst quoted is Randy Abrams, head of ...": the name alone
            sentence, found = _restated(sentence, found, evidence, question)
            scores = {n: v.coverage for n, v in found.items() if v.supported}
        if not scores:
            near = [found[n] for n in cited if n in found] or sorted(
                found.values(), key=lambda v: v.coverage, reverse=True)[:1]
            reason = near[0].reason if near else "no passage"
            unsupported.append(f"{sentence} — {reason}")
            continue
        best = max(scores, key=lambda n: (scores[n], -n))
        floor = scores[best] - policy.recite_margin
        own = [n for n in dict.fromkeys(cited) if n in scores and scores[n] >= floor]
        chosen = own or [best]
        top = max(chosen, key=lambda n: scores[n])
        grounded.append(GroundedSentence(sentence, tuple(chosen), scores[top], found[top].quote,
                                         tuple((n, found[n].quote) for n in chosen)))
    return grounded, unsupported


def _attributed(sentence: str, found: dict[int, Verdict], evidence: Sequence[Evidence],
                question: str) -> tuple[str, dict[int, Verdict]]:
    """``sentence`` given the attribution it dropped ("..., according to Reuters.").

    Returns the new sentence and its verdict when the attribution was all it lacked,
    else ``sentence`` and ``found`` unchanged.
    """
    for n, verdict in sorted(found.items(), key=lambda item: -item[1].coverage):
        source = verdict.source
        if _pronoun(source):  # "..., he added": the person the passage named before it
            source = _named_before(evidence[n - 1].text, verdict.quote)
        if verdict.check == "modality" and source:
            claim = f"{sentence.rstrip(' .!?')}, according to {source}."
            again = evidence[n - 1].verdict(claim, question)
            if again.supported:
                return claim, {n: again}
    return sentence, found


def _restated(sentence: str, found: dict[int, Verdict], evidence: Sequence[Evidence],
              question: str) -> tuple[str, dict[int, Verdict]]:
    """For a who-question, the name of "<the question restated> is <name>" alone.

    "The UBS analyst quoted in the SCMP piece is Randy Abrams, head of Taiwan research
    at UBS Group." restates "Who is the UBS analyst quoted in the SCMP piece?" around
    its answer; the restated words are the question's premise, which a report need not
    word the same way. The other side of "is", when it has a name, is checked alone.
    Returns it and its verdicts when a passage supports it, else ``sentence`` and
    ``found`` unchanged.
    """
    if not asks_for_name(question):
        return sentence, found
    asked = {stem(w) for w in terms(question)}
    doc = parse(sentence)
    # split at "is / are / was / were" (the parse of a long restatement may hang it off
    # another verb): one side restates the question, the other names the answer
    for be in (t for t in doc if t.lemma_ == "be" and t.pos_ in ("AUX", "VERB")):
        sides = (doc[:be.i], doc[be.i + 1:])
        for restated, named in (sides, sides[::-1]):
            words = {stem(t.text) for t in restated if t.is_alpha and not t.is_stop}
            if not words or not words <= asked or not any(t.pos_ == "PROPN" for t in named):
                continue
            claim = named.text.strip(" ,.!?")
            claim = claim[:1].upper() + claim[1:] + "."
            again = {n: evidence[n - 1].verdict(claim, question)
                     for n in range(1, len(evidence) + 1)}
            if any(v.supported for v in again.values()):
                return claim, again
    return sentence, found


def _said_of_itself(sentence: str) -> str:
    """A name that is both the subject and an object of the same verb, or "".

    "The National Development and Reform Commission is led by the National Development
    and Reform Commission and the Ministry of ..." says nothing a report could state;
    a small model writes such a sentence when it copies the answer into the question's
    frame.
    """
    doc = parse(sentence)
    for verb in (t for t in doc if t.pos_ in ("VERB", "AUX")):
        subjects = {_phrase(c) for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")
                    and c.pos_ == "PROPN"}
        objects = {_phrase(o) for c in verb.children for o in (
            [c] if c.dep_ in ("dobj", "attr") else
            [g for g in c.children if g.dep_ == "pobj"] if c.dep_ == "agent" else [])
            if o.pos_ == "PROPN"}
        shared = subjects & objects
        if shared:
            return sorted(shared)[0]
    return ""


def _phrase(token: Any) -> str:
    """A proper noun with the words that qualify it ("National Development ... Commission")."""
    left = [t for t in token.subtree if t.i <= token.i and t.dep_ != "det"]
    return " ".join(t.text for t in left)


def _pronoun(text: str) -> bool:
    return text.strip().lower() in _PRONOUNS


def _named_before(passage: str, quote: str) -> str:
    """The last person ``passage`` names before ``quote`` ("" if none, or no quote)."""
    at = passage.find(quote) if quote else -1
    if at <= 0:
        return ""
    people = [e.text for e in parse(passage[:at]).ents if e.label_ == "PERSON"]
    return people[-1] if people else ""


_PRONOUNS = frozenset("he she it they we i you him her them us".split())
_PERSONAL_RE = re.compile(r"\b(?:he|she|his|her|him)\b", re.IGNORECASE)


def referent(passage: str, sentence: str) -> str:
    """The person a sentence of ``passage`` speaks of as "he" or "she" only ("" if none).

    "... he told journalists upon arrival in Taiwan" speaks of the last person the
    passage named before it (Jensen Huang); a sentence that names a person itself,
    or uses no such pronoun, has no referent.
    """
    if not _PERSONAL_RE.search(sentence):
        return ""
    at = passage.find(sentence)
    if at <= 0:
        return ""
    people = [e for e in parse(passage).ents if e.label_ == "PERSON"]
    if any(at <= e.start_char < at + len(sentence) for e in people):
        return ""
    before = [e.text for e in people if e.end_char <= at]
    return before[-1] if before else ""


def _qualified(sentence: str, found: dict[int, Verdict], evidence: Sequence[Evidence],
               question: str) -> tuple[str, dict[int, Verdict]]:
    """``sentence`` with the qualifier of a figure it dropped ("400,000" → "more than 400,000").

    Returns the new sentence and its verdict when the qualifier was all it lacked
    (or that and its attribution, which :func:`_attributed` then gives back), else
    ``sentence`` and ``found`` unchanged.
    """
    for n, verdict in sorted(found.items(), key=lambda item: -item[1].coverage):
        if verdict.check != "qualifier" or not verdict.source:
            continue
        for figure in numbers_in(sentence):
            if qualifier(sentence, figure.start):
                continue
            head = sentence[:figure.start]
            words = verdict.source if head.strip() else verdict.source.capitalize()
            claim = f"{head}{words} {sentence[figure.start:]}"
            again = evidence[n - 1].verdict(claim, question)
            if again.supported or (again.check == "modality" and again.source):
                return claim, {n: again}
    return sentence, found


def render(sentences: Sequence[GroundedSentence]) -> str:
    """The answer text with each sentence's markers before its final punctuation."""
    parts = []
    for s in sentences:
        body = s.text.rstrip()
        end = body[-1] if body[-1] in ".!?" else "."
        body = body[:-1].rstrip() if body[-1] in ".!?" else body
        marks = "".join(f"[{n}]" for n in s.passages)
        parts.append(body + (" " + marks if marks else "") + end)
    return " ".join(parts)


def is_bare_polar(extract: str) -> bool:
    """True when an extracted answer is a bare "yes" or "no" (it names nothing)."""
    return extract.strip().strip(" .!\"'“”").lower() in ("yes", "no")


def extract_is_grounded(extract: str, spans: Sequence[str],
                        policy: AnswerPolicy = DEFAULT_POLICY, question: str = "") -> bool:
    """True when an extracted answer names something that ``spans`` contain.

    Used to confirm an answer: the model is asked to copy the words of the supporting
    sentences that answer the question. "none", a number or model name that is not
    there, or words mostly not there (a claim the sentences do not make) mean the
    question is not answered. A bare "yes" or "no" (a yes/no question) confirms.
    Words and numbers the extract repeats from ``question`` ("... led China's
    December 10 meetings") do not answer it, so they need not be in ``spans``;
    an extract made only of the question's words must be there all the same.
    """
    cleaned = extract.strip().strip(" .!\"'“”").lower()
    if is_bare_polar(extract):
        return True
    if not cleaned or cleaned.startswith(("none", "no answer", "not ")):
        return False
    source = " ".join(spans)
    given = f"{source} {question}"
    written = _written_out(given)  # "2" for "two sources"
    if missing_numbers(extract, given) - written or identifiers(extract) - identifiers(given):
        return False
    wanted = (terms(extract) - terms(question)) or terms(extract)
    wanted = (wanted - written) or wanted
    if wanted <= written:
        return True
    return bool(wanted) and len(wanted & terms(source)) / len(wanted) >= policy.extract_coverage


def _written_out(text: str) -> set[str]:
    """The whole numbers ``text`` writes out in words ("two sources": ``{"2"}``)."""
    return {str(int(n.value)) for n in numbers_in(text)
            if n.kind == "plain" and n.value == int(n.value)
            and not any(ch.isdigit() for ch in text[n.start:n.end])}


_QUANTITY_QUESTION_RE = re.compile(r"how (?P<which>much|many)\b(?P<rest>.*)",
                                   re.IGNORECASE)
_WH_RE = re.compile(r"\b(?:who|whom|whose|which|what|when|where|why|how)\b", re.IGNORECASE)


def _asked(question: str, pattern: re.Pattern[str]) -> re.Match[str] | None:
    """``pattern`` matched at the question's first wh-word, which says what it asks."""
    first = _WH_RE.search(question)
    return pattern.match(question, first.start()) if first else None


def asked_quantity(question: str) -> re.Match[str] | None:
    """The "how much / how many" that ``question`` asks, when that is what it asks.

    The question's first wh-word says what it asks: "Which kind of hardware would
    determine how much a company may buy?" asks which kind, not how much.
    """
    return _asked(question, _QUANTITY_QUESTION_RE)
_NUMBER_WORD_RE = re.compile(
    r"\b(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|"
    r"thousands?|millions?|billions?|half|double|twice|triple)\b", re.IGNORECASE)
_ONE_RE = re.compile(r"\bone\s+(?P<next>[A-Za-z][\w-]*)", re.IGNORECASE)


def counts_a_list(question: str, extract: str, spans: Sequence[str]) -> bool:
    """True when a how-many ``question`` gets a count of the items a sentence lists.

    "How many agencies led the meetings?" with "2" for "led by the National
    Development and Reform Commission and the Ministry of Industry": the count is
    not written, but it is the length of the list, counted here in code.
    """
    words = extract.strip(" .").lower().split()
    asked = asked_quantity(question)
    if asked is None or asked.group("which").lower() != "many" or len(words) != 1:
        return False
    written = VERIFIER_POLICY.number_words.get(words[0], words[0])  # "two" → "2"
    return written.isdigit() and any(int(written) in list_lengths(span) for span in spans)


def answers_quantity(question: str, extract: str) -> bool:
    """False when ``question`` asks how much or how many and ``extract`` names no amount.

    ``extract`` is the model's reading of which words answer the question; for a
    quantity question they must contain a number or a number word. "One" is
    mostly a determiner ("one generation below", "one proposal"), so it counts
    only when the word after it is what the question counts ("how many
    generations" → "one generation").
    """
    asked = asked_quantity(question)
    if not asked:
        return True
    if numbers(extract) or _NUMBER_WORD_RE.search(extract):
        return True
    words = asked.group("rest").replace("?", " ").split()
    if not words:
        return False
    counted = stem(words[0])  # "generation" in "how many generations"
    return any(stem(m.group("next")) == counted for m in _ONE_RE.finditer(extract))


# What kind of thing "which year / which city ...?" asks for (English nouns), and the
# spaCy entity labels or pattern an answer of that kind has
_KIND_QUESTION_RE = re.compile(
    r"(?:which|what)\s+(?:(?:exact|precise|specific|calendar)\s+)*(?P<noun>years?|months?|"
    r"dates?|days?|city|cities|towns?|countries|country|provinces?|places?|locations?)\b",
    re.IGNORECASE)
_DURATION_QUESTION_RE = re.compile(r"how\s+(?:long|soon)\b", re.IGNORECASE)
_WHO_QUESTION_RE = re.compile(r"whom?\b", re.IGNORECASE)
_NAME_OF_RE = re.compile(r"\bwhat(?:'s|’s|\s+is|\s+was|\s+are|\s+were)\s+the\s+names?\s+of\b",
                         re.IGNORECASE)
_DURATION_RE = re.compile(r"\b(?:seconds?|minutes?|hours?|days?|weeks?|months?|quarters?|"
                          r"years?|decades?|until|till)\b", re.IGNORECASE)
_YEAR_RE = re.compile(r"\b(?:1[89]|20)\d{2}\b")
_MONTH_RE = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b",
                       re.IGNORECASE)
_PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})
# a day as a date: "December 10", "10 Dec", "2025-12-10", "12/10"
_MONTH_NAME = (r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)"
               r"(?:uary|ruary|ch|il|e|y|ust|tember|ober|ember)?\.?")
_DAY_DATE_RE = re.compile(
    rf"\b{_MONTH_NAME}\s+\d{{1,2}}(?:st|nd|rd|th)?\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?"
    rf"{_MONTH_NAME}(?!\w)|\b\d{{4}}-\d{{2}}-\d{{2}}\b|\b\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?\b",
    re.IGNORECASE)
_WEEKDAY_RE = re.compile(r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)days?\b", re.IGNORECASE)


def answers_kind(question: str, extract: str) -> bool:
    """False when a who, which-year / month / date / day / place or how-long question gets none.

    ``extract`` must name one; for "how long", a duration ("25%" does not answer it);
    for a date, a day of a month ("December 10", not "earlier this month"); for a
    day, that or a day of the week.

    Like :func:`answers_quantity`, read at the question's first wh-word: "In which
    year did Nvidia launch the H20?" is not answered by "October", nor "In which
    city were the meetings held?" by "Wednesday". A who-question is not answered by
    words it says itself: "Who heads the National Development and Reform Commission?"
    is not answered by "the National Development and Reform Commission".
    """
    if _asked(question, _WHO_QUESTION_RE) is not None:
        return bool(terms(extract) - terms(question))
    if _NAME_OF_RE.search(question):  # "What is the name of the Huawei chip ...?": a name
        given = verify_names(question)  # the question does not give
        return any(not any(n.lower() in g.lower() for g in given) for n in verify_names(extract))
    if _asked(question, _DURATION_QUESTION_RE) is not None:  # "how long ...?": a duration
        return bool(_DURATION_RE.search(extract)) or any(
            e.label_ in ("DATE", "TIME") for e in parse(extract).ents)
    asked = _asked(question, _KIND_QUESTION_RE)
    if asked is None:
        return True
    noun = asked.group("noun").lower()
    if noun.startswith("year"):
        return bool(_YEAR_RE.search(extract))
    if noun.startswith("month"):
        return bool(_MONTH_RE.search(extract))
    if noun.startswith("date"):  # "on what exact date ...?": a day, not "earlier this month"
        return bool(_DAY_DATE_RE.search(extract))
    if noun.startswith("day"):  # "on which day ...?": a date or a day of the week
        return bool(_DAY_DATE_RE.search(extract) or _WEEKDAY_RE.search(extract))
    return any(e.label_ in _PLACE_LABELS for e in parse(extract).ents)


# "When did ...?" opening a question (after "and", "so" or a short frame set off by a comma)
_WHEN_RE = re.compile(r"^\W*(?:(?:and|so|but|then)\s+|[^,?]{1,60},\s*)?when\s+"
                      r"(?:exactly\s+|precisely\s+)?"  # "When exactly did ...?" (w-47)
                      r"(?:is|are|was|were|do|does|did|will|would|had|has|have|can|could|"
                      r"should)\b", re.IGNORECASE)
# English words that place something in time: relative times, and the prepositions and
# conjunctions that time one thing by another ("after Washington cleared exports")
_TIME_WORDS_RE = re.compile(
    r"\b(?:earlier|later|ago|yesterday|today|tomorrow|tonight|now|soon|recently|previously|"
    r"currently|already|since|until|till|after|before|once|following|during|ahead|"
    r"mondays?|tuesdays?|wednesdays?|thursdays?|fridays?|saturdays?|sundays?|week|weekend|"
    r"morning|afternoon|evening|night)\b", re.IGNORECASE)


def asks_when(question: str) -> bool:
    """True for a question asking when ("When did Beijing ...?", "And when had they ...?")."""
    return bool(_WHEN_RE.match(question))


def names_time(sentence: str) -> bool:
    """True when ``sentence`` places something in time.

    A date, a time, a year or month, a duration, or a word timing it by another event
    ("earlier this month", "after ...").
    """
    return bool(_YEAR_RE.search(sentence) or _MONTH_RE.search(sentence)
                or _DURATION_RE.search(sentence) or _TIME_WORDS_RE.search(sentence)
                or any(e.label_ in ("DATE", "TIME") for e in parse(sentence).ents))


# What a question must be about for a sum of money or a percentage to answer it: English
# words for amounts of money and for shares and changes (a word list of the language, not
# of the reports). "How much memory ...?" is not answered by "$50 million".
MONEY_WORDS = frozenset(
    "revenue revenues sales price prices cost costs value worth income profit profits loss "
    "losses spending spend money dollar dollars fund funding investment invest tax taxes "
    "levy fee fees earn earned earnings pay paid budget valuation sum amount bill "
    "charge".split())
SHARE_WORDS = frozenset(
    "percent percentage share rate proportion growth grow fall fell decline drop rise rose "
    "increase decrease margin change cut tax levy tariff".split())


# "how much" standing alone as what is asked, no noun after it ("How much did the H20
# bring in?"): a sum of money answers it, as a number of something it names would not
_MUCH_ALONE_RE = re.compile(r"\bhow\s+much\s+(?:did|does|do|has|have|had|will|would|could|"
                            r"can|is|was|were|are)\b", re.IGNORECASE)


def figure_fits(question: str, extract: str, spans: Sequence[str] = ()) -> bool:
    """False when ``extract`` answers a how-much question with the wrong kind of figure.

    A sum of money answers only a question about money, or a "how much" that names no
    noun ("How much did the H20 bring in?"); a percentage only one about a
    share, a rate or a change (:data:`MONEY_WORDS`, :data:`SHARE_WORDS`). A bare
    number of the extract takes its unit from the supporting sentences ``spans``
    ("50 million" where they say "$50 million").
    """
    if not asked_quantity(question):
        return True
    asked = {w.lower() for w in re.findall(r"[A-Za-z]+", question)}
    stated = numbers(" ".join(spans))
    found = set()
    for n in numbers(extract):
        bare = n.strip("$%")
        units = {m for m in stated if m.strip("$%") == bare}
        found |= units if units and bare not in units else {n}
    if any(n.startswith("$") for n in found) and not asked & MONEY_WORDS \
            and not _MUCH_ALONE_RE.search(question):
        return False
    return not (any(n.endswith("%") for n in found) and not asked & SHARE_WORDS)
