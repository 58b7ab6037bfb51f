"""Cost of the program sandbox (``teachgym.sandbox``): per test case for typical short programs, and the
time to refuse hostile ones (fuel, size and depth limits are checked before the work they bound).

    python benchmarks/sandbox.py [--out benchmarks/results/sandbox.md]
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

from teachgym.sandbox import Rejected, check, run

TYPICAL = [
    ("arith", "x * 3 + 1", 7),
    ("cond", "x if x > 0 else -x", -4),
    ("index", "x[-1] if x else 0", [3, 1, 2]),
    ("agg", "sum(x) // len(x) if x else 0", [3, 1, 2, 8]),
    ("map", "[v * 2 for v in x]", [3, 1, 2, 8]),
    ("filter", "[v for v in x if v % 2]", [3, 1, 2, 8, 5]),
    ("sort", "sorted(x, reverse=True)[:3]", [3, 1, 2, 8, 5]),
    ("str", "x.upper().count('A')", "banana"),
    ("zip", "[a + b for a, b in zip(x, x[1:])]", [3, 1, 2, 8]),
    ("compose", "sum(sorted(v * v for v in x)[-2:])", [3, 1, 2, 8, 5]),
]
HOSTILE = [
    "[0 for _ in range(10**9)]",
    "9**9**9",
    "'a'*10**10",
    "__import__('os')",
    "().__class__.__bases__[0].__subclasses__()",
    "open('/etc/passwd')",
    "(lambda f: f(f))(lambda f: f(f))",
    "(" * 200 + "1" + ")" * 200,
    "[[v for v in range(100)] for _ in range(10000)]",
    "[v for v in 'a' * 9999 for w in 'b' * 9999]",
]


def timed(fn, repeat: int) -> float:
    """Median seconds of ``fn()`` over ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/sandbox.md")
    args = parser.parse_args()
    lines = [
        "# Program sandbox cost",
        "",
        f"`python benchmarks/sandbox.py`; {platform.processor() or platform.machine()}, one core, median of",
        "repeated runs. 'check' parses and checks a program once; 'run' evaluates a checked tree on one",
        "test case (what scoring a program on N hidden inputs costs N times).",
        "",
        "| program | check us | run us per test case |",
        "|---|---|---|",
    ]
    for name, program, x in TYPICAL:
        tree = check(program)
        c = timed(lambda program=program: check(program), 2000)
        r = timed(lambda tree=tree, x=x: run(tree, {"x": x}), 2000)
        lines.append(f"| {name}: `{program}` | {1e6 * c:.0f} | {1e6 * r:.0f} |")
    lines += ["", "| hostile program | refused after ms | reason |", "|---|---|---|"]
    for program in HOSTILE:

        def refuse(program=program):
            try:
                run(program, {"x": [1, 2, 3]})
            except Rejected as err:
                return err.reason
            raise AssertionError(f"not refused: {program}")

        reason = refuse()
        shown = program if len(program) < 50 else program[:47] + "..."
        lines.append(f"| `{shown}` | {1e3 * timed(refuse, 20):.2f} | {reason} |")
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
