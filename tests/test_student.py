"""The tiny student: teacher-forced exact match equals real greedy generation; training is real."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from teachgym.envs.checkpoints import MATH_BASE
from teachgym.students.causal_lm import CausalLMStudent, Encoded, checkpoint_config
from teachgym.students.tokenizer import BOS, EOS, decode, encode, encode_batch
from teachgym.tasks.math import MathTask


@pytest.fixture(scope="module")
def student():
    return CausalLMStudent(checkpoint_config(MATH_BASE), MATH_BASE)


def test_tokenizer_roundtrip_and_mask():
    ids, mask = encode_batch(["12+3=", "s(45)="], ["15", "9"])
    assert ids[0, 0] == BOS and decode(ids[0, 1:6]) == "12+3="
    assert mask[0].tolist()[6:9] == [1, 1, 1] and mask[1].tolist()[7:9] == [1, 1]
    assert ids[0, 8] == EOS and mask[0, :6].sum() == 0
    with pytest.raises(ValueError, match="not in the alphabet"):
        encode("12+3=\u00e9")


def greedy(student: CausalLMStudent, prompt: str, max_new: int = 8) -> str:
    ids = torch.tensor([[BOS, *encode(prompt)]])
    out = student.model.generate(
        ids,
        max_new_tokens=max_new,
        do_sample=False,
        eos_token_id=EOS,
        pad_token_id=0,
        attention_mask=torch.ones_like(ids),
    )
    return decode(out[0, ids.shape[1] :].tolist())


def test_teacher_forced_check_equals_generate(student):
    task = MathTask()
    val, _ = task.splits(4)
    rng = np.random.default_rng(0)
    items = [val[i] for i in rng.choice(len(val), 60, replace=False)]
    right, _ = student.evaluate(Encoded.of(items))
    generated = [greedy(student, e.prompt) == e.answer for e in items]
    assert right.tolist() == generated
    assert 0 < sum(generated) < len(items), "the sample should hold both right and wrong answers"


def test_base_knows_some_skills_and_not_others(student):
    task = MathTask()
    val, _ = task.splits(16)
    right, _ = student.evaluate(Encoded.of(val))
    acc = {s.name: np.mean([r for e, r in zip(val, right, strict=True) if e.skill == s.name]) for s in task.skills}
    assert max(acc.values()) >= 0.6
    assert sum(a < 0.1 for a in acc.values()) >= 3


def test_training_lowers_loss_and_reset_restores(student):
    task = MathTask()
    rng = np.random.default_rng(0)
    data = Encoded.of(task.generate("word", 0, 256, rng))
    student.reset(0)
    _, before = student.evaluate(data)
    for _ in range(3):
        student.train(data)
    _, after = student.evaluate(data)
    assert after.mean() < before.mean() - 0.1
    student.reset(0)
    _, again = student.evaluate(data)
    np.testing.assert_allclose(again, before, rtol=1e-5)


def test_row_weights(student):
    """Weight 1 everywhere is plain training; rows of weight 0 have no influence on the update."""
    task = MathTask()
    word = task.generate("word", 0, 64, np.random.default_rng(0))
    mod = task.generate("mod", 0, 64, np.random.default_rng(1))

    def params_after(batch) -> list[torch.Tensor]:
        student.reset(0)
        student.train(batch)
        return [p.detach().clone() for p in student.model.parameters()]

    plain = params_after(student.encode(word + mod))
    ones = params_after(student.encode(word + mod, weight=1.0))
    for p, q in zip(plain, ones, strict=True):
        assert torch.equal(p, q)
    weights = np.r_[np.ones(64), np.zeros(64)]
    muted = params_after(student.encode(word + mod, weight=weights))
    other = params_after(student.encode(word + mod[::-1], weight=weights))  # other rows at weight 0
    assert any(not torch.equal(p, q) for p, q in zip(plain, muted, strict=True))
    for p, q in zip(muted, other, strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="weight must be finite and non-negative"):
        student.encode(word, weight=-1.0)


def test_checkpoint_roundtrip_with_moments(tmp_path, student):
    student.reset(0)
    student.train(Encoded.of(MathTask().generate("add", 0, 64, np.random.default_rng(1))))
    path = tmp_path / "s.safetensors"
    student.save(path)
    other = CausalLMStudent(checkpoint_config(path), path)
    for (name, a), b in zip(student.model.state_dict().items(), other.model.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, msg=name)
    assert other.base_moments, "AdamW moments should travel with the checkpoint"
    assert path.stat().st_size < 5 * 2**20


def test_precision_bf16_autocast_trains_in_float32(student):
    """bf16 autocasts the forward passes only: weights and AdamW state stay float32, and it learns."""
    task = MathTask()
    data = Encoded.of(task.generate("word", 0, 128, np.random.default_rng(0)))
    bf16 = CausalLMStudent(checkpoint_config(MATH_BASE), MATH_BASE, precision="bf16")
    student.reset(0)
    bf16.reset(0)
    _, before = student.evaluate(data)
    _, before_bf16 = bf16.evaluate(data)
    np.testing.assert_allclose(before_bf16.mean(), before.mean(), rtol=0.02)  # bf16 rounding (items: up to ~8%)
    for _ in range(2):
        stats = bf16.train(data)
    assert not stats.diverged and np.isfinite(stats.loss)
    _, after = bf16.evaluate(data)
    assert after.mean() < before.mean() - 0.1
    assert all(p.dtype == torch.float32 for p in bf16.model.parameters())
    assert all(s["exp_avg_sq"].dtype == torch.float32 for s in bf16.optimizer.state.values())


def test_precision_is_checked():
    with pytest.raises(ValueError, match=r"precision must be one of \('fp32', 'bf16', 'tf32'\), got 'fp16'"):
        CausalLMStudent(checkpoint_config(MATH_BASE), MATH_BASE, precision="fp16")


def test_device_is_checked():
    for device in ("gpu", "cuda0", "", None):
        with pytest.raises(ValueError, match=r"device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got"):
            CausalLMStudent(checkpoint_config(MATH_BASE), MATH_BASE, device=device)
    assert CausalLMStudent(checkpoint_config(MATH_BASE), MATH_BASE, device=torch.device("cpu")).device.type == "cpu"
    auto = CausalLMStudent(checkpoint_config(MATH_BASE), MATH_BASE, device="auto").device.type
    assert auto == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error where torch sees no GPU")
def test_a_cuda_device_without_a_gpu_is_a_clear_error():
    for device in ("cuda", "cuda:1"):
        message = rf"device '{device}' needs a GPU that torch can use.*use 'cpu', or 'auto'"
        with pytest.raises(ValueError, match=message):
            CausalLMStudent(checkpoint_config(MATH_BASE), MATH_BASE, device=device)


@pytest.mark.gpu
@pytest.mark.parametrize("precision", ["fp32", "bf16", "tf32"])
def test_cuda_student_learns_like_cpu(precision, student):
    """On CUDA each precision learns; fp32 evaluates the base exactly as the CPU student does."""
    task = MathTask()
    val = Encoded.of(task.splits(4)[0])
    data = Encoded.of(task.generate("word", 0, 128, np.random.default_rng(0)))
    gpu = CausalLMStudent(checkpoint_config(MATH_BASE), MATH_BASE, device="cuda", precision=precision)
    gpu.reset(0)
    student.reset(0)
    right, _ = gpu.evaluate(val)
    ref, _ = student.evaluate(val)
    if precision == "fp32":
        np.testing.assert_array_equal(right, ref)
    else:
        assert (right != ref).mean() < 0.05
    _, before = gpu.evaluate(data)
    gpu.train(data)
    gpu.train(data)
    _, after = gpu.evaluate(data)
    assert after.mean() < before.mean() - 0.1
