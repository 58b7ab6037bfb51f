"""Performance benchmark (``make bench``) of TeachGym/Math-v0; every figure is measured in the same run.

1. Env steps per second: one env, gymnasium's ``SyncVectorEnv`` of N envs and the native batched vector env.
2. Where a single env's step goes: generate, tokenize, train, evaluate, other.
3. Achieved training FLOP/s against the float32 matmul peak measured on the same machine (MFU).
4. TeachGym's training step against the same training run the way a user would without TeachGym: a Hugging
   Face ``Trainer`` created per step.
5. The performance targets next to the measured figures, marked met / not met.

Writes ``benchmarks/results/perf-<cpu|gpu>.md`` (with ``--quick``: ``perf-<cpu|gpu>-quick.md``) and prints it.
``--quick`` runs tiny sizes (horizon 2, 32 examples per step, 2 eval items per level, N in {1, 2}): a smoke
run whose figures say nothing about the targets, which are for Math-v0 defaults.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

import teachgym
from teachgym.agents import make_agent
from teachgym.envs.checkpoints import MATH_BASE
from teachgym.students.batched import BatchedStudent
from teachgym.students.causal_lm import (
    PRECISIONS,
    CausalLMStudent,
    Encoded,
    build_model,
    check_precision,
    checkpoint_config,
    load_weights,
)
from teachgym.students.tokenizer import PAD

ENV_ID = "TeachGym/Math-v0"
QUICK_KWARGS = {"horizon": 2, "examples_per_step": 32, "eval_per_level": 2}
RESULTS = Path(__file__).parent / "results"
Lines = list[str]


# -- setup --------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu", help='"cpu" or "cuda" (default: cpu)')
    p.add_argument("--precision", default="fp32", choices=PRECISIONS, help="the student's precision (env kwarg)")
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run, not a measurement of the targets")
    p.add_argument("--episodes", type=int, help="single-env episodes of the phase breakdown (default 3; quick 1)")
    p.add_argument("--num-envs", help='comma-separated N (default "1,4,16,64" on GPU, "1,4,16" on CPU; quick "1,2")')
    p.add_argument("--vector-steps", type=int, help="timed steps per env after one warm-up step (default 3; quick 2)")
    p.add_argument("--trainer-steps", type=int, help="timed training steps per loop after warm-up (default 3, quick 1)")
    p.add_argument("--threads", type=int, help="torch threads (default: all cores)")
    p.add_argument("--out", type=Path, help="Markdown output (default: benchmarks/results/perf-<device>[-quick].md)")
    args = p.parse_args(argv)
    gpu = args.device.startswith("cuda")
    if args.num_envs is None:
        args.num_envs = "1,2" if args.quick else ("1,4,16,64" if gpu else "1,4,16")
    args.num_envs = [int(n) for n in str(args.num_envs).split(",") if n.strip()]
    args.episodes = args.episodes or (1 if args.quick else 3)
    args.vector_steps = args.vector_steps or (2 if args.quick else 3)
    args.trainer_steps = args.trainer_steps or (1 if args.quick else 3)
    if args.out is None:
        precision = "" if args.precision == "fp32" else f"-{args.precision}"
        args.out = RESULTS / f"perf-{'gpu' if gpu else 'cpu'}{precision}{'-quick' if args.quick else ''}.md"
    args.command = "python benchmarks/perf.py " + " ".join(argv if argv is not None else sys.argv[1:])
    return args


def env_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {**(QUICK_KWARGS if args.quick else {}), "device": args.device, "precision": args.precision}


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn: Callable[[], Any], device: str) -> tuple[float, Any]:
    """(seconds, result) of ``fn()``, with the device synchronized on both sides."""
    sync(device)
    t = time.perf_counter()
    out = fn()
    sync(device)
    return time.perf_counter() - t, out


def zeros_action(space: gym.spaces.Box) -> np.ndarray:
    """The uniform teacher's action: 0 in [-1, 1] is weight 0.5 for every skill (batched for a vector env)."""
    return np.zeros(space.shape, space.dtype)


def matmul_peak(device: str, n: int = 1024, reps: int = 20, dtype: torch.dtype = torch.float32) -> float:
    """Best FLOP/s of an n x n float32 matmul (the machine's practical dense peak)."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    return 2 * n**3 / min(timed(lambda: a @ b, device)[0] for _ in range(reps))


# -- measurements -------------------------------------------------------------------------------
def episode_timings(env_id: str, episodes: int, seed: int = 0, **kwargs) -> dict:
    """Step-by-step phase timings of ``episodes`` episodes of the uniform teacher on one env."""
    env = gym.make(env_id, **kwargs)
    teacher = make_agent("uniform")
    steps, episode_times = [], []
    env.reset(seed=seed)  # the first reset evaluates the base student once; not part of an episode
    for ep in range(episodes):
        t0 = time.perf_counter()
        obs, _ = env.reset(seed=seed + ep)
        teacher.reset(env, seed=seed + ep)
        done = False
        while not done:
            t = time.perf_counter()
            obs, _, terminated, truncated, info = env.step(teacher.act(obs))
            steps.append({**info["timings"], "total": time.perf_counter() - t, "train_tokens": info["train_tokens"]})
            done = terminated or truncated
        episode_times.append(time.perf_counter() - t0)
    u = env.unwrapped
    return {
        "env": env,
        "steps": steps,
        "episodes": episode_times,
        "horizon": u.horizon,
        "student": u.student,
        "examples_per_step": u.examples_per_step,
        "eval_items": len(u.val) + len(u.test),
    }


def step_examples(env: gym.Env, seed: int = 1000) -> list:
    """One step's worth of training examples of the uniform action, at the start of an episode."""
    env.reset(seed=seed)
    u = env.unwrapped
    return u.generate(u.interface.plan(zeros_action(u.action_space), u.state))


def step_training_data(env: gym.Env) -> Encoded:
    """What a Math-v0 step trains on in steady state: the step's examples, plus (accumulate) as many replayed."""
    u = env.unwrapped
    examples = step_examples(env, seed=1000)
    if u.regime == "accumulate":
        examples += step_examples(env, seed=1001)  # replay draws from earlier steps' data: the same distribution
    return Encoded.of(examples)


def tokenize_seconds(examples: list, reps: int = 5) -> float:
    """Median time of ``Encoded.of`` on one step's examples (inside the env's "generate" phase)."""
    return statistics.median(timed(lambda: Encoded.of(examples), "cpu")[0] for _ in range(reps))


def run_steps(env: gym.Env | gym.vector.VectorEnv, steps: int, seed: int = 0) -> tuple[float, list[dict]]:
    """Seconds of ``steps`` uniform-action steps after one untimed warm-up step, and their infos.

    An episode that ends is reset outside the timing, so every timed step is a real teaching step."""
    action = zeros_action(env.action_space)
    env.reset(seed=seed)

    def one() -> tuple[float, dict]:
        t = time.perf_counter()
        _, _, terminated, truncated, info = env.step(action)
        seconds = time.perf_counter() - t
        if np.any(terminated) or np.any(truncated):
            env.reset(seed=seed)
        return seconds, info

    one()
    results = [one() for _ in range(steps)]
    return sum(s for s, _ in results), [info for _, info in results]


def batched_train_seconds(info: dict) -> float:
    """The batched training time of a native vector step (every sub-env reports the same one)."""
    return max(float(t["train"]) for t in info["timings"])


def env_throughput(kwargs: dict, num_envs: Sequence[int], steps: int) -> dict:
    """Figure 1: env steps per second of one env, SyncVectorEnv and the native batched vector env."""
    single = gym.make(ENV_ID, **kwargs)
    seconds, _ = run_steps(single, steps)
    single.close()
    rows = []
    for n in num_envs:
        sync_env = gym.make_vec(ENV_ID, num_envs=n, vectorization_mode="sync", **kwargs)
        sync_s, _ = run_steps(sync_env, steps)
        sync_env.close()
        native = gym.make_vec(ENV_ID, num_envs=n, vectorization_mode="vector_entry_point", **kwargs)
        native_s, infos = run_steps(native, steps)
        native.close()
        rows.append(
            {
                "n": n,
                "sync": n * steps / sync_s,
                "batched": n * steps / native_s,
                "train_s": sum(batched_train_seconds(i) for i in infos),
                "train_tokens": sum(int(np.sum(i["train_tokens"])) for i in infos),
            }
        )
        rows[-1]["ratio"] = rows[-1]["batched"] / rows[-1]["sync"]
    return {"single": steps / seconds, "rows": rows, "steps": steps}


def train_flops_per_token(model: torch.nn.Module) -> dict:
    """Training FLOPs per token: 6 x the non-embedding matmul weights + 6 x the (tied) head matmul.

    The embedding lookup is a gather, not a matmul; RMSNorm weights are no matmul either."""
    head = model.get_output_embeddings()
    body = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear) and m is not head)
    cfg = model.config
    return {
        "per_token": 6.0 * (body + cfg.hidden_size * cfg.vocab_size),
        "body": body,
        "head": cfg.hidden_size * cfg.vocab_size,
        "attention_per_width": 12.0 * cfg.num_hidden_layers * cfg.hidden_size,  # QK^T and AV, x3 for training
    }


class AnswerTokens(torch.utils.data.Dataset):
    """A step's tokenized examples for ``Trainer``: labels are -100 outside the answer (and EOS) tokens."""

    def __init__(self, data: Encoded):
        self.ids = data.ids
        self.labels = torch.where(data.mask > 0, data.ids, torch.full_like(data.ids, -100))
        self.attention = (data.ids != PAD).long()

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.ids[i], "attention_mask": self.attention[i], "labels": self.labels[i]}


def load_base_model() -> torch.nn.Module:
    """The shipped base student as a plain Hugging Face model, as a user without TeachGym would load it."""
    model = build_model(checkpoint_config(MATH_BASE))
    model.load_state_dict(load_weights(MATH_BASE, torch.device("cpu")), strict=False)
    return model


def trainer_step(model: torch.nn.Module, data: Encoded, student: CausalLMStudent, output_dir: str) -> dict:
    """One training step the Hugging Face way: new TrainingArguments and Trainer, then ``train()``."""
    from transformers import PrinterCallback, Trainer, TrainingArguments

    d = student.optimizer.defaults
    device = str(student.device)
    sync(device)
    t0 = time.perf_counter()
    args = TrainingArguments(
        output_dir=output_dir,
        learning_rate=student.lr,
        per_device_train_batch_size=student.batch_size,
        num_train_epochs=1,
        lr_scheduler_type="constant_with_warmup" if student.warmup else "constant",
        warmup_steps=student.warmup,
        weight_decay=float(d["weight_decay"]),
        adam_beta1=float(d["betas"][0]),
        adam_beta2=float(d["betas"][1]),
        adam_epsilon=float(d["eps"]),
        max_grad_norm=float(student.grad_clip),
        eval_strategy="no",
        save_strategy="no",
        logging_strategy="no",
        report_to=[],
        disable_tqdm=True,
        use_cpu=device == "cpu",
        bf16=student.precision == "bf16",  # the same autocast as the student's
        dataloader_pin_memory=False,
    )
    trainer = Trainer(model=model, args=args, train_dataset=AnswerTokens(data))
    trainer.remove_callback(PrinterCallback)  # it prints the final metrics even with logging off
    t1 = time.perf_counter()
    trainer.train()
    sync(device)
    t2 = time.perf_counter()
    return {"construct": t1 - t0, "train": t2 - t1, "total": t2 - t0, "updates": trainer.state.global_step}


def trainer_comparison(student: CausalLMStudent, data: Encoded, steps: int, batched_n: int) -> dict:
    """Figure 4: per-step training time, Hugging Face Trainer vs TeachGym, on the same data and update count."""
    device = str(student.device)
    load_s, model = timed(load_base_model, device)
    with tempfile.TemporaryDirectory() as out:
        trainer_step(model, data, student, out)  # warm-up (lazy imports, first kernels)
        hf = [trainer_step(model, data, student, out) for _ in range(steps)]
    student.reset(0)
    student.train(data)  # warm-up
    single = [timed(lambda: student.train(data), device) for _ in range(steps)]
    batched = BatchedStudent.from_student(student, batched_n)
    batched.train([data] * batched_n)  # warm-up
    many = [timed(lambda: batched.train([data] * batched_n), device)[0] for _ in range(steps)]
    return {
        "examples": len(data),
        "load": load_s,
        "hf": {k: statistics.median(h[k] for h in hf) for k in ("construct", "train", "total")},
        "hf_updates": hf[0]["updates"],
        "single": statistics.median(s for s, _ in single),
        "single_updates": single[0][1].updates,
        "batched_n": batched_n,
        "batched": statistics.median(many) / batched_n,
    }


# -- Markdown, one function per figure ----------------------------------------------------------
def header(args: argparse.Namespace, r: dict) -> Lines:
    gpu = args.device.startswith("cuda")
    name = torch.cuda.get_device_name() if gpu else platform.processor() or platform.machine() or "cpu"
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    student, cfg = r["student"], r["student"].config
    sizes = "--quick sizes (a smoke run: no target is tested)" if args.quick else "Math-v0 defaults"
    return [
        f"# TeachGym performance ({args.device}, {args.precision})",
        "",
        f"Machine: {name}, {os.cpu_count()} cores{load}; torch {torch.__version__} with {torch.get_num_threads()} "
        f"threads; teachgym {teachgym.__version__}. Command: `{args.command.strip()}`.",
        "",
        f"Env: {ENV_ID}, {sizes}: {r['horizon']} steps x {r['examples_per_step']} examples, {r['eval_items']} eval "
        f"items, student {cfg.num_layers}x{cfg.hidden_size} Llama with {student.num_params:,} parameters.",
    ]


def figure_throughput(t: dict, args: argparse.Namespace) -> Lines:
    lines = [
        "",
        "## 1. Env steps per second",
        "",
        f"Uniform action (all zeros), {t['steps']} timed steps after one warm-up step; steps/s = N x vector steps"
        " / seconds; an episode that ends is reset outside the timing.",
        "",
        "| N | SyncVectorEnv steps/s | native batched steps/s | batched / sync |",
        "|---:|---:|---:|---:|",
        f"| single env (`gym.make`) | {t['single']:.2f} | | |",
    ]
    lines += [f"| {r['n']} | {r['sync']:.2f} | {r['batched']:.2f} | {r['ratio']:.2f}x |" for r in t["rows"]]
    if not args.device.startswith("cuda") and 64 not in args.num_envs:
        lines += [
            "",
            "N = 64 is left out on CPU: at Math-v0 defaults one vector step of 64 envs takes minutes there"
            " (SyncVectorEnv runs 64 single-env steps one after another); it is measured on GPU"
            " (`--num-envs` overrides).",
        ]
    return lines


def figure_phases(r: dict, tokenize_s: float) -> Lines:
    steps = r["steps"]
    keys = ("total", "generate", "train", "evaluate", "other")
    med = {k: statistics.median(s[k] for s in steps) for k in keys}
    mean = {k: float(np.mean([s[k] for s in steps])) for k in keys}
    for d in (med, mean):
        d["tokenize"] = tokenize_s
        d["generate"] -= tokenize_s
    outside = (mean["generate"] + mean["tokenize"] + mean["other"]) / mean["total"]
    lines = [
        "",
        "## 2. Where a step's time goes (single env)",
        "",
        f"{len(steps)} steps over {len(r['episodes'])} episode(s) of the uniform teacher (the env's"
        ' `info["timings"]`). Tokenize is timed separately (`Encoded.of` on one step\'s examples, median of 5)'
        " and taken out of generate, which includes it in the env.",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| median step time | {med['total'] * 1000:.0f} ms |",
        f"| median episode time | {statistics.median(r['episodes']):.2f} s |",
        f"| time outside training and evaluation kernels (generate + tokenize + other) | {outside:.1%} |",
        "",
        "| phase | median ms | mean ms | share of mean step |",
        "|---|---:|---:|---:|",
    ]
    for k in ("generate", "tokenize", "train", "evaluate", "other"):
        lines.append(f"| {k} | {med[k] * 1000:.1f} | {mean[k] * 1000:.1f} | {mean[k] / mean['total']:.1%} |")
    return lines


def figure_mfu(r: dict, t: dict, peak: float, peak_label: str, width: int) -> tuple[Lines, float]:
    flops = train_flops_per_token(r["student"].model)
    steps = r["steps"]
    train_s = float(np.sum([s["train"] for s in steps]))
    tokens = float(np.sum([s["train_tokens"] for s in steps]))
    achieved = flops["per_token"] * tokens / train_s if train_s > 0 else float("nan")
    lines = [
        "",
        "## 3. Training efficiency",
        "",
        f"FLOPs = 6 x {flops['body']:,} non-embedding matmul weights x tokens + 6 x {flops['head']:,}"
        " (hidden x vocab, the tied head matmul) x tokens, with tokens = rows x trimmed width actually processed"
        " (`train_tokens`). Attention scores (QK^T, AV) are not counted: at the step's padded width"
        f" {width} they would add {flops['attention_per_width'] * width / flops['per_token']:.1%}.",
        "",
        "| figure | achieved GFLOP/s | MFU |",
        "|---|---:|---:|",
        f"| matmul peak ({peak_label}) | {peak / 1e9:.1f} | 100% |",
        f"| student training, single env ({len(steps)} steps) | {achieved / 1e9:.2f} | {achieved / peak:.1%} |",
    ]
    for row in t["rows"]:
        a = flops["per_token"] * row["train_tokens"] / row["train_s"]
        lines.append(f"| student training, native batched N={row['n']} | {a / 1e9:.2f} | {a / peak:.1%} |")
    lines += ["", "Peak and training run on the same device with the same torch thread count, in the same run."]
    return lines, achieved / peak


def figure_trainer(c: dict) -> Lines:
    hf = c["hf"]["total"]
    return [
        "",
        "## 4. TeachGym vs a per-step Hugging Face Trainer",
        "",
        f"The same data ({c['examples']} examples: one step's examples plus as many replayed, as in the accumulate"
        f" regime), the same student, lr, batch size and number of updates ({c['hf_updates']} Trainer /"
        f" {c['single_updates']} TeachGym). The Trainer loop creates TrainingArguments and a Trainer every step"
        " (1 epoch, constant lr, no eval, no saving, no logging, `report_to=[]`) and continues the same model"
        " object across steps (loaded once from the shipped checkpoint; a user restarting from the base each step"
        " would also pay the load). Tokenization is excluded from both. Medians over the timed steps.",
        "",
        "| per training step | seconds | speed-up over Trainer |",
        "|---|---:|---:|",
        f"| HF Trainer: construction (TrainingArguments + Trainer) | {c['hf']['construct']:.3f} | |",
        f"| HF Trainer: `train()` | {c['hf']['train']:.3f} | |",
        f"| HF Trainer: total per step | {hf:.3f} | 1.00x |",
        f"| (loading the model from the checkpoint, once here) | {c['load']:.3f} | |",
        f"| TeachGym `CausalLMStudent.train` (single env) | {c['single']:.3f} | {hf / c['single']:.2f}x |",
        f"| TeachGym `BatchedStudent.train`, N={c['batched_n']}, per student | {c['batched']:.3f} |"
        f" {hf / c['batched']:.2f}x |",
    ]


def verdict(value: float | None, threshold: float, why_not: str | None, quick: bool) -> str:
    if why_not:
        return f"not measured ({why_not})"
    status = "met" if value is not None and value >= threshold else "not met"
    return f"{status} (--quick sizes: not a test)" if quick else status


def ceilings(r: dict, c: dict, mfu: float) -> dict[str, float]:
    """Upper bounds on the speed-up targets that the device's own matmul peak allows.

    A faster implementation cannot train below the training FLOPs at the measured peak. ``step``: the
    bound on batched / sync per env step if training ran at peak and everything else in a step
    (evaluation included) cost nothing, ``1 / (train share of the single-env step x training MFU)``;
    ``trainer``: the bound on TeachGym / Trainer, the Trainer's time over TeachGym's training FLOPs at
    peak (``single x MFU``). A goal above its ceiling cannot be met on this device at this model size
    without doing less arithmetic (fewer padded tokens, fewer updates): it is not an overhead problem.
    """
    train = float(np.sum([s["train"] for s in r["steps"]]))
    total = float(np.sum([s["total"] for s in r["steps"]]))
    return {"step": 1.0 / (train / total * mfu), "trainer": c["hf"]["total"] / (c["single"] * mfu)}


def figure_targets(args: argparse.Namespace, t: dict, c: dict, mfu: float, ceiling: dict[str, float]) -> Lines:
    by_n = {r["n"]: r for r in t["rows"]}
    gpu = args.device.startswith("cuda")
    h100 = gpu and "H100" in torch.cuda.get_device_name()
    cpu_why = "GPU run" if gpu else (None if 16 in by_n else "N=16 not in --num-envs")
    if not gpu and cpu_why is None and os.cpu_count() != 2:
        cpu_why = f"this machine has {os.cpu_count()} cores, the target is for 2"
    gpu_why = None if h100 and 64 in by_n else ("needs one H100 and N=64" if not h100 else "N=64 not in --num-envs")
    r16, r64 = by_n.get(16, {}), by_n.get(64, {})
    hf = c["hf"]["total"]
    step_cap, trainer_cap = f"{ceiling['step']:.2f}x", f"{ceiling['trainer']:.2f}x"
    rows = [
        ("native batched / SyncVectorEnv at N=16, two CPU cores", ">= 3x", r16.get("ratio"), 3.0, cpu_why, "x",
         step_cap),
        ("native batched / SyncVectorEnv at N=64, one H100", ">= 20x", r64.get("ratio"), 20.0, gpu_why, "x", step_cap),
        ("aggregate env steps/s at N=64, one H100", ">= 1,000", r64.get("batched"), 1000.0, gpu_why, "", ""),
        ("TeachGym (single env) / per-step Trainer", ">= 10x", hf / c["single"], 10.0, None, "x", trainer_cap),
        (f"TeachGym (batched, N={c['batched_n']}, per student) / per-step Trainer", ">= 10x",
         hf / c["batched"], 10.0, None, "x", trainer_cap),
    ]  # fmt: skip
    lines = [
        "",
        "## 5. Targets",
        "",
        "Compute ceiling: the most a ratio can be on this device, from its measured matmul peak (training at"
        f" peak, everything else free): batched / sync at most 1 / (train share x training MFU) ="
        f" {step_cap}; TeachGym / Trainer at most the Trainer's time over TeachGym's training FLOPs at peak ="
        f" {trainer_cap}. A goal above its ceiling is out of reach here without doing less arithmetic.",
        "",
        "| target | goal | measured | compute ceiling | status |",
        "|---|---:|---:|---:|---|",
    ]
    for name, goal, value, threshold, why, unit, cap in rows:
        shown = "—" if value is None or why else f"{value:.2f}{unit}"
        cap = "—" if why else cap  # a ceiling holds for the device it was measured on
        lines.append(f"| {name} | {goal} | {shown} | {cap} | {verdict(value, threshold, why, args.quick)} |")
    lines.append(f"| MFU of student training (single env) | reported | {mfu:.2%} | | reported |")
    return lines


# -- main -----------------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> str:
    """Measure every figure and return the Markdown report."""
    if args.threads:
        torch.set_num_threads(args.threads)
    kwargs = env_kwargs(args)
    check_precision(args.precision, torch.device(args.device))  # tf32: on before the peak is measured
    peak_n = 4096 if args.device.startswith("cuda") else 1024
    reps = 5 if args.quick else 20
    dtype = torch.bfloat16 if args.precision == "bf16" else torch.float32  # tf32: float32 tensors, TF32 matmuls
    peak = matmul_peak(args.device, peak_n, reps, dtype)
    peak_label = f"{peak_n}x{peak_n} {str(dtype).removeprefix('torch.')}, best of {reps}"
    r = episode_timings(ENV_ID, args.episodes, **kwargs)
    tokenize_s = tokenize_seconds(step_examples(r["env"]))
    throughput = env_throughput(kwargs, args.num_envs, args.vector_steps)
    data = step_training_data(r["env"])
    compare = trainer_comparison(r["student"], data, args.trainer_steps, max(args.num_envs))
    r["env"].close()
    mfu_lines, mfu = figure_mfu(r, throughput, peak, peak_label, data.ids.shape[1])
    lines = [
        *header(args, r),
        *figure_throughput(throughput, args),
        *figure_phases(r, tokenize_s),
        *mfu_lines,
        *figure_trainer(compare),
        *figure_targets(args, throughput, compare, mfu, ceilings(r, compare, mfu)),
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> str:
    args = parse_args(argv)
    text = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    print(f"wrote {args.out}")
    return text


if __name__ == "__main__":
    main()
