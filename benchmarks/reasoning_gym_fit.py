"""Which reasoning-gym datasets a tiny character student can read, and which need a pretrained model.

Per dataset (curriculum level 0, 50 items): prompt and answer lengths in characters, the characters
outside the character student's alphabet, and the verdict: ``char`` when every prompt and answer is
in the alphabet and short enough for a tiny student (prompt <= 40, answer <= 10 characters, the sizes
Math-v0's students learn), else ``pretrained``.

    python benchmarks/reasoning_gym_fit.py [--out benchmarks/results/reasoning-gym-fit.md]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from teachgym.students.tokenizer import unknown_chars
from teachgym.tasks.reasoning import ReasoningGymTask

MAX_PROMPT, MAX_ANSWER, ITEMS, TIMEOUT_S = 40, 10, 50, 60


def measure(name: str) -> dict:
    """Lengths, foreign characters and generation cost of one dataset (run in a child process)."""
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    task = ReasoningGymTask([name], levels=1)
    items = task._draw(name, 0, 1, ITEMS)
    bad = set().union(*(unknown_chars(e.prompt) | unknown_chars(e.answer) for e in items))
    return {
        "prompts": [len(e.prompt) for e in items],
        "answers": [len(e.answer) for e in items],
        "bad": "".join(sorted(repr(c)[1:-1] for c in bad)),
        "ms": (time.perf_counter() - start) * 1000 / ITEMS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/reasoning-gym-fit.md")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # internal: measure one dataset
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one)))
        return
    from reasoning_gym.factory import DATASETS

    rows, counts = [], {"char": 0, "pretrained": 0, "error": 0}
    with tempfile.TemporaryDirectory() as scratch:  # some generators write files in the working directory
        for name in sorted(DATASETS):
            try:
                done = subprocess.run(
                    [sys.executable, str(Path(__file__).resolve()), "--one", name],
                    capture_output=True,
                    text=True,
                    timeout=TIMEOUT_S,
                    cwd=scratch,
                )
                m = json.loads(done.stdout.strip().splitlines()[-1])
            except (subprocess.TimeoutExpired, json.JSONDecodeError, IndexError) as err:
                reason = "timeout" if isinstance(err, subprocess.TimeoutExpired) else "failed"
                rows.append(f"| {name} | | | | | error ({reason}) |")
                counts["error"] += 1
                print(name, reason, flush=True)
                continue
            prompts, answers = m["prompts"], m["answers"]
            fits = not m["bad"] and max(prompts) <= MAX_PROMPT and max(answers) <= MAX_ANSWER
            verdict = "char" if fits else "pretrained"
            counts[verdict] += 1
            rows.append(
                f"| {name} | {statistics.median(prompts):.0f} ({max(prompts)}) | {statistics.median(answers):.0f} "
                f"({max(answers)}) | `{m['bad'][:24].replace('|', '/')}` | {m['ms']:.1f} | {verdict} |"
            )
            print(rows[-1], flush=True)
    text = "\n".join(
        [
            "# Which reasoning-gym datasets a tiny character student can read",
            "",
            "`python benchmarks/reasoning_gym_fit.py` (curriculum level 0, 50 items per dataset, each dataset in a",
            f"child process with a {TIMEOUT_S} s limit). Lengths are median (max) characters; 'outside alphabet'",
            "lists characters the character student's tokenizer lacks (`\\n` is a newline). Verdict `char`: all",
            f"text in its alphabet, prompts <= {MAX_PROMPT} and answers <= {MAX_ANSWER} characters (the sizes",
            "Math-v0's students learn); otherwise `pretrained` (use `student=`).",
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
