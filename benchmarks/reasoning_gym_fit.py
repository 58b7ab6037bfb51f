"""Which reasoning-gym datasets a tiny character student can read, and which need a pretrained model.

Per dataset (curriculum level 0, 50 items): prompt and answer lengths in characters, the characters
outside the character student's alphabet, and the verdict: ``char`` when every prompt and answer is
in the alphabet and short enough for a tiny student (prompt <= 40, answer <= 10 characters, the sizes
Math-v0's students learn), else ``pretrained``.

    python benchmarks/reasoning_gym_fit.py [--out benchmarks/results/reasoning-gym-fit.md]
"""

from __future__ import annotations

import argparse
import signal
import statistics
import time
import warnings
from pathlib import Path

from teachgym.students.tokenizer import unknown_chars
from teachgym.tasks.reasoning import ReasoningGymTask

MAX_PROMPT, MAX_ANSWER, ITEMS, TIMEOUT_S = 40, 10, 50, 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/reasoning-gym-fit.md")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from reasoning_gym.factory import DATASETS

    def timeout(*_):
        raise TimeoutError

    signal.signal(signal.SIGALRM, timeout)
    rows, counts = [], {"char": 0, "pretrained": 0, "error": 0}
    for name in sorted(DATASETS):
        start = time.perf_counter()
        try:
            signal.alarm(TIMEOUT_S)
            task = ReasoningGymTask([name], levels=1)
            items = task._draw(name, 0, 1, ITEMS)
            signal.alarm(0)
        except Exception as err:  # a generator that needs files or takes too long
            signal.alarm(0)
            rows.append(f"| {name} | | | | | error: {type(err).__name__} |")
            counts["error"] += 1
            continue
        ms = (time.perf_counter() - start) * 1000 / ITEMS
        prompts = [len(e.prompt) for e in items]
        answers = [len(e.answer) for e in items]
        bad = set().union(*(unknown_chars(e.prompt) | unknown_chars(e.answer) for e in items))
        shown = "".join(sorted(repr(c)[1:-1] for c in bad))
        verdict = "char" if not bad and max(prompts) <= MAX_PROMPT and max(answers) <= MAX_ANSWER else "pretrained"
        counts[verdict] += 1
        rows.append(
            f"| {name} | {statistics.median(prompts):.0f} ({max(prompts)}) | {statistics.median(answers):.0f} "
            f"({max(answers)}) | `{shown[:24]}` | {ms:.1f} | {verdict} |"
        )
    text = "\n".join(
        [
            "# Which reasoning-gym datasets a tiny character student can read",
            "",
            "`python benchmarks/reasoning_gym_fit.py` (curriculum level 0, 50 items per dataset). Lengths are",
            "median (max) characters; 'outside alphabet' lists characters the character student's tokenizer",
            f"lacks (capitals, newlines ...). Verdict `char`: all text in its alphabet, prompts <= {MAX_PROMPT}",
            f"and answers <= {MAX_ANSWER} characters; otherwise `pretrained` (use `student=`).",
            "",
            f"Summary: {counts['char']} char, {counts['pretrained']} pretrained, {counts['error']} errors "
            f"of {len(rows)} datasets.",
            "",
            "| dataset | prompt chars | answer chars | outside alphabet | ms/item | verdict |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
