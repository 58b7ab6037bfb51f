"""E tiny Llama students trained together: stacked weights, one set of kernels per update.

``BatchedStudent`` holds ``E`` copies of the :class:`~teachgym.students.causal_lm.CausalLMStudent` model
as stacked tensors and trains each on its own data in the same kernels (``bmm`` over a leading student
dimension, one ``scaled_dot_product_attention`` over ``E * batch``). It is a hand-written re-implementation
of exactly the Hugging Face Llama architecture the single student uses (RMSNorm with the config's eps,
rotary embeddings computed by HF's own ``LlamaRotaryEmbedding``, SiLU-gated MLP, tied embeddings, causal
SDPA with HF's scaling), loaded from the same state dict names, so student ``i`` follows the trajectory of
a single ``CausalLMStudent`` fed the same data and seeds up to float rounding:

- AdamW is re-implemented over stacked tensors with the same operations as ``torch.optim.AdamW``'s
  single-tensor path (decoupled weight decay, ``lerp`` first moment, bias correction from each student's
  own step count), the same linear warm-up per student (``CausalLMStudent._lr``) and per-student
  global-norm clipping as ``clip_grad_norm_`` (one norm over all of the student's gradients).
- Shuffling uses one ``torch.Generator`` per student, seeded by ``reset(i, seed)`` exactly like the
  single student's, and the same batch slicing and padding trimming (per student).
- Students with fewer updates than others in a ``train`` call are masked: their weights, moments, step
  counts and generators do not change while the others continue (rows are gathered and scattered back).

All parameters of all students live in one flat ``(E, P)`` buffer (and so do gradients and the two
moments); the per-layer tensors autograd sees are views into it, so the optimizer is a dozen whole-buffer
operations whatever the depth. Only float32 is supported, like the single student.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

from teachgym.students.causal_lm import (
    CausalLMStudent,
    Encoded,
    StudentConfig,
    answer_loss,
    autocast,
    build_model,
    check_device,
    check_precision,
    load_moments,
    load_weights,
)
from teachgym.students.tokenizer import PAD
from teachgym.types import Example, TrainStats

TIED = "lm_head.weight"


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def _rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """LlamaRMSNorm over the last dim; ``weight`` is (E, H) and ``x`` (E, ..., H)."""
    variance = x.pow(2).mean(-1, keepdim=True)
    return weight.view(weight.shape[0], *([1] * (x.dim() - 2)), -1) * (x * torch.rsqrt(variance + eps))


class BatchedStudent:
    """``num_students`` independent students with stacked weights (see the module docstring).

    Args mirror :class:`CausalLMStudent`: config, checkpoint (None: the same seeded random init),
    lr, weight_decay, betas, eps, batch_size, warmup, grad_clip, device, precision. Also:
        group: at most this many students share one set of kernels (None: all of them). Consecutive
            students are views of the flat buffers, so any grouping is free; it only trades kernel
            launches (GPU: one group) against cache footprint (CPU, see benchmarks in the report).
        eval_tokens: tokens (students x items x width) of one evaluation forward (None: 8192 on CPU,
            where small chunks stay in cache, 2**18 on GPU).

    ``train([data_0, ..., data_{E-1}])`` trains each student on its own data (None: untouched);
    ``correct(data)`` evaluates every student on the same items, returning (E, n) arrays;
    ``reset(i, seed)`` restarts student i from the base while the others carry on.
    """

    def __init__(
        self,
        num_students: int,
        config: StudentConfig = StudentConfig(),
        checkpoint: str | Path | None = None,
        *,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        betas: tuple[float, float] = (0.9, 0.98),
        eps: float = 1e-8,
        batch_size: int = 64,
        warmup: int = 0,
        grad_clip: float = 1.0,
        device: str = "cpu",
        precision: str = "fp32",
        group: int | None = None,
        eval_tokens: int | None = None,
    ):
        device = check_device(device)
        model = build_model(config).to(device)
        moments = {}
        if checkpoint is not None:
            model.load_state_dict(load_weights(checkpoint, device), strict=False)
            moments = load_moments(checkpoint, model, device)
        self._setup(
            num_students,
            config,
            model,
            moments,
            lr=lr,
            weight_decay=weight_decay,
            betas=betas,
            eps=eps,
            batch_size=batch_size,
            warmup=warmup,
            grad_clip=grad_clip,
            precision=precision,
            group=group,
            eval_tokens=eval_tokens,
        )

    @classmethod
    def from_student(
        cls, student: CausalLMStudent, num_students: int, *, group: int | None = None, eval_tokens: int | None = None
    ) -> BatchedStudent:
        """E copies of ``student``'s *base* (its base weights, base moments and hyperparameters)."""
        d = student.optimizer.defaults
        if d.get("amsgrad") or d.get("maximize") or not d.get("decoupled_weight_decay", True):
            raise NotImplementedError(f"only plain AdamW is batched, got optimizer defaults {d}")
        model = build_model(student.config).to(student.device)
        model.load_state_dict(student.base_state)
        self = cls.__new__(cls)
        self._setup(
            num_students,
            student.config,
            model,
            student.base_moments,
            lr=student.lr,
            weight_decay=float(d["weight_decay"]),
            betas=tuple(d["betas"]),
            eps=float(d["eps"]),
            batch_size=student.batch_size,
            warmup=student.warmup,
            grad_clip=student.grad_clip,
            precision=student.precision,
            group=group,
            eval_tokens=eval_tokens,
        )
        return self

    # -- construction -------------------------------------------------------------------------
    def _setup(
        self,
        num_students: int,
        config: StudentConfig,
        model: torch.nn.Module,
        moments: dict,
        *,
        lr: float,
        weight_decay: float,
        betas: tuple[float, float],
        eps: float,
        batch_size: int,
        warmup: int,
        grad_clip: float,
        precision: str,
        group: int | None,
        eval_tokens: int | None,
    ) -> None:
        if num_students < 1:
            raise ValueError(f"num_students must be at least 1, got {num_students}")
        cfg = model.config
        self._check_architecture(cfg, model)
        self.num_students, self.config, self.device = num_students, config, next(model.parameters()).device
        self.lr, self.weight_decay, self.betas, self.eps = float(lr), float(weight_decay), tuple(betas), float(eps)
        self.batch_size, self.warmup, self.grad_clip = batch_size, warmup, grad_clip
        self.precision = check_precision(precision, self.device)
        if eval_tokens is None:  # CPU: small chunks stay in cache (measured); GPU: large ones fill the device
            eval_tokens = 1 << 13 if self.device.type == "cpu" else 1 << 18
        self.eval_tokens = int(eval_tokens)
        self.group = num_students if group is None else max(1, min(int(group), num_students))
        self.hidden, self.vocab = cfg.hidden_size, cfg.vocab_size
        self.heads, self.kv_heads = cfg.num_attention_heads, cfg.num_key_value_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        self.layers, self.rms_eps = cfg.num_hidden_layers, float(cfg.rms_norm_eps)
        self.scaling = self.head_dim**-0.5  # as LlamaAttention
        self._rotary = LlamaRotaryEmbedding(config=cfg).to(self.device)
        self._rope: tuple[torch.Tensor, torch.Tensor] | None = None

        # flat layout: HF parameter order, one row per student
        named = list(model.named_parameters())
        self.names = [n for n, _ in named]
        self._slices: dict[str, tuple[int, int, tuple[int, ...]]] = {}
        offset = 0
        for name, p in named:
            self._slices[name] = (offset, offset + p.numel(), tuple(p.shape))
            offset += p.numel()
        self.num_params = offset
        E, P = num_students, offset
        base = torch.cat([p.detach().reshape(-1) for _, p in named]).float()
        self.base_flat = base
        if moments and set(moments) != set(self.names):
            raise NotImplementedError("the checkpoint ships AdamW moments for only some parameters")
        if moments:
            steps = {float(step) for step, _, _ in moments.values()}
            if len(steps) != 1:
                raise NotImplementedError(f"moments with differing step counts {sorted(steps)}")
            self.base_step = steps.pop()
            self.base_m = torch.cat([moments[n][1].reshape(-1) for n in self.names]).to(self.device).float()
            self.base_v = torch.cat([moments[n][2].reshape(-1) for n in self.names]).to(self.device).float()
        else:
            self.base_step, self.base_m, self.base_v = 0.0, torch.zeros_like(base), torch.zeros_like(base)

        self.flat = base.expand(E, P).clone()
        self.grad = torch.zeros_like(self.flat)
        # before any reset, like a fresh CausalLMStudent: base weights and an empty AdamW state
        self.exp_avg = torch.zeros_like(self.flat)
        self.exp_avg_sq = torch.zeros_like(self.flat)
        self.steps = [0.0] * E  # AdamW step count per student (a float, like the single student's state)
        self.updates = [0] * E  # updates since reset (drives the warm-up)
        self.generators = [torch.Generator(device="cpu") for _ in range(E)]
        self._check_names()
        self._train_views: dict[tuple[int, int], tuple[dict, dict]] = {}

    def _check_names(self) -> None:
        expected = {"model.embed_tokens.weight", "model.norm.weight"} | {
            f"model.layers.{i}.{n}"
            for i in range(self.layers)
            for n in (
                "self_attn.q_proj.weight",
                "self_attn.k_proj.weight",
                "self_attn.v_proj.weight",
                "self_attn.o_proj.weight",
                "mlp.gate_proj.weight",
                "mlp.up_proj.weight",
                "mlp.down_proj.weight",
                "input_layernorm.weight",
                "post_attention_layernorm.weight",
            )
        }
        if set(self.names) != expected:
            raise NotImplementedError(f"unexpected parameters {sorted(set(self.names) ^ expected)}")

    @staticmethod
    def _check_architecture(cfg, model: torch.nn.Module) -> None:
        problems = []
        if getattr(cfg, "hidden_act", "silu") != "silu":
            problems.append(f"hidden_act={cfg.hidden_act}")
        if getattr(cfg, "attention_bias", False) or getattr(cfg, "mlp_bias", False):
            problems.append("biases")
        if not getattr(cfg, "tie_word_embeddings", False):
            problems.append("untied embeddings")
        if float(getattr(cfg, "attention_dropout", 0.0)) != 0.0:
            problems.append("attention dropout")
        rope = getattr(cfg, "rope_parameters", None) or {}
        if rope.get("rope_type", "default") != "default":
            problems.append(f"rope_type={rope.get('rope_type')}")
        if getattr(cfg, "pretraining_tp", 1) != 1:
            problems.append("pretraining_tp")
        if next(model.parameters()).dtype != torch.float32:
            problems.append("non-float32 weights")
        if problems:
            raise NotImplementedError(f"BatchedStudent does not implement this Llama variant: {', '.join(problems)}")

    def _views(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-parameter views (E', ...) into a flat (E', P) buffer (views of dense row slices are free)."""
        E = flat.shape[0]

        def block(name: str) -> torch.Tensor:
            a, b, shape = self._slices[name]
            return flat[:, a:b].view(E, *shape)

        out = {"embed": block("model.embed_tokens.weight"), "norm": block("model.norm.weight")}
        for i in range(self.layers):
            p = f"model.layers.{i}."
            for short, name in (
                ("q", "self_attn.q_proj"),
                ("k", "self_attn.k_proj"),
                ("v", "self_attn.v_proj"),
                ("o", "self_attn.o_proj"),
                ("gate", "mlp.gate_proj"),
                ("up", "mlp.up_proj"),
                ("down", "mlp.down_proj"),
                ("in_norm", "input_layernorm"),
                ("post_norm", "post_attention_layernorm"),
            ):
                out[f"{i}.{short}"] = block(f"{p}{name}.weight")
        return out

    def _leaves(self, flat: torch.Tensor, grad: torch.Tensor) -> tuple[dict, dict]:
        """Block views of ``flat`` as autograd leaves whose ``.grad`` is the matching view of ``grad``."""
        leaves, grads = self._views(flat), self._views(grad)
        for name, leaf in leaves.items():
            leaf.requires_grad_(True)
            leaf.grad = grads[name]
        return leaves, grads

    @staticmethod
    def _backward(loss: torch.Tensor, leaves: dict[str, torch.Tensor], grads: dict[str, torch.Tensor]) -> None:
        """``loss.backward()`` into the flat gradient buffer behind ``grads``.

        Autograd adds into an existing ``.grad`` in place (the views are not dense, hence its warning);
        should it ever replace one instead, the new gradient is copied into the buffer.
        """
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="grad and param do not obey the gradient layout contract")
            loss.backward()
        for name, leaf in leaves.items():
            if leaf.grad is not grads[name]:
                grads[name].copy_(leaf.grad)
                leaf.grad = grads[name]

    # -- model --------------------------------------------------------------------------------
    def _rope_tables(self, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """cos, sin (T, head_dim) exactly as HF's rotary module computes them (elementwise in position)."""
        if self._rope is None or self._rope[0].shape[0] < length:
            with torch.inference_mode(False), torch.no_grad():  # usable by training after an evaluation
                positions = torch.arange(max(length, 64), device=self.device)[None]
                dummy = torch.zeros((), dtype=torch.float32, device=self.device)
                cos, sin = self._rotary(dummy, position_ids=positions)
            self._rope = (cos[0], sin[0])
        return self._rope[0][:length], self._rope[1][:length]

    def _forward(self, w: dict[str, torch.Tensor], ids: torch.Tensor) -> torch.Tensor:
        """Logits (E', B, T, V) of students ``w`` (block views with a leading E') on ids (E', B, T)."""
        E, B, T = ids.shape
        H, V, nh, kvh, hd = self.hidden, self.vocab, self.heads, self.kv_heads, self.head_dim
        offsets = torch.arange(E, device=ids.device).view(E, 1, 1) * V
        x = F.embedding(ids + offsets, w["embed"].reshape(E * V, H)).view(E, B * T, H)
        cos, sin = self._rope_tables(T)
        for i in range(self.layers):
            h = _rms_norm(x, w[f"{i}.in_norm"], self.rms_eps)
            q = torch.bmm(h, w[f"{i}.q"].transpose(1, 2))
            k = torch.bmm(h, w[f"{i}.k"].transpose(1, 2))
            v = torch.bmm(h, w[f"{i}.v"].transpose(1, 2))
            q = q.view(E, B, T, nh, hd).transpose(2, 3)
            k = k.view(E, B, T, kvh, hd).transpose(2, 3)
            v = v.view(E, B, T, kvh, hd).transpose(2, 3)
            q = q * cos + _rotate_half(q) * sin
            k = k * cos + _rotate_half(k) * sin
            if kvh != nh:  # repeat_kv
                k = k.repeat_interleave(nh // kvh, dim=2)
                v = v.repeat_interleave(nh // kvh, dim=2)
            o = F.scaled_dot_product_attention(
                q.reshape(E * B, nh, T, hd),
                k.reshape(E * B, nh, T, hd),
                v.reshape(E * B, nh, T, hd),
                is_causal=T > 1,
                scale=self.scaling,
            )
            o = o.view(E, B, nh, T, hd).transpose(2, 3).reshape(E, B * T, nh * hd)
            x = x + torch.bmm(o, w[f"{i}.o"].transpose(1, 2))
            h = _rms_norm(x, w[f"{i}.post_norm"], self.rms_eps)
            gate = torch.bmm(h, w[f"{i}.gate"].transpose(1, 2))
            up = torch.bmm(h, w[f"{i}.up"].transpose(1, 2))
            x = x + torch.bmm(F.silu(gate) * up, w[f"{i}.down"].transpose(1, 2))
        x = _rms_norm(x, w["norm"], self.rms_eps)
        return torch.bmm(x, w["embed"].transpose(1, 2)).view(E, B, T, V)

    # -- episode control ----------------------------------------------------------------------
    def reset(self, index: int, seed: int) -> None:
        """Student ``index``: base weights, the base's AdamW moments and step, reseeded shuffling."""
        with torch.no_grad():
            self.flat[index].copy_(self.base_flat)
            self.exp_avg[index].copy_(self.base_m)
            self.exp_avg_sq[index].copy_(self.base_v)
        self.steps[index] = self.base_step
        self.updates[index] = 0
        self.generators[index].manual_seed(int(seed))

    def reset_all(self, seeds: Sequence[int]) -> None:
        for i, s in enumerate(seeds):
            self.reset(i, s)

    def _lr(self, index: int) -> float:
        return self.lr * min(1.0, (self.updates[index] + 1) / self.warmup) if self.warmup else self.lr

    # -- training -----------------------------------------------------------------------------
    def train(self, data: Sequence[Encoded | Sequence[Example] | None]) -> list[TrainStats]:
        """Train student i on ``data[i]`` (None or empty: student i is left exactly as it is).

        Equivalent to ``CausalLMStudent.train`` per student; all students' updates of the same index run
        in one forward/backward. Returns one TrainStats per student.
        """
        E, bs = self.num_students, self.batch_size
        if len(data) != E:
            raise ValueError(f"expected {E} datasets (one per student, None to skip), got {len(data)}")
        encs: list[Encoded | None] = []
        for d in data:
            if d is None or len(d) == 0:
                encs.append(None)
            else:
                encs.append(d if isinstance(d, Encoded) else Encoded.of(d, alphabet=self.config.alphabet))
        stats = [TrainStats(loss=float("nan"), updates=0, examples=0, tokens=0) for _ in range(E)]
        live = [i for i in range(E) if encs[i] is not None]
        if not live:
            return stats
        n = {i: len(encs[i]) for i in live}
        num_updates = {i: math.ceil(n[i] / bs) for i in live}
        U = max(num_updates.values())
        width = max(encs[i].ids.shape[1] for i in live)
        ids = torch.full((E, U * bs, width), PAD, dtype=torch.int64)
        mask = torch.zeros((E, U * bs, width), dtype=torch.float32)
        for i in live:
            order = torch.randperm(n[i], generator=self.generators[i])
            w = encs[i].ids.shape[1]
            ids[i, : n[i], :w] = encs[i].ids[order]
            mask[i, : n[i], :w] = encs[i].mask[order]
        # per (student, update): rows and trimmed width, as the single student trims each batch
        last = torch.where(mask > 0, torch.arange(width), -1).amax(-1)
        widths = (last.view(E, U, bs).amax(-1) + 1).tolist()
        losses: dict[int, list[float]] = {i: [] for i in live}
        tokens = dict.fromkeys(live, 0)
        diverged: set[int] = set()
        for u in range(U):
            active = [i for i in live if u < num_updates[i] and i not in diverged]
            if not active:
                break
            for group in self._groups(active):
                rows = {i: min(bs, n[i] - u * bs) for i in group}
                W, B = max(widths[i][u] for i in group), max(rows.values())
                sel = slice(u * bs, u * bs + B)
                if group == list(range(group[0], group[-1] + 1)):
                    batch_ids, batch_mask = (
                        ids[group[0] : group[-1] + 1, sel, :W],
                        mask[group[0] : group[-1] + 1, sel, :W],
                    )
                else:
                    index = torch.tensor(group)
                    batch_ids, batch_mask = ids[index, sel, :W], mask[index, sel, :W]
                loss = self._update(group, batch_ids.to(self.device), batch_mask.to(self.device))
                for j, i in enumerate(group):
                    if not math.isfinite(loss[j]):
                        diverged.add(i)
                        continue
                    tokens[i] += rows[i] * widths[i][u]
                    losses[i].append(loss[j])
        for i in live:
            stats[i] = TrainStats(
                loss=float(np.mean(losses[i])) if i not in diverged else float("nan"),
                updates=len(losses[i]),
                examples=n[i],
                tokens=tokens[i] if i not in diverged else int(encs[i].mask.sum()),
                diverged=i in diverged,
            )
        return stats

    def _groups(self, students: list[int]) -> list[list[int]]:
        """Students processed together in one set of kernels (at most ``group`` at a time)."""
        return [students[k : k + self.group] for k in range(0, len(students), self.group)]

    def _update(self, students: list[int], ids: torch.Tensor, mask: torch.Tensor) -> list[float]:
        """One AdamW update of ``students`` on their batches (len(students), B, T); returns their losses.

        Consecutive students train in place on views of the flat buffers; any other set is gathered,
        updated and scattered back, so students outside the set are untouched.
        """
        lo, hi = students[0], students[-1] + 1
        view = students == list(range(lo, hi))
        if view:
            if (lo, hi) not in self._train_views:
                self._train_views[lo, hi] = self._leaves(self.flat[lo:hi], self.grad[lo:hi])
            flat, grad = self.flat[lo:hi], self.grad[lo:hi]
            leaves, grads = self._train_views[lo, hi]
            grad.zero_()
        else:
            index = torch.tensor(students, device=self.device)
            flat = self.flat.index_select(0, index)
            grad = torch.zeros_like(flat)
            leaves, grads = self._leaves(flat, grad)
        E, B, T = ids.shape
        with autocast(self.device, self.precision):
            logits = self._forward(leaves, ids).float()
        ce = F.cross_entropy(
            logits[:, :, :-1].reshape(-1, self.vocab), ids[:, :, 1:].reshape(-1), reduction="none"
        ).view(E, B, T - 1)
        m = mask[:, :, 1:]
        loss = (ce * m).sum((1, 2)) / m.sum((1, 2)).clamp_min(1.0)
        values = loss.detach().cpu().tolist()
        ok = [math.isfinite(x) for x in values]
        if not all(ok):  # a diverged student takes no update (as the single student returns before backward)
            loss = torch.where(torch.tensor(ok, device=loss.device), loss, torch.zeros_like(loss))
        self._backward(loss.sum(), leaves, grads)
        with torch.no_grad():
            keep = [j for j in range(E) if ok[j]]
            if view and len(keep) == E:
                self._adamw(students, flat, grad, self.exp_avg[lo:hi], self.exp_avg_sq[lo:hi])
            elif keep:
                local = torch.tensor(keep, device=self.device)
                rows = [students[j] for j in keep]
                glob = torch.tensor(rows, device=self.device)
                w, g = flat.index_select(0, local), grad.index_select(0, local)
                m1, m2 = self.exp_avg.index_select(0, glob), self.exp_avg_sq.index_select(0, glob)
                self._adamw(rows, w, g, m1, m2)
                self.flat.index_copy_(0, glob, w)
                self.exp_avg.index_copy_(0, glob, m1)
                self.exp_avg_sq.index_copy_(0, glob, m2)
        return values

    def _adamw(self, rows: list[int], w: torch.Tensor, g: torch.Tensor, m: torch.Tensor, v: torch.Tensor) -> None:
        """clip_grad_norm_ + torch.optim.AdamW (single-tensor path) on flat rows of students ``rows``."""
        beta1, beta2 = self.betas

        def column(values: list[float]) -> torch.Tensor:  # python doubles -> float32, as scalar args are cast
            return torch.tensor(values, dtype=torch.float32, device=w.device).view(-1, 1)

        if self.grad_clip:
            total = torch.linalg.vector_norm(g, 2, dim=1, keepdim=True)
            g.mul_(torch.clamp(float(self.grad_clip) / (total + 1e-6), max=1.0))
        lrs = [self._lr(i) for i in rows]
        for i in rows:
            self.steps[i] += 1.0
            self.updates[i] += 1
        steps = [self.steps[i] for i in rows]
        if self.weight_decay != 0:
            w.mul_(column([1 - lr * self.weight_decay for lr in lrs]))
        m.lerp_(g, 1 - beta1)
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        step_size = column([-(lr / (1 - beta1**s)) for lr, s in zip(lrs, steps, strict=True)])
        bias2_sqrt = column([(1 - beta2**s) ** 0.5 for s in steps])
        denom = (v.sqrt() / bias2_sqrt).add_(self.eps)
        w.add_(m * step_size / denom)  # addcdiv_(m, denom, value=-step_size) computes value * m / denom

    # -- evaluation ---------------------------------------------------------------------------
    @torch.inference_mode()
    def correct(
        self, data: Sequence[Example] | Encoded, indices: Sequence[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per student (rows) and example (columns): greedy answer exactly right, mean answer-token loss.

        Every student (or those in ``indices``) is evaluated on the same items in one batched forward
        per chunk; returns two (E', n) arrays, like ``CausalLMStudent.correct`` per student.
        """
        data = data if isinstance(data, Encoded) else Encoded.of(data, alphabet=self.config.alphabet)
        students = list(range(self.num_students)) if indices is None else [int(i) for i in indices]
        right, losses = [], []
        for group in self._groups(students):
            lo, hi = group[0], group[-1] + 1
            if group == list(range(lo, hi)):
                w = self._views(self.flat[lo:hi])
            else:
                w = self._views(self.flat.index_select(0, torch.tensor(group, device=self.device)))
            group_right, group_loss = self._correct(w, data)
            right.append(group_right)
            losses.append(group_loss)
        return torch.cat(right).numpy(), torch.cat(losses).numpy()

    def _correct(self, w: dict[str, torch.Tensor], data: Encoded) -> tuple[torch.Tensor, torch.Tensor]:
        E = w["embed"].shape[0]
        n, T = data.ids.shape
        chunk = max(1, self.eval_tokens // (E * T))
        right, losses = [], []
        for start in range(0, n, chunk):
            ids = data.ids[start : start + chunk].to(self.device)
            mask = data.mask[start : start + chunk].to(self.device)
            b = ids.shape[0]
            with autocast(self.device, self.precision):
                logits = self._forward(w, ids.expand(E, b, T))
            hit = (logits[:, :, :-1].argmax(-1) == ids[None, :, 1:]) | (mask[None, :, 1:] == 0)
            right.append(hit.all(-1).cpu())
            loss = answer_loss(logits.float().view(E * b, T, -1), ids.repeat(E, 1), mask.repeat(E, 1))
            losses.append(loss.view(E, b).cpu())
        return torch.cat(right, 1), torch.cat(losses, 1)

    # -- state --------------------------------------------------------------------------------
    def state_dict(self, index: int) -> dict[str, torch.Tensor]:
        """Student ``index``'s weights under the HF names (``lm_head.weight`` tied to the embedding)."""
        out = {name: self.flat[index, a:b].view(shape).clone() for name, (a, b, shape) in self._slices.items()}
        out[TIED] = out["model.embed_tokens.weight"]
        return out

    def moments(self, index: int) -> dict[str, tuple[float, torch.Tensor, torch.Tensor]]:
        """Student ``index``'s AdamW state: {name: (step, exp_avg, exp_avg_sq)}."""
        return {
            name: (
                self.steps[index],
                self.exp_avg[index, a:b].view(shape).clone(),
                self.exp_avg_sq[index, a:b].view(shape).clone(),
            )
            for name, (a, b, shape) in self._slices.items()
        }

    def get_slot_state(self, index: int) -> dict[str, Any]:
        """A copy of everything training changes in student ``index`` (see ``CausalLMStudent.get_state``)."""
        return {
            "flat": self.flat[index].detach().clone(),
            "exp_avg": self.exp_avg[index].clone(),
            "exp_avg_sq": self.exp_avg_sq[index].clone(),
            "step": self.steps[index],
            "updates": self.updates[index],
            "generator": self.generators[index].get_state(),
        }

    def set_slot_state(self, index: int, state: dict[str, Any]) -> None:
        """Restore a ``get_slot_state`` copy into student ``index`` (the copy stays reusable)."""
        with torch.no_grad():
            self.flat[index].copy_(state["flat"])
            self.exp_avg[index].copy_(state["exp_avg"])
            self.exp_avg_sq[index].copy_(state["exp_avg_sq"])
        self.steps[index] = state["step"]
        self.updates[index] = state["updates"]
        self.generators[index].set_state(state["generator"])

    def slot(self, index: int, scratch: CausalLMStudent | None = None) -> SlotStudent:
        """Student ``index`` behind the Student protocol (``scratch``: a single student of the same
        configuration used to decode answers; built on demand if None)."""
        return SlotStudent(self, index, scratch)

    def load_into(self, index: int, student: CausalLMStudent) -> None:
        """Copy student ``index``'s weights into a single student's model (e.g. to save or generate)."""
        student.model.load_state_dict(self.state_dict(index))


class SlotStudent:
    """Student ``index`` of a BatchedStudent as a ``teachgym.types.Student``.

    Its own ``train``/``evaluate`` run the batched kernels for this student alone; the batched vector
    env (``teachgym.vector``) instead trains and evaluates every slot together through the
    BatchedStudent, between its sub-envs' ``prepare`` and ``finish``.
    """

    def __init__(self, batched: BatchedStudent, index: int, scratch: CausalLMStudent | None = None):
        self.batched, self.index, self._scratch = batched, index, scratch
        self.config = batched.config

    def reset(self, seed: int) -> None:
        self.batched.reset(self.index, seed)

    def encode(
        self, examples: Sequence[Example], *, kd_weight: Any = None, temperature: Any = None, weight: Any = None
    ) -> Encoded:
        if kd_weight is not None and np.any(np.asarray(kd_weight) > 0):
            raise ValueError("a batched student cannot distil (kd_weight > 0): use the single-student env")
        if weight is not None and np.any(np.asarray(weight) != 1):
            raise ValueError("a batched student trains every row with weight 1: use the single-student env")
        return Encoded.of(examples, alphabet=self.config.alphabet)

    def train(self, batch: Encoded, *, teacher: Any = None) -> TrainStats:
        data: list[Encoded | None] = [None] * self.batched.num_students
        data[self.index] = batch
        return self.batched.train(data)[self.index]

    def evaluate(self, batch: Encoded) -> tuple[np.ndarray, np.ndarray]:
        right, loss = self.batched.correct(batch, indices=[self.index])
        return right[0], loss[0]

    def generate(self, prompts: Sequence[str], max_new: int | None = None) -> list[str]:
        if self._scratch is None:
            self._scratch = CausalLMStudent(self.config, device=str(self.batched.device))
        self.batched.load_into(self.index, self._scratch)
        return self._scratch.generate(prompts, *(() if max_new is None else (max_new,)))

    def get_state(self) -> dict[str, Any]:
        return self.batched.get_slot_state(self.index)

    def set_state(self, state: dict[str, Any]) -> None:
        self.batched.set_slot_state(self.index, state)

    @property
    def num_params(self) -> int:
        return self.batched.num_params
