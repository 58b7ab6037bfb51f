"""A tiny pretrained-model directory built offline: a random Llama and a real byte-level BPE tokenizer
(trained here with the ``tokenizers`` library), saved with ``save_pretrained`` so that tests load it
through the same ``from_pretrained`` path a user's hub model takes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from teachgym.tasks.math import MathTask

SPECIALS = ["<pad>", "<bos>", "<eos>"]


def corpus(n: int = 3000) -> list[str]:
    task, rng = MathTask(), np.random.default_rng(0)
    lines = []
    for skill in task.skills:
        for level in range(task.num_levels):
            lines += [e.prompt + e.answer for e in task.generate(skill.name, level, n // 30, rng)]
    return [*lines, "the answer is 42", "Question: what is 3 + 4? Answer: 7"]


def build_tokenizer() -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(corpus(), trainer)
    tok.post_processor = processors.TemplateProcessing(single="<bos> $A", special_tokens=[("<bos>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>")


def build(directory: Path, *, hidden: int = 32, layers: int = 2, seed: int = 0) -> Path:
    """Write a tiny Llama + tokenizer to ``directory`` (returned)."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    tokenizer = build_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=128,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


_SHARED: dict[str, Path] = {}


def shared_dir() -> str:
    """One tiny model directory per test process (removed at exit), for static kwargs such as ``SMALL``."""
    if "dir" not in _SHARED:
        import atexit
        import shutil
        import tempfile

        path = Path(tempfile.mkdtemp(prefix="teachgym-tiny-llama-"))
        atexit.register(shutil.rmtree, path, ignore_errors=True)
        _SHARED["dir"] = build(path)
    return str(_SHARED["dir"])
