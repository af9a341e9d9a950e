"""The DP text generator on real clinical text: its planned cost and Opacus's accountant
agree, the vocabulary is fixed before any document is read, training moves the weights,
sampling spends nothing and saved weights sample the same."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from privsynth.dp.accounting import PrivacyFilter
from privsynth.dp.accounting import costs as cost_of
from privsynth.dp.mechanisms import Mechanisms
from privsynth.dp.noise import NoiseSource
from privsynth.errors import ConfigurationError
from privsynth.text.generator import TextGenerator, model_factory
from privsynth.text.vocabulary import PublicVocabulary

DATA = Path(__file__).parents[2] / "data" / "mtsamples_sample.csv"
TINY = {"dim": 32, "layers": 1, "heads": 2, "context": 48, "vocabulary_size": 2000}
#: the public list of conditions (the specialties of the sample; a schema would list them)
SPACE = [
    f"medical specialty: {s}"
    for s in ("Radiology", "SOAP / Chart / Progress Notes", "Surgery", "Urology")
]


@pytest.fixture(scope="module")
def notes() -> pd.DataFrame:
    frame = pd.read_csv(DATA).dropna(subset=["transcription"])
    return frame.head(60).reset_index(drop=True)


def _fit(
    notes: pd.DataFrame, epsilon: float = 4.0, epochs: float = 2
) -> tuple[TextGenerator, PrivacyFilter]:
    generator = TextGenerator(model_options=TINY, epochs=epochs, sample_rate=0.25, lr=1e-2)
    planned = generator.planned_cost(epsilon, 1e-5, cost_of.zero_cost())
    budget = PrivacyFilter(planned)
    mechanisms = Mechanisms(budget, NoiseSource(None))
    labels = [f"medical specialty: {s}" for s in notes.medical_specialty]
    generator.fit(list(notes.transcription), labels, mechanisms, condition_space=SPACE)
    return generator, budget


@pytest.fixture(scope="module")
def fitted(notes: pd.DataFrame) -> tuple[TextGenerator, PrivacyFilter]:
    return _fit(notes)


def test_the_vocabulary_is_public_and_holds_every_placeholder() -> None:
    vocabulary = PublicVocabulary.build(size=2000)
    again = PublicVocabulary.build(size=2000)
    assert vocabulary.tokens == again.tokens  # no input: nothing private can shape it
    assert "<PERSON_1>" in vocabulary.tokens and "<DATE_9>" in vocabulary.tokens
    tokenizer = vocabulary.tokenizer()
    ids = tokenizer.encode("Seen by Dr. <PERSON_1> on <DATE_2> for cholecystitis.")
    text = tokenizer.decode(ids)
    assert "<PERSON_1>" in text and "<DATE_2>" in text
    assert text.startswith("Seen by dr")  # lower-case vocabulary, sentences capitalised


def test_planned_cost_is_the_run_budget_and_opacus_agrees(
    fitted: tuple[TextGenerator, PrivacyFilter],
) -> None:
    generator, budget = fitted
    spent = budget.accountant.total().epsilon(1e-5)
    assert spent <= 4.0 + 1e-6
    assert spent > 3.9  # the whole budget is used, not a fraction
    training = [s for s in budget.accountant.history if s.purpose == "text: DP-SGD training"]
    alone = training[0].cost.epsilon(1e-5)
    assert generator.opacus_epsilon is not None
    assert math.isclose(alone, generator.opacus_epsilon, rel_tol=0.03)
    assert generator.steps == 8  # ceil(epochs / sample_rate): public, not data-derived


def test_training_changes_weights_and_sampling_spends_nothing(
    fitted: tuple[TextGenerator, PrivacyFilter],
) -> None:
    untrained = TextGenerator(model_options=TINY).build_model().trainable_state()
    generator, budget = fitted
    assert generator._model is not None
    trained = generator._model.trainable_state()
    assert any(not np.allclose(untrained[k], trained[k]) for k in untrained)
    before = len(budget.accountant.history)
    texts = generator.sample(["medical specialty: Radiology"] * 3, np.random.default_rng(0))
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts)
    assert len(budget.accountant.history) == before


def test_each_condition_gets_a_control_code(
    fitted: tuple[TextGenerator, PrivacyFilter],
) -> None:
    generator, _ = fitted
    model = generator._model
    assert model is not None
    prompt = model.prompt("medical specialty: Urology")
    assert len(prompt) == 3 and prompt[1] >= len(model.vocabulary)  # type: ignore[attr-defined]
    assert model.prompt("medical specialty: Cardiology")[1] < len(model.vocabulary)  # type: ignore[attr-defined]
    state = model.trainable_state()
    assert state["control_out.weight"].shape == (len(SPACE) + 1, 128)
    assert np.abs(state["control_out.weight"][SPACE.index("medical specialty: Urology")]).sum() > 0


def test_saved_weights_sample_the_same(fitted: tuple[TextGenerator, PrivacyFilter]) -> None:
    generator, _ = fitted
    state = generator.state_dict()
    loaded = TextGenerator.from_state_dict(state)
    prompts = ["medical specialty: Surgery"] * 4
    first = generator.sample(prompts, np.random.default_rng(3))
    again = loaded.sample(prompts, np.random.default_rng(3))
    assert first == again
    assert loaded.estimated_documents == generator.estimated_documents


def test_log_likelihood_is_the_sum_of_the_documents_token_log_probabilities(
    fitted: tuple[TextGenerator, PrivacyFilter],
) -> None:
    import torch

    generator, _ = fitted
    model = generator._model
    assert model is not None
    text, condition = "The patient is a 45-year-old female with abdominal pain.", SPACE[2]
    (found,) = generator.log_likelihood([text], [condition])
    prompt, body = model.prompt(condition), model.encode([text])[0]
    ids = torch.tensor([prompt + body + [model.special_ids[1]]])
    with torch.no_grad():
        logits = model.module(ids[:, :-1]).log_softmax(-1)[0]
    expected = sum(
        float(logits[i, ids[0, i + 1]]) for i in range(len(prompt) - 1, ids.shape[1] - 1)
    )
    assert math.isfinite(found)
    assert found == pytest.approx(expected, rel=1e-4)
    other = generator.log_likelihood([text + " " + text], [condition])[0]
    assert other != pytest.approx(found)  # a different text scores differently


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"epochs": 0}, "epochs"),
        ({"sample_rate": 1.5}, "sample_rate"),
        ({"device": "tpu"}, "device"),
        ({"model": "gpt-7"}, "unknown text model"),
        ({"top_p": 0}, "top_p"),
    ],
)
def test_bad_options_are_refused_before_anything_runs(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        TextGenerator(**options)  # type: ignore[arg-type]


def test_a_bad_model_option_fails_when_the_model_is_built() -> None:
    with pytest.raises(ConfigurationError, match="dim"):
        TextGenerator(model_options={"dim": 30, "heads": 4}).prepare()


def test_a_folder_names_a_local_hugging_face_model() -> None:
    assert model_factory("./models/my-lm") == ("hf", {"path": "./models/my-lm"})
    assert model_factory("small") == ("small", {})
