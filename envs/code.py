"""TeachGym/Code-v0 (and v1), CodeCurriculum-v0 and CodeOpenEnded-v0: teach a tiny transformer to write programs."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from teachgym.envs.checkpoints import CODE_BASE, CODE_BASE_SKILLS
from teachgym.envs.curriculum import family_kwargs, keyword_defaults
from teachgym.envs.math import MathFamilyEnv, skills_or_curriculum, subset_task
from teachgym.envs.open_ended import WrittenDataEnv
from teachgym.interfaces.open_ended import OpenEndedInterface
from teachgym.students.tokenizer import CODE_ALPHABET
from teachgym.tasks.code import MAX_ANSWER, MAX_PROMPT, CodeTask


class CodeFamilyEnv(MathFamilyEnv):
    """A TeachEnv on the Code task: Math-v0's validated kwargs, the Code base student (or ``student=``), its
    base skills rehearsed, answers decoded in padded batches and judged by running them."""

    def __init__(self, make_interface, *, skills: Sequence[str] | None, **kwargs: Any):
        super().__init__(
            make_interface,
            skills=None,
            task=subset_task(CodeTask(), skills),
            rehearsal_skills=CODE_BASE_SKILLS,
            base=CODE_BASE,
            student_options={"padded_decode": True, "length_buckets": 64},
            **kwargs,
        )


class CodeEnv(CodeFamilyEnv):
    """
    ## Description
    A tiny Llama-family transformer (character tokenizer, shipped base checkpoint) that already writes
    integer arithmetic, list slices, aggregates and string methods from short specs must learn to write
    more programs: conditionals, maps, filters, counts, sorts, zips and compositions, and to predict a
    program's output (``exec``) and repair a one-operator bug (``repair``). Thirteen skills, three
    levels each, with prerequisites (see ``teachgym.tasks.code``): a prompt such as ``l x:keep over 4``
    asks for ``[v for v in x if v>4]``. Answers are judged by running them in TeachGym's sandbox on
    hidden inputs (``teachgym.sandbox``; never as Python), so any correct program counts. Every step
    the teacher splits a batch of fresh training examples among the skills; the student trains on
    them for real and is evaluated per skill.

    ## Action Space
    ``Box(-1, 1, (13,), float32)``, as Math-v0: skill i gets weight ``(action[i] + 1) / 2``; the step's
    examples are split in proportion (all zeros: evenly). Half of a skill's examples are drawn at its
    frontier level (the easiest level whose val accuracy is below ``mastery``), the rest evenly from
    the easier levels.

    ## Observation Space
    As Math-v0: ``Dict`` of float32 Boxes ``accuracy`` (13,), ``accuracy_delta`` (13,),
    ``level_accuracy`` (39,), ``data_share`` (13,), ``budget_left`` (1,); and ``likelihood`` (13,) in
    [0, 1]: per skill, exp of minus the student's mean answer-token loss on the val gold programs (the
    probability it gives each token of them). Accuracy on a new construct stays at 0 for hundreds of
    examples and then jumps; the likelihood rises from the first examples where the student is near
    the skill and stays near 0 where it is not, which is what a teacher needs to choose between skills
    it has not yet taught (``proximal`` reads it). CodeCurriculum-v0's observation is
    MathCurriculum-v0's.

    ## Rewards
    The change in mean hidden-test accuracy (mean over skills of the mean over levels) caused by the
    step; an episode's rewards sum to final minus initial test accuracy.

    ## Episode End
    Terminated when the example budget is spent or the student diverges (``info["diverged"]``);
    truncated after ``horizon`` steps.

    ## Arguments
    As Math-v0, with Code's defaults: ``horizon`` 6 steps of ``examples_per_step`` 512 (``budget``
    None: 3,072 examples), ``eval_per_level`` 8 val and 8 test items per (skill, level) (624 in all),
    ``lr`` 1e-3, ``batch_size`` 64, ``warmup`` 0, ``regime`` "continual" (train on each step's data
    only), ``mastery`` 0.8, ``rehearsal`` 1.5 (replayed examples of the base's skills arith, slice, agg,
    str, map, sort per teacher example, at no budget cost), ``skills`` None (all thirteen),
    ``checkpoint`` None (the shipped Code base; ``teachgym pretrain --only code-base`` rebuilds it),
    ``split_seed``, ``device``, ``precision``, ``student`` (a pretrained causal LM instead, as Math-v0),
    ``render_mode``; and ``interface``: "skills" (this env) or "curriculum"
    (``TeachGym/CodeCurriculum-v0``: one (skill, level) bucket per step, ``Discrete(39)``, as
    MathCurriculum-v0). The defaults were chosen on seeds 100-103 (suites ``code-tune`` and
    ``code-defaults``; proximal's ``k`` on seeds 104-111, suite ``code-proximal``): at rehearsal 0.5 a
    teacher that concentrates its data makes the student forget the base's skills (``agg`` 0.96 ->
    0.42), at 1.5 it does not; the gap over uniform is widest at 6 steps.

    ``info["timings"]`` has a ``score`` phase beside Math's: the time spent running decoded programs in
    the sandbox (``evaluate`` is the rest of the evaluation).

    ## Measured
    CPU, the defaults, seeds 0-19 (settings chosen on seeds 100-111); gain = final minus initial mean
    test accuracy in points, mean [95% bootstrap CI], paired difference to uniform
    (``python benchmarks/results.py --suite code20``; ``benchmarks/results/code20/``):

    - uniform +13.19 [+12.08, +14.18];
    - ``proximal`` (evenly over the four skills still to learn that the student is nearest to by
      ``likelihood``) +18.64 [+17.53, +19.65], paired +5.45 [+4.50, +6.48] (held out on the odd seeds
      +5.45 [+3.88, +7.12]): 1.41x uniform's gain;
    - all data on the five unknown skills some teacher learnt (a hindsight ``fixed`` mix: cond,
      filter, count, zip, compose) +18.62, paired +5.43 [+4.20, +6.78];
    - ``spread`` (evenly over the skills still to learn, giving up on those that do not move) +17.16,
      paired +3.97 [+2.15, +5.64];
    - ``frontier`` +12.05, paired -1.14 [-2.53, +0.16]; ``focus`` +8.54, paired -4.65;
    - all data on a mastered skill (``mastered``) +0.10, paired -13.09 [-14.09, -11.97].

    Choices are told apart (Kendall's tau 0.90 between the halves of the seeds) and the state-aware
    ``proximal`` beats uniform by 5.45 points, as much as the hindsight mix; 1.41x is short of the
    1.5x this task aims at, for the hindsight mix too. ``count``, ``compose`` and ``filter`` share one
    construct and teach each other, so uniform's 23% of the budget on them buys much of what a
    focused teacher learns there; ``zip`` and ``exec`` stay out of reach at this budget for every teacher.

    ``TeachGym/CodeCurriculum-v0``, 3 seeds (suite ``code-curriculum3``): one bucket of 512 examples
    per step: ``bucket-frontier`` +4.49 [+2.56, +7.37], cycling through the buckets +0.32, the best
    bucket only +0.21 (at the first defaults, rehearsal 0.5, cycling lost 15 points to forgetting; the
    stronger rehearsal keeps the base).

    ## Version History
    - v1 (``TeachGym/Code-v1``): the same task, base and spaces with a slower student and a longer
      episode, ``lr`` 4e-4 and ``horizon`` 8 (4,096 examples). Uniform gains less (+11.47 against
      Code-v0's +13.19) while a teacher that finds the learnable skills still learns them, so the
      state-aware ``proximal`` reaches the 1.5x this task aims at: on seeds 20-39 (held out from every
      choice; suite ``code20-v1``) +17.61 [+16.57, +18.62], 1.54x uniform's gain, paired +6.14 [+4.70,
      +7.63] (held out on the odd seeds +5.42 [+3.72, +7.24]); the hindsight mix +17.56, paired +6.09;
      the learning teacher ``ucb`` (best of four bandits on the tuning seeds) +13.06, paired +1.59
      [+0.74, +2.60]; ``spread`` +12.56, paired +1.09 [-0.19, +2.44]; ``frontier`` +11.73, paired
      +0.26; all on a mastered skill +0.18, paired -11.30 [-11.97, -10.61]. Chosen on seeds 100-111 (suites
      ``code-lr``, ``code-lr2``, ``code-lr4``, ``code-proximal``, ``code-bandits``). An episode costs a
      third more.
    - v0: initial release.
    """

    def __init__(
        self,
        horizon: int = 6,
        examples_per_step: int = 512,
        budget: int | None = None,
        eval_per_level: int = 8,
        lr: float = 1e-3,
        batch_size: int = 64,
        warmup: int = 0,
        regime: str = "continual",
        mastery: float = 0.8,
        skills: Sequence[str] | None = None,
        rehearsal: float = 1.5,
        checkpoint: str | None = None,
        split_seed: int = 0,
        device: str = "cpu",
        precision: str = "fp32",
        student: str | dict[str, Any] | None = None,
        render_mode: str | None = None,
        interface: str = "skills",
    ):
        super().__init__(
            skills_or_curriculum(interface, mastery, likelihood=True),
            **family_kwargs(locals()),
        )


# Code-v0's keyword defaults, shared by every Code env.
CODE_DEFAULTS: dict[str, Any] = keyword_defaults(CodeEnv)


class CodeOpenEndedEnv(WrittenDataEnv, CodeFamilyEnv):
    """
    ## Description
    The teacher writes the data: every step it hands the student of Code-v0 a list of ``(spec,
    program)`` pairs. Unlike MathOpenEnded-v0, nothing wrong is trained on: the env recognises each
    spec (``teachgym.tasks.code``), runs each program in its sandbox on the spec's hidden inputs, and
    rejects (and counts) what it cannot check, what the sandbox refuses, and what is wrong. The student
    is evaluated on Code-v0's fixed val and test splits.

    ## Action Space
    ``Sequence(Tuple((Text(40, charset=CODE_ALPHABET), Text(40, charset=CODE_ALPHABET))))``: a list of
    ``(prompt, answer)`` pairs. Prompts look like ``i x:add 7``, ``l n:keep over 4``, ``ll x,y:dot``,
    ``x*3+2;x=4`` (exec) or ``x-7|3->10`` (repair). ``action_space.sample()`` writes 1-8 right examples
    of random skills and levels (``teachgym.interfaces.open_ended.WrittenExamples``), so that a random
    teacher trains on something.

    The env never raises on an action. Rejected items are counted per reason in ``info["rejected"]``:
    the MathOpenEnded-v0 reasons (``not_a_sequence``, ``too_many``, ``not_a_pair``, ``not_a_string``,
    ``empty_prompt``, ``empty_answer``, ``prompt_too_long``, ``answer_too_long``, ``unknown_chars``,
    ``held_out``, ``over_budget``) and ``unrecognised`` (no skill's spec), ``unsafe`` (the sandbox
    refuses the program: a forbidden name, attribute, node or import) and ``wrong`` (it fails the
    spec's hidden tests, or an exec answer is not the output). ``info["accepted"]`` counts the examples
    trained on, ``info["recognised"]`` per skill.

    ## Observation Space
    Code-v0's Boxes, plus ``unrecognised_share`` (1,) (always 0 here: unrecognised items are rejected)
    and ``errors``: a Tuple of ``error_samples`` Text lines ``"prompt|student answer|gold"`` of val
    items the student gets wrong now.

    ## Rewards, Episode End
    As Code-v0. A step in which nothing is accepted trains nothing and has reward 0.

    ## Arguments
    Code-v0's, and ``max_examples`` (int | None: ``examples_per_step``) the most items one step reads,
    ``error_samples`` (int) lines in ``errors``.

    ## Measured
    CPU, the defaults, seeds 0-2 (``python benchmarks/results.py --suite code-openended3``): correct
    programs for every skill (``uniform-writer``) +11.75 [+8.97, +13.46]; for the weakest skills in
    reach (``writer``) +10.79, paired -0.96 [-2.56, +1.28]; the writer with 30% wrong programs
    (``noisy-writer``) +8.23, paired -3.53 [-6.73, +0.32]: its wrong programs are rejected (it trains
    on 2,243 of its 3,072 examples), never trained on, and the data it loses costs it. Three seeds do
    not resolve these differences.

    ## Version History
    - v0: initial release.
    """

    def __init__(
        self,
        horizon: int = CODE_DEFAULTS["horizon"],
        examples_per_step: int = CODE_DEFAULTS["examples_per_step"],
        budget: int | None = CODE_DEFAULTS["budget"],
        eval_per_level: int = CODE_DEFAULTS["eval_per_level"],
        lr: float = CODE_DEFAULTS["lr"],
        batch_size: int = CODE_DEFAULTS["batch_size"],
        warmup: int = CODE_DEFAULTS["warmup"],
        regime: str = CODE_DEFAULTS["regime"],
        skills: Sequence[str] | None = CODE_DEFAULTS["skills"],
        rehearsal: float = CODE_DEFAULTS["rehearsal"],
        checkpoint: str | None = CODE_DEFAULTS["checkpoint"],
        split_seed: int = CODE_DEFAULTS["split_seed"],
        device: str = CODE_DEFAULTS["device"],
        precision: str = CODE_DEFAULTS["precision"],
        student: str | dict | None = CODE_DEFAULTS["student"],
        render_mode: str | None = None,
        max_examples: int | None = None,
        error_samples: int = 16,
    ):
        for name, value in (("examples_per_step", examples_per_step), ("error_samples", error_samples)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if max_examples is None:
            max_examples = examples_per_step
        elif isinstance(max_examples, bool) or not isinstance(max_examples, int) or max_examples <= 0:
            raise ValueError(f"max_examples must be None or a positive integer, got {max_examples!r}")
        super().__init__(
            partial(
                OpenEndedInterface,
                max_examples=max_examples,
                error_samples=error_samples,
                max_prompt=MAX_PROMPT,
                max_answer=MAX_ANSWER,
                alphabet=CODE_ALPHABET,
                verified=True,
            ),
            **family_kwargs(locals()),
        )
        self.interface: OpenEndedInterface
        self.max_examples, self.error_samples = max_examples, error_samples
