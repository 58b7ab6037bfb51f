"""TeachGym/ReasoningGym-v0: teach a pretrained student reasoning-gym's procedural tasks."""

from __future__ import annotations

from collections.abc import Sequence

from teachgym.envs.curriculum import MATH_DEFAULTS
from teachgym.envs.custom import GivenTaskEnv, given_task_kwargs
from teachgym.tasks.reasoning import ReasoningGymTask

DEFAULT_DATASETS = ("chain_sum", "basic_arithmetic", "gcd", "lcm", "products", "gsm_symbolic")


class ReasoningGymEnv(GivenTaskEnv):
    """
    ## Description
    The skills are reasoning-gym datasets (``teachgym.tasks.reasoning``): procedural generators with
    verifiers and difficulty curricula, the library RL-for-reasoning work uses. Every step the teacher
    splits ``examples_per_step`` fresh generated problems among the datasets (skill list, as Math-v0)
    or picks one (dataset, level) bucket (``interface="curriculum"``); the student trains on them and
    is scored by each dataset's own ``score_answer`` on its decoded answers.

    The prompts are English text (capitals, newlines, often hundreds of characters): the default
    student is the shipped SmolLM2-135M-Instruct (``make smollm``); any pretrained model works
    (``student=``). ``benchmarks/results/reasoning-gym-fit.md`` lists, per dataset, prompt and answer
    lengths and whether the tiny character student could read it at all.

    ## Action Space, Observation Space, Rewards, Episode End
    As ``TeachGym/Math-v0`` (or MathCurriculum-v0 with ``interface="curriculum"``), over
    ``len(datasets)`` skills and ``levels`` levels.

    ## Arguments
    - ``datasets`` (list[str]): reasoning-gym dataset names (default: chain_sum, basic_arithmetic, gcd,
      lcm, products, gsm_symbolic). ``levels`` (int): curriculum levels per dataset.
    - ``scoring``: "verifier" (default) or "exact" (teacher-forced match with the reference answer).
    - ``holdout`` (float): fraction of prompts held out for val and test.
    - ``student``: a pretrained model (default ``"smollm2-135m"``; see Math-v0).
    - ``horizon``, ``examples_per_step``, ``budget``, ``eval_per_level``, ``lr``, ``batch_size``,
      ``warmup``, ``regime``, ``mastery``, ``split_seed``, ``device``, ``precision``, ``render_mode``:
      as Math-v0. ``interface``: "skills" or "curriculum".

    ## Version History
    - v0: initial release.
    """

    def __init__(
        self,
        datasets: Sequence[str] = DEFAULT_DATASETS,
        levels: int = 3,
        scoring: str = "verifier",
        holdout: float = 0.2,
        horizon: int = 10,
        examples_per_step: int = 64,
        budget: int | None = None,
        eval_per_level: int = 8,
        lr: float = 2e-4,
        batch_size: int = 16,
        warmup: int = MATH_DEFAULTS["warmup"],
        regime: str = MATH_DEFAULTS["regime"],
        mastery: float = MATH_DEFAULTS["mastery"],
        split_seed: int = MATH_DEFAULTS["split_seed"],
        device: str = MATH_DEFAULTS["device"],
        precision: str = MATH_DEFAULTS["precision"],
        student: str | dict | None = "smollm2-135m",
        render_mode: str | None = None,
        interface: str = "skills",
    ):
        if student is None:
            raise ValueError(
                "student must be a pretrained model here (reasoning-gym prompts are English text the character "
                "student cannot read): e.g. 'smollm2-135m' or a Hugging Face model directory"
            )
        task = ReasoningGymTask(
            list(datasets) if isinstance(datasets, tuple) else datasets, levels=levels, holdout=holdout, scoring=scoring
        )
        super().__init__(task, **given_task_kwargs(locals()))
