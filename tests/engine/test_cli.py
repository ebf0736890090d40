"""The ``studio`` command line: outputs, JSON summary, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.cli import main


def _train(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["train", *args, "--quiet"])
    out, err = capsys.readouterr()
    return code, out, err


def test_train_json_summary_then_predict_eval_runs(
    topics_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = tmp_path / "myruns"
    code, out, _ = _train([str(topics_csv), "--epochs", "2", "--vocab-size", "50",
                           "--embed-dim", "16", "--batch-size", "16", "--runs-dir", str(runs),
                           "--json"], capsys)  # fmt: skip
    assert code == 0
    summary = json.loads(out.strip().splitlines()[-1])
    for key in (
        "run_dir",
        "val_accuracy",
        "val_macro_f1",
        "train_seconds",
        "docs_per_second",
        "epochs",
    ):
        assert key in summary
    assert summary["epochs"] == 2 and summary["val_accuracy"] > 0.5
    run_dir = summary["run_dir"]
    assert Path(run_dir).parent == runs
    config = (Path(run_dir) / "config.toml").read_text()
    assert (
        "vocab_size = 50" in config and "embed_dim = 16" in config and "batch_size = 16" in config
    )

    assert main(["predict", run_dir, "goal", "coach", "--json"]) == 0
    pred = json.loads(capsys.readouterr().out)
    assert pred["label"] == "sport" and abs(sum(pred["probabilities"].values()) - 1) < 1e-4

    assert main(["eval", run_dir, str(topics_csv), "--json"]) == 0
    ev = json.loads(capsys.readouterr().out)
    assert ev["documents"] == 1200 and 0.5 < ev["accuracy"] <= 1

    assert main(["runs", "--runs-dir", str(runs), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["path"] for r in listed] == [run_dir]


def test_config_file_drives_training(
    topics_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[data]\npath = "{topics_csv}"\n[train]\nepochs = 1\n[model]\nembed_dim = 8\n')
    code, out, _ = _train(["--config", str(cfg), "--json"], capsys)
    assert code == 0
    run_dir = Path(json.loads(out.splitlines()[-1])["run_dir"])
    assert "embed_dim = 8" in (run_dir / "config.toml").read_text()


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["--embed-dim", "0"], "model.embed_dim"),
        (["--vocab-size", "2"], "tokenizer.vocab_size"),
        (["--lr", "-1"], "train.lr"),
        (["--epochs", "0"], "train.epochs"),
        (["--device", "tpu"], "device.device"),
        (["--device", "cuda:3"], "cuda:3"),
        (["--text-col", "nope"], "'nope'"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    topics_csv: Path, args: list[str], phrase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _train([str(topics_csv), *args], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("studio: error:") and phrase in lines[0]


def test_bad_dataset_names_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nok,a\nfine,b\nragged,a,extra\n")
    code, _, err = _train([str(bad)], capsys)
    assert code == 2
    assert "bad.csv" in err and "line 4" in err and "Traceback" not in err


def test_missing_run_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", str(tmp_path / "none"), "x"]) == 2
    assert "not a run folder" in capsys.readouterr().err


def test_devices_lists_cpu(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "--json"]) == 0
    devices = json.loads(capsys.readouterr().out)
    assert devices[0]["name"] == "cpu" and devices[0]["available"]
    assert {d["name"].split(":")[0] for d in devices} >= {"cpu", "cuda", "mps"}


def test_console_script_on_the_bundled_sample(tmp_path: Path, sample_path: Path) -> None:
    """The README's first run, through the installed entry point, with a real process."""
    env = {**os.environ, "STUDIO_RUNS_DIR": str(tmp_path / "runs")}
    proc = subprocess.run(
        [sys.executable, "-m", "studio", "train", "--epochs", "1", "--json"],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert Path(summary["run_dir"]).is_dir() and summary["val_accuracy"] > 0.5


def test_batch_size_auto_picks_a_power_of_two(
    topics_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _train(
        [str(topics_csv), "--batch-size", "auto", "--epochs", "1", "--json"], capsys
    )
    assert code == 0 and "batch size:" in err
    run_dir = Path(json.loads(out.splitlines()[-1])["run_dir"])
    size = int((run_dir / "config.toml").read_text().split("batch_size = ")[1].split()[0])
    assert size >= 64 and size & (size - 1) == 0
    code, _, err = _train([str(topics_csv), "--batch-size", "lots"], capsys)
    assert code == 2 and "--batch-size" in err


def test_every_entry_point_runs_the_same_command(capsys: pytest.CaptureFixture[str]) -> None:
    """``studio`` (the console script ``studio.cli:main``), ``python -m studio`` and
    ``python -m studio.cli`` are one command."""
    with pytest.raises(SystemExit) as version:
        main(["--version"])
    assert version.value.code == 0
    expected = capsys.readouterr().out
    assert expected.startswith("studio ")
    for module in ("studio", "studio.cli"):
        proc = subprocess.run(
            [sys.executable, "-m", module, "--version"], capture_output=True, text=True, timeout=60
        )
        assert (proc.returncode, proc.stdout) == (0, expected)


def test_train_defaults_to_the_bundled_sample() -> None:
    from studio.cli.parser import build_parser
    from studio.cli.train import _train_config
    from studio.config import SAMPLE_DATA

    args = build_parser().parse_args(["train"])
    data = _train_config(args).data
    assert (data.path, data.text_column, data.label_column) == (
        SAMPLE_DATA.path,
        "text",
        "section",
    )
    assert Path(data.path).is_file()


def test_class_weights_option_and_config_mapping(
    topics_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from studio.config import load_config

    out = tmp_path / "out.toml"
    code, _, _ = _train([str(topics_csv), "--class-weights", "balanced", "--save-config",
                         str(out)], capsys)  # fmt: skip
    assert code == 0 and load_config(out).train.class_weights == "balanced"
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[data]\npath = "{topics_csv}"\n[train]\nclass_weights = {{ food = 3 }}\n')
    code, _, _ = _train(["--config", str(cfg), "--save-config", str(out)], capsys)
    assert code == 0 and load_config(out).train.class_weights == (("food", 3.0),)
    code, _, _ = _train(["--config", str(cfg), "--class-weights", "none", "--save-config",
                         str(out)], capsys)  # fmt: skip
    assert code == 0 and load_config(out).train.class_weights == "none"
    with pytest.raises(SystemExit) as exit_:
        main(["train", str(topics_csv), "--class-weights", "inverse"])
    assert exit_.value.code == 2 and "--class-weights" in capsys.readouterr().err


def test_model_kind_and_pooling_options_reach_the_config(
    topics_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from studio.config import load_config

    out = tmp_path / "out.toml"
    code, _, _ = _train([str(topics_csv), "--model-kind", "linear", "--pooling", "sqrtn",
                         "--linear-c", "2.5", "--save-config", str(out)], capsys)  # fmt: skip
    saved = load_config(out).model
    assert code == 0 and (saved.kind, saved.pooling, saved.linear_c) == ("linear", "sqrtn", 2.5)
    code, _, _ = _train([str(topics_csv), "--save-config", str(out)], capsys)
    assert code == 0 and load_config(out).model.kind == "auto"
    code, _, err = _train([str(topics_csv), "--linear-c", "0", "--save-config", str(out)], capsys)
    assert code != 0 and "model.linear_c" in err
    with pytest.raises(SystemExit) as exit_:
        main(["train", str(topics_csv), "--model-kind", "svm"])
    assert exit_.value.code == 2 and "--model-kind" in capsys.readouterr().err


def test_train_with_balanced_class_weights_records_them(
    topics_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _train([str(topics_csv), "--epochs", "1", "--class-weights", "balanced",
                           "--runs-dir", str(tmp_path / "runs"), "--json"], capsys)  # fmt: skip
    assert code == 0
    run_dir = Path(json.loads(out.strip().splitlines()[-1])["run_dir"])
    assert 'class_weights = "balanced"' in (run_dir / "config.toml").read_text()


def test_class_weights_for_a_missing_label_exit_2_naming_it(
    topics_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[data]\npath = "{topics_csv}"\n[train]\nclass_weights = {{ drinks = 2 }}\n')
    code, _, err = _train(["--config", str(cfg), "--runs-dir", str(tmp_path / "runs")], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "train.class_weights" in lines[0] and "'drinks'" in lines[0]
    assert "Traceback" not in err


def test_char_ngrams_and_weighting_options_map_to_the_config(
    topics_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from studio.config import load_config

    out = tmp_path / "out.toml"
    code, _, _ = _train([str(topics_csv), "--char-ngrams", "2,5", "--char-buckets", "1000",
                         "--weighting", "idf", "--save-config", str(out)], capsys)  # fmt: skip
    saved = load_config(out)
    assert code == 0 and saved.tokenizer.char_ngrams == (2, 5)
    assert saved.tokenizer.char_buckets == 1000 and saved.model.weighting == "idf"
    code, _, _ = _train([str(topics_csv), "--char-ngrams", "0", "--save-config", str(out)], capsys)
    assert code == 0 and load_config(out).tokenizer.char_ngrams == (0, 0)
    for bad in ("3", "3,x", "6,3"):
        code, _, err = _train([str(topics_csv), "--char-ngrams", bad], capsys)
        assert code == 2 and "char" in err and "Traceback" not in err


def test_predict_on_a_multi_label_run_lists_the_labels_over_its_threshold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "tags.csv"
    rows = [("ball goal", "sport"), ("code chip", "tech"), ("ball chip goal code", "sport|tech")]
    data.write_text("text,label\n" + "".join(f"{t},{lab}\n" for t, lab in rows * 40))
    code, out, _ = _train([str(data), "--label-delimiter", "|", "--epochs", "8", "--lr", "0.05",
                           "--runs-dir", str(tmp_path / "runs"), "--json"], capsys)  # fmt: skip
    assert code == 0
    run_dir = json.loads(out.strip().splitlines()[-1])["run_dir"]
    threshold = json.loads((Path(run_dir) / "labels.json").read_text())["threshold"]
    assert main(["predict", run_dir, "ball", "chip", "goal", "code", "--json"]) == 0
    pred = json.loads(capsys.readouterr().out)
    assert pred["threshold"] == threshold
    assert pred["labels"] == [k for k, p in pred["probabilities"].items() if p >= threshold]
    assert sorted(pred["labels"]) == ["sport", "tech"]
    assert main(["predict", run_dir, "ball", "goal"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "sport"
