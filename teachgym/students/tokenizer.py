"""Character-level tokenizer shared by every tiny student.

One token per character of an alphabet, plus PAD, BOS and EOS (end of answer). A sequence is
``BOS prompt answer EOS``; the loss and the exact-match check cover the answer and its EOS, so
"argmax equals gold at every answer position" is exactly "greedy decoding returns the answer".

``ALPHABET`` is the Math students' alphabet (the default everywhere); a student built for another
task names its own in ``StudentConfig.alphabet`` (``CODE_ALPHABET`` adds the brackets, ``|``, ``!``,
``_`` and ``"`` that programs need). Token ids are ``3 + position in the alphabet``, so
an alphabet that extends another keeps its ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import torch

PAD, BOS, EOS = 0, 1, 2
ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz +-*/%=()<>?,.:;'"
CODE_ALPHABET = ALPHABET + '[]|!_"'
VOCAB_SIZE = len(ALPHABET) + 3


@lru_cache(maxsize=16)
def _index(alphabet: str) -> dict[str, int]:
    if len(set(alphabet)) != len(alphabet):
        raise ValueError(f"an alphabet must not repeat characters, got {alphabet!r}")
    return {ch: i + 3 for i, ch in enumerate(alphabet)}


def vocab_size(alphabet: str = ALPHABET) -> int:
    return len(_index(alphabet)) + 3


def unknown_chars(text: str, alphabet: str = ALPHABET) -> set[str]:
    """Characters of ``text`` that the tokenizer cannot encode."""
    index = _index(alphabet)
    return {ch for ch in text if ch not in index}


def encode(text: str, alphabet: str = ALPHABET) -> list[int]:
    index = _index(alphabet)
    try:
        return [index[ch] for ch in text]
    except KeyError:
        bad = "".join(sorted(unknown_chars(text, alphabet)))
        raise ValueError(f"characters {bad!r} are not in the alphabet {alphabet!r}") from None


def decode(ids: Sequence[int], alphabet: str = ALPHABET) -> str:
    out = []
    for i in ids:
        i = int(i)
        if i == EOS:
            break
        if 3 <= i < len(alphabet) + 3:
            out.append(alphabet[i - 3])
    return "".join(out)


def encode_batch(
    prompts: Sequence[str], answers: Sequence[str], alphabet: str = ALPHABET
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ``BOS prompt answer EOS`` ids and a 0/1 mask of the answer+EOS positions.

    Returns ``(ids, answer_mask)`` of shape (n, T). ``answer_mask[i, t]`` is 1 where token t is an
    answer token (predicted from position t-1).
    """
    seqs, starts = [], []
    for p, a in zip(prompts, answers, strict=True):
        ids = [BOS, *encode(p, alphabet)]
        starts.append(len(ids))
        ids += [*encode(a, alphabet), EOS]
        seqs.append(ids)
    width = max(len(s) for s in seqs)
    ids = np.full((len(seqs), width), PAD, dtype=np.int64)
    mask = np.zeros((len(seqs), width), dtype=np.float32)
    for i, (s, start) in enumerate(zip(seqs, starts, strict=True)):
        ids[i, : len(s)] = s
        mask[i, start : len(s)] = 1.0
    return torch.from_numpy(ids), torch.from_numpy(mask)
