"""Triage finds words in one pass over the text (triage.PhraseIndex): it must choose exactly as looking
up every run of words (protocol.runs_of_words) in every category did, on any text and any rules."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from cmday.models import CategoryRule, CrisisRule
from cmday.protocol import _TOKEN, Category, PhraseMatcher, Protocol, fold, runs_of_words, words_of
from cmday.triage import _STOPWORDS, PhraseIndex, Triage, detect_language

# A small vocabulary so that random rules and random texts meet often: accents, case, an apostrophe,
# digits and a word that contains another ("cold" in "scolded") are where the two ways could differ.
VOCABULARY = ["café", "Cafe", "no", "funciona", "cold", "scolded", "refund", "doesn't", "work", "x2", "año", "ano", "ÑU"]
SEPARATORS = [" ", "  ", ", ", "-", "¿", "!", "\n", "'"]

words = st.sampled_from(VOCABULARY)
phrases = st.lists(words, min_size=1, max_size=4).map(" ".join)
texts = st.lists(st.tuples(words, st.sampled_from(SEPARATORS)), max_size=25).map(lambda parts: "".join(w + s for w, s in parts))
categories = st.lists(st.lists(phrases, max_size=6), min_size=1, max_size=5)
# ASCII only (triage cuts it another way): digits, `_` and punctuation glued to words, a phrase at the very start or end.
ASCII_VOCABULARY = ["refund", "Refund", "no", "work", "doesn't", "x2", "2", "_", "a_b", "cold", "scolded", "the", "and", "hi2u"]
ASCII_SEPARATORS = ["", " ", "  ", ", ", "-", "!", "\n", "\t", "'", "_", "3", ".", "\x1f", "\x7f"]
ascii_words = st.sampled_from(ASCII_VOCABULARY)
ascii_phrases = st.lists(ascii_words, min_size=1, max_size=3).map(" ".join)
ascii_texts = st.lists(st.tuples(ascii_words, st.sampled_from(ASCII_SEPARATORS)), max_size=25).map(lambda parts: "".join(w + s for w, s in parts))
ascii_categories = st.lists(st.lists(ascii_phrases, max_size=6), min_size=1, max_size=5)


def reference_choice(protocol: Protocol, urgent: PhraseMatcher, text: str) -> tuple[str, str, str]:
    """How triage chose before PhraseIndex: every run of up to the longest phrase's words, per matcher."""
    folded = fold(text)
    grams = runs_of_words(folded, max(protocol.longest_phrase, urgent.longest))
    chosen, matched = protocol.category("mention") or protocol.categories[-1], ""
    for category in protocol.categories:
        found = category.matcher.search(folded, grams)
        if found:
            chosen, matched = category, found
            break
    return chosen.name, matched, urgent.search(folded, grams) or ""


@settings(max_examples=300, deadline=None)
@given(categories, st.lists(phrases, max_size=3), texts)
def test_one_pass_chooses_the_category_and_words_the_runs_of_words_chose(rules, urgent_words, text):
    protocol = Protocol(
        crisis=CrisisRule(),
        categories=[Category(f"c{index}", CategoryRule(words=words)) for index, words in enumerate(rules)],
    )
    urgent = PhraseMatcher(urgent_words)
    triage = Triage(protocol=protocol, urgent_words=urgent)
    explained = triage.explain(text)
    assert (explained.category, explained.matched, explained.urgent_word) == reference_choice(protocol, urgent, text)


@settings(max_examples=300, deadline=None)
@given(ascii_categories, st.lists(ascii_phrases, max_size=3), ascii_texts)
@example([["refund now"], ["x2 the"]], ["hi2u"], "x2 the refund_3")
def test_one_pass_chooses_as_the_runs_of_words_did_on_ascii_text(rules, urgent_words, text):
    protocol = Protocol(
        crisis=CrisisRule(),
        categories=[Category(f"c{index}", CategoryRule(words=words)) for index, words in enumerate(rules)],
    )
    urgent = PhraseMatcher(urgent_words)
    explained = Triage(protocol=protocol, urgent_words=urgent).explain(text)
    assert (explained.category, explained.matched, explained.urgent_word) == reference_choice(protocol, urgent, text)


@settings(max_examples=300)
@given(st.lists(ascii_phrases, max_size=8), ascii_texts)
@example(["refund"], "refund")
@example(["no work", "work 2"], "no work")  # a phrase that is the whole text, one that is cut off at its end
@example(["doesn t work"], "doesn't work!")
@example(["2 the", "the x"], "2 x2 the x2 x")  # the words a phrase starts or ends with, inside longer words
def test_the_index_finds_the_phrases_among_the_runs_of_words_in_ascii_text(words, text):
    matcher = PhraseMatcher(words)
    folded = fold(text)
    assert PhraseIndex([matcher]).found(folded) == matcher.phrases & runs_of_words(folded, matcher.longest)


@given(st.lists(phrases, max_size=8), texts)
def test_the_index_finds_the_phrases_among_the_runs_of_words(words, text):
    matcher = PhraseMatcher(words)
    folded = fold(text)
    assert PhraseIndex([matcher]).found(folded) == matcher.phrases & runs_of_words(folded, matcher.longest)


# Stopwords, and what sits on a run of letters' edge: digits, `_`, `²` (a word character that is neither letter nor digit)
pieces = st.sampled_from(list("abdln2_²ÑÉé¿?,-'\n ") + ["the", "el", "la", "and", "de", "thanks", "gracias"])


ascii_pieces = st.sampled_from(list("abdln2_?,-'\n\x1f ") + ["the", "el", "la", "and", "de", "thanks", "gracias"])


def reference_language(text: str) -> str | None:
    """detect_language as it was written first: letters found by a regular expression, scores in a dict."""
    words = re.findall(r"[^\W\d_]+", fold(text))
    scores = {language: sum(map(stop.__contains__, words)) for language, stop in _STOPWORDS.items()}
    best = max(scores, key=scores.get)
    others = [v for k, v in scores.items() if k != best]
    return best if scores[best] >= 2 and scores[best] > max(others) else None


@settings(max_examples=300)
@given(st.lists(pieces | ascii_pieces, max_size=30).map("".join))
@example("the2 and_x gracias")  # stopwords glued to a digit or an underscore still count
@example("el la the and")  # a tie is no language
@example("the and")
def test_the_language_read_from_the_words_is_the_language_read_from_the_text(text):
    folded = fold(text)
    expected = reference_language(text)
    assert detect_language(text, folded, _TOKEN.findall(folded)) == expected
    assert detect_language(text, folded, words_of(folded)) == expected
    assert detect_language(text) == expected


ascii_texts = st.text(alphabet=st.characters(max_codepoint=127), max_size=60)


@given(st.one_of(ascii_texts, st.text(max_size=60)))
@example("doesn't\x1fwork\x0bx_2 ,no-fun")  # separators str.split also splits on, an underscore, a digit
@example("Intoxicación  a_b\u00a0c")
def test_words_are_cut_exactly_as_the_word_pattern_cuts_them(text):
    assert words_of(text) == _TOKEN.findall(text)
    assert words_of(fold(text)) == _TOKEN.findall(fold(text))
