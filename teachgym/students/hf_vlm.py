"""Any Hugging Face vision-language model as the VQA student: a hub id or a local directory that
``AutoProcessor`` and ``AutoModelForImageTextToText`` load (SmolVLM, Idefics3, PaliGemma, LLaVA-style
models), trained fully or through a LoRA adapter (peft). ``HFVisionLanguageStudent`` is to
``teachgym.students.vlm.VisionLanguageStudent`` what ``teachgym.students.hf.HFStudent`` is to the tiny
character student, and shares ``HFStudent``'s settings, optimizer, state copies and export.

A row is ``processor(prompt, image) + tokens(answer) + [EOS]``:

- the prompt is the question with one image placeholder: rendered by the processor's chat template when
  it has one (a user turn of the image then the question, and the assistant's turn opened, as an
  instruction-tuned model was trained to read it), else the processor's image token followed by the
  question (a base model such as PaliGemma, whose processor adds its own BOS and separator);
- the processor expands the placeholder into the model's image tokens and turns the example's image
  (``image_of(payload)``, an H x W x 3 uint8 array) into the model's pixel inputs with the model's own
  resizing and normalisation;
- the answer is tokenized apart from the prompt (a merge never crosses the boundary) and ends with the
  tokenizer's EOS; loss and exact match cover the answer tokens and the EOS.

Evaluation is teacher-forced as ``HFStudent``'s (``evaluation="teacher-forced"``, the default): a row
is right iff the argmax at every answer position is the gold token, which is exactly "greedy decoding
emits the answer's tokens, then EOS". Token-type inputs (PaliGemma's prefix/suffix ``token_type_ids``)
get at the answer positions the values ``generate`` gives the tokens it emits, so the answer attends
causally as decoded tokens do. ``evaluation="generate"`` decodes for real and compares texts.

Images are kept as uint8 arrays in an encoded batch and go through the image processor once per forward
pass (float pixels of a large model's resolution would take megabytes per row). Tiling processors
(Idefics3 and SmolVLM split a large image into sub-images plus a global view) are told not to tile by
default (``untiled``): VQA's 64 x 64 pictures gain nothing from tiles, which would multiply the image
tokens by up to 17 and the preprocessing time by 50.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from teachgym.students.causal_lm import Encoded, autocast
from teachgym.students.hf import (
    SMOLLM2,
    HFStudent,
    _check_lora,
    check_settings,
    resolve_model,
)
from teachgym.students.vlm import payload_image
from teachgym.types import Example, TrainStats

VLM_STUDENT_KEYS = (
    "model",
    "lora",
    "lr",
    "batch_size",
    "micro_batch_size",
    "warmup",
    "weight_decay",
    "grad_clip",
    "device",
    "precision",
    "evaluation",
    "max_new_tokens",
    "eval_batch_size",
)  # the keys of a ``student=`` dict (those of ``teachgym.envs.math.STUDENT_KEYS``)
ATTENTION_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj")  # LoRA's default targets in the text model
TEXT_KEYS = ("input_ids", "attention_mask", "labels")  # processor outputs that are not image inputs
_PROBE_SIZE = 64  # side of the image that checks a processor at load time (VQA's pictures are 64 x 64)
_HEADS_CACHED = 65536  # prompts whose processed token ids are remembered


# ---------------------------------------------------------------- loading


def load_pretrained_vlm(model: str | os.PathLike, *, dtype: torch.dtype = torch.float32, device: str = "cpu"):
    """``(model, processor)`` of a vision-language model spec (a hub id or a local directory), the model
    in ``dtype`` on ``device``. A model that ``AutoModelForImageTextToText`` does not know is loaded by the
    ``...ForConditionalGeneration`` class its config names (``architectures``) when transformers has it;
    otherwise a ValueError says what the config is."""
    import transformers
    from transformers import AutoConfig, AutoProcessor
    from transformers.utils import logging as hf_logging

    where = _vlm_path(model)
    hf_logging.disable_progress_bar()  # loading is one line of work, not a progress report
    try:
        processor = AutoProcessor.from_pretrained(where)
        config = AutoConfig.from_pretrained(where)
    except OSError as err:  # a hub id that is neither cached nor reachable
        raise OSError(
            f"model: could not load {str(model)!r} ({err}). Without internet, pass a local model directory."
        ) from None
    auto = getattr(transformers, "AutoModelForImageTextToText", None) or getattr(
        transformers, "AutoModelForVision2Seq", None
    )
    try:
        if auto is None:
            raise ValueError("no AutoModelForImageTextToText in this transformers")
        lm = auto.from_pretrained(where, dtype=dtype)
    except ValueError as err:  # an unregistered config class
        names = [
            n
            for n in getattr(config, "architectures", None) or ()
            if n.endswith("ForConditionalGeneration") and hasattr(transformers, n)
        ]
        if not names:
            raise ValueError(
                f"model: {str(model)!r} (model_type {getattr(config, 'model_type', None)!r}, architectures "
                f"{getattr(config, 'architectures', None)}) is no image-text-to-text model this transformers "
                f"knows ({err}); the student needs a vision-language model with a processor, e.g. SmolVLM, "
                "Idefics3 or PaliGemma"
            ) from None
        lm = getattr(transformers, names[0]).from_pretrained(where, dtype=dtype)
    return lm.to(device=device, dtype=dtype), processor


def _vlm_path(model: Any) -> str:
    """The ``from_pretrained`` path or hub id of a vision-language model spec, or a ValueError /
    FileNotFoundError that says why it is none (a causal-LM-only spec, a missing directory, a text-only
    model, no image processor)."""
    if isinstance(model, str | os.PathLike) and (str(model) == SMOLLM2 or str(model).endswith(".gguf")):
        raise ValueError(
            f"model: {str(model)!r} is a text-only causal LM; the VQA student must be a vision-language model "
            "(a hub id or a local directory with an image processor, e.g. SmolVLM)"
        )
    where, _ = resolve_model(model)
    path = Path(where)
    if path.is_dir():
        config = json.loads((path / "config.json").read_text())
        if "vision_config" not in config:
            raise ValueError(
                f"model: {str(model)!r} has no vision_config (model_type {config.get('model_type')!r}): it is "
                "not a vision-language model"
            )
        if not any((path / name).is_file() for name in ("processor_config.json", "preprocessor_config.json")):
            raise FileNotFoundError(
                f"model: the directory {str(model)!r} has no processor_config.json or preprocessor_config.json "
                "(save the model's processor beside it: processor.save_pretrained(directory))"
            )
    return where


def check_vlm_student(value: Any) -> dict[str, Any] | None:
    """None (the tiny vision-language student), or a pretrained vision-language student's spec as a dict:
    a model (a hub id or a local directory) or ``{"model": ..., "lora": {"r": 8}, ...}`` with keys from
    ``VLM_STUDENT_KEYS`` (training settings not given come from the env's kwargs). Everything that can be
    checked without loading the model is: the keys, the model's path (a local directory must hold a
    vision-language config and a processor), the LoRA dict and each setting; a ValueError names what is
    wrong and what is allowed."""
    if value is None:
        return None
    if isinstance(value, str | os.PathLike):
        value = {"model": value}
    if not isinstance(value, Mapping) or "model" not in value or set(value) - set(VLM_STUDENT_KEYS):
        raise ValueError(
            "student must be None (the tiny vision-language student), a vision-language model (a hub id or a "
            f"local directory) or a dict with 'model' and keys from {list(VLM_STUDENT_KEYS)}, got {value!r}"
        )
    spec = dict(value)
    try:
        _vlm_path(spec["model"])  # a missing directory or a text-only model fails here, before anything is built
    except (OSError, ImportError, ValueError) as err:
        raise ValueError(f"student must name a vision-language model that can be loaded: {err}") from None
    try:
        if spec.get("lora") not in (None, False):
            _check_lora(spec["lora"])
        check_settings(**{k: v for k, v in spec.items() if k not in ("model", "lora")})
    except ValueError as err:
        raise ValueError(f"student: {err}") from None
    return spec


def make_hf_vlm_student(
    spec: str | os.PathLike | Mapping[str, Any],
    *,
    image_of: Callable[[Any], np.ndarray],
    lr: float,
    batch_size: int,
    warmup: int,
    device: str,
    precision: str,
) -> HFVisionLanguageStudent:
    """The pretrained vision-language student a ``student=`` spec names (``check_vlm_student``), with the
    env's training settings where the spec gives none, reading each example's image with ``image_of``."""
    checked = check_vlm_student(spec)
    if checked is None:
        raise ValueError("make_hf_vlm_student needs a student spec (a model, or a dict with 'model'), got None")
    settings = {"lr": lr, "batch_size": batch_size, "warmup": warmup, "device": device, "precision": precision}
    return HFVisionLanguageStudent(**{**settings, **checked}, image_of=image_of)


def untiled(image_processor: Any) -> dict[str, Any]:
    """The default image-processor settings: none, or for a processor that tiles images (Idefics3 and
    SmolVLM: ``do_image_splitting``) no tiles, and the image resized straight to the encoder's side
    (``max_image_size``). Untiled, such a processor first resizes the image to its tiling size (2048 for
    SmolVLM), then to the encoder's side; going straight there gives the same pixels up to resampling
    rounding (SmolVLM's settings on VQA pictures: mean |difference| 4e-5 after normalisation) at a tenth
    of the time (8 ms instead of 92 ms an image with the PIL backend, where tiling takes 430 ms)."""
    if not hasattr(image_processor, "do_image_splitting"):
        return {}
    out: dict[str, Any] = {"do_image_splitting": False}
    side = getattr(image_processor, "max_image_size", None)
    with contextlib.suppress(TypeError, KeyError, ValueError):  # no such setting: the processor's size
        out["size"] = {"longest_edge": int(side["longest_edge"])}
    return out


# ---------------------------------------------------------------- encoded rows


@dataclass
class VLMRows(Encoded):
    """Examples encoded for a pretrained vision-language student: right-padded token rows (image tokens
    expanded) and their uint8 images, with a loss ``weight`` per row (None: 1 for every row). An
    ``Encoded`` without distillation targets (``kd_weight`` and ``temperature`` stay None)."""

    attention: torch.Tensor | None = None  # (n, T) int64, 1 on the row's tokens
    images: list[np.ndarray] = field(default_factory=list)  # one (H, W, 3) uint8 array per row
    prompts: list[str] = field(default_factory=list)  # the questions (for decoding)
    answers: list[str] = field(default_factory=list)
    types: dict[str, torch.Tensor] = field(default_factory=dict)  # (n, T) int64 token-type inputs, if any
    pad: int = 0  # the id right padding is written with

    def take(self, rows: np.ndarray | torch.Tensor) -> VLMRows:
        """The rows ``rows``, in that order (with their weights)."""
        rows = torch.as_tensor(rows, dtype=torch.int64)
        picked = rows.tolist()
        return VLMRows(
            self.ids[rows],
            self.mask[rows],
            weight=None if self.weight is None else self.weight[rows],
            attention=self.attention[rows],
            images=[self.images[i] for i in picked],
            prompts=[self.prompts[i] for i in picked],
            answers=[self.answers[i] for i in picked],
            types={k: v[rows] for k, v in self.types.items()},
            pad=self.pad,
        )

    @classmethod
    def cat(cls, parts: Sequence[VLMRows]) -> VLMRows:
        """The rows of ``parts`` one after the other (padded to the widest)."""
        width = max(p.ids.shape[1] for p in parts)

        def widen(tensors: Sequence[torch.Tensor], value: float) -> torch.Tensor:
            return torch.cat([F.pad(t, (0, width - t.shape[1]), value=value) for t in tensors])

        weight = None
        if any(p.weight is not None for p in parts):
            weight = torch.cat([torch.ones(len(p)) if p.weight is None else p.weight for p in parts])
        return cls(
            widen([p.ids for p in parts], parts[0].pad),
            widen([p.mask for p in parts], 0.0),
            weight=weight,
            attention=widen([p.attention for p in parts], 0),
            images=[im for p in parts for im in p.images],
            prompts=[q for p in parts for q in p.prompts],
            answers=[a for p in parts for a in p.answers],
            types={k: widen([p.types[k] for p in parts], 0) for k in parts[0].types},
            pad=parts[0].pad,
        )


# ---------------------------------------------------------------- the student


class HFVisionLanguageStudent(HFStudent):
    """A pretrained Hugging Face vision-language model as a student (the ``Student`` protocol), trained
    with AdamW. ``reset(seed)`` restores the base weights (with LoRA: the adapter's initial weights) and a
    fresh AdamW state.

    Args:
        model: a hub id or a local directory holding the model and its processor.
        image_of: the image of an example's payload, an (H, W, 3) uint8 array (default: the payload is that
            array; the VQA envs pass ``teachgym.tasks.vqa.picture``). Any size: the processor resizes it.
        lora: None trains every weight; a dict ``{"r", "alpha", "dropout", "target_modules"}`` trains
            only a LoRA adapter (``target_modules`` None: the attention projections ``q_proj k_proj
            v_proj o_proj`` of the text model; e.g. ``"all-linear"`` for every linear layer, the vision
            encoder's included).
        lr, weight_decay, betas, warmup, grad_clip: AdamW and its schedule (as ``HFStudent``).
        batch_size: examples per update; micro_batch_size: examples per forward (gradient accumulation;
            None: the whole batch).
        device: "cpu", "cuda", "cuda:N" or "auto". precision: "fp32", "bf16" (autocast; weights and AdamW
            stay float32) or "tf32".
        evaluation: "teacher-forced" or "generate" (see the module docstring).
        max_new_tokens: tokens a decoded answer may take (EOS included).
        eval_batch_size: rows per evaluation forward and per decoding batch.
        chat_template: None uses the processor's chat template when it has one; True requires one;
            False writes the processor's image token followed by the question.
        processor_kwargs: image-processor settings passed on every call (None: ``untiled``'s, i.e. no
            tiles for a processor that tiles images, else none; ``{}``: the processor's own settings).
    """

    def __init__(
        self,
        model: str | os.PathLike,
        *,
        image_of: Callable[[Any], np.ndarray] = payload_image,
        lora: Mapping[str, Any] | bool | None = None,
        lr: float = 2e-4,
        weight_decay: float = 0.0,
        betas: tuple[float, float] = (0.9, 0.999),
        batch_size: int = 32,
        micro_batch_size: int | None = None,
        warmup: int = 0,
        grad_clip: float = 1.0,
        device: str = "cpu",
        precision: str = "fp32",
        evaluation: str = "teacher-forced",
        max_new_tokens: int = 16,
        eval_batch_size: int = 64,
        chat_template: bool | None = None,
        processor_kwargs: Mapping[str, Any] | None = None,
    ):
        self._configure(
            lr=lr,
            weight_decay=weight_decay,
            batch_size=batch_size,
            micro_batch_size=micro_batch_size,
            warmup=warmup,
            grad_clip=grad_clip,
            device=device,
            precision=precision,
            evaluation=evaluation,
            max_new_tokens=max_new_tokens,
            eval_batch_size=eval_batch_size,
        )
        if lora is not None and lora is not False:
            _check_lora(lora)  # before the model is loaded
        if chat_template not in (None, True, False):
            raise ValueError(
                f"chat_template must be None (when the processor has one), True or False, got {chat_template!r}"
            )
        if processor_kwargs is not None and not isinstance(processor_kwargs, Mapping):
            raise ValueError(
                f"processor_kwargs must be None or a dict of image-processor settings, got {processor_kwargs!r}"
            )
        self.name, self.image_of = str(model), image_of
        base, self.processor = load_pretrained_vlm(model, device=str(self.device))
        self.tokenizer = getattr(self.processor, "tokenizer", None)
        if self.tokenizer is None or getattr(self.processor, "image_processor", None) is None:
            raise ValueError(
                f"model: the processor of {str(model)!r} ({type(self.processor).__name__}) has no tokenizer and image "
                "processor; the student needs a vision-language processor"
            )
        if self.tokenizer.eos_token_id is None:
            raise ValueError(f"model: the tokenizer of {str(model)!r} has no EOS token (answers must end with one)")
        self.eos = int(self.tokenizer.eos_token_id)
        pad = self.tokenizer.pad_token_id
        self.pad = self.eos if pad is None else int(pad)
        has_template = bool(getattr(self.processor, "chat_template", None))
        if chat_template and not has_template:
            raise ValueError(f"chat_template=True, but the processor of {str(model)!r} has no chat template")
        self.chat_template = has_template if chat_template is None else chat_template
        self.image_token = getattr(self.processor, "image_token", None)
        if not self.chat_template and not isinstance(self.image_token, str):
            raise ValueError(
                f"model: the processor of {str(model)!r} has neither a chat template nor an image token to place "
                "the image in a prompt"
            )
        self.processor_kwargs = (
            untiled(self.processor.image_processor) if processor_kwargs is None else dict(processor_kwargs)
        )
        self._hf = base  # the transformers model (with LoRA, its layers carry the adapter)
        self._keeps_logits = "logits_to_keep" in inspect.signature(base.forward).parameters
        self._heads: dict[tuple[str, tuple[int, ...]], tuple[list[int], dict[str, list[int]]]] = {}  # see _head
        self.pixel_keys = self._check_processor()
        self._attach(
            base, lora, lr=lr, betas=betas, weight_decay=weight_decay, task_type=None, default_targets=self._targets()
        )

    # -- set-up --------------------------------------------------------------------------------
    def _targets(self) -> str | None:
        """The default LoRA targets: a regex of the attention projections in the text model (the module
        holding the input embeddings), or None (peft's default for the architecture) when the text model
        has none by those names."""
        embeddings = self._hf.get_input_embeddings()
        owner = next((n for n, m in self._hf.named_modules() if m is embeddings), None)
        if owner is None or "." not in owner:
            return None
        text = owner.rsplit(".", 1)[0]
        found = [
            n
            for n, m in self._hf.named_modules()
            if n.startswith(text + ".")
            and n.rsplit(".", 1)[-1] in ATTENTION_PROJECTIONS
            and isinstance(m, torch.nn.Linear)
        ]
        if not found:
            return None
        return re.escape(text) + r"\..*\.(?:" + "|".join(ATTENTION_PROJECTIONS) + ")"

    def _check_processor(self) -> list[str]:
        """The names of the processor's image inputs, checked on a probe image: every processor output that
        is not text must come from the image processor alone, with equal values and one entry per image
        (a processor that flattens the images of a batch into one sequence, e.g. Qwen2-VL's, cannot have
        its rows taken apart and is refused)."""
        probe = np.random.default_rng(0).integers(0, 256, (_PROBE_SIZE, _PROBE_SIZE, 3), dtype=np.uint8)
        full = self._process(self._prompt_text("what is this?"), probe)
        pixels = self._pixel_inputs([probe], device=torch.device("cpu"), keys=None)
        keys = [k for k in full if k not in TEXT_KEYS and not k.endswith("token_type_ids")]
        bad = [k for k in keys if k not in pixels or not torch.equal(torch.as_tensor(full[k]), pixels[k])]
        flat = [k for k in keys if k in pixels and (pixels[k].ndim == 0 or pixels[k].shape[0] != 1)]
        if bad or flat or not keys:
            why = (
                f"its inputs {bad} are not what its image processor gives"
                if bad
                else f"its image inputs {flat} are not one entry per image"
                if flat
                else "it gives no image inputs"
            )
            raise ValueError(
                f"model: the processor of {self.name!r} ({type(self.processor).__name__}) is not supported: {why} "
                "(supported: processors whose image inputs have one row per example, e.g. Idefics3/SmolVLM, "
                "PaliGemma, LLaVA)"
            )
        return keys

    # -- inputs --------------------------------------------------------------------------------
    def images(self, payloads: Sequence[Any]) -> list[np.ndarray]:
        """The payloads' images, or a ValueError naming the first payload that gives none."""
        out = []
        for i, payload in enumerate(payloads):
            try:
                image, error = self.image_of(payload), None
            except Exception as e:
                image, error = None, f"{type(e).__name__}: {e}"
            ok = (
                error is None
                and isinstance(image, np.ndarray)
                and image.dtype == np.uint8
                and image.ndim == 3
                and image.shape[2] == 3
                and min(image.shape[:2]) > 0
            )
            if not ok:
                got = error or (
                    f"a {image.dtype} array of shape {image.shape}"
                    if isinstance(image, np.ndarray)
                    else type(image).__name__
                )
                raise ValueError(
                    f"example {i}: its payload gives no image: image_of must return an (H, W, 3) uint8 array (the "
                    f"payload itself by default, or what the student's image_of accepts, e.g. a scene for "
                    f"teachgym.tasks.vqa.picture), got {got}"
                )
            out.append(image)
        return out

    def _prompt_text(self, question: str) -> str:
        """The text the processor reads for ``question``: the chat template's user turn (image, then the
        question) with the assistant's turn opened, or the image token followed by the question."""
        if not self.chat_template:
            return f"{self.image_token}{question}"
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]
        return self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def _process(self, text: str, image: np.ndarray) -> dict[str, Any]:
        """The processor's outputs for one prompt text and its image (a text that starts with the
        tokenizer's BOS, as a chat template may write it, gets no second one)."""
        from PIL import Image

        bos = self.tokenizer.bos_token
        special = not (isinstance(bos, str) and bos and text.startswith(bos))
        return dict(
            self.processor(
                text=[text],
                images=[[Image.fromarray(image)]],
                return_tensors="pt",
                add_special_tokens=special,
                **self.processor_kwargs,
            )
        )

    def _head(self, question: str, image: np.ndarray) -> tuple[list[int], dict[str, list[int]]]:
        """A prompt's token ids (image tokens expanded) and token types. Remembered per (prompt text, image
        size): what a processor writes for an image depends on its size, not its pixels."""
        text = self._prompt_text(question)
        key = (text, image.shape)
        if key not in self._heads:
            out = self._process(text, image)
            ids, attention = out["input_ids"], out.get("attention_mask")
            if attention is not None and not bool(torch.as_tensor(attention).all()):
                raise ValueError(f"the processor padded a single prompt: {question!r}")
            types = {k: torch.as_tensor(v)[0].tolist() for k, v in out.items() if k.endswith("token_type_ids")}
            if len(self._heads) >= _HEADS_CACHED:
                self._heads.clear()
            self._heads[key] = (torch.as_tensor(ids)[0].tolist(), types)
        return self._heads[key]

    def _answer_types(self, types: dict[str, list[int]], n: int) -> dict[str, list[int]]:
        """The token types of ``n`` answer tokens after a prompt of ``types``: those ``generate`` gives
        the tokens it emits (the model's own update, e.g. PaliGemma's 1 for its causal suffix; when that
        cannot be asked, the generic rule: the prompt's last value)."""
        if not types:
            return {}
        from transformers.utils import ModelOutput

        try:
            kwargs: dict[str, Any] = {k: torch.tensor([v]) for k, v in types.items()}
            kwargs["use_cache"] = False
            for _ in range(n):
                kwargs = self._hf._update_model_kwargs_for_generation(ModelOutput(), kwargs, num_new_tokens=1)
            return {k: kwargs[k][0, len(v) :].tolist() for k, v in types.items()}
        except Exception:
            return {k: [v[-1]] * n for k, v in types.items()}

    def _pixel_inputs(
        self, images: Sequence[np.ndarray], device: torch.device, keys: Sequence[str] | None
    ) -> dict[str, torch.Tensor]:
        """The image processor's inputs for ``images`` (one per row) on ``device`` (``keys``: those the
        model reads; None: all)."""
        from PIL import Image

        out = self.processor.image_processor(
            images=[[Image.fromarray(im)] for im in images], return_tensors="pt", **self.processor_kwargs
        )
        return {k: torch.as_tensor(v).to(device) for k, v in out.items() if keys is None or k in keys}

    # -- the Student protocol ------------------------------------------------------------------
    def encode(
        self,
        examples: Sequence[Example],
        *,
        kd_weight: np.ndarray | float | None = None,
        temperature: np.ndarray | float | None = None,
        weight: np.ndarray | float | None = None,
    ) -> VLMRows:
        """``examples`` (question, answer and the payload's image) as right-padded rows; ``weight`` (per row
        or one for all) scales each row's loss. Distillation is not supported: a non-zero ``kd_weight`` is
        a ValueError (``temperature`` is then unused)."""
        if kd_weight is not None and np.any(np.asarray(kd_weight, dtype=np.float64) != 0):
            raise ValueError(
                f"{type(self).__name__} does not support distillation: kd_weight must be None or 0 "
                "(train on the labels instead)"
            )
        Encoded.check_weight(weight)
        images = self.images([e.payload for e in examples])
        rows, masks, types = [], [], defaultdict(list)
        for e, image in zip(examples, images, strict=True):
            head, head_types = self._head(e.prompt, image)
            answer = [*self.tokens(e.answer), self.eos]
            rows.append(head + answer)
            masks.append([0.0] * len(head) + [1.0] * len(answer))
            for k, v in self._answer_types(head_types, len(answer)).items():
                types[k].append(head_types[k] + v)
        n, width = len(rows), max(map(len, rows), default=1)
        ids = torch.full((n, width), self.pad, dtype=torch.int64)
        mask = torch.zeros((n, width), dtype=torch.float32)
        attention = torch.zeros((n, width), dtype=torch.int64)
        typed = {k: torch.zeros((n, width), dtype=torch.int64) for k in types}
        for i, (row, m) in enumerate(zip(rows, masks, strict=True)):
            ids[i, : len(row)] = torch.tensor(row)
            mask[i, : len(m)] = torch.tensor(m)
            attention[i, : len(row)] = 1
            for k in types:
                typed[k][i, : len(row)] = torch.tensor(types[k][i])
        w = None
        if weight is not None:
            w = torch.as_tensor(np.broadcast_to(np.asarray(weight, np.float32), (n,)).copy())
        prompts, answers = [e.prompt for e in examples], [e.answer for e in examples]
        return VLMRows(
            ids,
            mask,
            weight=w,
            attention=attention,
            images=images,
            prompts=prompts,
            answers=answers,
            types=typed,
            pad=self.pad,
        )

    def _window_logits(
        self, data: VLMRows, rows: torch.Tensor, width: int, ids: torch.Tensor, start: int
    ) -> torch.Tensor:
        """Float32 logits at positions ``start .. width - 2`` (each predicting the next token) of rows
        ``rows`` of ``data`` cut to ``width`` (``ids``: those rows' ids, on the device): only the answer
        window goes through the LM head when the model can (``logits_to_keep``)."""
        picked = rows.tolist()
        inputs = {
            "input_ids": ids,
            "attention_mask": data.attention[rows, :width].to(self.device),
            **{k: v[rows, :width].to(self.device) for k, v in data.types.items()},
            **self._pixel_inputs([data.images[i] for i in picked], self.device, self.pixel_keys),
        }
        window = torch.arange(start, width - 1, device=self.device)
        with autocast(self.device, self.precision):
            if self._keeps_logits:
                logits = self.model(**inputs, use_cache=False, logits_to_keep=window).logits
            else:
                logits = self.model(**inputs, use_cache=False).logits[:, start : width - 1]
        return logits.float()

    @staticmethod
    def _window_start(mask: torch.Tensor) -> int:
        """The position before the earliest answer token of some rows (their mask)."""
        return int(mask.argmax(1).min()) - 1

    def train(self, examples: Sequence[Example] | VLMRows, *, teacher: Any = None) -> TrainStats:
        """One epoch over ``examples`` in batches of ``batch_size`` shuffled by the seeded generator, one
        AdamW update each (gradient accumulation over ``micro_batch_size`` rows, warm-up, gradient
        clipping; a non-finite loss stops it as diverged), as ``HFStudent.train``.

        The batch loss is the mean cross-entropy over answer positions (answer tokens and EOS), each
        row's positions counted ``weight_i`` times (default 1) over the same denominator. ``teacher`` is
        unused: no row can ask for distillation (``encode``). ``TrainStats.row_loss`` holds, per row in
        the order given, the mean answer-token cross-entropy of the forward pass that trained on it.
        """
        data = examples if isinstance(examples, VLMRows) else self.encode(examples)
        return super().train(data, teacher=None)

    def _loss(
        self, ids, mask, idx, data: VLMRows, weight, temp, teacher, denominator
    ) -> tuple[torch.Tensor, np.ndarray]:
        """The summed answer-token cross-entropy of some rows of an update over the update's answer
        positions (``denominator``), and each row's mean (``CausalLMStudent.train`` calls it per
        micro-batch)."""
        start = self._window_start(mask)
        logits = self._window_logits(data, idx, ids.shape[1], ids, start)
        target, m = ids[:, start + 1 :], mask[:, start + 1 :]
        mw = m if data.weight is None else m * data.weight[idx].to(self.device)[:, None]
        ce = F.cross_entropy(logits.transpose(1, 2), target, reduction="none")
        loss = (ce * mw).sum() / denominator
        return loss, ((ce * m).sum(1) / m.sum(1).clamp_min(1.0)).detach().cpu().numpy()

    def evaluate(
        self, data: Sequence[Example] | VLMRows, batch_size: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per row: (right, mean answer-token loss); "right" as ``evaluation`` says (module docstring)."""
        data = data if isinstance(data, VLMRows) else self.encode(data)
        right, loss = self._teacher_forced(data, batch_size or self.eval_batch_size)
        if self.evaluation == "generate":
            outputs = self._decode(data.prompts, data.images, self.max_new_tokens)
            right = np.array([o.strip() == a.strip() for o, a in zip(outputs, data.answers, strict=True)], dtype=bool)
        return right, loss

    @torch.inference_mode()
    def _teacher_forced(self, data: VLMRows, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """Per row (right, loss) by one teacher-forced forward per batch, rows grouped by length."""
        was_training = self.model.training
        self.model.eval()
        lengths = data.attention.sum(1)
        order = torch.argsort(lengths, stable=True)
        right = np.zeros(len(data), dtype=bool)
        loss = np.zeros(len(data), dtype=np.float64)
        try:
            for lo in range(0, len(data), batch_size):
                rows = order[lo : lo + batch_size]
                width = int(lengths[rows].max())
                ids, mask = data.ids[rows, :width].to(self.device), data.mask[rows, :width].to(self.device)
                start = self._window_start(mask)
                logits = self._window_logits(data, rows, width, ids, start)
                target, m = ids[:, start + 1 :], mask[:, start + 1 :]
                hit = (logits.argmax(-1) == target) | (m == 0)
                ce = F.cross_entropy(logits.transpose(1, 2), target, reduction="none")
                right[rows.numpy()] = hit.all(1).cpu().numpy()
                loss[rows.numpy()] = ((ce * m).sum(1) / m.sum(1).clamp_min(1.0)).cpu().numpy()
        finally:
            self.model.train(was_training)
        return right, loss

    def generate(
        self, prompts: Sequence[str], max_new: int | None = None, payloads: Sequence[Any] | None = None
    ) -> list[str]:
        """The greedy-decoded answer to each prompt about its payload's image (``model.generate`` with a key
        /value cache, at most ``max_new`` tokens, EOS included; None: ``max_new_tokens``), the text before
        EOS with special tokens left out.

        Prompts of equal token length are decoded together, so no row is padded. Decoding is plain greedy
        whatever the model's generation config says (no repetition penalty, no suppressed tokens), as
        teacher-forced evaluation assumes."""
        if payloads is None or len(payloads) != len(prompts):
            got = "none" if payloads is None else f"{len(payloads)}"
            raise ValueError(
                f"generate needs one payload (the image, or what image_of accepts) per prompt: "
                f"{len(prompts)} prompts, {got} payloads"
            )
        return self._decode(list(prompts), self.images(payloads), max_new or self.max_new_tokens)

    @torch.inference_mode()
    def _decode(self, prompts: Sequence[str], images: Sequence[np.ndarray], max_new: int) -> list[str]:
        """Greedy answers to ``prompts`` about ``images`` (see ``generate``)."""
        from transformers import GenerationConfig

        heads = [self._head(p, im) for p, im in zip(prompts, images, strict=True)]
        groups: dict[int, list[int]] = defaultdict(list)
        for i, (ids, _) in enumerate(heads):
            groups[len(ids)].append(i)
        config = GenerationConfig(
            max_new_tokens=max_new, do_sample=False, num_beams=1, eos_token_id=self.eos, pad_token_id=self.pad
        )
        was_training, saved = self.model.training, self._hf.generation_config
        self.model.eval()
        self._hf.generation_config = GenerationConfig()  # the model's defaults (penalties...) are not greedy's
        out = [""] * len(prompts)
        try:
            for width, members in groups.items():
                for lo in range(0, len(members), self.eval_batch_size):
                    idx = members[lo : lo + self.eval_batch_size]
                    ids = torch.tensor([heads[i][0] for i in idx], device=self.device)
                    inputs = {
                        k: torch.tensor([heads[i][1][k] for i in idx], device=self.device) for k in heads[idx[0]][1]
                    }
                    inputs.update(self._pixel_inputs([images[i] for i in idx], self.device, self.pixel_keys))
                    with autocast(self.device, self.precision):
                        new = self._hf.generate(
                            input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=config, **inputs
                        )[:, width:]
                    for i, row in zip(idx, new.cpu().tolist(), strict=True):
                        cut = row.index(self.eos) if self.eos in row else len(row)
                        out[i] = self.tokenizer.decode(row[:cut], skip_special_tokens=True)
        finally:
            self._hf.generation_config = saved
            self.model.train(was_training)
        return out

    def answer_kl(self, data: Any, target: torch.Tensor) -> np.ndarray:
        """Not available: distillation compares next-token distributions of text-only models."""
        raise TypeError(f"{type(self).__name__} does not support distillation")

    def save_pretrained(self, directory: str | os.PathLike, *, merge: bool = True) -> Path:
        """Write the student so that plain transformers (or peft) load it back with its processor: with
        LoRA, ``merge=True`` writes the base with the adapter merged in, ``merge=False`` the adapter alone
        (peft format). The processor (tokenizer, image processor, chat template) is written beside it."""
        out = super().save_pretrained(directory, merge=merge)
        self.processor.save_pretrained(out)
        return out

    def metadata(self) -> dict[str, str]:
        """What the student is (JSON strings): the model, LoRA settings, prompt format, processor settings."""
        return {
            "model": self.name,
            "lora": json.dumps(self.lora),
            "chat_template": json.dumps(self.chat_template),
            "processor_kwargs": json.dumps(self.processor_kwargs),
        }
