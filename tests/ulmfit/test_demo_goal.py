"""`make demo`'s promise, checked on its real command (slow: about 2-3 minutes on 2 cores)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import user_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_demo_shows_pretraining_helping(tmp_path):
    """With 100 labels on the embedded reviews, the classifier on the pretrained encoder reaches
    80% and beats the same classifier from random initialisation by 20 points; the linear
    baseline is printed beside them, the curve's PNG is written and the beam-search
    continuation repeats no 3-gram (issue 27, item 6)."""
    (tmp_path / "configs").symlink_to(ROOT / "configs")  # the demo's config names its stages so
    exe = shutil.which("lightning-nlp", path=str(Path(sys.executable).parent))
    done = subprocess.run(
        [exe, "curve", "--config", "configs/ulmfit/embedded_curve.yaml"],
        cwd=tmp_path, env=user_env(), capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    last = json.loads(done.stdout.strip().splitlines()[-1])
    assert last["labels"] == "100"
    assert last["pretrained_acc"] >= 0.80
    assert last["pretrained_acc"] - last["scratch_acc"] >= 0.20
    assert 0.0 <= last["baseline_acc"] <= 1.0 and last["baseline"]
    assert (tmp_path / last["curve_png"]).is_file()
    words = last["continuation"].split()
    trigrams = [tuple(words[i : i + 3]) for i in range(len(words) - 2)]
    assert len(words) > 3 and len(trigrams) == len(set(trigrams))
