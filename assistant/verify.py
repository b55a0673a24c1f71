"""One claim verifier: does this evidence state this claim.

``verify(claim, evidence)`` returns a :class:`Verdict`: supported or not, the
reason, and the evidence sentences that support the claim, with their offsets.
It is used for every sentence an answer shows (:mod:`assistant.answer.claims`).

The checks run in code over spaCy's ``en_core_web_sm`` analysis (entities,
dependency parse, lemmas), on the evidence sentence, or two adjacent sentences,
that covers the claim best:

* **names**: every name of the claim (a person, organisation, place, product,
  a model or code name such as ``H200`` or ``os.path``) stands in the evidence or
  in its report's label (title, outlet, authors);
* **numbers**: every number stands in the evidence with the same unit (``63%``
  is not ``$63``) and scale, and the nouns the claim attaches to it (``price``
  in "a price of $4.6 billion") are in the evidence sentence that gives it;
* **roles**: a name that the claim makes the subject (or object) of a verb the
  evidence also uses is the subject (or object) of that verb in the evidence
  ("the H20 sits one generation below" is not "the H200 sits ...");
* **polarity**: a verb negated in one and not in the other fails;
* **modality and attribution**: when the part of the evidence the claim restates
  is conditional ("if Beijing authorizes ..."), hedged by a modal ("could
  ship") or attributed ("Reuters reported that ...", "according to ..."), the
  claim must say so too;
* **coverage**: most content words (lemmas) of the claim stand in the evidence;
  a claim with fewer may pass as a rewording when its embedding is close to the
  evidence's, unless the words it lacks are the question's, its main verb among
  them (an **echo**: "Founded by Ann Cao ..." over a byline, for "Who founded ...?").

Every threshold and word list lives in :class:`VerifierPolicy`, with the split it
was fitted on. The benchmark in ``bench/claims`` measures it per perturbation type.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from assistant.errors import ModelError
from assistant.ingest.chunking import sentence_spans

Token = Any  # spacy.tokens.Token; spaCy is imported lazily (it takes ~1 s)
Similarity = Callable[[str, str], float]  # the embedding cosine of two texts


@dataclass(frozen=True)
class VerifierPolicy:
    """Every tunable of the verifier, with what it does and where it comes from.

    ``min_coverage`` was fitted on the calibration half of ``bench/claims`` (the
    lowest value keeping the faithful claims there; see bench/claims/README.md).
    The word lists are English grammar (modal auxiliaries, reporting verbs,
    subordinators), not words of any corpus.
    """

    # share of the claim's content lemmas found in the evidence (or its label)
    min_coverage: float = 1.0
    # share of the claim's evidence-matched content inside a conditional, modal or
    # attributed part of the evidence above which the claim must carry that marker too
    scope_share: float = 0.5
    # a claim below min_coverage still passes when it keeps this share of the words and its
    # embedding cosine with the evidence sentence(s) reaches min_similarity (rewording);
    # fitted on the calibration half with the embedding model of the index
    min_coverage_reworded: float = 0.3
    min_similarity: float = 0.7
    reworded_windows: int = 3  # evidence windows compared by embedding, at most, per claim
    # share of a conditional, modal or attributed part's content words that a claim must
    # restate, whatever else it says, to have to carry that marker too
    scope_restated: float = 0.8
    # how many adjacent evidence sentences one claim may rest on
    window: int = 2
    name_labels: frozenset[str] = frozenset(
        "PERSON ORG GPE NORP PRODUCT LOC FAC EVENT WORK_OF_ART LAW LANGUAGE".split())
    # corporate suffixes: "Alibaba Group" is "Alibaba" (but "Harlow Group" still needs "Harlow")
    name_suffixes: frozenset[str] = frozenset(
        "group holding holdings inc inc. corp corp. corporation co co. ltd ltd. plc llc sa ag "
        "company".split())
    # names of one country written otherwise (English usage, lower case, without "the" or
    # dots):
    # "America" is "the United States" and "the US"
    country_names: tuple[frozenset[str], ...] = (
        frozenset({"united states", "us", "usa", "america", "united states of america"}),
        frozenset({"united kingdom", "uk", "britain", "great britain"}),
        frozenset({"china", "prc", "people's republic of china", "mainland china"}),
    )
    # a seat of government stands for its country's government in news English
    # ("Washington would tax the chips": "the United States would"); English usage, not
    # words of any corpus: the capitals of the G20's members and of Taiwan. Read by the
    # answering stage's target step (a question's actor), not by the claim checks: a
    # sentence naming the country does not place anything in its capital. Found by two
    # calibration questions (f-11 "Washington", t-09 "Beijing"; session 29)
    seats_of_government: tuple[tuple[str, str], ...] = (
        ("washington", "United States"), ("beijing", "China"), ("moscow", "Russia"),
        ("london", "United Kingdom"), ("tokyo", "Japan"), ("brussels", "European Union"),
        ("paris", "France"), ("berlin", "Germany"), ("rome", "Italy"), ("ottawa", "Canada"),
        ("canberra", "Australia"), ("new delhi", "India"), ("seoul", "South Korea"),
        ("brasilia", "Brazil"), ("mexico city", "Mexico"), ("buenos aires", "Argentina"),
        ("riyadh", "Saudi Arabia"), ("ankara", "Turkey"), ("pretoria", "South Africa"),
        ("jakarta", "Indonesia"), ("taipei", "Taiwan"))
    modals: frozenset[str] = frozenset("can could may might would should".split())
    conditionals: frozenset[str] = frozenset("if unless provided providing whether".split())
    reporting: frozenset[str] = frozenset(
        "say report tell claim state announce write allege cite confirm accord reportedly "
        "add note argue warn".split())
    # verbs that say what a thing is or holds ("the firms were X", "the firms include X")
    identity: frozenset[str] = frozenset("be include comprise".split())
    # hedging adverbs, adjectives and verbs: a claim restating what they qualify keeps one
    hedges: frozenset[str] = frozenset(
        "generally usually normally mostly often typically sometimes largely mainly partly "
        "probably possibly perhaps likely unlikely potentially expect".split())
    # words of change or permission in one direction and the other (English words, not
    # of any corpus): a claim that rewords its evidence may not say one where the
    # evidence says the other ("hold back" where it says "accelerate"); embeddings of
    # such opposites are close, so the rewording allowance alone lets them through
    raising: frozenset[str] = frozenset(
        "increase raise rise grow accelerate speed boost spur expand allow permit approve "
        "ease lift gain strengthen help encourage promote advance enable fuel drive more "
        "higher formal official".split())
    lowering: frozenset[str] = frozenset(
        "decrease cut reduce fall drop decline slow hinder hamper curb restrict limit ban "
        "bar block prohibit reject deny tighten less fewer lower lose weaken harm impede "
        "stall delay undermine stifle suppress cap hold_back informal unofficial".split())
    # words that make a claim stronger than evidence lacking them
    absolutes: frozenset[str] = frozenset("always never must all every only".split())
    # negating words the parser does not mark "neg" ("never", "no chips")
    negations: frozenset[str] = frozenset("never no".split())
    ordinals: dict[str, int] = field(default_factory=lambda: {
        w: i for i, w in enumerate(
            "first second third fourth fifth sixth seventh eighth ninth tenth".split(), 1)})
    number_words: dict[str, str] = field(default_factory=lambda: {
        w: str(i) for i, w in enumerate(
            "zero one two three four five six seven eight nine ten eleven twelve".split())})
    # fractions said in words (English): "half of its purchases" is a figure a quote must
    # hold; "a quarter" / "one quarter" / "three quarters" only (not "the October quarter")
    fractions: dict[str, float] = field(default_factory=lambda: {
        "half": 0.5, "halves": 0.5, "a quarter": 0.25, "one quarter": 0.25,
        "three quarters": 0.75, "three-quarters": 0.75})
    # what a figure's qualifier says of it: at least, at most, or roughly (English words);
    # a claim keeps the qualifier its evidence gives ("more than 400,000" is not 400,000)
    qualifiers: dict[str, str] = field(default_factory=lambda: {
        **dict.fromkeys(("more than", "over", "above", "at least", "upwards of", "exceeding",
                         "in excess of"), "at least"),
        **dict.fromkeys(("less than", "fewer than", "under", "below", "up to", "at most",
                         "nearly", "almost", "just under"), "at most"),
        **dict.fromkeys(("about", "around", "roughly", "approximately", "some", "close to",
                         "an estimated", "estimated", "circa"), "roughly")})


DEFAULT_POLICY = VerifierPolicy()


@dataclass(frozen=True)
class Span:
    """A supporting sentence of the evidence: ``evidence[start:end] == text``."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Verdict:
    """Whether the evidence supports the claim, why not, and where it does."""

    supported: bool
    reason: str
    spans: tuple[Span, ...] = ()
    coverage: float = 0.0
    check: str = ""  # the failed check: names, numbers, qualifier, roles, polarity, modality,
    # coverage
    source: str = ""  # what the claim dropped: who the evidence says reported it (modality),
    # or the figure's qualifier ("more than"; check "qualifier")

    @property
    def quote(self) -> str:
        """The supporting sentences' text."""
        return " ".join(s.text for s in self.spans)


# ---------------------------------------------------------------- spaCy
_NLP: Any = None
_NLP_LOCK = threading.Lock()
_CACHE: OrderedDict[str, Any] = OrderedDict()
_CACHE_SIZE = 512


def nlp() -> Any:
    """The hash-checked spaCy pipeline, loaded once from its package folder."""
    global _NLP
    with _NLP_LOCK:
        if _NLP is None:
            from assistant.models.files import verified_nlp_model_dir

            folder = verified_nlp_model_dir()
            try:
                import spacy

                _NLP = spacy.load(folder)
            except (ImportError, OSError, ValueError) as exc:
                raise ModelError(f"the spaCy pipeline could not be loaded: {exc}") from None
        return _NLP


def _direction_words(text: str) -> set[str]:
    """The lemmas of ``text``, with phrasal verbs joined ("hold_back")."""
    found: set[str] = set()
    for t in parse(text):
        lemma = t.lemma_.lower()
        found.add(lemma)
        found.update(f"{lemma}_{c.lower_}" for c in t.children if c.dep_ == "prt")
    return found


def opposite_directions(claim: str, evidence: str, policy: VerifierPolicy = DEFAULT_POLICY
                        ) -> tuple[str, str] | None:
    """A word of ``claim`` and one of ``evidence`` of opposite directions, neither in the other.

    "would hold back development" against "likely to accelerate development" gives
    ("hold_back", "accelerate"). ``None`` when there is no such pair.
    """
    said, stated = _direction_words(claim), _direction_words(evidence)
    own, theirs = said - stated, stated - said
    for up, down in ((policy.raising, policy.lowering), (policy.lowering, policy.raising)):
        mine = sorted(own & up)
        other = sorted(theirs & down)
        if mine and other:
            return mine[0], other[0]
    return None


def parse(text: str) -> Any:
    """``text`` analysed by spaCy (cached: passages are verified many times)."""
    with _NLP_LOCK:
        doc = _CACHE.get(text)
        if doc is not None:
            _CACHE.move_to_end(text)
            return doc
    doc = nlp()(text)
    with _NLP_LOCK:
        _CACHE[text] = doc
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return doc


# ---------------------------------------------------------------- text helpers
_FLAT_TABLE = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
_IDENT_RE = re.compile(
    r"(?<![\w.])(?:[A-Za-z_][\w]*\d[\w-]*|\d+[A-Za-z][\w-]*|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+"
    r"|[A-Za-z]+_\w+|[a-z]+[A-Z]\w*|[A-Z][a-z]+[A-Z]\w*)(?:\(\))?")
_CALL_RE = re.compile(r"(?<![\w.])[A-Za-z_][\w.]*\(\)")
_NUMBER_RE = re.compile(
    r"(?P<cur>[$€£]\s?)?(?<![\w.])(?P<num>\d[\d,]*(?:\.\d+)?)(?![\d])"
    r"(?:\s*(?P<scale>thousand|million|billion|trillion|bn|m|k)\b)?"
    r"(?:\s*(?P<pct>%|percent\b|per cent\b))?", re.IGNORECASE)
_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9,
           "trillion": 1e12}


def flat(text: str) -> str:
    """Lower-case with straight quotes and single spaces, for verbatim comparisons."""
    return " ".join(text.translate(_FLAT_TABLE).lower().split())


def _contains(haystack: str, needle: str) -> bool:
    return bool(needle) and re.search(r"(?<!\w)" + re.escape(needle) + r"(?!\w)",
                                      haystack) is not None


@dataclass(frozen=True)
class Number:
    """A number as stated: its value, its kind (percent, money or plain) and its offset."""

    value: float
    kind: str
    start: int
    end: int


def numbers(text: str, policy: VerifierPolicy = DEFAULT_POLICY) -> list[Number]:
    """The numbers of ``text`` with their unit kind and scale ("$4.6 billion" = 4.6e9 money)."""
    out = []
    for m in _NUMBER_RE.finditer(text):
        raw = m.group("num").rstrip(",")
        try:
            value = float(raw.replace(",", ""))
        except ValueError:
            continue
        scale = (m.group("scale") or "").lower()
        if scale in ("m", "k") and not m.group("cur"):
            scale = ""  # "5 m" is metres, "2k" only counts after a currency sign
        value *= _SCALES.get(scale, 1.0)
        kind = "percent" if m.group("pct") else "money" if m.group("cur") else "plain"
        out.append(Number(value, kind, m.start("num"), m.end("num")))
    for m in re.finditer(r"\b(" + "|".join(policy.ordinals) + r")\b", text, re.IGNORECASE):
        out.append(Number(float(policy.ordinals[m.group(1).lower()]), "ordinal", m.start(),
                          m.end()))
    for m in re.finditer(r"\b(" + "|".join(policy.number_words) + r")\b", text, re.IGNORECASE):
        word = m.group(1).lower()
        if word not in ("one", "zero"):  # "one" is mostly a determiner ("one proposal")
            out.append(Number(float(policy.number_words[word]), "plain", m.start(), m.end()))
    for m in re.finditer(r"\b(" + "|".join(map(re.escape, policy.fractions)) + r")\b", text,
                         re.IGNORECASE):
        out.append(Number(policy.fractions[m.group(1).lower()], "fraction", m.start(), m.end()))
    return out


def _same_number(a: Number, b: Number) -> bool:
    """Whether the figure ``a`` (of a claim) is the figure ``b`` (of the evidence).

    The same value and unit; a bare number of the claim may be a sum of money in the
    evidence ("4.6 billion" for "$4.6 billion"), but a sum of money in the claim needs
    one in the evidence ("$400,000" is not "400,000 units"), and a percentage a
    percentage.
    """
    if {a.kind, b.kind} == {"fraction", "percent"}:  # "a quarter" is 25%
        ratio = a.value if a.kind == "fraction" else b.value
        percent = b.value if a.kind == "fraction" else a.value
        return abs(ratio * 100 - percent) < 1e-6
    if abs(a.value - b.value) > 1e-9 * max(1.0, abs(a.value)):
        return False
    return a.kind == b.kind or (a.kind == "plain" and b.kind == "money")


def _lemma(token: Token) -> str:
    """The token's lemma, lower-cased, without a sentence's full stop ("y." is "y")."""
    lemma = str(token.lemma_).lower().translate(_FLAT_TABLE)
    return lemma.rstrip(".") or lemma


_DERIVATIONAL = ("ations", "ation", "ions", "ion", "ments", "ment", "ness", "ities", "ity",
                 "ings", "ing", "ers", "er", "als", "al", "ly", "ives", "ive", "ed", "es", "s", "e")


def _root(word: str) -> str:
    """A word without one derivational ending, so "approval" and "approve" match."""
    for suffix in _DERIVATIONAL:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _key(token: Token) -> str:
    """What a content word is compared by: the root of its lemma."""
    return _root(_lemma(token))


def word_root(word: str) -> str:
    """What a word is compared by (lower case, one derivational ending off)."""
    return _root(word.lower().translate(_FLAT_TABLE))


def word_key(token: Token) -> str:
    """What a parsed word is compared by: the root of its lemma."""
    return _key(token)


def _content(token: Token) -> bool:
    return (token.pos_ in ("NOUN", "PROPN", "VERB", "ADJ", "ADV", "NUM")
            and not token.is_stop and token.is_alpha | token.like_num
            and len(token.text) > 1)


# ---------------------------------------------------------------- evidence windows
@dataclass(frozen=True)
class _Window:
    tokens: tuple[Token, ...]
    spans: tuple[Span, ...]
    text: str  # flat text of the window

    @property
    def lemmas(self) -> set[str]:
        return {_lemma(t) for t in self.tokens} | {t.lower_ for t in self.tokens}

    @property
    def keys(self) -> set[str]:
        return {_key(t) for t in self.tokens} | {_root(t.lower_) for t in self.tokens}


def _windows(evidence: str, doc: Any, size: int) -> list[_Window]:
    spans = [Span(a, b, evidence[a:b]) for a, b in sentence_spans(evidence, 0, len(evidence))]
    out = []
    for width in range(1, size + 1):
        for i in range(len(spans) - width + 1):
            chosen = tuple(spans[i:i + width])
            lo, hi = chosen[0].start, chosen[-1].end
            tokens = tuple(t for t in doc if lo <= t.idx < hi)
            out.append(_Window(tokens, chosen, flat(evidence[lo:hi])))
    return out


# ---------------------------------------------------------------- the checks
def _names(claim: Any, policy: VerifierPolicy) -> list[tuple[str, Token]]:
    """The claim's names, each with the token that heads it in the parse."""
    found: list[tuple[str, Token]] = []
    covered: set[int] = set()
    for ent in claim.ents:
        if ent.label_ in policy.name_labels:
            words = [t for t in ent if not (t.i == ent.start and t.lower_ == "the")
                     and t.pos_ != "PART" and t.text not in ("'s", "’s")]
            if words:
                found.append((" ".join(t.text for t in words), ent.root))
                covered.update(t.i for t in ent)
    for token in claim:
        if token.i in covered:
            continue
        if _IDENT_RE.fullmatch(token.text) or (
                token.pos_ == "PROPN" and token.text[:1].isupper() and token.is_alpha):
            found.append((token.text, token))
    for m in _CALL_RE.finditer(claim.text):  # "wait()", "shutil.which()": code, as written
        span = claim.char_span(m.start(), m.end(), alignment_mode="expand")
        if span is not None:
            found.append((m.group(), span.root))
    return found


def names(text: str, policy: VerifierPolicy = DEFAULT_POLICY) -> list[str]:
    """The names ``text`` states (people, organisations, places, products, code names)."""
    return [name for name, _ in _names(parse(text), policy)]


_WHO_RE = re.compile(r"^\W*(?:who|whom|whose|which (?:company|companies|firm|firms|outlet|"
                     r"outlets|agency|agencies|person|people|analyst|country|countries))\b",
                     re.IGNORECASE)


def list_lengths(text: str) -> set[int]:
    """How many items each list of ``text`` has ("finance and energy": 2).

    A list is a word and the words coordinated with it; words inside one name
    count once ("the National Development and Reform Commission and the
    Ministry of Industry": 2).
    """
    out: set[int] = set()
    for token in parse(text):
        if token.dep_ == "conj" or not token.conjuncts:
            continue
        items = {_entity_of(t) for t in (token, *token.conjuncts)}
        if len(items) > 1:
            out.add(len(items))
    return out


def _entity_of(token: Token) -> int:
    """The start of the name ``token`` belongs to (the token itself when none)."""
    start = int(token.i)
    if not token.ent_type_:
        return start
    while start > 0 and token.doc[start].ent_iob_ == "I":
        start -= 1
    return start


def agents(text: str) -> list[str]:
    """The people and organisations ``text`` names (what a "who" question asks for)."""
    return [e.text for e in parse(text).ents if e.label_ in ("PERSON", "ORG")]


def asks_for_name(question: str) -> bool:
    """True when ``question`` asks who (or which company, outlet, agency ...)."""
    return bool(_WHO_RE.search(question))


def mentions(text: str, name: str, policy: VerifierPolicy = DEFAULT_POLICY) -> bool:
    """True when ``text`` names ``name`` (as the names check matches names)."""
    return _name_present(name, flat(text), "", policy)


def _acronym_in(name: str, window_text: str) -> bool:
    """``CAC`` stands for "Cyberspace Administration of China" when those words are there."""
    letters = name.replace(".", "")
    if not (letters.isupper() and 2 <= len(letters) <= 6):
        return False
    words = [w for w in re.findall(r"[a-z][\w'-]*", window_text)
             if w not in ("of", "the", "and", "for", "on", "in")]
    initials = "".join(w[0] for w in words)
    return letters.lower() in initials


# a model name or an acronym with the plural "s" ("H200s", "GPUs"): the same thing
_PLURAL_CODE_RE = re.compile(r"(?=[A-Za-z-]*\d|[A-Z]{2,}s$)[A-Za-z0-9-]*[A-Za-z0-9]s")


def is_plural_code(name: str) -> bool:
    """True for a code name in the plural ("H200s", "GPUs"): the same name as its singular."""
    return bool(_PLURAL_CODE_RE.fullmatch(name))


def _written(name: str, window: str, label: str, policy: VerifierPolicy) -> bool:
    target = flat(name).strip("'\".,()").removesuffix("'s")
    target = target.removesuffix("()")
    bare = name.strip("'\".,()")
    if _PLURAL_CODE_RE.fullmatch(bare):
        return _written(bare[:-1], window, label, policy)
    plural = target + "s" if _PLURAL_CODE_RE.fullmatch(bare + "s") else ""
    for haystack in (window, label):
        if not haystack:
            continue
        if _contains(haystack, target) or _contains(haystack.replace(".", ""),
                                                    target.replace(".", "")):
            return True
        if plural and _contains(haystack, plural):
            return True
        words = [w for w in target.split() if w not in policy.name_suffixes and w != "the"]
        if len(words) > 1 and all(_contains(haystack, w) for w in words):
            return True
        if words and len(target.split()) > len(words) and all(_contains(haystack, w)
                                                              for w in words):
            return True
    return _acronym_in(name, window)


def _name_present(name: str, window: str, label: str, policy: VerifierPolicy) -> bool:
    """``name`` written in ``window`` or ``label``, or another name of the same country."""
    if _written(name, window, label, policy):
        return True
    key = flat(name).strip("'\".,()").lower().removeprefix("the ").replace(".", "")
    return any(_written(other, window, label, policy)
               for names in policy.country_names if key in names
               for other in sorted(names - {key}))


def _check_names(claim: Any, window: _Window, label: str, policy: VerifierPolicy) -> str:
    """Each name of the claim stands in the window or the report's label.

    Never only in the question: a name the quote lacks cannot be checked in one click.
    """
    for name, _ in _names(claim, policy):
        if not _name_present(name, window.text, label, policy):
            return f"the evidence does not name {name}"
    return ""


def _attached_nouns(token: Token) -> set[str]:
    """The nouns a number is a figure of: up its head chain to the first verb, and below it."""
    nouns: set[str] = set()
    while token.dep_ in ("nummod", "quantmod", "compound") and token.head.like_num:
        token = token.head  # "$4.6 billion in revenue": from "4.6" up to "billion"
    node = token
    for _ in range(4):
        head = node.head
        if head.i == node.i or head.pos_ in ("VERB", "AUX"):
            if head.pos_ == "AUX" or head.lemma_ == "be":  # "revenue was $4.6 billion"
                nouns.update(_lemma(x) for c in head.children
                             if c.dep_ in ("nsubj", "nsubjpass", "csubj")
                             for x in c.subtree if x.pos_ == "NOUN")
            break
        if head.pos_ in ("NOUN", "PROPN") and not head.like_num:
            nouns.add(_lemma(head))
        node = head
    for child in token.subtree:
        if child.pos_ == "NOUN" and not child.like_num and child.i != token.i:
            nouns.add(_lemma(child))
            nouns.update(_lemma(a) for a in child.children if a.dep_ == "amod")
    return {n for n in nouns if n not in _SCALES and n not in ("%", "percent", "cent")}


def qualifier(text: str, start: int, policy: VerifierPolicy = DEFAULT_POLICY) -> str:
    """The qualifier written just before the figure at ``start`` ("more than"), or ""."""
    before = flat(text[max(0, start - 24):start]).lower().rstrip(" $€£")
    for words in sorted(policy.qualifiers, key=len, reverse=True):
        if before.endswith(" " + words) or before == words:
            return words
    return ""


def _check_qualifier(claim_text: str, wanted: Number, evidence: str, stated: Number,
                     policy: VerifierPolicy) -> tuple[str, str]:
    """(reason, the evidence's qualifier) when the claim drops or changes it; ("", "") if not."""
    theirs = qualifier(evidence, stated.start, policy)
    ours = qualifier(claim_text, wanted.start, policy)
    if not theirs or policy.qualifiers[theirs] == policy.qualifiers.get(ours):
        return "", ""
    figure = claim_text[wanted.start:wanted.end]
    if not ours:
        return f"the evidence says '{theirs} {figure}', the claim drops '{theirs}'", theirs
    return f"the evidence says '{theirs} {figure}', the claim '{ours} {figure}'", ""


def _check_numbers(claim_text: str, claim: Any, window: _Window, evidence: str,
                   label: str, policy: VerifierPolicy) -> tuple[str, str]:
    """Why the claim's figures are not the evidence's, and a qualifier it dropped, if any."""
    lo, hi = window.spans[0].start, window.spans[-1].end
    ones = {_key(t.head) for t in window.tokens if t.lower_ == "one" and t.dep_ == "nummod"}
    for t in claim:  # "one" counts only as a count: "one argument" is not "one byte"
        if t.lower_ == "one" and t.dep_ == "nummod" and _key(t.head) not in ones:
            return f"the evidence does not say one {t.head.text}", ""
    stated = [n for n in numbers(evidence, policy) if lo <= n.start < hi]
    for wanted in numbers(claim_text, policy):
        matches = [n for n in stated if _same_number(wanted, n)]
        if not matches:
            return f"the evidence does not state {claim_text[wanted.start:wanted.end]}", ""
        claim_tok = claim.char_span(wanted.start, wanted.end, alignment_mode="expand")
        if claim_tok is None:
            continue
        asked = _attached_nouns(claim_tok.root)
        verb = _clause_verb(claim_tok.root)
        partners = [name for name, head in _names(claim, policy)
                    if verb is not None and _shares_clause(head, verb)]
        ok = False
        for n in matches:
            sentence = next((s for s in window.spans if s.start <= n.start < s.end), None)
            if sentence is None:
                continue
            nearby = {_lemma(t) for t in window.tokens
                      if sentence.start <= t.idx < sentence.end} | {
                t.lower_ for t in window.tokens if sentence.start <= t.idx < sentence.end}
            there = flat(sentence.text)
            if asked <= nearby and all(_name_present(p, there, label, policy)
                                       or (_refers_back(window, sentence)
                                           and _name_present(p, window.text, "", policy))
                                       for p in partners):
                changed, dropped = _check_qualifier(claim_text, wanted, evidence, n, policy)
                if changed:
                    return changed, dropped
                ok = True
                break
        if not ok:
            figure = claim_text[wanted.start:wanted.end]
            missing = sorted(asked - window.lemmas)
            if missing or asked:
                return (f"the evidence gives {figure} but not as "
                        f"{', '.join(missing or asked)}", "")
            return f"the evidence gives {figure}, but not of {', '.join(partners)}", ""
    return "", ""


def _shares_clause(name: Token, verb: Token) -> bool:
    """True when ``name`` belongs to the clause of ``verb`` (or is the subject it shares).

    "The H200 sits ... and made $50 million": H200 is the subject of both verbs.
    """
    own = _clause_verb(name)
    if own is None:
        return False
    if own == verb:
        return True
    shared = verb.dep_ == "conj" and not any(c.dep_.startswith("nsubj") for c in verb.children)
    return shared and own == verb.head and name.dep_.startswith("nsubj")


def _clause_verb(token: Token) -> Token | None:
    """The verb whose clause ``token`` belongs to."""
    node = token
    for _ in range(8):
        if node.pos_ in ("VERB", "AUX") and node.i != token.i:
            return node
        if node.head.i == node.i:
            return node if node.pos_ in ("VERB", "AUX") else None
        node = node.head
    return None


def _slots(token: Token) -> list[tuple[str, str]]:
    """The places a word fills in its sentence: (governing word's lemma, relation).

    Two places: the word it attaches to ("H200 chips": chips, compound; "arrival in
    Taiwan": arrival, in) and the verb of its clause (its subject, its object, or a
    preposition's object). A passive subject is an object, and the "by" phrase of a
    passive is the subject, so "X approved Y" and "Y was approved by X" agree.
    """
    out: list[tuple[str, str]] = []
    node, relation = token, token.dep_
    if token.dep_ == "pobj" and token.head.dep_ == "agent":
        node, relation = token.head, "nsubj"
    elif token.dep_ == "pobj":
        node, relation = token.head, "prep:" + token.head.lower_
    elif token.dep_ == "nsubjpass":
        relation = "dobj"
    elif token.dep_ in ("conj", "appos"):  # "ByteDance, Alibaba and Tencent": as the first
        first = token
        while first.dep_ in ("conj", "appos") and first.head.i != first.i:
            first = first.head
        return _slots(first) if first.i != token.i else out
    head = node.head
    if head.i == node.i:
        return out
    relation = {"nsubj": "subj", "csubj": "subj", "expl": "subj", "dobj": "obj",
                "attr": "obj", "oprd": "obj"}.get(relation, relation)
    out.append((_lemma(head), relation))
    if head.pos_ not in ("VERB", "AUX") and relation in ("compound", "poss", "nmod", "amod"):
        verb = _clause_verb(head)
        if verb is not None and head.dep_ in ("nsubj", "nsubjpass", "dobj"):
            out.append((_lemma(verb), {"nsubj": "subj"}.get(head.dep_, "obj")))
        elif head.dep_ == "pobj" and head.head.head.i != head.head.i:  # "than the H20 chip"
            out.append((_lemma(head.head.head), "prep:" + head.head.lower_))
    return out


def _fillers(window: _Window) -> dict[tuple[str, str], set[str]]:
    """For each place in the window, the words (flat) that fill it."""
    out: dict[tuple[str, str], set[str]] = {}
    for t in window.tokens:
        if _name_like(t):
            for slot in _slots(t):
                out.setdefault(slot, set()).add(_key(t))
    return out


# words that point back at something named before (English grammar, not corpus words)
REFERRING_PRONOUNS = frozenset({"he", "she", "it", "they", "him", "her", "them", "his", "its",
                                "their"})
REFERRING_DETERMINERS = frozenset({"this", "that", "these", "those", "both", "such"})
_ANAPHORIC = REFERRING_PRONOUNS | REFERRING_DETERMINERS | {"the"}  # "the chip": a common noun


def _refers_back(window: _Window, span: Span, verb: str = "") -> bool:
    """True when the subject of ``verb`` in sentence ``span`` is a reference.

    "They" or "both agencies" are; "Officials" and a pronoun of another clause are
    not. Without ``verb``, the subject of any clause counts.
    """
    for t in window.tokens:
        if not span.start <= t.idx < span.end or t.lower_ not in _ANAPHORIC:
            continue
        subject = t if t.pos_ == "PRON" else t.head
        if subject.dep_ not in ("nsubj", "nsubjpass") or subject.ent_type_:
            continue
        if t.pos_ != "PRON" and (t.dep_ != "det" or (t.lower_ == "the" and subject.pos_ != "NOUN")):
            continue
        if not verb or _key(subject.head) == verb:
            return True
        # "he told journalists upon arrival": a noun made of the verb has the agent of
        # the clause that holds it
        if subject.head.dep_ == "ROOT" and any(
                _key(x) == verb and x.pos_ == "NOUN" for x in subject.head.subtree):
            return True
    return False


def _check_roles(claim: Any, window: _Window, policy: VerifierPolicy, context: str = "") -> str:
    """Each noun and name of the claim fills a place that it fills in the evidence.

    Only places the evidence also has, filled there by other words, count: "the H20
    sits ..." fails where the evidence says "the H200 sits ...", but a claim that
    rephrases the sentence around other words is left to the other checks. A name of
    the passage's ``context`` (the headings it sits under) stands in every sentence
    of it: "Recursively copy a tree" under "shutil.copytree(src, dst)" says what
    ``shutil.copytree`` does.
    """
    # each name stands in the sentence that has its clause's verb, reporting verbs too,
    # or in the window when that sentence's subject refers back ("Both agencies have",
    # "The chip sits"): "Officials ... told attendees" does not say that the agencies
    # of another sentence told them anything
    for name, head in _names(claim, policy):
        verb = _clause_verb(head)
        if verb is None or _lemma(verb) == "be":
            continue
        homes = [sp for sp in window.spans if _key(verb) in _sentence_keys(window, sp)]
        if context and _name_present(name, "", context, policy):
            continue
        if homes and not any(_name_present(name, flat(sp.text), "", policy)
                             or (_refers_back(window, sp, _key(verb))
                                 and _name_present(name, window.text, "", policy))
                             for sp in homes):
            return f"{name} is not in the evidence sentence that says '{verb.text}'"
    fillers = _fillers(window)
    present = window.keys
    mentioned = {_key(t) for t in claim}
    placed: dict[str, set[tuple[str, str]]] = {}  # the claim's own places of its names
    for t in claim:
        if _name_like(t):
            placed.setdefault(_key(t), set()).update(_slots(t))
    for token in claim:
        if not _name_like(token):
            continue
        key = _key(token)
        if key not in present:
            continue  # a name the evidence lacks is the names check's concern
        for slot in _slots(token):
            if slot[0] in policy.reporting or slot[1] in ("punct", "dep"):
                continue
            there = fillers.get(slot, set())
            # a substitution: the evidence's own filler is gone from the claim, or moved
            # to another place of it ("H20 is more capable than Blackwell" for "H200 is
            # more capable than the H20")
            gone = {f for f in there if f not in mentioned or slot not in placed.get(f, set())}
            if there and key not in there and gone:
                return (f"in the evidence, {', '.join(sorted(gone))} (not {token.text}) "
                        f"is the {slot[1]} of '{slot[0]}'")
    return (_check_turned(claim, fillers, policy)
            or _check_subjects(claim, window, policy, mentioned, placed))


_TURNED = {"subj": "obj", "obj": "subj"}


def _proper(token: Token) -> bool:
    """A proper name the entity recogniser also sees (an organisation, a person, ...)."""
    return token.pos_ == "PROPN" and bool(token.ent_type_)


def _check_turned(claim: Any, fillers: dict[tuple[str, str], set[str]],
                  policy: VerifierPolicy) -> str:
    """A name the evidence makes a verb's subject is not its object in the claim, nor back.

    "The Ministry of Industry and Information Technology is led by the National
    Development and Reform Commission" fails where the evidence says "the meetings were
    led by the National Development and Reform Commission and the Ministry of ...":
    there the ministry leads (``fillers``: :func:`_fillers` of the evidence). A name the
    evidence places both ways is left alone, and only the claim's proper names that are
    entities count ("Return the integer square root" may be
    reworded "The integer square root is returned", whose small parse turns "integer"
    around).
    """
    for token in claim:
        if not _proper(token):  # a common noun's parse turns too easily
            continue
        key = _key(token)
        for verb, relation in _slots(token):
            turned = _TURNED.get(relation)
            if (turned is not None and verb not in policy.reporting
                    and key not in fillers.get((verb, relation), set())
                    and key in fillers.get((verb, turned), set())):
                return (f"in the evidence, {token.text} is the {turned} of '{verb}', "
                        f"not its {relation}")
    return ""


def _check_subjects(claim: Any, window: _Window, policy: VerifierPolicy, mentioned: set[str],
                    placed: dict[str, set[tuple[str, str]]]) -> str:
    """A common noun that is the claim's subject of a verb stands where the evidence has that verb.

    "Imports of the H200 chips sit one generation below Blackwell" fails where the
    evidence says "The H200 sits ...": no sentence saying "sits" has "imports", and
    the thing said to sit there is another. Only verbs whose subject the evidence
    gives, and that the claim does not hand back to it, count; "the chip" (a definite
    noun the evidence uses) may stand for what it names.
    """
    homes: dict[str, list[tuple[Span, str]]] = {}  # verb -> (its sentence, its subject)
    for t in window.tokens:
        if t.dep_ != "nsubj" or t.pos_ not in ("NOUN", "PROPN") or t.head.pos_ != "VERB":
            continue
        span = next((sp for sp in window.spans if sp.start <= t.idx < sp.end), None)
        if span is not None:
            homes.setdefault(_key(t.head), []).append((span, _key(t)))
    for token in claim:
        verb = token.head
        if (token.dep_ != "nsubj" or token.pos_ != "NOUN" or _name_like(token)
                or verb.pos_ != "VERB" or _lemma(verb) in policy.reporting
                or _lemma(verb) in policy.identity):
            continue
        found = homes.get(_key(verb), [])
        if not found or any(_key(token) in _sentence_keys(window, span) for span, _ in found):
            continue
        if (any(c.dep_ == "det" and c.lower_ in _ANAPHORIC for c in token.children)
                and _key(token) in window.keys):
            continue  # "the chip" for "the H200": a noun the evidence has, pointing back
        slot = (_lemma(verb), "subj")
        there = {subject for _, subject in found}
        gone = {f for f in there if f not in mentioned or slot not in placed.get(f, set())}
        if gone:
            return (f"in the evidence, {', '.join(sorted(gone))} (not {token.text}) "
                    f"is the subject of '{verb.lemma_}'")
    return ""


_MODIFIERS = ("amod", "compound", "nummod")


def _check_identity(claim: Any, window: _Window, policy: VerifierPolicy) -> str:
    """A claim that says which names a thing is holds where the evidence ties them to it.

    "The other firms were ByteDance and Alibaba" fails on "the approval covered units
    for ByteDance and Alibaba, while other firms awaited approvals": the evidence has
    the same "other firms", but in another clause than the names. A thing the
    evidence does not name with the same modifiers ("the firms approved were ...")
    is left to the other checks.
    """
    for verb in claim:
        if _lemma(verb) not in policy.identity:
            continue
        sides = [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass", "attr", "dobj")]
        for thing in sides:
            if thing.pos_ != "NOUN" or _name_like(thing):
                continue
            wanted = {_key(n) for side in sides if side is not thing
                      for n in (side, *side.conjuncts) if _name_like(n)}
            mods = {_key(c) for c in thing.children if c.dep_ in _MODIFIERS}
            same = [t for t in window.tokens if t.pos_ == "NOUN" and _key(t) == _key(thing)
                    and {_key(c) for c in t.children if c.dep_ in _MODIFIERS} == mods]
            named = [t for t in window.tokens if _name_like(t) and _key(t) in wanted]
            if not same or not named:
                continue  # the names check covers names the evidence lacks
            loose = sorted({t.text for t in named if not any(_tied(t, s) for s in same)})
            if loose:
                what = " ".join([*(c.text for c in thing.children if c.dep_ in _MODIFIERS),
                                 thing.text])
                return f"in the evidence, {', '.join(loose)} are not the {what}"
    return ""


def _tied(name: Token, thing: Token) -> bool:
    """True when the evidence puts ``name`` in the phrase or the clause of ``thing``."""
    if thing in name.ancestors or name in thing.ancestors:
        return True
    own = _clause_verb(name)
    return own is not None and own == _clause_verb(thing)


def _check_swaps(claim: Any, window: _Window, passage: set[str], given: set[str]) -> str:
    """A noun or name that takes the place of another word of the same sentence.

    The claim and the evidence are aligned word by word; where a short run of
    claim words stands in place of other evidence words between matching runs,
    a claim noun that the evidence has elsewhere (but not there) is a swap: "The
    tarfile module offers ..." for "The shutil module offers ...". A name the
    question gives may stand for the evidence's "the chip" ("the H200 sits ...").
    """
    words = [t for t in claim if not t.is_punct]
    for span in window.spans:
        theirs = [t for t in window.tokens if not t.is_punct and span.start <= t.idx < span.end]
        reason = _swap_in(words, theirs, passage, given)
        if reason:
            return reason
    return ""


def _swap_in(words: list[Token], theirs: list[Token], elsewhere: set[str],
             given: set[str]) -> str:
    """:func:`_check_swaps` against one evidence sentence."""
    matcher = SequenceMatcher(None, [_lemma(t) for t in words], [_lemma(t) for t in theirs],
                              autojunk=False)
    ops = matcher.get_opcodes()
    for k, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag != "replace" or i2 - i1 > 3 or j2 - j1 > 3:
            continue
        before = ops[k - 1] if k > 0 else None
        after = ops[k + 1] if k + 1 < len(ops) else None
        if not any(op is not None and op[0] == "equal" and op[2] - op[1] >= 2
                   for op in (before, after)):
            continue
        replaced = {_key(t) for t in theirs[j1:j2]}
        was_name = any(_name_like(t) for t in theirs[j1:j2])
        # one word put in place of one other, with the same words on both sides
        in_place = i2 - i1 == 1 and j2 - j1 == 1 and all(
            op is not None and op[0] == "equal" and op[2] - op[1] >= 2 for op in (before, after))
        for t in words[i1:i2]:
            wordlike = t.is_alpha and not t.is_stop
            # a name the question gives may stand for "the chip", never for another name
            if _key(t) in replaced or (_key(t) in given and not was_name) or not (
                    _name_like(t) or t.pos_ == "NOUN" or (was_name and wordlike)):
                continue
            if _name_like(t) or _key(t) in elsewhere or was_name or in_place:
                was = " ".join(x.text for x in theirs[j1:j2])
                return f"{t.text} stands where the evidence has {was}"
    return ""


def _sentence_keys(window: _Window, span: Span) -> set[str]:
    """The roots of the words of one sentence of the window."""
    return {_key(t) for t in window.tokens if span.start <= t.idx < span.end}


def _name_like(token: Token) -> bool:
    """A name, a model or code name: a proper noun, an entity, a word with a digit."""
    return (token.pos_ == "PROPN" or (bool(token.ent_type_) and token.pos_ in ("NOUN", "PROPN"))
            or (_IDENT_RE.fullmatch(token.text) is not None and not token.like_num))


def _negated(tokens: Iterable[Token], policy: VerifierPolicy) -> set[str]:
    """Lemmas of the verbs and adjectives that are negated."""
    out = set()
    for t in tokens:
        if t.dep_ == "neg" or (t.lower_ in policy.negations and t.dep_ in ("advmod", "det")):
            head = t.head
            out.add(_lemma(head))
            if head.dep_ in ("aux", "auxpass") or head.pos_ == "AUX":
                out.add(_lemma(head.head))
    return out


def _check_polarity(claim: Any, window: _Window, policy: VerifierPolicy) -> str:
    claim_neg = _negated(claim, policy)
    window_neg = _negated(window.tokens, policy)
    claim_lemmas = {_lemma(t) for t in claim if t.pos_ in ("VERB", "ADJ", "AUX", "NOUN")}
    window_lemmas = window.lemmas
    for lemma in claim_neg:
        if lemma in window_lemmas and lemma not in window_neg:
            return f"the claim negates '{lemma}', the evidence does not"
    for lemma in window_neg:
        if lemma in claim_lemmas and lemma not in claim_neg and lemma != "be":
            return f"the evidence negates '{lemma}', the claim does not"
    if claim_neg and not window_neg and not (claim_neg & window_lemmas):
        return "the claim is negated, the evidence is not"
    # "does not produce an equivalent" against "does make an equivalent": the claim's
    # verb is another word, but its object is the one the evidence's negation governs
    # (when the claim has the evidence's verb, the checks above compare them)
    said = {_lemma(t) for t in claim}
    for verb, objects in _negated_objects(window.tokens, policy).items():
        if verb in said:
            continue
        for t in claim:
            if (_lemma(t) in objects and t.dep_ in _OBJECTS
                    and _lemma(t.head) not in claim_neg and _lemma(t.head) != verb):
                return f"the evidence negates '{verb} {t.lower_}', the claim does not"
    return ""


_OBJECTS = frozenset({"dobj", "attr", "oprd"})


def _negated_objects(tokens: Iterable[Token], policy: VerifierPolicy) -> dict[str, set[str]]:
    """The objects of each negated verb: {"produce": {"equivalent"}}."""
    out: dict[str, set[str]] = {}
    for t in tokens:
        if t.dep_ == "neg" or (t.lower_ in policy.negations and t.dep_ == "advmod"):
            verb = t.head.head if t.head.pos_ == "AUX" and t.head.dep_ == "aux" else t.head
            objects = {_lemma(c) for c in verb.children if c.dep_ in _OBJECTS}
            if objects:
                out.setdefault(_lemma(verb), set()).update(objects)
    return out


@dataclass(frozen=True)
class _Scope:
    kind: str  # conditional, modality or attribution
    marker: str
    tokens: frozenset[int]
    source: str = ""  # who said or reported it, for attribution ("Reuters")
    head: str = ""  # the root of the word the marker qualifies ("cap" in "would cap")


def _unhedged(claim: Any, head: str, policy: VerifierPolicy) -> bool:
    """True when the claim uses the hedged word ``head`` with no modal or hedge on it.

    "One proposal will cap ..." where the evidence says "would cap": the claim has a
    modal elsewhere ("a company can buy"), but not on "cap".
    """
    uses = [t for t in claim if _key(t) == head and t.pos_ in ("VERB", "AUX", "ADJ")]
    if not uses:
        return False
    for t in uses:
        near = [*t.children, t.head, *t.head.children]
        if any((n.tag_ == "MD" and n.lower_ in policy.modals) or _lemma(n) in policy.hedges
               for n in near):
            return False
    return True


def _phrase(token: Token) -> str:
    """A noun phrase, cut before a comma or a clause ("Reuters, which first reported ...").

    "reporting by The Information" keeps its "by" phrase.
    """
    doc = token.doc
    end = token.right_edge.i
    for child in token.children:
        if child.i > token.i and (child.dep_ in ("relcl", "acl", "appos", "punct", "cc",
                                                 "conj")):
            end = min(end, child.left_edge.i - 1)
    return str(doc[token.left_edge.i: max(end, token.i) + 1].text).strip(" ,;")


def _hypothetical(head: Token, policy: VerifierPolicy) -> frozenset[int]:
    """The tokens a condition or a modal on ``head`` makes hypothetical: its subtree.

    A clause within it with a verb in the past tense and a subject of its own states
    a fact of its own: "... would be communicated through window guidance, the same
    method authorities used earlier this year when they *urged* companies to ...
    prioritize suppliers such as Huawei" says they did urge them. Not the condition
    itself ("if the company *said* ...").
    """
    factual = {x.i for t in head.subtree
               if t.i != head.i and t.tag_ == "VBD"
               and any(c.dep_ in ("nsubj", "nsubjpass") for c in t.children)
               and not any(c.dep_ == "mark" and c.lower_ in policy.conditionals
                           for c in t.children)
               for x in t.subtree}
    # a participle describing the subject presupposes what it says: "Chips manufactured
    # by TSMC would be imported" says that TSMC makes them (found by blind15's v-06)
    described = {x.i for subject in head.children if subject.dep_ in ("nsubj", "nsubjpass")
                 for t in subject.children if t.dep_ == "acl" and t.tag_ == "VBN"
                 for x in t.subtree}
    return frozenset(x.i for x in head.subtree if x.i not in factual | described)


def _scopes(window: _Window, policy: VerifierPolicy) -> list[_Scope]:
    """The conditional, modal and attributed parts of the evidence."""
    out: list[_Scope] = []
    for t in window.tokens:
        lemma = _lemma(t)
        if t.dep_ == "mark" and t.lower_ in policy.conditionals:
            clause = t.head
            main = clause.head if clause.dep_ == "advcl" else clause
            out.append(_Scope("conditional", t.text, _hypothetical(main, policy)))
        elif (t.tag_ == "MD" and t.lower_ in policy.modals) or lemma in policy.hedges:
            out.append(_Scope("modality", t.text, _hypothetical(t.head, policy),
                              head=_key(t.head) if t.tag_ == "MD" else ""))
        elif t.pos_ == "VERB" and lemma in policy.reporting and lemma != "accord":
            said = {x.i for c in t.children if c.dep_ in ("ccomp", "xcomp", "advcl", "parataxis")
                    for x in c.subtree}
            if t.dep_ in ("parataxis", "advcl", "ccomp") and not said:  # "X, Reuters reported"
                said = {x.i for x in t.head.subtree} - {x.i for x in t.subtree}
            who = next((_phrase(c) for c in t.children if c.dep_ == "nsubj"), "")
            if said:
                out.append(_Scope("attribution", t.text, frozenset(said), who))
        elif lemma == "accord" or t.lower_ == "reportedly":
            head = t.head
            who = next((_phrase(o) for c in t.children if c.dep_ == "prep"
                        for o in c.children if o.dep_ == "pobj"), "")
            out.append(_Scope("attribution", t.text, frozenset(
                {x.i for x in head.subtree} - {x.i for x in t.subtree}), who))
    return out


def _markers(claim: Any, policy: VerifierPolicy) -> set[str]:
    kinds = set()
    for t in claim:
        lemma = _lemma(t)
        if t.lower_ in policy.conditionals and t.dep_ in ("mark", "advmod", "prep", "dep"):
            kinds.add("conditional")
        if (t.tag_ == "MD" and t.lower_ in policy.modals) or lemma in policy.hedges:
            kinds.add("modality")
        if lemma in policy.reporting or t.lower_ == "reportedly" or lemma == "accord":
            kinds.add("attribution")
    return kinds


def _check_modality(claim: Any, window: _Window, asked: set[str], policy: VerifierPolicy,
                    scopes: Sequence[_Scope]) -> tuple[str, str]:
    """The reason the claim drops a condition, modal or attribution, and who was reported.

    ``asked`` are the markers of the question: an answer to "How would ... be
    communicated?" or "What did Reuters report?" is framed by it.
    """
    claim_content = {_key(t) for t in claim if _content(t)}
    if not claim_content:
        return "", ""
    by_index = {t.i: t for t in window.tokens}
    matched = [t for t in window.tokens if _content(t) and _key(t) in claim_content]
    if not matched:
        return "", ""
    stronger = sorted({t.lower_ for t in claim if t.lower_ in policy.absolutes}
                      - {t.lower_ for t in window.tokens})
    if stronger:
        return f"the claim says '{stronger[0]}', the evidence does not", ""
    has = _markers(claim, policy) | asked
    if "modality" in has:  # "these measures would be ..." keeps "if adopted" hypothetical
        has.add("conditional")
    for scope in scopes:
        if scope.kind in has and not (scope.kind == "modality"
                                      and _unhedged(claim, scope.head, policy)):
            continue
        inside = {_key(t) for t in matched if t.i in scope.tokens and t.i in by_index}
        share = len(inside) / len({_key(t) for t in matched})
        scoped = {_key(by_index[i]) for i in scope.tokens if i in by_index
                  and _content(by_index[i])}
        restated = len(scoped & claim_content) / len(scoped) if scoped else 0.0
        if share >= policy.scope_share or restated >= policy.scope_restated:
            what = {"conditional": "a condition", "modality": "a possibility",
                    "attribution": "what someone said or reported"}[scope.kind]
            return (f"the evidence gives this as {what} ('{scope.marker}'), the claim as fact",
                    scope.source if scope.kind == "attribution" else "")
    return "", ""


def _claim_words(claim: Any, window: _Window, policy: VerifierPolicy) -> dict[str, str]:
    """The claim's content words to find in ``window``: each word's key and its text.

    A reporting verb ("argued", "said", "added") is left out when the window has one:
    who reported what is the modality check's business, not a word to match.
    """
    reports = any(_lemma(t) in policy.reporting for t in window.tokens)
    return {_key(t): t.lower_ for t in claim if _content(t)
            and not (reports and _lemma(t) in policy.reporting)}


def _coverage(claim: Any, window: _Window, label_keys: set[str],
              policy: VerifierPolicy = DEFAULT_POLICY) -> float:
    """The share of the claim's content words (by root) that the window or label holds.

    A reporting verb ("argued", "said", "added") counts as held when the window has
    one: who reported what is the modality check's business, not a word to match.
    """
    wanted = set(_claim_words(claim, window, policy))
    if not wanted:
        return 1.0
    have = window.keys | label_keys
    return len(wanted & have) / len(wanted)


# ---------------------------------------------------------------- verify
def _failure(claim: str, parsed: Any, window: _Window, evidence: str, passage: set[str],
             label: str, given: str, asked: set[str], policy: VerifierPolicy,
             context: str = "") -> tuple[str, str, str]:
    """The first check the window fails: (check, reason, who was reported); empty if none."""
    reason = _check_names(parsed, window, label, policy)
    if reason:
        return "names", reason, ""
    reason, dropped = _check_numbers(claim, parsed, window, evidence, label, policy)
    if reason:  # a dropped qualifier is named, so the claim can be given it back
        return ("qualifier", reason, dropped) if dropped else ("numbers", reason, "")
    echoed = {_key(t) for t in parse(given)} if given.strip() else set()
    reason = (_check_swaps(parsed, window, passage, echoed)
              or _check_roles(parsed, window, policy, context)
              or _check_identity(parsed, window, policy))
    if reason:
        return "roles", reason, ""
    reason = _check_polarity(parsed, window, policy)
    if reason:
        return "polarity", reason, ""
    scopes = _scopes(window, policy)  # the evidence's conditional, modal, attributed parts
    reason, source = _check_modality(parsed, window, asked, policy, scopes)
    if reason:
        return "modality", reason, source
    reason = _check_speaker(parsed, window, label, policy, scopes)
    return ("modality", reason, "") if reason else ("", "", "")


_SPEAKER_PRONOUNS = frozenset({"he", "she", "they", "we", "i"})


def _check_speaker(claim: Any, window: _Window, label: str, policy: VerifierPolicy,
                   scopes: Sequence[_Scope]) -> str:
    """The reason the claim has a named party say what the evidence does not have it say.

    "ByteDance said it was awaiting further approvals" against "... units for ByteDance
    ..., while other firms awaited further approvals, according to Reuters": the
    evidence reports it (Reuters), and ByteDance says nothing. A named speaker of the
    claim (the subject of a reporting verb) must be a speaker of the evidence (the
    subject of its reporting verb, or who "according to" names), stand in a window
    whose speaker is a pronoun ("he told journalists" after "Jensen Huang"), or be the
    report itself (its label).
    """
    speakers = [c for t in claim if t.pos_ == "VERB" and _lemma(t) in policy.reporting
                and _lemma(t) != "accord"
                for c in t.children if c.dep_ in ("nsubj", "nsubjpass")
                and (c.pos_ == "PROPN" or c.ent_type_ in ("ORG", "PERSON", "GPE", "NORP"))]
    if not speakers:
        return ""
    sources = [scope.source for scope in scopes if scope.kind == "attribution"]
    pronoun = any(t.lower_ in _SPEAKER_PRONOUNS and t.dep_ == "nsubj"
                  and _lemma(t.head) in policy.reporting for t in window.tokens)
    for speaker in speakers:
        name = _phrase(speaker)
        if _name_present(name, "", label, policy):
            continue
        if any(source and (_name_present(name, flat(source), "", policy)
                           or _name_present(source, flat(name), "", policy))
               for source in sources):
            continue
        if pronoun and _name_present(name, window.text, "", policy):
            continue
        return f"the claim has {name} say it; the evidence does not"
    return ""


@dataclass(frozen=True)
class _Prepared:
    """A claim and its evidence, analysed once; the windows by coverage, best first."""

    claim: str
    parsed: Any
    evidence: str
    passage: frozenset[str]
    label: str
    given: str
    asked: frozenset[str]
    policy: VerifierPolicy
    scored: tuple[tuple[float, _Window], ...]
    context: str = ""  # the headings the passage sits under, flattened
    label_keys: frozenset[str] = frozenset()  # the word keys of the label and headings
    question: frozenset[str] = frozenset()  # the word keys of the question's content words

    def echoed(self, window: _Window) -> list[str]:
        """The claim's words that ``window`` lacks, when they repeat the question's predicate.

        A claim that rewords its evidence brings words of its own. One whose main
        verb (or a verb joined to it) the evidence lacks while the question has it,
        and whose every other missing word is the question's too, puts the
        question's predicate over the evidence's names ("Founded by Ann Cao ..."
        from a byline, for "Who founded ...?"). Empty otherwise.
        """
        held = window.keys | self.label_keys
        missing = {k: w for k, w in _claim_words(self.parsed, window, self.policy).items()
                   if k not in held}
        predicate = {_key(v) for t in self.parsed if t.dep_ == "ROOT"
                     for v in (t, *(c for c in t.children if c.dep_ == "conj"))
                     if v.pos_ == "VERB"}
        if not predicate & set(missing) or not set(missing) <= self.question:
            return []
        return list(missing.values())

    def check(self, window: _Window, coverage: float) -> Verdict:
        """The names, numbers, roles, polarity and modality checks on one window."""
        check, reason, source = _failure(self.claim, self.parsed, window, self.evidence,
                                         set(self.passage), self.label, self.given,
                                         set(self.asked), self.policy, self.context)
        if not reason:
            return Verdict(True, "", window.spans, coverage)
        return Verdict(False, reason, window.spans, coverage, check, source)


def _prepare(claim: str, evidence: str, label: str, given: str,
             policy: VerifierPolicy, context: str = "") -> _Prepared | Verdict:
    """Parse the claim and the evidence, cut the evidence into windows, rank them.

    The ``context`` (headings) counts as part of the label.
    """
    label = " — ".join(p for p in (label, context) if p)
    claim = " ".join(claim.split())
    if not claim.strip(" .!?"):
        return Verdict(False, "the claim is empty", check="empty")
    parsed = parse(claim)
    doc = parse(evidence)
    label_flat = flat(label)
    label_keys = {_key(t) for t in parse(label)} if label else set()
    given_here = ""
    asked = _markers(parse(given), policy) if given else set()
    if given:  # the question's names and numbers the passage holds: they may stand for
        # "the chip" in the swap check, but never excuse a name or figure the quote lacks
        given_here = " ".join(n for n, _ in _names(parse(given), policy)
                              if _name_present(n, flat(evidence), label_flat, policy))
        given_here += " " + " ".join(given[n.start:n.end] for n in numbers(given, policy)
                                     if any(_same_number(n, m) for m in numbers(evidence, policy)))
    windows = _windows(evidence, doc, policy.window)
    if not windows:
        return Verdict(False, "the evidence is empty", check="empty")
    # best covered first; among equals, the one whose own words cover most (not the
    # label's), then the shorter, then the earlier
    ranked = sorted(((_coverage(parsed, w, label_keys, policy), _coverage(parsed, w, set(), policy),
                      -len(w.spans), -i) for i, w in enumerate(windows)), reverse=True)
    question = frozenset(_key(t) for t in parse(given) if _content(t)) if given else frozenset()
    return _Prepared(claim, parsed, evidence, frozenset(_key(t) for t in doc), label_flat,
                     given_here, frozenset(asked), policy,
                     tuple((c, windows[-i]) for c, _, _, i in ranked), flat(context),
                     frozenset(label_keys), question)


def verify(claim: str, evidence: str, *, label: str = "", given: str = "",
           similarity: Similarity | None = None,
           policy: VerifierPolicy = DEFAULT_POLICY, context: str = "") -> Verdict:
    """Whether ``evidence`` states ``claim`` (one sentence), and where.

    ``label`` is the report's title, outlet and authors: names and words the claim
    takes from it count as stated. ``given`` is the question: its words of
    modality are asked for, and its names may stand for the evidence's "the chip" in
    the swap check; every name and figure of the claim must still stand in the
    supporting window, so that the quote shown holds it.
    ``similarity`` (the embedding cosine of two texts) lets a claim that rewords the
    evidence pass the coverage check: fewer of its words, but close in meaning. The
    names, numbers, roles, polarity and modality checks apply all the same.
    ``context`` is the heading path the evidence sits under (below the title): its
    names and words count as stated, like the label's, and a name of it stands in
    every sentence of the evidence for the roles check (a definition's sentences
    do not repeat the term they define).
    """
    prepared = _prepare(claim, evidence, label, given, policy, context)
    if isinstance(prepared, Verdict):
        return prepared
    first_failure: Verdict | None = None
    reworded = 0
    covered_failed = False
    for coverage, window in prepared.scored:
        if coverage < policy.min_coverage:
            # a claim that has all its words in one window and fails a check there is
            # not a rewording: another window cannot rescue it ("gzip" for "zlib")
            if (similarity is None or coverage < policy.min_coverage_reworded
                    or reworded >= policy.reworded_windows or covered_failed):
                break
            reworded += 1
            window_text = " ".join(sp.text for sp in window.spans)
            close = similarity(prepared.claim, window_text)
            if close < policy.min_similarity:
                if first_failure is None:
                    first_failure = Verdict(
                        False, f"only {coverage:.0%} of the claim's words are in the evidence",
                        window.spans, coverage, "coverage")
                continue
            opposed = opposite_directions(prepared.claim, window_text, policy)
            if opposed:
                if first_failure is None:
                    first_failure = Verdict(
                        False, f"the claim says '{opposed[0]}' where the evidence says "
                               f"'{opposed[1]}'", window.spans, coverage, "direction")
                continue
            echoed = prepared.echoed(window)
            if echoed:
                if first_failure is None:
                    first_failure = Verdict(
                        False, f"the words the evidence lacks ({', '.join(echoed)}) are the "
                               "question's: the claim repeats the question, not the evidence",
                        window.spans, coverage, "echo")
                continue
        verdict = prepared.check(window, coverage)
        if verdict.supported:
            return verdict
        covered_failed = covered_failed or coverage >= policy.min_coverage
        if first_failure is None:
            first_failure = verdict
    if first_failure is None:
        coverage, window = prepared.scored[0]
        first_failure = Verdict(False, f"only {coverage:.0%} of the claim's words are in the "
                                "evidence", window.spans, coverage, "coverage")
    return first_failure


def profile(claim: str, evidence: str, similarity: Similarity | None,
            policy: VerifierPolicy = DEFAULT_POLICY
            ) -> list[tuple[float, float | None, bool]]:
    """Each window's (coverage, similarity, passes the other checks), best-covered first.

    For fitting the thresholds: :func:`verify` keeps the first window that passes
    the other checks and has the coverage, or the similarity for one of the
    ``policy.reworded_windows`` best-covered windows below that coverage. Similarity
    is computed for those windows only (``None`` elsewhere).
    """
    prepared = _prepare(claim, evidence, "", "", policy)
    if isinstance(prepared, Verdict):
        return []
    out: list[tuple[float, float | None, bool]] = []
    for n, (coverage, window) in enumerate(prepared.scored):
        close = (similarity(prepared.claim, " ".join(sp.text for sp in window.spans))
                 if similarity is not None and n < 2 * policy.reworded_windows else None)
        out.append((coverage, close, prepared.check(window, coverage).supported))
    return out


def decide(windows: Sequence[tuple[float, float | None, bool]],
           policy: VerifierPolicy = DEFAULT_POLICY) -> bool:
    """What :func:`verify` decides from a claim's :func:`profile`, for other thresholds.

    The same walk as :func:`verify`: the first window that passes the other checks
    with the coverage, or, among the ``policy.reworded_windows`` best-covered windows
    below it, with the similarity (unless a fully covered window failed a check).
    """
    tried = 0
    failed = False
    for coverage, close, ok in windows:
        if coverage >= policy.min_coverage:
            if ok:
                return True
            failed = True
            continue
        if (coverage < policy.min_coverage_reworded or tried >= policy.reworded_windows
                or failed):
            return False
        tried += 1
        if close is not None and close >= policy.min_similarity and ok:
            return True
    return False
