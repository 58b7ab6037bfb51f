"""BatchedStudent: E stacked students follow E independent CausalLMStudents (same seeds, same data).

Measured on CPU (torch 2.13, 1 thread): the batched forward's logits equal HF's bit for bit, and after
a few AdamW updates weights differ from the single students' by at most ~3e-7 (float summation order
in the backward). The tests allow ``ATOL`` = 1e-5 x max(1, |w|) and require identical exact-match
results on an evaluation set.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from teachgym.envs.checkpoints import MATH_BASE, MATH_BASE_CONFIG
from teachgym.students.batched import BatchedStudent
from teachgym.students.causal_lm import CausalLMStudent, Encoded, checkpoint_config
from teachgym.tasks.math import MathTask

ATOL = 1e-5
TASK = MathTask()
KW = {"lr": 2e-3, "batch_size": 16, "warmup": 3, "weight_decay": 0.01}


def data(skill: str, n: int, seed: int) -> Encoded:
    return Encoded.of(TASK.generate(skill, seed % 3, n, np.random.default_rng(seed)))


@pytest.fixture(scope="module")
def eval_set() -> Encoded:
    return Encoded.of(TASK.splits(2)[0])


def singles(n: int, config=None, checkpoint=MATH_BASE, **kw) -> list[CausalLMStudent]:
    config = checkpoint_config(checkpoint) if config is None else config
    return [CausalLMStudent(config, checkpoint, **{**KW, **kw}) for _ in range(n)]


def assert_matches(
    batched: BatchedStudent, i: int, single: CausalLMStudent, eval_set: Encoded, atol: float = ATOL
) -> None:
    ref = single.model.state_dict()
    for name, w in batched.state_dict(i).items():
        scale = max(1.0, ref[name].abs().max().item())
        torch.testing.assert_close(w, ref[name], rtol=0, atol=atol * scale, msg=f"student {i} {name}")
    for name, (step, m, v) in batched.moments(i).items():
        state = single.optimizer.state[single.model.get_parameter(name)]
        assert step == float(state["step"])
        # moments follow the same near-zero-second-moment rows (see below): measured up to ~1.0e-5 apart
        torch.testing.assert_close(m, state["exp_avg"], rtol=0, atol=5 * ATOL)
        torch.testing.assert_close(v, state["exp_avg_sq"], rtol=0, atol=5 * ATOL)
    assert batched.updates[i] == single.updates
    right, loss = batched.correct(eval_set, indices=[i])
    ref_right, ref_loss = single.evaluate(eval_set)
    np.testing.assert_array_equal(right[0], ref_right)
    # Stated tolerance for losses after training: 5e-3 relative. Embedding rows of characters the base never
    # saw have a near-zero AdamW second moment, where Adam's update is sign-like: rounding-level gradient
    # differences become small weight differences (within ATOL above) that shift losses by up to ~0.2%.
    np.testing.assert_allclose(loss[0], ref_loss, rtol=5e-3, atol=1e-5)


def assert_stats(got, want) -> None:
    assert (got.updates, got.examples, got.tokens, got.diverged) == (
        want.updates,
        want.examples,
        want.tokens,
        want.diverged,
    )
    # a step's mean training loss: same tolerance and reason as the eval losses in assert_matches
    np.testing.assert_allclose(got.loss, want.loss, rtol=5e-3, atol=1e-6)


def test_forward_equals_hf(eval_set):
    single = singles(1)[0]
    batched = BatchedStudent.from_student(single, 2)
    ids = eval_set.ids[:16]
    with torch.no_grad():
        hf = single.model(input_ids=ids).logits
        ours = batched._forward(batched._views(batched.flat), ids.expand(2, *ids.shape))
    torch.testing.assert_close(ours[0], hf, rtol=0, atol=1e-5)
    torch.testing.assert_close(ours[1], hf, rtol=0, atol=1e-5)
    right, loss = batched.correct(eval_set)
    ref_right, ref_loss = single.evaluate(eval_set)
    assert right.shape == loss.shape == (2, len(eval_set))
    np.testing.assert_array_equal(right[0], ref_right)
    np.testing.assert_array_equal(right[1], ref_right)
    np.testing.assert_allclose(loss[0], ref_loss, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("group", [None, 2])
def test_matches_independent_students(eval_set, group):
    """Different seeds, different data sizes (fewer updates are masked), a mid-run reset of one student."""
    ref = singles(3)
    batched = BatchedStudent.from_student(ref[0], 3, group=group)
    for i, seed in enumerate((11, 22, 33)):
        ref[i].reset(seed)
        batched.reset(i, seed)
    plan = [
        [data("add", 40, 1), data("word", 64, 2), data("sub", 20, 3)],
        [data("mul", 24, 4), None, data("add", 50, 5)],
        [data("cmp", 16, 6), data("div", 33, 7), data("dsum", 70, 8)],
    ]
    for k, datasets in enumerate(plan):
        if k == 2:  # reset student 1 only: the others must carry on as if nothing happened
            ref[1].reset(99)
            batched.reset(1, 99)
        stats = batched.train(datasets)
        for i, d in enumerate(datasets):
            want = ref[i].train(d) if d is not None else None
            if want is None:
                assert stats[i].updates == 0 and stats[i].examples == 0
            else:
                assert_stats(stats[i], want)
    for i in range(3):
        assert_matches(batched, i, ref[i], eval_set)


def test_random_init_without_moments(eval_set):
    """The pretraining config (random init, no base moments: Adam starts from step 0).

    A fresh Adam's first updates are ``lr * g / |g|`` per element, so an element whose gradient is at
    the level of float rounding can move by up to ``lr`` differently: measured, 1 element in ~50k per
    tensor differs by ~1.2e-5 after two updates (all others < 1e-5). Hence the looser tolerance here.
    """
    ref = singles(2, config=MATH_BASE_CONFIG, checkpoint=None, warmup=0, batch_size=8)
    batched = BatchedStudent.from_student(ref[0], 2)
    assert batched.base_step == 0.0
    for i in range(2):
        ref[i].reset(i)
        batched.reset(i, i)
    datasets = [data("add", 16, 1), data("cmp", 8, 2)]
    for got, single, d in zip(batched.train(datasets), ref, datasets, strict=True):
        assert_stats(got, single.train(d))
    for i in range(2):
        assert_matches(batched, i, ref[i], eval_set, atol=1e-4)


def test_masked_student_is_untouched():
    batched = BatchedStudent(3, checkpoint_config(MATH_BASE), MATH_BASE, **KW)
    for i in range(3):
        batched.reset(i, i)
    batched.train([data("add", 20, 1), data("sub", 20, 2), data("mul", 20, 3)])
    before = (
        batched.flat[1].clone(),
        batched.exp_avg[1].clone(),
        batched.exp_avg_sq[1].clone(),
        batched.steps[1],
        batched.updates[1],
        batched.generators[1].get_state(),
    )
    other = batched.flat[0].clone()
    batched.train([data("add", 40, 4), None, data("mul", 8, 5)])
    after = (
        batched.flat[1],
        batched.exp_avg[1],
        batched.exp_avg_sq[1],
        batched.steps[1],
        batched.updates[1],
        batched.generators[1].get_state(),
    )
    for a, b in zip(before, after, strict=True):
        assert torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b
    assert not torch.equal(other, batched.flat[0])
    assert batched.updates == [5, 2, 3]


def test_diverged_student_stops_alone():
    """A non-finite loss stops that student (no update, ``diverged``), as in CausalLMStudent.train."""
    ref = BatchedStudent(3, checkpoint_config(MATH_BASE), MATH_BASE, **KW)
    batched = BatchedStudent(3, checkpoint_config(MATH_BASE), MATH_BASE, **KW)
    for b in (ref, batched):
        for i in range(3):
            b.reset(i, i)
    with torch.no_grad():
        batched.flat[1, :100] = float("nan")
    poisoned = batched.flat[1].clone()
    datasets = [data("add", 32, 1), data("sub", 32, 2), data("mul", 32, 3)]
    stats = batched.train(datasets)
    clean = ref.train([datasets[0], None, datasets[2]])
    assert stats[1].diverged and stats[1].updates == 0 and np.isnan(stats[1].loss)
    assert not stats[0].diverged and not stats[2].diverged
    assert torch.equal(batched.flat[1].nan_to_num(), poisoned.nan_to_num()) and batched.updates[1] == 0
    for i in (0, 2):
        assert_stats(stats[i], clean[i])
        torch.testing.assert_close(batched.flat[i], ref.flat[i], rtol=0, atol=ATOL)


def test_bf16_batched_follows_bf16_single(eval_set):
    """Under bf16 autocast the batched forward stays within bf16 rounding of HF's, and training stays close."""
    single = singles(1, precision="bf16")[0]
    batched = BatchedStudent.from_student(single, 2)
    assert batched.precision == "bf16"
    single.reset(5)
    batched.reset(0, 5)
    d = data("word", 48, 3)
    want = single.train(d)
    got = batched.train([d, None])[0]
    np.testing.assert_allclose(got.loss, want.loss, rtol=2e-2)
    _, loss = batched.correct(eval_set, indices=[0])
    _, ref_loss = single.evaluate(eval_set)
    np.testing.assert_allclose(loss[0].mean(), ref_loss.mean(), rtol=2e-2)
    for name, w in batched.state_dict(0).items():
        assert w.dtype == torch.float32, name


@pytest.mark.gpu
def test_cuda_batched_matches_cuda_students(eval_set):
    ref = singles(2, device="cuda")
    batched = BatchedStudent.from_student(ref[0], 2)
    for i, seed in enumerate((1, 2)):
        ref[i].reset(seed)
        batched.reset(i, seed)
    plan = [data("add", 40, 1), data("word", 64, 2)]
    batched.train(plan)
    for i, d in enumerate(plan):
        ref[i].train(d)
    for i in range(2):  # GPU kernels sum in other orders than CPU ones: a looser weight tolerance
        assert_matches(batched, i, ref[i], eval_set, atol=1e-4)
