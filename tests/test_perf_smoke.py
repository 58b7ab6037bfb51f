"""Smoke test of benchmarks/perf.py: a --quick run writes every section of the Markdown report."""

from __future__ import annotations

from benchmarks import perf
from teachgym.envs.checkpoints import MATH_BASE
from teachgym.students.causal_lm import build_model, checkpoint_config

SECTIONS = (
    "# TeachGym performance (cpu, fp32)",
    "## 1. Env steps per second",
    "## 2. Where a step's time goes",
    "## 3. Training efficiency",
    "## 4. TeachGym vs a per-step Hugging Face Trainer",
    "## 5. Targets",
)


def test_flops_count_the_real_config():
    cfg = checkpoint_config(MATH_BASE)
    f = perf.train_flops_per_token(build_model(cfg))
    h, i, n = cfg.hidden_size, cfg.intermediate_size, cfg.num_layers
    assert f["body"] == n * (4 * h * h + 3 * h * i)  # q, k, v, o + gate, up, down
    assert f["per_token"] == 6.0 * (f["body"] + f["head"])


def test_quick_run_writes_every_section(tmp_path):
    out = tmp_path / "perf.md"
    text = perf.main(["--quick", "--threads", "1", "--out", str(out)])
    assert out.read_text() == text
    for section in SECTIONS:
        assert section in text, section
    for row in ("| single env (`gym.make`) |", "| 1 |", "| 2 |", "| tokenize |", "| MFU of student training"):
        assert row in text, row
    assert "HF Trainer: total per step" in text and "speed-up over Trainer" in text
    assert "--quick sizes: not a test" in text  # quick figures never claim a target
    assert "nan" not in text.lower()


def test_ceilings_bound_the_ratios_by_the_measured_peak():
    # half of each step trains, at 25% of peak: at best 1 / (0.5 x 0.25) = 8x faster per env step
    r = {"steps": [{"train": 1.0, "total": 2.0}, {"train": 3.0, "total": 6.0}]}
    # TeachGym trains in 1 s at 25% of peak (0.25 s at peak); the Trainer takes 2 s: at best 8x
    c = {"hf": {"total": 2.0}, "single": 1.0}
    assert perf.ceilings(r, c, mfu=0.25) == {"step": 8.0, "trainer": 8.0}
    assert perf.ceilings(r, c, mfu=1.0)["trainer"] == 2.0  # at peak already: only the Trainer's own ratio is left
