"""A tiny vision-language student: a Hugging Face ``Idefics3ForConditionalGeneration`` (a SigLIP-style
vision encoder, a pixel-shuffle connector and a Llama text model) built from a small config, with a
word-level tokenizer, trained with AdamW.

A row is ``<bos>`` + ``n_image_tokens`` x ``<image>`` + question + answer + ``<eos>``; the image of the
example's payload fills the ``<image>`` positions and the loss is on the answer tokens and ``<eos>``.
As for ``teachgym.students.causal_lm``, evaluation is one teacher-forced forward per batch: with the
answer followed by ``<eos>``, "the argmax equals the gold token at every answer position" is exactly
"greedy decoding returns the gold answer". A test checks this against ``generate``.

Learning rate: this model is sensitive to it. At 1e-3 or above training on VQA data collapses to
the answer priors; the default 3e-4 learns (colour questions about one-object scenes go from 0.31 to
1.00 val accuracy after about 11K examples).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import safe_open
from transformers import Idefics3Config, Idefics3ForConditionalGeneration
from transformers.models.idefics3.configuration_idefics3 import Idefics3VisionConfig
from transformers.utils import logging as hf_logging

from teachgym.students.causal_lm import (
    AdamWStudent,
    answer_loss,
    autocast,
    tiny_llama,
)
from teachgym.types import Example, TrainStats

hf_logging.set_verbosity_error()

# ---------------------------------------------------------------- the word tokenizer

SPECIALS = ("<pad>", "<bos>", "<eos>", "<image>", "<unk>")
PAD, BOS, EOS, IMAGE, UNK = range(len(SPECIALS))


def split_words(text: str) -> list[str]:
    """``text`` as words: split on whitespace, with ``?`` a word of its own."""
    return text.replace("?", " ? ").split()


class WordTokenizer:
    """Word-level ids: the special tokens ``<pad> <bos> <eos> <image> <unk>`` (ids 0..4), then ``words``
    in their order. Text is split on spaces with ``?`` a token of its own; an unknown word is ``<unk>``."""

    def __init__(self, words: Sequence[str]):
        words = tuple(words)
        clash = [w for w in words if w in SPECIALS or not w or any(c.isspace() for c in w)]
        if clash:
            raise ValueError(f"vocabulary words must be non-empty, without spaces and not special tokens: {clash[:5]}")
        if len(set(words)) != len(words):
            raise ValueError("vocabulary words must be distinct")
        self.words = words
        self.tokens = SPECIALS + words
        self.ids = {w: i for i, w in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str) -> list[int]:
        return [self.ids.get(w, UNK) if w not in SPECIALS else UNK for w in split_words(text)]

    def decode(self, ids: Sequence[int]) -> str:
        """The words of ``ids`` joined by spaces (no space before ``?``); special tokens are written out."""
        text = " ".join(self.tokens[i] if 0 <= i < len(self.tokens) else "<unk>" for i in ids)
        return text.replace(" ?", "?")


@lru_cache(maxsize=1)
def vqa_vocabulary() -> tuple[str, ...]:
    """Every word the ``vqa`` task writes in a question or an answer, sorted: the words of its question
    templates and their holes, the attribute values and the shapes' plurals, quadrants, yes/no, counts
    ``0``..``MAX_OBJECTS`` and rows/columns ``1``..``GRID``, and the words of a fixed-seed sample of
    questions and answers of every skill and level."""
    from teachgym.tasks import vqa

    words: set[str] = set()
    for form in vqa.FORMS:
        words.update(split_words(re.sub(r"\{\w+\}", " ", form.text)))
    for values in vqa.VALUES.values():
        words.update(values)
    words.update(shape + "s" for shape in vqa.SHAPES)
    words.update(("object", "objects", "a", "an", "and", "or", "but", "no", "yes", "row", "column", *vqa.KINDS))
    for phrase in (*vqa.RELATIONS, *vqa.EXTREMES, *vqa.QUADRANTS):
        words.update(phrase.split())
    words.update(str(i) for i in range(vqa.MAX_OBJECTS + 1))
    words.update(str(i) for i in range(1, vqa.GRID + 1))
    task = vqa.VQATask()
    rng = np.random.default_rng(0)
    for skill in task.skills:
        for level in range(task.num_levels):
            for e in task.sample(skill.name, level, 16, rng):
                words.update(split_words(e.prompt))
                words.update(split_words(e.answer))
    return tuple(sorted(words))


# ---------------------------------------------------------------- config and model


@dataclass(frozen=True)
class VLMConfig:
    """Architecture of the tiny vision-language student (all JSON-able, so it fits in an env spec and in
    a checkpoint's metadata). ``vocabulary``: the tokenizer's words, special tokens excluded."""

    vision_hidden_size: int = 64
    vision_intermediate_size: int = 128
    vision_layers: int = 2
    vision_heads: int = 4
    image_size: int = 64  # images are image_size x image_size x 3
    patch_size: int = 8
    scale_factor: int = 2  # the connector merges scale_factor**2 patches into one image token
    hidden_size: int = 96
    intermediate_size: int = 288
    num_layers: int = 2
    num_heads: int = 4
    max_length: int = 128  # positions of a row: bos, image tokens, question, answer, eos
    vocabulary: tuple[str, ...] = field(default_factory=vqa_vocabulary)
    # The standard deviation of the vision encoder's initial position embeddings (None: the transformers
    # init, 0.02). At 0.02 a patch's position is a small fraction of its content after the encoder's layer
    # norms, and the student cannot learn where an object is: trained from scratch on "where is the
    # object?" (one object, four quadrants) it stays at chance, train accuracy included, after 15K
    # examples; at 0.5 it scores 0.94-1.00 from 4.6K on. Only a freshly built model reads it (a
    # checkpoint brings its own embeddings; ``to_json`` leaves the field out when None, so files written
    # without it stay byte-identical and readable by older code).
    vision_position_std: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "vocabulary", tuple(self.vocabulary))
        side = self.image_size // self.patch_size
        std = self.vision_position_std
        if std is not None and (isinstance(std, bool) or not isinstance(std, int | float) or not 0 < std < 100):
            raise ValueError(f"vision_position_std must be None or a number in (0, 100), got {std!r}")
        if self.image_size % self.patch_size or side % self.scale_factor:
            raise ValueError(
                f"image_size ({self.image_size}) must be a multiple of patch_size ({self.patch_size}), and the "
                f"patches per side ({side}) a multiple of scale_factor ({self.scale_factor})"
            )

    @property
    def n_image_tokens(self) -> int:
        """``<image>`` positions per row: (image_size / patch_size)**2 patches merged scale_factor**2 at a time."""
        return (self.image_size // self.patch_size) ** 2 // self.scale_factor**2

    def tokenizer(self) -> WordTokenizer:
        return WordTokenizer(self.vocabulary)

    def idefics3_config(self) -> Idefics3Config:
        vision = Idefics3VisionConfig(
            hidden_size=self.vision_hidden_size,
            intermediate_size=self.vision_intermediate_size,
            num_hidden_layers=self.vision_layers,
            num_attention_heads=self.vision_heads,
            image_size=self.image_size,
            patch_size=self.patch_size,
            num_channels=3,
        )
        # the tiny students' Llama (its pad / bos / eos ids are this tokenizer's too)
        text = tiny_llama(
            len(SPECIALS) + len(self.vocabulary),
            self.hidden_size,
            self.intermediate_size,
            self.num_layers,
            self.num_heads,
            self.max_length,
        )
        return Idefics3Config(
            vision_config=vision,
            text_config=text,
            scale_factor=self.scale_factor,
            image_token_id=IMAGE,
            tie_word_embeddings=True,
            pad_token_id=PAD,
            attn_implementation="sdpa",
        )

    def to_json(self) -> str:
        fields = asdict(self)
        if fields["vision_position_std"] is None:
            del fields["vision_position_std"]
        return json.dumps(fields)

    @classmethod
    def from_json(cls, text: str) -> VLMConfig:
        return cls(**json.loads(text))


def checkpoint_config(path: str | Path) -> VLMConfig:
    """The VLMConfig stored in a checkpoint's safetensors metadata."""
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata() or {}
    if "vlm_config" not in metadata:
        raise ValueError(f"{path} is no VisionLanguageStudent checkpoint (no 'vlm_config' in its metadata)")
    return VLMConfig.from_json(metadata["vlm_config"])


def build_model(config: VLMConfig, seed: int = 0) -> Idefics3ForConditionalGeneration:
    """A randomly initialised model of ``config`` (the same weights for the same seed, whatever the global
    torch RNG)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Idefics3ForConditionalGeneration(config.idefics3_config())
        if config.vision_position_std is not None:
            with torch.no_grad():
                model.model.vision_model.embeddings.position_embedding.weight.normal_(0.0, config.vision_position_std)
    return model


# ---------------------------------------------------------------- images and batches


def payload_image(payload: Any) -> np.ndarray:
    """The default ``image_of``: the payload is the image itself (an H x W x 3 uint8 array)."""
    return payload


def pixel_values(pixels: torch.Tensor) -> torch.Tensor:
    """uint8 pixels as the model's float32 input in [-1, 1] (x / 127.5 - 1; a uint8 image is never all 0.0,
    which Idefics3 would take for a padding image)."""
    return pixels.float() / 127.5 - 1.0


@dataclass
class VLMEncoded:
    """Examples turned into model inputs, with a loss ``weight`` per row (None: 1 for every row).

    The images are kept as uint8 (a quarter of float32's memory; the val/test splits are encoded once
    per env); ``pixel_values`` gives the model's float32 input, (n, 1, 3, H, W) in [-1, 1]."""

    ids: torch.Tensor  # (n, T) int64, right-padded with <pad>
    mask: torch.Tensor  # (n, T) float32, 1 on answer tokens and <eos>
    attention: torch.Tensor  # (n, T) int64, 1 on the row's tokens, 0 on padding
    pixels: torch.Tensor  # (n, 1, 3, H, W) uint8
    weight: torch.Tensor | None = None  # (n,) float32 >= 0: the row's weight in the loss

    def __len__(self) -> int:
        return self.ids.shape[0]

    @property
    def pixel_values(self) -> torch.Tensor:
        return pixel_values(self.pixels)

    def take(self, rows: np.ndarray | torch.Tensor) -> VLMEncoded:
        """The rows ``rows``, in that order (with their weights)."""
        rows = torch.as_tensor(rows)
        weight = None if self.weight is None else self.weight[rows]
        return VLMEncoded(self.ids[rows], self.mask[rows], self.attention[rows], self.pixels[rows], weight)

    @classmethod
    def cat(cls, parts: Sequence[VLMEncoded]) -> VLMEncoded:
        """The rows of ``parts`` one after the other (padded to the widest)."""
        width = max(p.ids.shape[1] for p in parts)

        def pad(name: str, value: float) -> torch.Tensor:
            return torch.cat([F.pad(getattr(p, name), (0, width - p.ids.shape[1]), value=value) for p in parts])

        weight = None
        if any(p.weight is not None for p in parts):
            weight = torch.cat([torch.ones(len(p)) if p.weight is None else p.weight for p in parts])
        return cls(pad("ids", PAD), pad("mask", 0.0), pad("attention", 0), torch.cat([p.pixels for p in parts]), weight)


# ---------------------------------------------------------------- the student

MAX_NEW = 4  # answer tokens a greedy answer may take, <eos> included (VQA answers have at most two words)


class VisionLanguageStudent(AdamWStudent):
    """A trainable vision-language student. ``reset(seed)`` restores the base weights and a fresh AdamW
    state.

    Args:
        config: architecture and vocabulary.
        checkpoint: safetensors file of base weights made by ``save`` (None: random init).
        image_of: the image of an example's payload, an (image_size, image_size, 3) uint8 array (default:
            the payload is that array; the VQA task passes ``teachgym.tasks.vqa.render``).
        lr: AdamW learning rate (see the module docstring: 1e-3 is too high for this model).
        weight_decay, betas: AdamW. batch_size: examples per update. warmup: linear learning-rate warm-up
            over this many updates after every reset. grad_clip: max global gradient norm.
        device: "cpu", "cuda" or "auto". precision: "fp32", "bf16" (bfloat16 autocast forwards) or "tf32"
            (as ``CausalLMStudent``).
        seed: the seed of the random initialisation (without a checkpoint).

    The model is only reached through ``build_model``, ``_logits`` and the tokenizer/``image_of`` pair,
    so a pretrained ``Idefics3ForConditionalGeneration`` with its processor can replace them later.
    """

    def __init__(
        self,
        config: VLMConfig | None = None,
        checkpoint: str | Path | None = None,
        *,
        image_of: Callable[[Any], np.ndarray] = payload_image,
        lr: float = 3e-4,
        weight_decay: float = 0.0,
        betas: tuple[float, float] = (0.9, 0.98),
        batch_size: int = 64,
        warmup: int = 0,
        grad_clip: float = 1.0,
        device: str = "cpu",
        precision: str = "fp32",
        seed: int = 0,
    ):
        if config is None:
            config = checkpoint_config(checkpoint) if checkpoint is not None else VLMConfig()
        self.config, self.tokenizer, self.image_of = config, config.tokenizer(), image_of
        self.setup(
            lambda: build_model(config, seed),
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

    eval_batch_size = 256  # rows per evaluation forward

    @classmethod
    def load(cls, path: str | Path, **kwargs: Any) -> VisionLanguageStudent:
        """A student starting from the checkpoint ``path`` (its config read from the file's metadata)."""
        return cls(checkpoint_config(path), path, **kwargs)

    # -- inputs --------------------------------------------------------------------------------
    def images(self, payloads: Sequence[Any]) -> torch.Tensor:
        """The payloads' images as a (n, 1, 3, H, W) uint8 tensor, or a ValueError naming the first bad one."""
        size = self.config.image_size
        out = np.empty((len(payloads), size, size, 3), np.uint8)
        for i, payload in enumerate(payloads):
            try:
                image = self.image_of(payload)
            except Exception as e:
                image, error = None, f"{type(e).__name__}: {e}"
            else:
                error = None
            if (
                not isinstance(image, np.ndarray)
                or image.dtype != np.uint8
                or image.shape != (size, size, 3)
                or error is not None
            ):
                got = error or (
                    f"a {image.dtype} array of shape {image.shape}"
                    if isinstance(image, np.ndarray)
                    else type(image).__name__
                )
                raise ValueError(
                    f"example {i}: its payload gives no image: image_of must return a ({size}, {size}, 3) uint8 "
                    f"array (the payload itself by default, or what the student's image_of accepts, e.g. a "
                    f"scene for teachgym.tasks.vqa.render), got {got}"
                )
            out[i] = image
        return torch.from_numpy(out).permute(0, 3, 1, 2).unsqueeze(1).contiguous()

    def _prompt_ids(self, question: str) -> list[int]:
        return [BOS, *[IMAGE] * self.config.n_image_tokens, *self.tokenizer.encode(question)]

    # -- the Student protocol ------------------------------------------------------------------
    def encode(
        self,
        examples: Sequence[Example],
        *,
        kd_weight: np.ndarray | float | None = None,
        temperature: np.ndarray | float | None = None,
        weight: np.ndarray | float | None = None,
    ) -> VLMEncoded:
        """``examples`` (question, answer and the payload's image) as model inputs; ``weight`` (per row or one
        for all) scales each row's loss (see ``train``). Distillation is not supported: a non-zero
        ``kd_weight`` is a ValueError (``temperature`` is then unused)."""
        if kd_weight is not None and np.any(np.asarray(kd_weight, dtype=np.float64) != 0):
            raise ValueError(
                "VisionLanguageStudent does not support distillation: kd_weight must be None or 0 "
                "(train on the labels instead)"
            )
        if weight is not None and not np.all(np.isfinite(weight) & (np.asarray(weight) >= 0)):
            raise ValueError(f"weight must be finite and non-negative, got {weight!r}")
        rows, masks = [], []
        for i, e in enumerate(examples):
            prompt = self._prompt_ids(e.prompt)
            answer = [*self.tokenizer.encode(e.answer), EOS]
            if len(prompt) + len(answer) > self.config.max_length:
                raise ValueError(
                    f"example {i} is {len(prompt) + len(answer)} tokens long (with {self.config.n_image_tokens} "
                    f"image tokens); the student takes at most max_length={self.config.max_length}"
                )
            rows.append(prompt + answer)
            masks.append([0] * len(prompt) + [1] * len(answer))
        n, width = len(rows), max(map(len, rows), default=1)
        ids = torch.full((n, width), PAD, dtype=torch.long)
        mask = torch.zeros((n, width), dtype=torch.float32)
        attention = torch.zeros((n, width), dtype=torch.long)
        for i, (row, m) in enumerate(zip(rows, masks, strict=True)):
            ids[i, : len(row)] = torch.tensor(row)
            mask[i, : len(m)] = torch.tensor(m, dtype=torch.float32)
            attention[i, : len(row)] = 1
        pixels = self.images([e.payload for e in examples])
        w = None
        if weight is not None:
            w = torch.as_tensor(np.broadcast_to(np.asarray(weight, np.float32), (n,)).copy())
        return VLMEncoded(ids, mask, attention, pixels, w)

    def _logits(self, ids: torch.Tensor, attention: torch.Tensor, pixels: torch.Tensor) -> torch.Tensor:
        """The model's logits for rows of ``ids`` with their uint8 images (all on ``self.device``)."""
        with autocast(self.device, self.precision):
            out = self.model(
                input_ids=ids, attention_mask=attention, pixel_values=pixel_values(pixels), use_cache=False
            )
        return out.logits.float()

    def train(self, examples: Sequence[Example] | VLMEncoded, *, teacher: Any = None) -> TrainStats:
        """One epoch over ``examples`` in batches of ``batch_size`` shuffled by the seeded generator, one
        AdamW update each (warm-up, gradient clipping; a non-finite loss stops it as diverged).

        The batch loss is the mean cross-entropy over answer positions (answer tokens and ``<eos>``), each
        row's positions counted ``weight_i`` times (default 1) over the same denominator, so a row of
        weight 0 has no influence. ``teacher`` is unused: no row can ask for distillation (``encode``).

        ``TrainStats.row_loss`` holds, per row in the order given, the mean answer-token cross-entropy of
        the forward pass that trained on it (NaN for rows not reached because the loss diverged).
        """
        data = examples if isinstance(examples, VLMEncoded) else self.encode(examples)
        n = len(data)
        row_loss = np.full(n, np.nan)
        if n == 0:
            return TrainStats(loss=float("nan"), updates=0, examples=0, tokens=0, row_loss=row_loss)
        self.model.train()
        order = torch.randperm(n, generator=self.generator)
        losses, updates, tokens = [], 0, 0
        for start in range(0, n, self.batch_size):
            idx = order[start : start + self.batch_size]
            width = int(data.attention[idx].sum(1).max())  # trim trailing padding
            ids = data.ids[idx, :width].to(self.device)
            mask = data.mask[idx, :width].to(self.device)
            attention = data.attention[idx, :width].to(self.device)
            tokens += ids.numel()
            logits = self._logits(ids, attention, data.pixels[idx].to(self.device))
            m = mask[:, 1:]
            mw = m if data.weight is None else m * data.weight[idx].to(self.device)[:, None]
            ce = F.cross_entropy(logits[:, :-1].transpose(1, 2), ids[:, 1:], reduction="none")
            loss = (ce * mw).sum() / m.sum()
            if not torch.isfinite(loss):
                return TrainStats(
                    loss=float("nan"), updates=updates, examples=n, tokens=tokens, diverged=True, row_loss=row_loss
                )
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            row_loss[idx.numpy()] = ((ce * m).sum(1) / m.sum(1).clamp_min(1.0)).detach().cpu().numpy()
            if self.grad_clip:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
            for group in self.optimizer.param_groups:
                group["lr"] = self._lr()
            self.optimizer.step()
            self.updates += 1
            updates += 1
            losses.append(loss.item())
        return TrainStats(loss=float(np.mean(losses)), updates=updates, examples=n, tokens=tokens, row_loss=row_loss)

    @torch.inference_mode()
    def evaluate(
        self, data: Sequence[Example] | VLMEncoded, batch_size: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per example: (greedy answer is exactly right, mean answer-token loss), by one teacher-forced
        forward per ``batch_size`` rows (equal to greedy decoding: see the module docstring)."""
        data = data if isinstance(data, VLMEncoded) else self.encode(data)
        batch_size = batch_size or self.eval_batch_size
        was_training = self.model.training
        self.model.eval()
        n = len(data)
        right, losses = torch.zeros(n, dtype=torch.bool), torch.zeros(n)
        try:
            for start in range(0, n, batch_size):
                rows = slice(start, start + batch_size)
                width = int(data.attention[rows].sum(1).max())
                ids = data.ids[rows, :width].to(self.device)
                mask = data.mask[rows, :width].to(self.device)
                attention = data.attention[rows, :width].to(self.device)
                logits = self._logits(ids, attention, data.pixels[rows].to(self.device))
                hit = (logits[:, :-1].argmax(-1) == ids[:, 1:]) | (mask[:, 1:] == 0)
                right[rows] = hit.all(1).cpu()
                losses[rows] = answer_loss(logits, ids, mask).cpu()
        finally:
            self.model.train(was_training)
        return right.numpy(), losses.numpy()

    @torch.inference_mode()
    def generate(
        self, prompts: Sequence[str], max_new: int | None = None, payloads: Sequence[Any] | None = None
    ) -> list[str]:
        """The greedy-decoded answer to each prompt about its payload's image (at most ``max_new`` tokens,
        ``<eos>`` included; None: ``MAX_NEW``), the text before ``<eos>``.

        Prompts of equal token length are decoded together (no padding, so each step is the teacher-forced
        forward of ``evaluate`` on the decoded prefix). A generated ``<image>`` token ends its answer (it
        cannot be fed back without an image to fill it), written out as ``<image>``."""
        if payloads is None or len(payloads) != len(prompts):
            got = "none" if payloads is None else f"{len(payloads)}"
            raise ValueError(
                f"generate needs one payload (the image, or what image_of accepts) per prompt: "
                f"{len(prompts)} prompts, {got} payloads"
            )
        pixels = self.images(payloads)
        max_new = max_new or MAX_NEW
        was_training = self.model.training
        self.model.eval()
        out = [""] * len(prompts)
        groups: dict[int, list[int]] = defaultdict(list)
        rows = [self._prompt_ids(p) for p in prompts]
        for i, row in enumerate(rows):
            groups[len(row)].append(i)
        try:
            for idx in groups.values():
                ids = torch.tensor([rows[i] for i in idx], device=self.device)
                images = pixels[idx].to(self.device)
                done = torch.zeros(len(idx), dtype=torch.bool, device=self.device)
                steps = []
                for _ in range(max(1, min(max_new, self.config.max_length - ids.shape[1] + 1))):
                    nxt = self._logits(ids, torch.ones_like(ids), images)[:, -1].argmax(-1)
                    nxt = torch.where(done, torch.full_like(nxt, EOS), nxt)
                    steps.append(nxt)
                    done |= (nxt == EOS) | (nxt == IMAGE)
                    if bool(done.all()):
                        break
                    ids = torch.cat([ids, torch.where(nxt == IMAGE, PAD, nxt)[:, None]], 1)
                tokens = torch.stack(steps, 1).cpu().tolist()
                for j, i in enumerate(idx):
                    answer = []
                    for t in tokens[j]:
                        if t == EOS:
                            break
                        answer.append(t)
                        if t == IMAGE:
                            break
                    out[i] = self.tokenizer.decode(answer)
        finally:
            self.model.train(was_training)
        return out

    def metadata(self) -> dict[str, str]:
        return {"vlm_config": self.config.to_json()}

    @property
    def num_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())
