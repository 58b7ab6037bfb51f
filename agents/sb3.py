"""RL teachers trained with stable-baselines3 (PPO or SAC), in the single-file style of CleanRL.

    python -m teachgym.agents.sb3 --env-id TeachGym/Math-v0 --total-timesteps 2000 \\
        --env-kwargs '{"horizon": 10, "examples_per_step": 256}' --log-dir runs/sb3

trains a policy on the teaching env (one env step is one real teaching step: the student trains on
the step's data and is evaluated), logs to TensorBoard (``tensorboard --logdir runs/sb3``), saves the
model (SB3's own ``.zip``), and evaluates it on held-out episode seeds next to a baseline teacher
(UniformTeacher for Box actions). ``SB3Teacher(path)`` (registered as ``"sb3"`` in
``teachgym.agents.AGENTS``) puts a saved model on a leaderboard like any other teacher.

Seeds. SB3 seeds training env ``i`` with ``seed + i`` at its first reset; later training episodes
start from SB3's auto-resets, which pass no seed, so each env's RNG stream continues (the student's
shuffling and the data drawn come from it). Evaluation resets with explicit ``eval_seeds`` (default
10_000 and up), which must not be one of the training seeds ``seed .. seed + n_envs - 1``. Episodes
differ in their randomness only: the val/test splits are fixed by the env's ``split_seed``, and the
reward is measured on the test split, which the teacher never observes.

The episode return SB3 logs (``rollout/ep_rew_mean``) is the mean *gain* of the training episodes:
rewards sum to final minus initial mean test accuracy.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import itertools
import json
import os
import textwrap
import time
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.save_util import load_from_zip_file
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv
from stable_baselines3.sac.policies import SACPolicy

import teachgym
from teachgym.agents.base import Teacher, run_episode
from teachgym.agents.heuristics import UniformTeacher
from teachgym.leaderboard.stats import bootstrap_mean_ci

ALGOS: dict[str, type[BaseAlgorithm]] = {"ppo": PPO, "sac": SAC}


@dataclass
class Args:
    env_id: str = "TeachGym/Math-v0"
    """the registered env to teach in (SB3 needs array actions: Math-v0, MathCurriculum-v0, MathSkillTree-v0)"""
    env_kwargs: str = "{}"
    """the env's keyword arguments as a JSON object, e.g. '{"horizon": 10, "examples_per_step": 256}'"""
    algo: str = "ppo"
    """"ppo" (any SB3 action space) or "sac" (continuous Box actions only, e.g. Math-v0)"""
    total_timesteps: int = 2_000
    """env steps to train for, summed over the n_envs envs (each is a real teaching step)"""
    seed: int = 0
    """seeds the policy (torch, numpy, random) and the training envs: env i first resets with seed + i"""
    n_envs: int = 1
    """parallel training envs (each holds its own student)"""
    vec_env: str = "dummy"
    """"dummy" (all envs in this process, one after the other) or "subproc" (one process per env)"""
    threads: int = 1
    """torch threads, in this process and in each subproc worker"""
    learning_rate: float = 3e-4
    """the optimizer's learning rate (policy and value/Q networks)"""
    gamma: float = 0.99
    """discount factor (1.0 makes the return exactly the rest of the episode's gain)"""
    batch_size: int = 64
    """minibatch size of a gradient step (PPO and SAC)"""
    n_steps: int = 128
    """PPO: steps collected per env before each update (rollout length)"""
    n_epochs: int = 10
    """PPO: passes over each rollout"""
    buffer_size: int = 10_000
    """SAC: replay buffer capacity in transitions"""
    learning_starts: int = 100
    """SAC: env steps collected with random actions before learning starts"""
    eval_seeds: tuple[int, ...] = (10_000, 10_001, 10_002, 10_003, 10_004)
    """held-out episode seeds of the final evaluation (none of seed .. seed + n_envs - 1); empty: no evaluation"""
    log_dir: str | None = "runs/sb3"
    """TensorBoard directory (SB3's tensorboard_log); the run logs to <log_dir>/<run name>_1; "" turns it off"""
    save_path: str | None = None
    """where to save the model (.zip is appended if missing); default <log_dir or runs/sb3>/<run name>.zip"""
    device: str = "cpu"
    """torch device of the policy ("cpu", "cuda", "auto"); the student's device is an env kwarg"""
    verbose: int = 1
    """SB3 verbosity (0: quiet, 1: training tables); the evaluation summary is printed whenever it runs"""


# -- environments ---------------------------------------------------------------------------------
def env_kwargs_of(args: Args) -> dict[str, Any]:
    """``args.env_kwargs`` as a dict (a clear error if it is not a JSON object; a dict passes as is)."""
    if isinstance(args.env_kwargs, dict):
        return dict(args.env_kwargs)
    try:
        kwargs = json.loads(args.env_kwargs) if args.env_kwargs.strip() else {}
    except json.JSONDecodeError as err:
        raise ValueError(f"env_kwargs must be a JSON object, e.g. '{{\"horizon\": 5}}': {err}") from None
    if not isinstance(kwargs, dict):
        raise ValueError(f"env_kwargs must be a JSON object, got {args.env_kwargs!r}")
    return kwargs


def make_env(env_id: str, env_kwargs: dict[str, Any], threads: int = 1) -> Callable[[], gym.Env]:
    """A thunk that builds one training env with SB3's ``Monitor`` (episode returns and lengths)."""

    def thunk() -> gym.Env:
        teachgym.register_envs()  # a SubprocVecEnv worker process starts without the ids
        torch.set_num_threads(threads)
        return Monitor(gym.make(env_id, **env_kwargs))

    return thunk


def check_spaces(env_id: str, observation_space: gym.Space, action_space: gym.Space, algo: str) -> None:
    """Raise a clear ValueError if ``algo`` cannot learn in these spaces."""
    if algo == "sac" and not isinstance(action_space, spaces.Box):
        raise ValueError(
            f"SAC needs continuous actions (a Box action space), but {env_id} has {action_space}; "
            f"use --algo ppo, or a Box-action env such as TeachGym/Math-v0"
        )
    if not isinstance(action_space, spaces.Box | spaces.Discrete | spaces.MultiDiscrete | spaces.MultiBinary):
        raise ValueError(
            f"SB3 policies cannot produce {env_id}'s actions ({action_space}); an env whose "
            f"teacher writes text needs a text teacher, e.g. teachgym.agents.llm.LLMTeacher"
        )
    arrays = spaces.Box | spaces.Discrete | spaces.MultiDiscrete | spaces.MultiBinary
    parts = observation_space.spaces.values() if isinstance(observation_space, spaces.Dict) else [observation_space]
    if not all(isinstance(p, arrays) for p in parts):
        raise ValueError(f"SB3 policies read Box (or Dict of Box) observations; {env_id} observes {observation_space}")


def check_args(args: Args) -> None:
    """Validate the arguments that need no env (before anything expensive is built)."""
    if args.algo not in ALGOS:
        raise ValueError(f"algo must be one of {sorted(ALGOS)}, got {args.algo!r}")
    if args.vec_env not in ("dummy", "subproc"):
        raise ValueError(f"vec_env must be 'dummy' or 'subproc', got {args.vec_env!r}")
    for name in ("total_timesteps", "n_envs", "threads", "batch_size", "n_steps", "n_epochs", "buffer_size"):
        if getattr(args, name) <= 0:
            raise ValueError(f"{name} must be positive, got {getattr(args, name)}")
    training = set(range(args.seed, args.seed + args.n_envs))
    if training & set(args.eval_seeds):
        raise ValueError(
            f"eval_seeds {sorted(training & set(args.eval_seeds))} are training seeds "
            f"(seed .. seed + n_envs - 1 = {args.seed} .. {args.seed + args.n_envs - 1}); "
            f"evaluation must use held-out seeds"
        )


# -- evaluation -----------------------------------------------------------------------------------
class RandomActionTeacher:
    """A uniformly random action from the env's action space, seeded by ``reset`` (the baseline of
    envs whose actions are not per-skill weights)."""

    def reset(self, env: gym.Env, seed: int | None = None) -> None:
        self.space = env.action_space
        self.space.seed(seed)

    def act(self, observation: Any) -> Any:
        return self.space.sample()

    def observe(self, observation: Any, reward: float, terminated: bool, truncated: bool, info: dict) -> None:
        pass


def baseline_teacher(env: gym.Env) -> tuple[str, Teacher]:
    """UniformTeacher where actions are per-skill weights (Box), else a random action."""
    if isinstance(env.action_space, spaces.Box):
        return "uniform", UniformTeacher()
    return "random-action", RandomActionTeacher()


def evaluate(teacher: Teacher, env: gym.Env, seeds: Sequence[int]) -> np.ndarray:
    """Each seed's episode gain (final minus initial mean test accuracy)."""
    return np.array([run_episode(env, teacher, int(seed)).gain for seed in seeds])


# -- the SB3 model as a teacher -------------------------------------------------------------------
def saved_algo(path: str | os.PathLike) -> str:
    """Which algorithm ("ppo" or "sac") saved the model at ``path``, read from its policy class."""
    data, _, _ = load_from_zip_file(path, device="cpu")
    return "sac" if issubclass(data["policy_class"], SACPolicy) else "ppo"


class SB3Teacher:
    """A trained stable-baselines3 model as a Teacher (so it can run on a leaderboard).

    Args:
        path: a model saved by ``train`` (SB3 ``.zip``), or an SB3 model object.
        algo: "ppo" or "sac"; None reads it from the saved file.
        deterministic: act with the policy's mode; False samples, seeded by ``reset`` (the global
            torch RNG is left untouched).
        device: where the policy runs (SB3 policies are small: "cpu").
    """

    def __init__(
        self,
        path: str | os.PathLike | BaseAlgorithm,
        algo: str | None = None,
        deterministic: bool = True,
        device: str = "cpu",
    ):
        if isinstance(path, BaseAlgorithm):
            self.model = path
        else:
            if not Path(path).is_file() and not Path(f"{path}.zip").is_file():
                raise FileNotFoundError(f"no SB3 model at {path!r}")
            algo = saved_algo(path) if algo is None else algo
            if algo not in ALGOS:
                raise ValueError(f"algo must be one of {sorted(ALGOS)}, got {algo!r}")
            self.model = ALGOS[algo].load(path, device=device)
        self.deterministic = deterministic
        self.rng = np.random.default_rng()

    def reset(self, env: gym.Env, seed: int | None = None) -> None:
        if env.observation_space != self.model.observation_space or env.action_space != self.model.action_space:
            raise ValueError(
                f"this model was trained for observations {self.model.observation_space} and actions "
                f"{self.model.action_space}; {env.spec.id if env.spec else env} has "
                f"{env.observation_space} and {env.action_space}"
            )
        self.rng = np.random.default_rng(seed)

    def act(self, observation: Any) -> Any:
        if self.deterministic:
            action, _ = self.model.predict(observation, deterministic=True)
        else:
            device = self.model.device
            with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
                torch.manual_seed(int(self.rng.integers(2**31)))
                action, _ = self.model.predict(observation, deterministic=False)
        space = self.model.action_space
        if isinstance(space, spaces.Discrete):
            return np.int64(action)
        return np.asarray(action, dtype=space.dtype)

    def observe(self, observation: Any, reward: float, terminated: bool, truncated: bool, info: dict) -> None:
        pass


# -- training -------------------------------------------------------------------------------------
def train(args: Args) -> tuple[BaseAlgorithm, str]:
    """Train, save, evaluate on held-out seeds; returns the model and the saved file's path."""
    check_args(args)
    env_kwargs = env_kwargs_of(args)
    torch.set_num_threads(args.threads)
    run_name = f"{args.env_id.replace('/', '_')}__{args.algo}__{args.seed}__{int(time.time())}"
    log_dir = args.log_dir or None

    # 1. the training envs (SB3 seeds env i with seed + i when the model is built)
    vec_cls = DummyVecEnv if args.vec_env == "dummy" else SubprocVecEnv
    envs: VecEnv = vec_cls([make_env(args.env_id, env_kwargs, args.threads) for _ in range(args.n_envs)])
    try:
        check_spaces(args.env_id, envs.observation_space, envs.action_space, args.algo)
    except ValueError:
        envs.close()
        raise

    # 2. the agent: MultiInputPolicy reads Dict observations, MlpPolicy a Box
    policy = "MultiInputPolicy" if isinstance(envs.observation_space, spaces.Dict) else "MlpPolicy"
    common = {
        "learning_rate": args.learning_rate,
        "gamma": args.gamma,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "device": args.device,
        "tensorboard_log": log_dir,
        "verbose": args.verbose,
    }
    if args.algo == "ppo":
        model: BaseAlgorithm = PPO(policy, envs, n_steps=args.n_steps, n_epochs=args.n_epochs, **common)
    else:
        model = SAC(policy, envs, buffer_size=args.buffer_size, learning_starts=args.learning_starts, **common)

    # 3. learn (TensorBoard: <log_dir>/<run_name>_1)
    start = time.perf_counter()
    model.learn(total_timesteps=args.total_timesteps, tb_log_name=run_name)
    print(f"trained {args.algo} for {model.num_timesteps} steps on {args.env_id} in {time.perf_counter() - start:.1f}s")
    envs.close()

    # 4. save (SB3's .zip)
    path = args.save_path or str(Path(log_dir or "runs/sb3") / run_name)
    path = path if path.endswith(".zip") else f"{path}.zip"
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    model.save(path, exclude=["tensorboard_log"])  # a path of this machine: not part of the model
    print(f"saved {path}")

    # 5. evaluate on held-out seeds, next to a baseline on the same seeds
    if args.eval_seeds:
        env = gym.make(args.env_id, **env_kwargs)
        gains = evaluate(SB3Teacher(model), env, args.eval_seeds)
        base_name, base = baseline_teacher(env)
        base_gains = evaluate(base, env, args.eval_seeds)
        env.close()
        n = len(args.eval_seeds)
        print(
            f"held-out evaluation, {n} episode seeds {list(args.eval_seeds)} (mean gain in test accuracy, "
            "[95% bootstrap CI]):"
        )
        for name, values in (
            (args.algo, gains),
            (base_name, base_gains),
            (f"{args.algo} - {base_name} (paired)", gains - base_gains),
        ):
            mean, lo, hi = bootstrap_mean_ci(values)
            print(f"  {name:<28} {mean:+.4f} [{lo:+.4f}, {hi:+.4f}]")
        model.logger.record("eval/gain_mean", float(gains.mean()))
        model.logger.record(f"eval/{base_name}_gain_mean", float(base_gains.mean()))
        model.logger.record("eval/gain_minus_baseline", float((gains - base_gains).mean()))
        model.logger.dump(model.num_timesteps)
    return model, path


# -- command line ---------------------------------------------------------------------------------
def field_docs(cls: type) -> dict[str, str]:
    """The string literal under each field of a dataclass (its help text)."""
    body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0].body
    docs = {}
    for node, after in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[node.target.id] = " ".join(after.value.value.split())
    return docs


def parse_args(argv: Sequence[str] | None = None) -> Args:
    """``Args`` from the command line: with ``tyro`` if it is installed, else argparse built from the fields."""
    try:
        import tyro
    except ImportError:
        tyro = None
    if tyro is not None:
        return tyro.cli(Args, args=argv)
    parser = argparse.ArgumentParser(
        prog="python -m teachgym.agents.sb3",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    hints, docs = typing.get_type_hints(Args), field_docs(Args)
    for f in fields(Args):
        kind = hints[f.name]
        if typing.get_origin(kind) in (typing.Union, types.UnionType):
            kind = next(a for a in typing.get_args(kind) if a is not type(None))  # X | None -> X
        options: dict[str, Any] = {"default": f.default, "help": docs.get(f.name, "").replace("%", "%%")}
        if kind is bool:
            options["action"] = argparse.BooleanOptionalAction
        elif typing.get_origin(kind) is tuple:
            options.update(nargs="*", type=typing.get_args(kind)[0])
        else:
            options["type"] = kind
        parser.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, **options)
    values = vars(parser.parse_args(argv))
    return Args(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def main(argv: Sequence[str] | None = None) -> None:
    train(parse_args(argv))


if __name__ == "__main__":
    main()
