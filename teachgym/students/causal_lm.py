"""The tiny student: a Hugging Face Llama-family causal LM with a character tokenizer, trained with AdamW.

Evaluation is one teacher-forced forward per batch: with the answer followed by EOS, "the argmax
equals the gold token at every answer position" is exactly "greedy decoding returns the gold answer"
(each greedy step conditions on the gold prefix, which greedy decoding itself produced). A test checks
this against ``model.generate``.
"""

from __future__ import annotations

import copy
import json
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.utils import logging as hf_logging

from teachgym.students.tokenizer import ALPHABET, BOS, EOS, PAD, decode, encode, encode_batch, vocab_size
from teachgym.types import Example, TrainStats

hf_logging.set_verbosity_error()


@dataclass(frozen=True)
class StudentConfig:
    """Architecture of the tiny Llama student (all JSON-able, so it fits in an env spec)."""

    hidden_size: int = 64
    num_layers: int = 2
    num_heads: int = 4
    intermediate_size: int = 192
    max_length: int = 40
    alphabet: str = ALPHABET  # the character tokenizer's alphabet (``teachgym.students.tokenizer``)

    def llama_config(self) -> LlamaConfig:
        return tiny_llama(
            vocab_size(self.alphabet),
            self.hidden_size,
            self.intermediate_size,
            self.num_layers,
            self.num_heads,
            self.max_length,
            attn_implementation="sdpa",
        )


def tiny_llama(
    vocab: int, hidden: int, intermediate: int, layers: int, heads: int, max_length: int, **extra: Any
) -> LlamaConfig:
    """The Llama config of TeachGym's tiny students: tied embeddings, ids 0 / 1 / 2 for pad / bos / eos."""
    return LlamaConfig(
        vocab_size=vocab,
        hidden_size=hidden,
        intermediate_size=intermediate,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=max_length,
        tie_word_embeddings=True,
        pad_token_id=PAD,
        bos_token_id=BOS,
        eos_token_id=EOS,
        rope_theta=10000.0,
        **extra,
    )


@dataclass
class Encoded:
    """Examples turned into model inputs (the val/test splits are encoded once per env), with how each row
    is trained: a loss ``weight``, and ``kd_weight`` and ``temperature`` for distillation (None: every row
    plain cross-entropy on its labels with weight 1)."""

    ids: torch.Tensor  # (n, T) int64, right-padded
    mask: torch.Tensor  # (n, T) float32, 1 on answer tokens and EOS
    kd_weight: torch.Tensor | None = None  # (n,) float32 in [0, 1]: weight of the distillation term
    temperature: torch.Tensor | None = None  # (n,) float32 > 0: distillation temperature
    weight: torch.Tensor | None = None  # (n,) float32 >= 0: the row's weight in the loss

    TARGETS = (("kd_weight", 0.0), ("temperature", 1.0), ("weight", 1.0))  # per-row fields, their default

    def __len__(self) -> int:
        return self.ids.shape[0]

    def take(self, rows: np.ndarray | torch.Tensor) -> Encoded:
        """The rows ``rows`` (with their targets)."""
        rows = torch.as_tensor(rows)
        picked = {name: getattr(self, name) for name, _ in self.TARGETS}
        return Encoded(
            self.ids[rows], self.mask[rows], **{k: None if v is None else v[rows] for k, v in picked.items()}
        )

    @classmethod
    def cat(cls, parts: Sequence[Encoded]) -> Encoded:
        width = max(p.ids.shape[1] for p in parts)
        ids = torch.cat([F.pad(p.ids, (0, width - p.ids.shape[1]), value=PAD) for p in parts])
        mask = torch.cat([F.pad(p.mask, (0, width - p.mask.shape[1])) for p in parts])
        targets = {}
        for name, default in cls.TARGETS:
            if any(getattr(p, name) is not None for p in parts):
                targets[name] = torch.cat(
                    [torch.full((len(p),), default) if getattr(p, name) is None else getattr(p, name) for p in parts]
                )
        return cls(ids, mask, **targets)

    @classmethod
    def of(
        cls,
        examples: Sequence[Example],
        kd_weight: np.ndarray | float | None = None,
        temperature: np.ndarray | float | None = None,
        weight: np.ndarray | float | None = None,
        alphabet: str = ALPHABET,
    ) -> Encoded:
        ids, mask = encode_batch([e.prompt for e in examples], [e.answer for e in examples], alphabet)
        return cls.build(ids, mask, kd_weight, temperature, weight)

    @staticmethod
    def check_weight(weight: np.ndarray | float | None) -> None:
        """Per-row loss weights must be finite and non-negative (None: 1 everywhere)."""
        if weight is not None and not np.all(np.isfinite(weight) & (np.asarray(weight) >= 0)):
            raise ValueError(f"weight must be finite and non-negative, got {weight!r}")

    @classmethod
    def build(
        cls,
        ids: torch.Tensor,
        mask: torch.Tensor,
        kd_weight: np.ndarray | float | None = None,
        temperature: np.ndarray | float | None = None,
        weight: np.ndarray | float | None = None,
    ) -> Encoded:
        """Rows of ``ids``/``mask`` with per-row targets (one value for all rows, or one per row)."""
        n = ids.shape[0]

        def rows(value: np.ndarray | float | None, default: float | None) -> torch.Tensor | None:
            value = default if value is None else value
            return (
                None if value is None else torch.as_tensor(np.broadcast_to(np.asarray(value, np.float32), (n,)).copy())
            )

        if kd_weight is None:
            return cls(ids, mask, weight=rows(weight, None))
        return cls(ids, mask, rows(kd_weight, None), rows(temperature, 1.0), rows(weight, None))


def config_json(config: StudentConfig) -> str:
    """A config as checkpoint metadata (the default alphabet left out, as checkpoints made before the
    alphabet was configurable have it)."""
    fields = asdict(config)
    if fields["alphabet"] == ALPHABET:
        del fields["alphabet"]
    return json.dumps(fields)


def checkpoint_config(path: str | Path) -> StudentConfig:
    """The StudentConfig stored in a checkpoint's safetensors metadata."""
    with safe_open(str(path), framework="pt") as f:
        return StudentConfig(**json.loads(f.metadata()["config"]))


MOMENT = "optimizer."  # prefix of AdamW moment tensors in a checkpoint


def load_weights(path: str | Path, device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v for k, v in load_file(str(path), device=str(device)).items() if not k.startswith(MOMENT)}


def load_moments(path: str | Path, model: torch.nn.Module, device: torch.device) -> dict[str, tuple]:
    """{param name: (step, exp_avg, exp_avg_sq)} from a checkpoint, or {} if it has none.

    Shipped checkpoints hold only the second moment (bfloat16); the first starts at zero."""
    tensors = load_file(str(path), device=str(device))
    with safe_open(str(path), framework="pt") as f:
        step = (f.metadata() or {}).get("adam_step")
    if step is None:
        return {}
    out = {}
    for name, p in model.named_parameters():
        v = tensors.get(f"{MOMENT}exp_avg_sq.{name}")
        if v is not None:
            m = tensors.get(f"{MOMENT}exp_avg.{name}")
            m = torch.zeros_like(p) if m is None else m.to(p.dtype)
            out[name] = (torch.tensor(float(step)), m, v.to(p.dtype))
    return out


def build_model(config: StudentConfig, seed: int = 0) -> LlamaForCausalLM:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config.llama_config())
    return model


PRECISIONS = ("fp32", "bf16", "tf32")


def check_device_name(device: Any) -> str:
    """``device`` if it names one: "cpu", "cuda", "cuda:N" or "auto" (a ValueError names what is allowed). Only
    the name: settings are checked with it where they may be made for another machine."""
    if not isinstance(device, str) or not re.fullmatch(r"cpu|cuda|auto|cuda:\d+", device):
        raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got {device!r}")
    return device


def check_device(device: str | torch.device) -> torch.device:
    """``device`` as a ``torch.device``: "cpu", "cuda", "cuda:N", or "auto" (CUDA when torch sees a GPU, else
    the CPU). A ValueError names what is allowed, or says that torch sees no GPU for a CUDA device."""
    text = check_device_name(str(device) if isinstance(device, torch.device) else device)
    if text == "auto":
        text = "cuda" if torch.cuda.is_available() else "cpu"
    if text.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"device {text!r} needs a GPU that torch can use, and torch {torch.__version__} sees none here "
            "(torch.cuda.is_available() is False); use 'cpu', or 'auto' to take a GPU only where there is one"
        )
    return torch.device(text)


def check_precision(precision: str, device: torch.device) -> str:
    """Validate ``precision``; "tf32" turns on TF32 matmuls for CUDA process-wide (torch's flag is global)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "tf32" and device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return precision


def autocast(device: torch.device, precision: str):
    """The forward-pass context for ``precision``: bf16 autocast (fp32 weights and AdamW), else nothing."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


def answer_loss(logits: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-row mean cross-entropy over answer positions; logits predict ids shifted by one."""
    target, m = ids[:, 1:], mask[:, 1:]
    ce = F.cross_entropy(logits[:, :-1].transpose(1, 2), target, reduction="none")
    return (ce * m).sum(1) / m.sum(1).clamp_min(1.0)


MAX_NEW = 11  # answer tokens a greedy answer may take, EOS included (answers have at most 10 characters)


def new_tokens(model: torch.nn.Module, width: int, max_new: int) -> int:
    """How many tokens to decode after prompts ``width`` tokens wide: ``max_new``, but never past the
    model's ``max_position_embeddings``, and at least one."""
    limit = getattr(model.config, "max_position_embeddings", None) or width + max_new
    return max(1, min(max_new, limit - width + 1))


@torch.inference_mode()
def greedy_decode(
    model: torch.nn.Module, device: torch.device, prompts: Sequence[str], max_new: int, alphabet: str = ALPHABET
) -> list[str]:
    """Greedy-decoded answers of a character-level causal LM (at most ``max_new`` tokens, EOS included,
    and never past the model's ``max_position_embeddings``).

    Prompts of equal length are decoded together, so no padding is needed."""
    was_training = model.training
    model.eval()
    out = [""] * len(prompts)
    groups: dict[int, list[int]] = defaultdict(list)
    for i, p in enumerate(prompts):
        groups[len(p)].append(i)
    try:
        for idx in groups.values():
            ids = torch.tensor([[BOS, *encode(prompts[i], alphabet)] for i in idx], device=device)
            done = torch.zeros(len(idx), dtype=torch.bool, device=ids.device)
            steps = []
            for _ in range(new_tokens(model, ids.shape[1], max_new)):
                nxt = model(input_ids=ids).logits[:, -1].argmax(-1)
                nxt = torch.where(done, torch.full_like(nxt, EOS), nxt)
                steps.append(nxt)
                done |= nxt == EOS
                if bool(done.all()):
                    break
                ids = torch.cat([ids, nxt[:, None]], 1)
            tokens = torch.stack(steps, 1).cpu().tolist()
            for j, i in enumerate(idx):
                out[i] = decode(tokens[j], alphabet)
    finally:
        model.train(was_training)
    return out


@torch.inference_mode()
def padded_decode(
    model: torch.nn.Module,
    device: torch.device,
    prompts: Sequence[str],
    max_new: int,
    alphabet: str = ALPHABET,
    bucket: int = 128,
) -> list[str]:
    """``greedy_decode`` in left-padded batches with a key/value cache (``model.generate``): prompts sorted
    by length, ``bucket`` at a time, one small forward per new token for the whole batch, where
    ``greedy_decode`` runs a full forward per token and per prompt length. Padding changes float
    rounding, so a near-tie may decode differently."""
    was_training = model.training
    model.eval()
    out = [""] * len(prompts)
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    try:
        for start in range(0, len(order), bucket):
            idx = order[start : start + bucket]
            rows = [[BOS, *encode(prompts[i], alphabet)] for i in idx]
            width = max(map(len, rows))
            ids = torch.tensor([[PAD] * (width - len(r)) + r for r in rows], device=device)
            attention = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=device)
            new = model.generate(
                input_ids=ids,
                attention_mask=attention,
                max_new_tokens=new_tokens(model, width, max_new),
                do_sample=False,
                eos_token_id=EOS,
                pad_token_id=PAD,
            )
            for i, row in zip(idx, new[:, width:].cpu().tolist(), strict=True):
                out[i] = decode(row, alphabet)
    finally:
        model.train(was_training)
    return out


class AdamWStudent:
    """What the trainable students share: ``setup`` of the model, its base and its optimizer, ``reset`` to
    the base weights and the base's AdamW moments, the warm-up, ``get_state``/``set_state`` of everything
    training changes, and ``save``. A subclass calls ``setup`` and says what ``save`` writes as metadata
    (``metadata()``)."""

    def setup(
        self,
        build: Callable[[], torch.nn.Module],
        checkpoint: str | Path | None,
        *,
        device: str,
        precision: str,
        lr: float,
        weight_decay: float,
        betas: tuple[float, float],
        batch_size: int,
        warmup: int,
        grad_clip: float,
    ) -> None:
        """Build the model on ``device`` ("auto": CUDA when there is one) with ``checkpoint``'s weights and
        AdamW moments (None: as built), keep them as the base that ``reset`` restores, make the optimizer."""
        self.device = check_device(device)
        self.precision = check_precision(precision, self.device)
        self.lr, self.batch_size, self.warmup, self.grad_clip = lr, batch_size, warmup, grad_clip
        self.model = build().to(self.device)
        if checkpoint is not None:
            self.model.load_state_dict(load_weights(checkpoint, self.device), strict=False)
        self.base_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=lr, betas=betas, weight_decay=weight_decay)
        self.base_moments = load_moments(checkpoint, self.model, self.device) if checkpoint is not None else {}
        self.generator = torch.Generator(device="cpu")
        self.updates = 0

    def reset(self, seed: int) -> None:
        """Base weights, the base's AdamW moments (if the checkpoint ships them), reseeded shuffling."""
        self.model.load_state_dict(self.base_state)
        self.optimizer.state.clear()
        for name, p in self.model.named_parameters():
            if name in self.base_moments:
                step, m, v = self.base_moments[name]
                self.optimizer.state[p] = {"step": step.clone(), "exp_avg": m.clone(), "exp_avg_sq": v.clone()}
        self.generator.manual_seed(int(seed))
        self.updates = 0

    def _lr(self) -> float:
        return self.lr * min(1.0, (self.updates + 1) / self.warmup) if self.warmup else self.lr

    def get_state(self) -> dict[str, Any]:
        """A deep copy of everything training changes: weights, AdamW state, update count (it drives the
        warm-up) and the shuffling generator. ``set_state`` puts it back bit-identically."""
        return {
            "model": {k: v.detach().clone() for k, v in self.model.state_dict().items()},
            "optimizer": copy.deepcopy(self.optimizer.state_dict()),
            "updates": self.updates,
            "generator": self.generator.get_state(),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a ``get_state`` copy (which stays reusable: nothing aliases it)."""
        self.model.load_state_dict(state["model"])  # copies into the existing parameters
        # Optimizer.load_state_dict keeps the given tensors when dtype and device match: copy them, or the
        # next in-place AdamW update would corrupt the saved state.
        self.optimizer.load_state_dict(copy.deepcopy(state["optimizer"]))
        self.updates = int(state["updates"])
        self.generator.set_state(state["generator"])

    def metadata(self) -> dict[str, str]:
        """What ``save`` writes beside the tensors (the config, so that the file rebuilds its student)."""
        raise NotImplementedError

    def save(self, path: str | Path, optimizer: bool = True) -> None:
        """Weights (the tied ``lm_head`` left out), ``metadata()``, and AdamW's second moments unless
        ``optimizer`` is False, so that training resumes without a fresh-optimizer shock."""
        state = {
            k: v.detach().cpu().contiguous()
            for k, v in self.model.state_dict().items()
            if not k.endswith("lm_head.weight")
        }
        if optimizer:
            for name, p in self.model.named_parameters():
                st = self.optimizer.state.get(p)
                if st and not name.endswith("lm_head.weight"):
                    # the second moment is what keeps the first updates calibrated; bfloat16 keeps its range
                    # and halves its size, and the first moment (a ~10-update memory) is not worth shipping
                    state[f"{MOMENT}exp_avg_sq.{name}"] = st["exp_avg_sq"].detach().cpu().to(torch.bfloat16)
                    step = float(st["step"])
        metadata = self.metadata()
        if optimizer and any(k.startswith(MOMENT) for k in state):
            metadata["adam_step"] = str(step)
        save_file(state, str(path), metadata=metadata)


class CausalLMStudent(AdamWStudent):
    """A trainable student. ``reset(seed)`` restores the base weights and a fresh AdamW state.

    Args:
        config: architecture.
        checkpoint: safetensors file of base weights (None: random init, as for pretraining).
        lr: AdamW learning rate. weight_decay, betas: AdamW. batch_size: examples per update.
        warmup: linear learning-rate warm-up over this many updates after every reset (it avoids the
            forgetting shock of a fresh Adam state on a trained base).
        grad_clip: max global gradient norm. device: "cpu", "cuda" or "auto".
        padded_decode: decode answers in one left-padded batch with a key/value cache (``padded_decode``;
            much faster for long answers) instead of per prompt length without a cache (``greedy_decode``).
        length_buckets: evaluate rows sorted by length, this many at a time, each bucket cut to its longest
            row (less padding for items of very different lengths); None: in input order, as one padded batch
            per ``eval_batch_size`` rows.
        precision: "fp32" (default); "bf16": forward passes under bfloat16 autocast, weights, gradients
            and AdamW state stay float32; "tf32": float32 with TF32 matmuls (CUDA only, set
            process-wide; on CPU the same as fp32).
    """

    def __init__(
        self,
        config: StudentConfig = StudentConfig(),
        checkpoint: str | Path | None = None,
        *,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        betas: tuple[float, float] = (0.9, 0.98),
        batch_size: int = 64,
        warmup: int = 0,
        grad_clip: float = 1.0,
        device: str = "cpu",
        precision: str = "fp32",
        padded_decode: bool = False,
        length_buckets: int | None = None,
    ):
        self.padded_decode, self.length_buckets = padded_decode, length_buckets
        self.config = config
        self.setup(
            lambda: build_model(config),
            checkpoint,
            device=device,
            precision=precision,
            lr=lr,
            weight_decay=weight_decay,
            betas=betas,
            batch_size=batch_size,
            warmup=warmup,
            grad_clip=grad_clip,
        )

    micro_batch_size: int | None = None  # None: one forward per update; else gradient accumulation
    eval_batch_size = 1024  # rows per evaluation forward

    # -- the Student protocol ------------------------------------------------------------------
    def encode(
        self,
        examples: Sequence[Example],
        *,
        kd_weight: np.ndarray | float | None = None,
        temperature: np.ndarray | float | None = None,
        weight: np.ndarray | float | None = None,
    ) -> Encoded:
        """``examples`` as model inputs; ``kd_weight``/``temperature`` (per row or one for all) make
        ``train`` distil those rows from its ``teacher``, ``weight`` scales each row's loss (see ``train``)."""
        Encoded.check_weight(weight)
        return Encoded.of(examples, kd_weight, temperature, weight, self.config.alphabet)

    def train(self, examples: Sequence[Example] | Encoded, *, teacher: torch.nn.Module | None = None) -> TrainStats:
        """One epoch over ``examples`` in batches of ``batch_size`` shuffled by the seeded generator, one
        AdamW update each (warm-up, gradient clipping; a non-finite loss stops it as diverged).

        Row i's loss at an answer position is ``(1 - w_i) * CE(row's token) + w_i * T_i**2 *
        KL(softmax(t / T_i) || softmax(s / T_i))`` with ``s``, ``t`` the student's and the ``teacher``'s
        logits there (both teacher-forced on the row's own tokens), ``w_i`` the row's ``kd_weight`` in
        [0, 1] and ``T_i`` its ``temperature`` (see ``encode``). The batch loss is the mean over answer
        positions, each row's positions counted ``weight_i`` times (default 1) over the same denominator,
        so a row of weight 0 has no influence and weight 1 everywhere is plain training; rows without a
        kd_weight (or with 0) are plain cross-entropy training.

        ``TrainStats.row_loss`` holds, per row in the order given, the mean answer-token cross-entropy of
        the forward pass that trained on it (NaN for rows not reached because the loss diverged).
        """
        data = examples if isinstance(examples, Encoded) else self.encode(examples)
        n = len(data)
        row_loss = np.full(n, np.nan)
        if n == 0:
            return TrainStats(loss=float("nan"), updates=0, examples=0, tokens=0, row_loss=row_loss)
        weight = data.kd_weight
        if weight is not None and not bool((weight > 0).any()):
            weight = None
        if weight is not None and teacher is None:
            raise ValueError("kd_weight > 0 needs a teacher model")
        temp = data.temperature if data.temperature is not None else torch.ones(n)
        self.model.train()
        order = torch.randperm(n, generator=self.generator)
        losses, updates, tokens = [], 0, 0
        for start in range(0, n, self.batch_size):
            idx = order[start : start + self.batch_size]
            ids, mask = data.ids[idx].to(self.device), data.mask[idx].to(self.device)
            width = int(mask.nonzero()[:, 1].max()) + 1  # trim trailing padding
            ids, mask = ids[:, :width], mask[:, :width]
            tokens += ids.numel()
            denominator = mask[:, 1:].sum()
            self.optimizer.zero_grad(set_to_none=True)
            step = self.micro_batch_size or len(idx)  # gradient accumulation over micro-batches
            loss_sum, trained = 0.0, []
            for lo in range(0, len(idx), step):
                rows = slice(lo, lo + step)
                loss, row_ce = self._loss(ids[rows], mask[rows], idx[rows], data, weight, temp, teacher, denominator)
                if not torch.isfinite(loss):
                    return TrainStats(
                        loss=float("nan"),
                        updates=updates,
                        examples=n,
                        tokens=int(data.mask.sum()),
                        diverged=True,
                        row_loss=row_loss,
                    )
                trained.append((idx[rows].numpy(), row_ce))
                loss.backward()
                loss_sum += loss.item()
            for rows, ce in trained:  # only rows of an update that completes count as trained
                row_loss[rows] = ce
            if self.grad_clip:
                torch.nn.utils.clip_grad_norm_(self.trainable_parameters(), self.grad_clip)
            for group in self.optimizer.param_groups:
                group["lr"] = self._lr()
            self.optimizer.step()
            self.updates += 1
            updates += 1
            losses.append(loss_sum)
        return TrainStats(loss=float(np.mean(losses)), updates=updates, examples=n, tokens=tokens, row_loss=row_loss)

    def _loss(
        self, ids, mask, idx, data: Encoded, weight, temp, teacher, denominator
    ) -> tuple[torch.Tensor, np.ndarray]:
        """The summed loss of some rows of an update over the update's answer positions (``denominator``),
        and each row's mean answer-token cross-entropy."""
        with autocast(self.device, self.precision):
            logits = self.model(input_ids=ids).logits.float()
        m = mask[:, 1:]
        mw = m if data.weight is None else m * data.weight[idx].to(self.device)[:, None]
        ce = F.cross_entropy(logits[:, :-1].transpose(1, 2), ids[:, 1:], reduction="none")
        token_loss = ce
        w = None if weight is None else weight[idx].to(self.device)
        if w is not None and bool((w > 0).any()):
            with torch.no_grad(), autocast(self.device, self.precision):
                target = teacher(input_ids=ids).logits[:, :-1].float()
            t = temp[idx].to(self.device)[:, None, None]
            p_log = F.log_softmax(target / t, -1)
            q_log = F.log_softmax(logits[:, :-1] / t, -1)
            kl = (p_log.exp() * (p_log - q_log)).sum(-1) * t[:, :, 0] ** 2
            token_loss = (1.0 - w[:, None]) * ce + w[:, None] * kl
        loss = (token_loss * mw).sum() / denominator
        return loss, ((ce * m).sum(1) / m.sum(1).clamp_min(1.0)).detach().cpu().numpy()

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        """The parameters training updates (all of them here; only the adapter's for a LoRA student)."""
        return [p for p in self.model.parameters() if p.requires_grad]

    @torch.inference_mode()
    def evaluate(
        self, data: Sequence[Example] | Encoded, batch_size: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per example: (greedy answer is exactly right, mean answer-token loss), by one teacher-forced
        forward (equal to greedy decoding: see the module docstring). With ``length_buckets`` the rows are
        sorted by length and evaluated that many at a time, each bucket trimmed to its longest row."""
        data = data if isinstance(data, Encoded) else self.encode(data)
        batch_size = batch_size or self.eval_batch_size
        self.model.eval()
        n = len(data)
        order = torch.arange(n)
        if self.length_buckets:
            batch_size = min(batch_size, self.length_buckets)
            order = torch.argsort((data.ids != PAD).sum(1), stable=True)
        right, losses = torch.zeros(n, dtype=torch.bool), torch.zeros(n)
        for start in range(0, n, batch_size):
            rows = order[start : start + batch_size]
            ids, mask = data.ids[rows], data.mask[rows]
            if self.length_buckets:
                width = int((ids != PAD).sum(1).max())
                ids, mask = ids[:, :width], mask[:, :width]
            ids, mask = ids.to(self.device), mask.to(self.device)
            with autocast(self.device, self.precision):
                logits = self.model(input_ids=ids).logits
            hit = (logits[:, :-1].argmax(-1) == ids[:, 1:]) | (mask[:, 1:] == 0)
            right[rows] = hit.all(1).cpu()
            losses[rows] = answer_loss(logits.float(), ids, mask).cpu()
        return right.numpy(), losses.numpy()

    def generate(self, prompts: Sequence[str], max_new: int | None = None) -> list[str]:
        """The greedy-decoded answer to each prompt (at most ``max_new`` tokens, EOS included; None: ``MAX_NEW``)."""
        decode = padded_decode if self.padded_decode else greedy_decode
        return decode(self.model, self.device, prompts, max_new or MAX_NEW, self.config.alphabet)

    @torch.inference_mode()
    def answer_kl(self, data: Encoded, target: torch.Tensor) -> np.ndarray:
        """Per row: mean over answer positions of KL(target || student), ``target`` the (n, T - 1, V)
        next-token log-probabilities of a teacher on the same rows (``TeacherModel.log_probs``)."""
        self.model.eval()
        logits = self.model(input_ids=data.ids.to(self.device)).logits[:, :-1].float()
        q_log = F.log_softmax(logits, -1).cpu()
        kl = (target.exp() * (target - q_log)).sum(-1)
        m = data.mask[:, 1:]
        return ((kl * m).sum(1) / m.sum(1).clamp_min(1.0)).numpy()

    def batched(self, num_students: int, *, group: int | None = None) -> Any:
        """``num_students`` copies of this student's base trained in one set of kernels
        (``teachgym.students.batched.BatchedStudent``; its ``slot(i)`` is student i as a Student)."""
        from teachgym.students.batched import BatchedStudent

        return BatchedStudent.from_student(self, num_students, group=group)

    def metadata(self) -> dict[str, str]:
        return {"config": config_json(self.config)}

    @property
    def num_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())
