"""Pretrained vision-language students (``teachgym.students.hf_vlm``) on tiny real Idefics3 and PaliGemma
models with real processors, built offline and loaded the way a user's model directory is."""

from __future__ import annotations

import json
import os
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import (
    AutoModelForImageTextToText,
    AutoProcessor,
    GemmaConfig,
    Idefics3Config,
    Idefics3ForConditionalGeneration,
    Idefics3ImageProcessor,
    Idefics3Processor,
    LlamaConfig,
    PaliGemmaConfig,
    PaliGemmaForConditionalGeneration,
    PaliGemmaProcessor,
    PreTrainedTokenizerFast,
    SiglipImageProcessor,
    SiglipVisionConfig,
)
from transformers.models.idefics3.configuration_idefics3 import Idefics3VisionConfig
from transformers.utils import logging as hf_logging

import teachgym  # noqa: F401  (registers the envs)
from teachgym.envs.math import STUDENT_KEYS
from teachgym.students.hf_vlm import (
    VLM_STUDENT_KEYS,
    HFVisionLanguageStudent,
    VLMRows,
    check_vlm_student,
    make_hf_vlm_student,
)
from teachgym.students.vlm import vqa_vocabulary
from teachgym.tasks.vqa import VQATask, picture
from teachgym.types import Batch, Example, Student

assert os.environ.get("HF_HUB_OFFLINE") == "1"  # set by conftest before any import: nothing may reach a hub

# SmolVLM's chat template (a user turn of the image and the question, then "Assistant:")
SMOLVLM_TEMPLATE = (
    "<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}{% if message['content'][0]['type'] "
    "== 'image' %}{{':'}}{% else %}{{': '}}{% endif %}{% for line in message['content'] %}{% if line['type'] == "
    "'text' %}{{line['text']}}{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}"
    "<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)
TILE = 32  # the tiny vision encoders read 32 x 32 images (VQA's 64 x 64 pictures are resized)
IMAGE_TOKENS = 4  # (32 / 8) ** 2 patches, merged 2 x 2 by Idefics3's connector


def word_tokenizer(specials: list[str], extra_words: tuple[str, ...] = ()) -> tuple[PreTrainedTokenizerFast, dict]:
    """A word-level tokenizer over the VQA vocabulary (``?`` a word of its own) with ``specials`` first."""
    vocab = {w: i for i, w in enumerate([*specials, *vqa_vocabulary(), *extra_words])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split("?", "isolated")]
    )
    return tok, vocab


def build_idefics3(directory: Path) -> Path:
    """A tiny Idefics3 (SmolVLM's architecture) and its processor, whose image processor tiles images by
    default as SmolVLM's does (a 64 x 64 picture: 2 x 2 tiles of 32 plus a global view)."""
    grid = [f"<row_{i}_col_{j}>" for i in range(1, 7) for j in range(1, 7)]
    specials = ["<pad>", "<unk>", "<|im_start|>", "<end_of_utterance>", "<image>", "<fake_token_around_image>"]
    specials += ["<global-img>", *grid]
    tok, vocab = word_tokenizer(specials, ("User:", "Assistant:"))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<end_of_utterance>",
        pad_token="<pad>",
        unk_token="<unk>",
        additional_special_tokens=specials[2:],
    )
    images = Idefics3ImageProcessor(
        do_image_splitting=True, size={"longest_edge": 2 * TILE}, max_image_size={"longest_edge": TILE}
    )
    processor = Idefics3Processor(images, tokenizer, image_seq_len=IMAGE_TOKENS, chat_template=SMOLVLM_TEMPLATE)
    vision = Idefics3VisionConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, image_size=TILE, patch_size=8
    )
    text = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=48,
        intermediate_size=96,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=256,
        tie_word_embeddings=True,
        pad_token_id=vocab["<pad>"],
        eos_token_id=vocab["<end_of_utterance>"],
    )
    config = Idefics3Config(
        vision_config=vision,
        text_config=text,
        scale_factor=2,
        image_token_id=vocab["<image>"],
        tie_word_embeddings=True,
        pad_token_id=vocab["<pad>"],
    )
    torch.manual_seed(0)
    Idefics3ForConditionalGeneration(config).save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory


def build_paligemma(directory: Path) -> Path:
    """A tiny PaliGemma (SigLIP encoder, Gemma decoder) and its processor: no chat template; the prompt is a
    bidirectional prefix and the answer a causal suffix (``token_type_ids``)."""
    specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<image>"]
    tok, vocab = word_tokenizer(specials)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<bos>",
        eos_token="<eos>",
        pad_token="<pad>",
        unk_token="<unk>",
        additional_special_tokens=["<image>"],
    )
    images = SiglipImageProcessor(size={"height": TILE, "width": TILE}, image_seq_length=16)
    processor = PaliGemmaProcessor(images, tokenizer)
    vision = SiglipVisionConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, image_size=TILE, patch_size=8
    )
    text = GemmaConfig(
        vocab_size=len(processor.tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=1,
        head_dim=8,
        max_position_embeddings=256,
        pad_token_id=vocab["<pad>"],
        eos_token_id=vocab["<eos>"],
        bos_token_id=vocab["<bos>"],
    )
    config = PaliGemmaConfig(vision_config=vision, text_config=text, image_token_id=vocab["<image>"], projection_dim=32)
    torch.manual_seed(0)
    PaliGemmaForConditionalGeneration(config).save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def tiny_vlm(tmp_path_factory) -> str:
    hf_logging.disable_progress_bar()
    return str(build_idefics3(tmp_path_factory.mktemp("tiny-idefics3")))


@pytest.fixture(scope="module")
def tiny_paligemma(tmp_path_factory) -> str:
    hf_logging.disable_progress_bar()
    return str(build_paligemma(tmp_path_factory.mktemp("tiny-paligemma")))


def vqa(skill: str = "colour", n: int = 32, seed: int = 0) -> list[Example]:
    return VQATask().generate(skill, 0, n, np.random.default_rng(seed))


def student(path: str, **kwargs) -> HFVisionLanguageStudent:
    return HFVisionLanguageStudent(path, image_of=picture, **{"lr": 3e-3, "batch_size": 16, **kwargs})


def trained(path: str, data: list[Example], epochs: int = 15, **kwargs) -> HFVisionLanguageStudent:
    s = student(path, **kwargs)
    s.reset(0)
    for _ in range(epochs):
        s.train(data)
    return s


def decoded_right(s: HFVisionLanguageStudent, items: list[Example]) -> np.ndarray:
    outputs = s.generate([e.prompt for e in items], payloads=[e.payload for e in items])
    return np.array([o == e.answer for o, e in zip(outputs, items, strict=True)])


def test_rows_are_the_processors_prompt_then_the_answer_and_eos(tiny_vlm):
    s = student(tiny_vlm)
    assert isinstance(s, Student) and s.chat_template
    assert s.processor_kwargs == {"do_image_splitting": False, "size": {"longest_edge": TILE}}  # untiled
    items = vqa(n=4) + vqa("position", n=2)
    batch = s.encode(items)
    assert isinstance(batch, Batch) and isinstance(batch, VLMRows)
    tok = s.tokenizer
    for i, e in enumerate(items):
        n = int(batch.attention[i].sum())
        row, mask = batch.ids[i, :n].tolist(), batch.mask[i, :n].tolist()
        answer = [*tok(e.answer, add_special_tokens=False)["input_ids"], s.eos]
        head = row[: n - len(answer)]
        assert row[len(head) :] == answer and mask == [0.0] * len(head) + [1.0] * len(answer)
        words = tok.convert_ids_to_tokens(head)
        assert words[:2] == ["<|im_start|>", "User:"] and words[-2:] == ["<end_of_utterance>", "Assistant:"]
        assert words.count("<image>") == IMAGE_TOKENS  # one untiled image: the default for a tiling processor
        assert tok.decode(head).endswith(f"{e.prompt.replace('?', ' ?')} <end_of_utterance> Assistant:")
    assert batch.ids[0, int(batch.attention[0].sum()) :].eq(s.pad).all()  # right padding
    both = VLMRows.cat([batch.take([3, 0]), batch.take([5])])
    assert both.prompts == [items[3].prompt, items[0].prompt, items[5].prompt] and len(both.images) == 3
    assert torch.equal(both.ids[2, : batch.ids.shape[1]], batch.ids[5])
    plain = student(tiny_vlm, chat_template=False).encode(items[:1])
    words = tok.convert_ids_to_tokens(plain.ids[0])
    assert words[0] == "<fake_token_around_image>" and words[-8:-2] == ["what", "colour", "is", "the", "object", "?"]


def test_training_lowers_the_loss_on_the_examples_trained_on(tiny_vlm):
    s = student(tiny_vlm)
    data = vqa()
    s.reset(0)
    before = s.evaluate(data)[1].mean()
    stats = [s.train(data) for _ in range(8)]
    after = s.evaluate(data)[1].mean()
    assert all(st.updates == 2 and st.examples == 32 for st in stats) and s.updates == 16
    assert np.isfinite(stats[-1].row_loss).all() and stats[-1].row_loss.shape == (32,)
    assert after < 0.5 * before, (before, after)


def test_teacher_forced_right_implies_greedy_generation_gives_the_gold_answer(tiny_vlm):
    data = vqa(n=16) + vqa("position", n=16)
    s = trained(tiny_vlm, data)
    probe = data + vqa(n=16, seed=1) + vqa("position", n=16, seed=1)
    right, loss = s.evaluate(probe)
    decoded = decoded_right(s, probe)
    assert 0 < right.sum() < len(probe) and np.isfinite(loss).all()  # the sample has both outcomes
    assert not (right & ~decoded).any()  # teacher-forced right => greedy right (provably)
    assert (right == decoded).mean() >= 0.95  # and in practice they agree
    s.evaluation = "generate"
    assert (s.evaluate(probe)[0] == decoded).all()


def test_the_processors_own_tiling_gives_rows_of_several_images(tiny_vlm):
    s = student(tiny_vlm, processor_kwargs={})
    batch = s.encode(vqa(n=2))
    words = s.tokenizer.convert_ids_to_tokens(batch.ids[0])
    assert words.count("<image>") == 5 * IMAGE_TOKENS and "<row_2_col_2>" in words  # 2 x 2 tiles + global
    assert s._pixel_inputs(batch.images, s.device, s.pixel_keys)["pixel_values"].shape == (2, 5, 3, TILE, TILE)
    data = vqa(n=16)
    s.reset(0)
    for _ in range(6):
        s.train(data)
    right, _ = s.evaluate(data)
    assert not (right & ~decoded_right(s, data)).any()


def test_a_row_of_weight_zero_has_no_influence(tiny_vlm):
    data = vqa(n=16)
    wrong = [Example(e.skill, 0, e.prompt, "red" if e.answer != "red" else "blue", payload=e.payload) for e in data]
    weight = np.r_[np.ones(8), np.zeros(8)]
    after = []
    for items in (data, data[:8] + wrong[8:]):  # the same rows, the weight-0 ones with other answers
        s = student(tiny_vlm)  # batch_size 16: one update
        s.reset(0)
        s.train(s.encode(items, weight=weight))
        after.append([p.detach().clone() for p in s.model.parameters()])
    assert all(torch.equal(p, q) for p, q in zip(*after, strict=True))


def test_state_round_trip_continues_bit_identically(tiny_vlm):
    s = student(tiny_vlm, lora={"r": 4, "dropout": 0.1}, lr=1e-2, batch_size=8)
    s.reset(3)
    s.train(vqa())
    saved = s.get_state()

    def run() -> tuple:
        stats = s.train(vqa(seed=2))
        weights = [p.detach().clone() for p in s.model.parameters()]
        return stats.loss, stats.row_loss, s.evaluate(vqa(seed=5))[1], weights

    first = run()
    s.set_state(saved)
    again = run()
    assert first[0] == again[0] and np.array_equal(first[1], again[1]) and np.array_equal(first[2], again[2])
    assert all(torch.equal(p, q) for p, q in zip(first[3], again[3], strict=True))
    s.reset(3)  # back to the base: the adapter's initial weights and a fresh optimizer
    assert s.updates == 0 and not s.optimizer.state
    assert all(torch.equal(s.base_state[n], p) for n, p in s.model.named_parameters() if p.requires_grad)


def test_lora_trains_only_the_adapter_on_the_text_models_attention(tiny_vlm):
    s = student(tiny_vlm, lora={"r": 4, "alpha": 8}, lr=1e-2)
    base = {n: p.detach().clone() for n, p in s.model.named_parameters() if not p.requires_grad}
    adapter = {n: p.detach().clone() for n, p in s.model.named_parameters() if p.requires_grad}
    assert adapter and all("lora_" in n and ".text_model." in n and "_proj." in n for n in adapter)
    assert {n.split(".")[-4] for n in adapter} == {"q_proj", "k_proj", "v_proj", "o_proj"}
    assert {id(p) for g in s.optimizer.param_groups for p in g["params"]} == {
        id(p) for p in s.model.parameters() if p.requires_grad
    }
    s.reset(0)
    s.train(vqa())
    after = dict(s.model.named_parameters())
    assert all(torch.equal(after[n], v) for n, v in base.items())
    assert any(not torch.equal(after[n], v) for n, v in adapter.items())
    assert s.num_trainable < s.num_params / 4


def test_gradient_accumulation_matches_one_big_batch(tiny_vlm):
    a, b = student(tiny_vlm), student(tiny_vlm, micro_batch_size=4)
    stats = []
    for s in (a, b):
        s.reset(0)
        stats.append(s.train(vqa()))
    assert stats[0].loss == pytest.approx(stats[1].loss, rel=1e-5)
    np.testing.assert_allclose(stats[0].row_loss, stats[1].row_loss, rtol=1e-5)
    for (n, p), (_, q) in zip(a.model.named_parameters(), b.model.named_parameters(), strict=True):
        assert torch.allclose(p, q, atol=1e-5), n


@pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing` is deprecated:FutureWarning")  # inside peft
def test_save_pretrained_loads_back_in_plain_transformers(tiny_vlm, tmp_path):
    s = student(tiny_vlm, lora={"r": 4}, lr=1e-2)
    s.reset(0)
    s.train(vqa())
    items = vqa(n=4, seed=1)
    batch = s.encode(items)
    inputs = {"input_ids": batch.ids, "attention_mask": batch.attention}
    inputs |= s._pixel_inputs(batch.images, s.device, s.pixel_keys)
    s.model.eval()
    with torch.no_grad():
        want = s.model(**inputs).logits
        merged = s.save_pretrained(tmp_path / "merged")
        got = AutoModelForImageTextToText.from_pretrained(merged)(**inputs).logits
        from peft import PeftModel

        adapter = s.save_pretrained(tmp_path / "adapter", merge=False)
        base = AutoModelForImageTextToText.from_pretrained(tiny_vlm)
        got_adapter = PeftModel.from_pretrained(base, adapter)(**inputs).logits
    assert torch.allclose(want, got, atol=1e-5) and torch.allclose(want, got_adapter, atol=1e-5)
    reloaded = HFVisionLanguageStudent(str(merged), image_of=picture)  # its processor was written beside it
    assert torch.equal(reloaded.encode(items).ids, batch.ids)
    assert np.array_equal(reloaded.evaluate(items)[1], s.evaluate(items)[1])
    assert AutoProcessor.from_pretrained(merged).chat_template == SMOLVLM_TEMPLATE


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # PaliGemma's processor
def test_paligemma_answers_are_its_causal_suffix(tiny_paligemma):
    data = vqa(n=16) + vqa("position", n=16)
    s = trained(tiny_paligemma, data, epochs=30)
    assert not s.chat_template and s.pixel_keys == ["pixel_values"]
    batch = s.encode(data[:1])
    types, mask = batch.types["token_type_ids"][0], batch.mask[0]
    assert torch.equal(types, (mask > 0).long())  # prefix 0 (bidirectional), answer and EOS 1 (causal)
    probe = data + vqa(n=16, seed=1)
    right, _ = s.evaluate(probe)
    assert right.sum() > 0 and not (right & ~decoded_right(s, probe)).any()


def test_the_spec_wires_into_a_vqa_env(tiny_vlm):
    assert set(VLM_STUDENT_KEYS) <= set(STUDENT_KEYS)  # MathFamilyEnv's check_student accepts a VLM spec
    kwargs = {"horizon": 2, "examples_per_step": 16, "eval_per_level": 2}
    student = {"model": str(tiny_vlm), "lora": {"r": 4}, "lr": 1e-2}
    env = gym.make("TeachGym/VQA-v0", student=student, render_mode="rgb_array", **kwargs).unwrapped
    assert isinstance(env.student, HFVisionLanguageStudent) and env.student.lr == 1e-2
    check_env(env, skip_render_check=True)
    env.reset(seed=0)
    obs, reward, *_, info = env.step(env.action_space.sample())
    assert np.isfinite(reward) and env.observation_space.contains(obs) and info["updates"] >= 1
    assert env.render().shape[1] == 640  # the step's images with the pretrained student's answers
    written = gym.make("TeachGym/VQAOpenEnded-v0", student=str(tiny_vlm), **kwargs)
    written.reset(seed=0)
    written.action_space.seed(0)
    info = written.step(written.action_space.sample())[4]
    assert info["accepted"] >= 1 and info["updates"] >= 1


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # PaliGemma's processor
def test_bad_specs_and_inputs_give_clear_errors(tiny_vlm, tiny_paligemma, tmp_path):
    assert check_vlm_student(None) is None
    assert check_vlm_student(tiny_vlm) == {"model": tiny_vlm}
    spec = {"model": tiny_vlm, "lora": {"r": 8}, "micro_batch_size": None, "device": "cuda:1"}
    assert check_vlm_student(spec) == spec
    text_only = tmp_path / "text-only"
    text_only.mkdir()
    (text_only / "config.json").write_text(json.dumps({"model_type": "llama"}))
    no_processor = tmp_path / "no-processor"
    no_processor.mkdir()
    (no_processor / "config.json").write_text(json.dumps({"model_type": "idefics3", "vision_config": {}}))
    bad = [
        ({"model": tiny_vlm, "rank": 4}, "keys from"),
        ({"lora": {"r": 4}}, "keys from"),
        (42, "a vision-language model"),
        ("smollm2-135m", "text-only causal LM"),
        (str(tmp_path / "m.gguf"), "text-only causal LM"),
        (str(tmp_path / "no-such-dir"), "neither a model directory"),
        (str(text_only), "no vision_config"),
        (str(no_processor), "processor_config.json"),
        ({"model": tiny_vlm, "lora": {"r": 0}}, "lora r"),
        ({"model": tiny_vlm, "lora": {"rank": 4}}, "lora must be"),
        ({"model": tiny_vlm, "lr": 0}, "lr must be a positive"),
        ({"model": tiny_vlm, "batch_size": 2.5}, "batch_size must be a positive integer"),
        ({"model": tiny_vlm, "device": "gpu"}, "device must be"),
        ({"model": tiny_vlm, "precision": "fp16"}, "precision must be one of"),
        ({"model": tiny_vlm, "evaluation": "exact"}, "evaluation must be one of"),
    ]
    for value, message in bad:
        with pytest.raises(ValueError, match=message):
            check_vlm_student(value)
    with pytest.raises(ValueError, match="needs a student spec"):
        make_hf_vlm_student(None, image_of=picture, lr=1e-3, batch_size=8, warmup=0, device="cpu", precision="fp32")
    s = student(tiny_vlm)
    e = vqa(n=1)[0]
    with pytest.raises(ValueError, match=r"example 0: its payload gives no image.*got AttributeError"):
        s.encode([Example("colour", 0, e.prompt, e.answer, payload="not a scene")])
    with pytest.raises(ValueError, match="one payload"):
        s.generate([e.prompt])
    with pytest.raises(ValueError, match="does not support distillation"):
        s.encode([e], kd_weight=0.5)
    with pytest.raises(ValueError, match="no chat template"):
        HFVisionLanguageStudent(tiny_paligemma, chat_template=True)


@pytest.mark.gpu
def test_bf16_lora_with_gradient_accumulation_on_a_gpu(tiny_vlm):
    data = vqa(n=16) + vqa("position", n=16)
    s = trained(tiny_vlm, data, lora={"r": 4}, device="cuda", precision="bf16", micro_batch_size=4, lr=1e-2)
    assert s.updates == 30 and all(p.dtype == torch.float32 for p in s.trainable_parameters())
    right, loss = s.evaluate(data)
    assert right.shape == loss.shape == (32,) and np.isfinite(loss).all()
    assert not (right & ~decoded_right(s, data)).any()
