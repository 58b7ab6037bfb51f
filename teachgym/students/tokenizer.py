"""Character-level tokenizer shared by every tiny student.

One token per character of a fixed alphabet, plus PAD, BOS and EOS (end of answer). A sequence is
``BOS prompt answer EOS``; the loss and the exact-match check cover the answer and its EOS, so
"argmax equals gold at every answer position" is exactly "greedy decoding returns the answer".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

PAD, BOS, EOS = 0, 1, 2
ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz +-*/%=()<>?,.:;'"
_INDEX = {ch: i + 3 for i, ch in enumerate(ALPHABET)}
VOCAB_SIZE = len(ALPHABET) + 3


def unknown_chars(text: str) -> set[str]:
    """Characters of ``text`` that the tokenizer cannot encode."""
    return {ch for ch in text if ch not in _INDEX}


def encode(text: str) -> list[int]:
    try:
        return [_INDEX[ch] for ch in text]
    except KeyError:
        bad = "".join(sorted(unknown_chars(text)))
        raise ValueError(f"characters {bad!r} are not in the alphabet {ALPHABET!r}") from None


def decode(ids: Sequence[int]) -> str:
    out = []
    for i in ids:
        i = int(i)
        if i == EOS:
            break
        if i >= 3:
            out.append(ALPHABET[i - 3])
    return "".join(out)


def encode_batch(prompts: Sequence[str], answers: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ``BOS prompt answer EOS`` ids and a 0/1 mask of the answer+EOS positions.

    Returns ``(ids, answer_mask)`` of shape (n, T). ``answer_mask[i, t]`` is 1 where token t is an
    answer token (predicted from position t-1).
    """
    seqs, starts = [], []
    for p, a in zip(prompts, answers, strict=True):
        ids = [BOS, *encode(p)]
        starts.append(len(ids))
        ids += [*encode(a), EOS]
        seqs.append(ids)
    width = max(len(s) for s in seqs)
    ids = np.full((len(seqs), width), PAD, dtype=np.int64)
    mask = np.zeros((len(seqs), width), dtype=np.float32)
    for i, (s, start) in enumerate(zip(seqs, starts, strict=True)):
        ids[i, : len(s)] = s
        mask[i, start : len(s)] = 1.0
    return torch.from_numpy(ids), torch.from_numpy(mask)
