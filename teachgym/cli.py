"""``teachgym run | info | replay | data | pretrain | leaderboard``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator

import gymnasium as gym
import numpy as np
from rich.console import Console
from rich.table import Table

console = Console()


def _kwargs(text: str | None, flag: str = "--kwargs", example: str = '{"horizon": 5}') -> dict:
    try:
        kwargs = json.loads(text) if text else {}
    except json.JSONDecodeError as err:
        raise SystemExit(f"{flag} must be a JSON object, e.g. '{example}': {err}") from None
    if not isinstance(kwargs, dict):
        raise SystemExit(f"{flag} must be a JSON object, e.g. '{example}'")
    return kwargs


def cmd_run(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from teachgym.registration import agents_module

    env = gym.make(args.env, **_kwargs(args.kwargs))
    teacher = agents_module().make_agent(
        args.agent, **_kwargs(args.agent_kwargs, "--agent-kwargs", '{"weights": {"gain": 1}}')
    )
    obs, info = env.reset(seed=args.seed)
    teacher.reset(env, seed=args.seed)
    table = Table(title=f"{args.agent} on {args.env}, seed {args.seed}")
    for col in ("step", "reward", "val mean", "test mean", "examples", "loss", "step s"):
        table.add_column(col, justify="right")
    table.add_row("0", "", f"{info['val_mean']:.3f}", f"{info['test_mean']:.3f}", "0", "", "")
    first = info
    steps = args.steps or env.unwrapped.horizon
    done, t = False, 0
    with tqdm(total=steps, desc="teaching", unit="step", file=sys.stderr) as bar:
        while not done and t < steps:
            obs, reward, terminated, truncated, info = env.step(teacher.act(obs))
            teacher.observe(obs, reward, terminated, truncated, info)
            t += 1
            done = terminated or truncated
            table.add_row(
                str(t),
                f"{reward:+.4f}",
                f"{info['val_mean']:.3f}",
                f"{info['test_mean']:.3f}",
                str(info["examples_total"]),
                f"{info['train_loss']:.3f}",
                f"{sum(info['timings'].values()):.2f}",
            )
            bar.update(1)
    console.print(table)
    console.print(skill_table(env, first, info, "test accuracy before / after"))
    if info.get("diverged"):
        console.print("[red]the student diverged (non-finite loss); the episode ended early[/red]")


def skill_table(env: gym.Env, before: dict, after: dict, title: str) -> Table:
    task = env.unwrapped.task
    table = Table(title=title)
    for col in ("skill", "before", "after", "change", "examples"):
        table.add_column(col, justify="right")
    for i, skill in enumerate(task.skills):
        b, a = before["test_accuracy"][i], after["test_accuracy"][i]
        table.add_row(skill.name, f"{b:.2f}", f"{a:.2f}", f"{a - b:+.2f}", str(after["examples_used"][i]))
    return table


def cmd_info(args: argparse.Namespace) -> None:
    kwargs = _kwargs(args.kwargs)
    if args.student is not None:
        kwargs["student"] = args.student
    env = gym.make(args.env, **kwargs)
    _, info = env.reset(seed=0)
    u = env.unwrapped
    console.print(f"[bold]{args.env}[/bold]  (entry point {env.spec.entry_point})")
    console.print(f"action space: {env.action_space}")
    console.print(f"observation space: {env.observation_space}")
    console.print(
        f"horizon {u.horizon} steps, {u.examples_per_step} examples per step, budget {u.budget}, "
        f"{u.eval_per_level} val and test items per (skill, level), regime {u.regime}"
    )
    student = u.student
    trains = getattr(student, "num_trainable", student.num_params)
    console.print(
        f"student: {student.config} ({student.num_params:,} parameters, {trains:,} trained), lr {student.lr}, "
        f"batch {student.batch_size}, device {student.device}"
    )
    table = Table(title="skills and the base student's accuracy (val / test, per level)")
    for col in ("skill", "prerequisites", "levels", "val", "test"):
        table.add_column(col)
    report = u.state.report
    for i, s in enumerate(u.task.skills):
        table.add_row(
            s.name,
            ", ".join(s.prerequisites) or "-",
            "; ".join(s.levels),
            " ".join(f"{a:.2f}" for a in report.val[i][: len(s.levels)]),
            " ".join(f"{a:.2f}" for a in report.test[i][: len(s.levels)]),
        )
    console.print(table)
    console.print(f"mean val {info['val_mean']:.3f}, mean test {info['test_mean']:.3f}")


def cmd_replay(args: argparse.Namespace) -> None:
    """Record an agent's data plans (``--agent``), replay saved ones (``--plans``), or both (record on one env,
    replay on ``--to-kwargs``)."""
    from teachgym.registration import agents_module
    from teachgym.replay import load_plans, record, replay, save_plans

    if (args.agent is None) == (args.plans is None):
        raise SystemExit("give --agent (record an episode's plans) or --plans FILE (replay them), not both")
    if args.plans is None:
        env = gym.make(args.env, **_kwargs(args.kwargs))
        teacher = agents_module().make_agent(args.agent, **_kwargs(args.agent_kwargs, "--agent-kwargs"))
        plans = record(env, teacher, args.seed)
        if args.save:
            console.print(f"wrote {save_plans(plans, args.save)} ({len(plans)} steps)")
        if args.to_kwargs is None:
            return
        target = gym.make(args.env, **_kwargs(args.to_kwargs, "--to-kwargs"))
    else:
        plans = load_plans(args.plans)
        target = gym.make(args.env, **_kwargs(args.to_kwargs or args.kwargs, "--to-kwargs"))
    steps = replay(target, plans, args.seed)
    table = Table(title=f"replayed {len(steps)} plans on {args.env}, seed {args.seed}")
    for col in ("step", "examples", "reward", "val mean", "test mean", "loss"):
        table.add_column(col, justify="right")
    for i, s in enumerate(steps, 1):
        table.add_row(
            str(i),
            str(s["examples"]),
            f"{s['reward']:+.4f}",
            f"{s['val_mean']:.3f}",
            f"{s['test_mean']:.3f}",
            f"{s['train_loss']:.3f}",
        )
    console.print(table)
    console.print(f"test gain {100 * sum(s['reward'] for s in steps):+.2f} points")


def cmd_data(args: argparse.Namespace) -> None:
    from teachgym.tasks.jsonl import JsonlTask, human_eval_items, write_jsonl

    path = write_jsonl(human_eval_items(), args.out)
    task = JsonlTask(path, holdout=args.holdout)
    counts = task.counts()
    console.print(f"wrote {path}: {sum(sum(c.values()) for c in counts.values())} items")
    for (skill, level), c in sorted(counts.items()):
        console.print(f"  {skill:8} level {level}: {c['train']} train, {c['val']} val, {c['test']} test")


def build_checkpoints(*args) -> Iterator[tuple]:
    """The shipped checkpoints' recipes (``teachgym.registration.CHECKPOINTS_MODULE``'s ``build_checkpoints``)."""
    import importlib

    from teachgym.registration import CHECKPOINTS_MODULE

    return importlib.import_module(CHECKPOINTS_MODULE).build_checkpoints(*args)


def cmd_pretrain(args: argparse.Namespace) -> None:
    if args.verify:
        return verify_pretrain(args)
    for _, path in build_checkpoints(
        args.only,
        args.out,
        args.teacher_out,
        args.seed,
        args.updates,
        args.code_out,
        args.vqa_out,
        args.long_out,
        args.vqa_v1_out,
    ):
        console.print(f"wrote {path}")


def verify_pretrain(args: argparse.Namespace) -> None:
    """Rebuild the shipped checkpoints in a temporary folder and compare them with the shipped ones."""
    import tempfile

    from teachgym.students.pretrain import checkpoint_differences

    names = ("out", "teacher_out", "code_out", "vqa_out", "long_out", "vqa_v1_out", "updates")
    given = [f"--{k.replace('_', '-')}" for k in names if getattr(args, k) is not None]
    if given or args.seed != 0:
        raise SystemExit(f"--verify rebuilds the shipped checkpoints as shipped: drop {given or ['--seed']}")
    with tempfile.TemporaryDirectory() as tmp:
        names = ("math-base", "math-teacher", "code-base", "vqa-base", "math-base-long", "vqa-base-v1")
        base, teacher, code, vqa, long, vqa_v1 = (f"{tmp}/{name}.safetensors" for name in names)
        built = build_checkpoints(args.only, base, teacher, 0, None, code, vqa, long, vqa_v1)
        failed = [report_differences(shipped, checkpoint_differences(shipped, path)) for shipped, path in built]
    if any(failed):
        raise SystemExit(1)


def report_differences(shipped, differences: list[str]) -> bool:
    if not differences:
        console.print(f"[green]identical[/green] tensors and metadata: rebuilt {shipped.name} = shipped")
        return False
    console.print(f"[red]differs[/red] from the shipped {shipped.name}:")
    for d in differences:
        console.print(f"  {d}")
    return True


def cmd_leaderboard(args: argparse.Namespace) -> None:
    from teachgym.leaderboard import main as leaderboard_main

    leaderboard_main(args)


def main(argv: list[str] | None = None) -> None:
    import teachgym  # noqa: F401  (registers the envs)

    parser = argparse.ArgumentParser(prog="teachgym", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run one teacher for one episode, with a per-step table")
    p.add_argument("--env", default="TeachGym/Math-v2")
    p.add_argument("--agent", default="uniform")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=None, help="stop after this many steps (default: the horizon)")
    p.add_argument("--kwargs", help="env kwargs as a JSON object")
    p.add_argument("--agent-kwargs", help='agent kwargs as a JSON object, e.g. \'{"weights": {"gain": 1}}\' for fixed')
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("info", help="spaces, skills, prerequisites and the base student's accuracy")
    p.add_argument("env", nargs="?", default="TeachGym/Math-v2")
    p.add_argument("--kwargs", help="env kwargs as a JSON object")
    p.add_argument("--student", default=None, help="a pretrained student, e.g. smollm2-135m (its base accuracy)")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("replay", help="record an episode's data plans, and replay them on another student")
    p.add_argument("--env", default="TeachGym/Math-v0")
    p.add_argument("--agent", default=None, help="record this agent's plans")
    p.add_argument("--plans", default=None, help="replay the plans saved in this JSON file")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--kwargs", help="env kwargs (JSON) of the recording env")
    p.add_argument("--agent-kwargs", help="agent kwargs as a JSON object")
    p.add_argument("--save", default=None, help="write the recorded plans to this JSON file")
    p.add_argument(
        "--to-kwargs", default=None, help='env kwargs (JSON) to replay on, e.g. \'{"student": "smollm2-135m"}\''
    )
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("data", help="write a dataset a package ships as TeachGym JSONL (human-eval: HumanEval)")
    p.add_argument("name", choices=("human-eval",))
    p.add_argument("--out", default="humaneval.jsonl")
    p.add_argument("--holdout", type=float, default=0.4, help="fraction held out for val and test (small data)")
    p.set_defaults(func=cmd_data)

    p = sub.add_parser("pretrain", help="rebuild the shipped base checkpoint(s) reproducibly")
    p.add_argument("--out", default=None, help="output file (default: the shipped checkpoint's path)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--updates", type=int, default=None, help="override the number of updates (for a quick try)")
    p.add_argument(
        "--only",
        choices=("base", "teacher", "code-base", "vqa-base", "base-long", "vqa-base-v1"),
        default=None,
        help="build only the Math base, the Math teacher, the Code base, the VQA base, the long-trained Math base "
        "or VQA-v1's base (primed from the shipped VQA base; without --only, from the VQA base just built)",
    )
    p.add_argument("--teacher-out", default=None, help="teacher output file (default: the shipped teacher's path)")
    p.add_argument("--code-out", default=None, help="Code base output file (default: the shipped Code base's path)")
    p.add_argument("--vqa-out", default=None, help="VQA base output file (default: the shipped VQA base's path)")
    p.add_argument(
        "--long-out", default=None, help="long-trained Math base output file (default: the shipped one's path)"
    )
    p.add_argument("--vqa-v1-out", default=None, help="VQA-v1 base output file (default: the shipped one's path)")
    p.add_argument(
        "--verify",
        action="store_true",
        help="rebuild into a temporary folder and compare with the shipped checkpoints (exit 1 if they differ)",
    )
    p.set_defaults(func=cmd_pretrain)

    p = sub.add_parser("leaderboard", help="run agents x envs x seeds and print the leaderboard")
    p.add_argument("--suite", default="quick")
    p.add_argument("--out", default=None, help="output folder (default: leaderboards/<suite>)")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--seeds", type=int, default=None, help="override the suite's number of seeds")
    p.add_argument(
        "--backend",
        choices=("process", "serial", "ray"),
        default="process",
        help="where runs execute: local processes (default), this process, or Ray (teachgym[ray])",
    )
    p.set_defaults(func=cmd_leaderboard)

    args = parser.parse_args(argv)
    np.set_printoptions(precision=3, suppress=True)
    args.func(args)


if __name__ == "__main__":
    main()
