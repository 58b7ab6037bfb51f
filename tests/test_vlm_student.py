"""The tiny vision-language student: real Idefics3 training on rendered VQA scenes, teacher-forced
exact match equal to greedy generation, bit-identical state copies, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from teachgym.students.vlm import (
    BOS,
    EOS,
    IMAGE,
    PAD,
    UNK,
    VisionLanguageStudent,
    VLMConfig,
    VLMEncoded,
    WordTokenizer,
    build_model,
    checkpoint_config,
    vqa_vocabulary,
)
from teachgym.tasks.vqa import VQATask, render
from teachgym.types import Batch, Student


@pytest.fixture(scope="module")
def task() -> VQATask:
    return VQATask()


@pytest.fixture(scope="module")
def examples(task):
    """32 training examples, about three of every skill over its levels."""
    rng = np.random.default_rng(0)
    out = [e for s in task.skills for level in range(task.num_levels) for e in task.generate(s.name, level, 1, rng)]
    return out[:32]


def student(**kwargs) -> VisionLanguageStudent:
    return VisionLanguageStudent(image_of=render, **kwargs)


def weights(s: VisionLanguageStudent) -> list[torch.Tensor]:
    return [p.detach().clone() for p in s.model.parameters()]


def same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a, b, strict=True))


def test_protocols_and_size(examples):
    s = student()
    assert isinstance(s, Student)
    assert isinstance(s.encode(examples[:2]), Batch)
    assert 300_000 < s.num_params < 400_000
    assert s.config.n_image_tokens == 16 and s.lr == 3e-4


def test_tokenizer():
    tok = WordTokenizer(("circle", "is", "the", "what", "?"))
    ids = tok.encode("what is the hexagon?")
    assert ids[-1] == tok.ids["?"] and UNK in ids
    assert tok.decode(tok.encode("what is the circle?")) == "what is the circle?"
    assert tok.encode("<image> circle") == [UNK, tok.ids["circle"]]  # special tokens are not read from text
    assert tok.tokens[:5] == ("<pad>", "<bos>", "<eos>", "<image>", "<unk>")
    with pytest.raises(ValueError, match="special"):
        WordTokenizer(("<eos>",))


def test_vocabulary_covers_the_vqa_task(task):
    vocab = vqa_vocabulary()
    assert list(vocab) == sorted(vocab) and len(set(vocab)) == len(vocab)
    tok = WordTokenizer(vocab)
    rng = np.random.default_rng(123)
    items = [e for s in task.skills for level in range(task.num_levels) for e in task.generate(s.name, level, 40, rng)]
    val, test = task.splits(4)
    for e in items + val + test:
        assert UNK not in tok.encode(e.prompt), e.prompt
        assert UNK not in tok.encode(e.answer), e.answer
        assert tok.decode(tok.encode(e.prompt)) == e.prompt and tok.decode(tok.encode(e.answer)) == e.answer


def test_encode_layout_and_loss_mask(examples):
    s = student()
    n_img = s.config.n_image_tokens
    b = s.encode(examples)
    n, width = b.ids.shape
    assert n == len(examples) and b.mask.shape == b.attention.shape == (n, width)
    assert b.pixels.shape == (n, 1, 3, 64, 64) and b.pixels.dtype == torch.uint8
    pv = b.pixel_values
    assert pv.dtype == torch.float32 and float(pv.min()) >= -1 and float(pv.max()) <= 1
    np.testing.assert_array_equal(b.pixels[3, 0].permute(1, 2, 0).numpy(), render(examples[3].payload))
    for i, e in enumerate(examples):
        question = s.tokenizer.encode(e.prompt)
        answer = [*s.tokenizer.encode(e.answer), EOS]
        row = [BOS, *[IMAGE] * n_img, *question, *answer]
        assert b.ids[i, : len(row)].tolist() == row
        assert (b.ids[i, len(row) :] == PAD).all() and int(b.attention[i].sum()) == len(row)
        assert b.ids[i][b.mask[i] == 1].tolist() == answer  # the loss is on the answer and <eos> only
    assert b.weight is None
    part = b.take(np.array([4, 1]))
    assert torch.equal(part.ids, b.ids[[4, 1]]) and torch.equal(part.pixels, b.pixels[[4, 1]])
    short = s.encode(examples[:1], weight=0.5)
    both = VLMEncoded.cat([short, b])
    assert len(both) == n + 1 and both.ids.shape[1] == max(width, short.ids.shape[1])
    assert both.weight.tolist() == [0.5] + [1.0] * n
    assert torch.equal(both.ids[1:, :width], b.ids) and torch.equal(both.mask[1:, :width], b.mask)


def test_overfit_and_teacher_forcing_equals_generate(examples):
    s = student(lr=1e-3, batch_size=32)
    s.reset(0)
    data = s.encode(examples)
    right0, before = s.evaluate(data)
    first = s.train(data)  # one update: row_loss is the loss of the untrained model, in the given order
    np.testing.assert_allclose(first.row_loss, before, rtol=1e-4)
    assert first.updates == 1 and first.examples == 32 and not first.diverged
    for _ in range(24):
        stats = s.train(data)
    right, after = s.evaluate(data)
    assert after.mean() < 0.5 * before.mean()
    assert stats.loss < 0.5 * first.loss and np.isfinite(stats.row_loss).all()
    assert right.sum() > right0.sum()
    answers = s.generate([e.prompt for e in examples], payloads=[e.payload for e in examples])
    assert right.tolist() == [a == e.answer for a, e in zip(answers, examples, strict=True)]
    assert right.sum() > 0, "the sample should hold right answers"
    np.testing.assert_array_equal(s.evaluate(data, batch_size=5)[0], right)


def test_state_roundtrip_is_bit_identical(examples):
    s = student(batch_size=8)
    s.reset(1)
    s.train(examples[:16])
    state = s.get_state()
    s.train(examples)
    first = weights(s)
    s.set_state(state)
    s.train(examples)
    assert same(first, weights(s))
    s.set_state(state)  # the copy stays reusable
    s.train(examples)
    assert same(first, weights(s))


def test_reset_restores_base_and_same_seed_same_weights(examples):
    a, b = student(batch_size=8), student(batch_size=8)
    base = weights(a)
    for s in (a, b):
        s.reset(7)
        s.train(examples)
    assert not same(base, weights(a))
    assert same(weights(a), weights(b))
    a.reset(7)
    assert same(base, weights(a)) and a.updates == 0 and not a.optimizer.state


def test_save_and_load(tmp_path, examples):
    s = student(batch_size=16)
    s.reset(0)
    s.train(examples)
    path = tmp_path / "vlm.safetensors"
    s.save(path)
    assert checkpoint_config(path) == s.config and isinstance(checkpoint_config(path).vocabulary, tuple)
    right, loss = s.evaluate(s.encode(examples))
    for other in (VisionLanguageStudent.load(path, image_of=render), student(checkpoint=path)):
        other.reset(0)
        r, lo = other.evaluate(other.encode(examples))
        np.testing.assert_array_equal(r, right)
        np.testing.assert_allclose(lo, loss, rtol=1e-5)
        assert other.base_moments  # the AdamW second moments travel with the weights


def test_errors_name_the_problem(examples):
    s = student()
    with pytest.raises(ValueError, match="does not support distillation"):
        s.encode(examples, kd_weight=0.5)
    s.encode(examples[:2], kd_weight=np.zeros(2, np.float32), temperature=np.ones(2, np.float32))
    bad = [examples[0], type(examples[0])("colour", 0, "what colour is the object?", "red")]
    with pytest.raises(ValueError, match=r"example 1: .*\(64, 64, 3\) uint8"):
        s.encode(bad)
    plain = VisionLanguageStudent()  # payloads must be images themselves
    with pytest.raises(ValueError, match=r"example 0: .*got tuple"):
        plain.encode(examples[:1])
    image = render(examples[0].payload)
    with pytest.raises(ValueError, match=r"example 0: .*float64 array"):
        plain.generate(["what colour is the object?"], payloads=[image / 255.0])
    assert isinstance(plain.generate(["what colour is the object?"], payloads=[image])[0], str)
    with pytest.raises(ValueError, match=r"one payload .* per prompt"):
        s.generate([examples[0].prompt])
    with pytest.raises(ValueError, match="weight must be finite and non-negative"):
        s.encode(examples[:2], weight=-1.0)
    with pytest.raises(ValueError, match="multiple of patch_size"):
        VLMConfig(image_size=60)


def test_vision_position_std_sets_the_initial_position_embeddings():
    def position_embeddings(config: VLMConfig) -> torch.Tensor:
        return build_model(config, seed=3).model.vision_model.embeddings.position_embedding.weight.detach()

    default = position_embeddings(VLMConfig())
    wide = position_embeddings(VLMConfig(vision_position_std=0.5))
    assert 0.015 < float(default.std()) < 0.025  # transformers' init
    assert 0.45 < float(wide.std()) < 0.55
    assert torch.equal(wide, position_embeddings(VLMConfig(vision_position_std=0.5)))  # seeded
    config = VLMConfig(vision_position_std=0.5)
    assert VLMConfig.from_json(config.to_json()) == config
    assert "vision_position_std" not in VLMConfig().to_json()  # configs written before the field read the same
    assert VLMConfig.from_json(VLMConfig().to_json()) == VLMConfig()
    for bad in (0, -0.1, float("nan"), True, "0.5"):
        with pytest.raises(ValueError, match=r"vision_position_std must be None or a number in \(0, 100\)"):
            VLMConfig(vision_position_std=bad)


@pytest.mark.slow
def test_only_wide_position_embeddings_let_the_student_learn_where_an_object_is(task):
    """Trained from scratch on ``where is the object?`` (one object; the answer is its quadrant), the student
    built with transformers' init (position embeddings of sd 0.02) stays at chance, its training data
    included; built with ``vision_position_std=0.5`` it answers the val items."""
    val = [e for e in task.splits(48, 0)[0] if e.skill == "position" and e.level == 0]
    accuracy = {}
    for std in (None, 0.5):
        s = VisionLanguageStudent(VLMConfig(vision_position_std=std), image_of=render, lr=1e-3, batch_size=32, seed=0)
        s.reset(0)
        rng = np.random.default_rng(0)
        for _ in range(14):
            s.train(task.generate("position", 0, 512, rng))
        accuracy[std] = float(np.mean(s.evaluate(val)[0]))
    assert len(val) == 48
    assert accuracy[0.5] >= 0.9, accuracy
    assert accuracy[None] <= 0.5, accuracy


def test_the_capacity_benchmark_trains_a_fresh_student_and_saves_it(tmp_path, capsys):
    from benchmarks import vqa_capacity

    path = tmp_path / "probe.safetensors"
    vqa_capacity.main(
        ["--skills", "colour", "--updates", "32", "--every", "16", "--position-std", "0.5", "--save", str(path)]
    )
    out = capsys.readouterr().out
    assert "update 16 " in out and "update 32 " in out
    assert "colour:" in out and "logic:" in out  # every skill is scored, the trained one and the others
    assert out.index("prior (the question alone; its training loss ") < out.index("update 16 ")
    assert checkpoint_config(path).vision_position_std == 0.5
    for argv, message in (
        (["--skills", "colour", "colours"], "unknown skills ['colours']"),
        (["--levels", "0", "3"], "--levels must be among 0..2, got [0, 3]"),
        (["--updates", "100"], "--updates must be a positive integer (--updates: a multiple of 16), got 100"),
        (["--every", "0"], "--every must be a positive integer"),
        (["--patch", "7"], "must be a multiple of patch_size"),
        (["--device", "gpu"], "device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got 'gpu'"),
        (["--eval-per-level", "0"], "--eval-per-level must be a positive integer"),
        (["--lr", "0"], "--lr must be a positive number, got 0.0"),
        (["--lr", "nan"], "--lr must be a positive number, got nan"),
        (["--eval-per-level", "64"], "--eval-per-level: per_level=64 is too large"),
        (["--precision", "fp16"], "invalid choice: 'fp16'"),
    ):
        with pytest.raises(SystemExit):
            vqa_capacity.main(argv)
        assert message in capsys.readouterr().err


def test_the_question_prior_scores_a_blind_guess(task):
    """``question_prior``: where the question says nothing of the answer (``what colour is the object?``, four
    colours) the best blind guess is right about a quarter of the time; where it does (``are both objects the
    same colour?`` is mostly no) well over half; every item of one question gets the same figure, and a
    cell's figures do not depend on which other items are scored with it."""
    from benchmarks.vqa_capacity import question_prior

    val = task.splits(48, 0)[0]
    colour = [e for e in val if e.skill == "colour" and e.level == 0]
    same = [e for e in val if e.skill == "same" and e.level == 0]
    expected = question_prior(task, colour + same)
    assert expected.shape == (len(colour) + len(same),)
    assert {e.prompt for e in colour} == {"what colour is the object?"}
    assert len(set(expected[: len(colour)])) == 1  # one question, one figure
    assert expected[0] == pytest.approx(0.25, abs=0.03)
    assert expected[len(colour) :].mean() >= 0.6
    assert np.array_equal(question_prior(task, same), expected[len(colour) :])


def test_the_blind_loss_is_the_answers_entropy_given_the_question(task):
    """``blind_loss``: one question and four equally likely colours, each answer a word and the end token, is
    ln(4) over two tokens; a question that mostly means no is cheaper to guess; two cells share the tokens."""
    from benchmarks.vqa_capacity import blind_loss

    colour = blind_loss(task, [("colour", 0)], n=8000)
    assert colour == pytest.approx(np.log(4) / 2, abs=0.01)
    same = blind_loss(task, [("same", 0)], n=8000)
    assert same < colour - 0.2
    assert blind_loss(task, [("colour", 0), ("same", 0)], n=8000) == pytest.approx((colour + same) / 2, abs=0.02)


def test_the_vqa_base_recipe_takes_a_peak_learning_rate(tmp_path):
    """``build_vqa_base(lr=...)`` scales the whole schedule (warm-up, cosine to a third of the peak); the
    default is the shipped base's; a learning rate that is not a positive number is refused."""
    from teachgym.envs.checkpoints import VQA_BASE_SCHEDULE, build_vqa_base

    rates = {}
    for lr in (None, 1.2e-3):
        seen = []
        build_vqa_base(
            tmp_path / f"{lr}.safetensors",
            updates=48,
            verbose=False,
            skills=("colour",),
            levels=[0],
            lr=lr,
            report=lambda done, student, stats, seen=seen: seen.append(student.lr),
        )
        rates[lr] = np.array(seen)
    assert len(rates[None]) == 3 and rates[None].max() <= VQA_BASE_SCHEDULE["lr"]
    np.testing.assert_allclose(rates[1.2e-3], 2 * rates[None])
    for bad in (0, -1e-3, float("nan"), "1e-3"):
        with pytest.raises(ValueError, match="lr must be a positive number"):
            build_vqa_base(tmp_path / "bad.safetensors", updates=16, skills=("colour",), lr=bad)
