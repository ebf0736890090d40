"""The TF-IDF + LinearSVC baseline: same numbers as scikit-learn by hand, cache, multi-label,
progress and cancel, the comparison with a run, and ``studio eval --baseline``."""

from __future__ import annotations

import json
import random
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.svm import LinearSVC

from studio.cli import main
from studio.config import DataConfig, StudioConfig, TokenizerConfig
from studio.engine import train_run
from studio.engine.analysis.baseline import (
    CHARS,
    WORDS,
    BaselineOptions,
    compare_with_baseline,
    run_baseline,
    score_predictions,
)
from studio.engine.analysis.inference import load_run
from studio.engine.analysis.report import evaluation_report, predict_split, predictions_from_arrays
from studio.engine.data.dataset import Cancelled, PreparedDataset
from studio.engine.data.prepare import cache_key, prepare_dataset
from studio.errors import DatasetError, StudioError
from tests.conftest import COMMON, TOPICS


def _noisy_csv(path: Path, n: int = 900, seed: int = 3, multi: bool = False) -> Path:
    """Four classes whose topic words are sparse, so neither model scores 1.0."""
    rng = random.Random(seed)
    topics = {**TOPICS, "music": "song band guitar drum album tour sing concert".split()}
    names = sorted(topics)
    vocab = [w for ws in topics.values() for w in ws]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("text,label\n")
        for _ in range(n):
            labels = sorted(rng.sample(names, rng.randint(1, 2))) if multi else [rng.choice(names)]
            words = []
            for _ in range(rng.randint(4, 14)):
                r = rng.random()
                pool = topics[rng.choice(labels)] if r < 0.2 else vocab if r < 0.4 else COMMON
                words.append(rng.choice(pool))
            fh.write(f"{' '.join(words)},{'|'.join(labels)}\n")
    return path


def _prepare(csv: Path, cache: Path, **data: Any) -> tuple[PreparedDataset, str]:
    dc, tok = DataConfig(path=str(csv), **data), TokenizerConfig()
    return prepare_dataset(dc, tok, cache_dir=cache), cache_key(dc, tok)


def _texts(p: PreparedDataset, split: str) -> list[str]:
    return [p.text(int(i)) for i in p.split_indices(split)]


@pytest.mark.parametrize("options", [WORDS, CHARS], ids=["words", "char"])
def test_numbers_equal_scikit_learn_by_hand_on_the_same_split(
    tmp_path: Path, options: BaselineOptions
) -> None:
    p, key = _prepare(_noisy_csv(tmp_path / "d.csv"), tmp_path / "cache")
    result = run_baseline(p, "test", options, dataset_key=key)

    vec = TfidfVectorizer(
        analyzer=options.analyzer, ngram_range=options.ngram_range, sublinear_tf=True, min_df=2
    )
    x = vec.fit_transform(_texts(p, "train"))
    clf = LinearSVC(C=0.5, random_state=0).fit(x, p.targets[p.train_idx])
    y_test = np.asarray(p.targets[p.test_idx])
    pred = clf.predict(vec.transform(_texts(p, "test")))

    assert 0.3 < result.accuracy < 1.0  # a real comparison, not two perfect scores
    assert result.accuracy == accuracy_score(y_test, pred)
    assert result.macro_f1 == f1_score(y_test, pred, average="macro")
    assert result.weighted_f1 == f1_score(y_test, pred, average="weighted")
    by_hand = f1_score(y_test, pred, average=None, labels=range(len(p.label_names)))
    assert result.per_class_f1 == dict(zip(p.label_names, by_hand, strict=True))
    assert (result.n_train, result.n_docs) == (len(p.train_idx), len(p.test_idx))
    assert result.options == options and result.split == "test" and not result.cached
    assert result.micro_f1 is None and result.train_seconds > 0
    # the same definitions as the run's evaluation report, so side by side is fair
    onehot = np.eye(len(p.label_names), dtype=np.float32)[pred]
    report = evaluation_report(
        predictions_from_arrays(onehot, y_test, p.test_idx, p.label_names, False)
    )
    assert report.accuracy == pytest.approx(result.accuracy)
    assert report.macro_f1 == pytest.approx(result.macro_f1)


def test_second_call_is_read_from_the_cache_without_fitting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p, key = _prepare(_noisy_csv(tmp_path / "d.csv"), tmp_path / "cache")
    first = run_baseline(p, "test", dataset_key=key)
    files = list((tmp_path / "cache" / "baselines").glob("*.json"))  # STUDIO_CACHE_DIR
    assert len(files) == 1 and key in files[0].name

    def refit(*_a: Any, **_k: Any) -> None:
        raise AssertionError("the cached baseline was fitted again")

    monkeypatch.setattr(LinearSVC, "fit", refit)
    messages: list[str] = []
    again = run_baseline(p, "test", dataset_key=key, progress=lambda m, _f: messages.append(m))
    assert again.cached and messages == ["baseline: cached result"]
    assert (again.accuracy, again.macro_f1, again.per_class_f1, again.train_seconds) == (
        first.accuracy, first.macro_f1, first.per_class_f1, first.train_seconds,
    )  # fmt: skip
    # reopened from the dataset cache, the prepared dataset carries its key itself
    reopened, _ = _prepare(tmp_path / "d.csv", tmp_path / "cache")
    assert reopened.cache_dir is not None and run_baseline(reopened, "test").cached
    # another split, other options or another dataset key are other entries: they fit
    for split, options, k in (("valid", WORDS, key), ("test", CHARS, key), ("test", WORDS, "x")):
        with pytest.raises(AssertionError, match="fitted again"):
            run_baseline(p, split, options, dataset_key=k)


def test_damaged_cache_file_is_fitted_again(tmp_path: Path) -> None:
    p, key = _prepare(_noisy_csv(tmp_path / "d.csv", n=300), tmp_path / "cache")
    first = run_baseline(p, "valid", dataset_key=key)
    (file,) = (tmp_path / "cache" / "baselines").glob("*.json")
    file.write_text("{not json", encoding="utf-8")
    again = run_baseline(p, "valid", dataset_key=key)
    assert not again.cached and again.accuracy == first.accuracy
    assert json.loads(file.read_text(encoding="utf-8"))["dataset_key"] == key


def test_multi_label_is_one_vs_rest_with_subset_accuracy_and_f1s(tmp_path: Path) -> None:
    csv = _noisy_csv(tmp_path / "m.csv", multi=True)
    p, key = _prepare(csv, tmp_path / "cache", label_delimiter="|")
    assert p.multi_label
    targets = np.asarray(p.targets[p.train_idx])
    result = run_baseline(p, "test", dataset_key=key)

    # by hand: one LinearSVC per label column (no LabelBinarizer in between)
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    x = vec.fit_transform(_texts(p, "train"))
    x_test = vec.transform(_texts(p, "test"))
    columns = [
        LinearSVC(C=0.5, random_state=0).fit(x, targets[:, j]).predict(x_test)
        for j in range(targets.shape[1])
    ]
    pred = np.stack(columns, axis=1)
    y = np.asarray(p.targets[p.test_idx])

    assert result.multi_label and 0.0 < result.accuracy < 1.0
    assert result.accuracy == accuracy_score(y, pred)  # subset accuracy
    assert result.micro_f1 == f1_score(y, pred, average="micro")
    assert result.macro_f1 == f1_score(y, pred, average="macro")
    assert result.weighted_f1 == f1_score(y, pred, average="weighted")
    assert set(result.per_class_f1) == set(p.label_names)


def test_multi_label_with_more_than_256_labels_fits_each_label_on_its_own_column(
    tmp_path: Path,
) -> None:
    # scikit-learn 1.9's LabelBinarizer scrambles uint8 label columns past 256 labels (the
    # Debian tags have 366): the baseline scored 0.05 micro-F1 there before the fix
    rng = random.Random(5)
    tags = [f"t{k}" for k in range(300)]
    rows = []
    for _ in range(1500):
        mine = rng.sample(tags, rng.randint(1, 2))
        words = [f"w{t}" for t in mine for _ in range(2)] + rng.sample(COMMON, 3)
        rows.append(f"{' '.join(words)},{'|'.join(sorted(mine))}")
    csv = tmp_path / "many.csv"
    csv.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    p, key = _prepare(csv, tmp_path / "cache", label_delimiter="|")
    assert len(p.label_names) > 256 and np.asarray(p.targets).dtype == np.uint8
    result = run_baseline(p, "test", dataset_key=key)
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    x = vec.fit_transform(_texts(p, "train"))
    x_test = vec.transform(_texts(p, "test"))
    targets = np.asarray(p.targets[p.train_idx])
    pred = np.stack(
        [LinearSVC(C=0.5, random_state=0).fit(x, targets[:, j]).predict(x_test)
         for j in range(targets.shape[1])], axis=1,
    )  # fmt: skip
    y = np.asarray(p.targets[p.test_idx])
    assert result.micro_f1 == f1_score(y, pred, average="micro") > 0.5


def test_scores_leave_labels_the_documents_lack_out_of_macro_f1() -> None:
    names = ("a", "b", "c")
    y = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [1, 0, 0]])
    pred = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 1], [1, 0, 0]])
    s = score_predictions(y, pred, names, multi_label=True)
    assert s.accuracy == 0.5  # rows 0 and 3 have every label right
    assert s.per_class_f1 == {"a": 1.0, "b": pytest.approx(2 / 3), "c": 0.0}
    assert s.macro_f1 == pytest.approx((1 + 2 / 3) / 2)  # "c" is in no document
    assert s.micro_f1 == pytest.approx(2 * 4 / (2 * 4 + 1 + 1))  # tp 4, fp 1, fn 1
    single = score_predictions(np.array([0, 0, 1]), np.array([0, 2, 1]), names, False)
    assert single.accuracy == pytest.approx(2 / 3) and single.micro_f1 is None
    assert single.macro_f1 == pytest.approx((2 / 3 + 1) / 2)


def test_progress_rises_to_one_and_cancel_stops_before_fitting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p, _ = _prepare(_noisy_csv(tmp_path / "d.csv", n=300), tmp_path / "cache")
    seen: list[tuple[str, float]] = []
    run_baseline(p, "valid", progress=lambda m, f: seen.append((m, f)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(seen) >= 3
    assert not (tmp_path / "cache" / "baselines").exists()  # no key: nothing cached

    cancel = threading.Event()
    cancel.set()
    monkeypatch.setattr(LinearSVC, "fit", lambda *_a, **_k: pytest.fail("fitted"))
    with pytest.raises(Cancelled):
        run_baseline(p, "valid", cancel=cancel)


def test_bad_requests_are_user_errors(tmp_path: Path) -> None:
    p, _ = _prepare(_noisy_csv(tmp_path / "d.csv", n=200), tmp_path / "cache")
    with pytest.raises(StudioError, match="unknown split"):
        run_baseline(p, "train")
    nothing, _ = _prepare(tmp_path / "d.csv", tmp_path / "cache2", test_fraction=0.0)
    with pytest.raises(DatasetError, match="test split is empty"):
        run_baseline(nothing, "test")
    with pytest.raises(DatasetError, match="no features"):
        run_baseline(p, "valid", BaselineOptions(min_df=10_000))


# --- a trained run beside the baseline -------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("baseline")
    csv = _noisy_csv(work / "d.csv")
    config = StudioConfig(data=DataConfig(path=str(csv))).with_overrides(
        train={"epochs": 3, "lr": 0.05}, tokenizer={"ngram_buckets": 0}
    )
    result = train_run(config, runs_dir=work / "runs", cache_dir=work / "cache")
    assert result.run_dir is not None
    return Path(result.run_dir), csv


def test_comparison_scores_the_run_as_its_evaluation_does(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    run_dir, _ = trained
    run = load_run(run_dir)
    p = prepare_dataset(run.config.data, run.config.tokenizer, cache_dir=tmp_path / "c")
    cmp = compare_with_baseline(run, p, "test")
    report = evaluation_report(predict_split(run, p, "test"))
    assert cmp.run.accuracy == pytest.approx(report.accuracy)
    assert cmp.run.macro_f1 == pytest.approx(report.macro_f1)
    assert cmp.baseline.n_docs == cmp.run.n_docs == len(p.test_idx)
    diffs = cmp.f1_differences()
    assert [d[0] for d in diffs] and sorted(d[0] for d in diffs) == sorted(p.label_names)
    assert [d[3] for d in diffs] == sorted(d[3] for d in diffs)
    for name, run_f1, base_f1, diff in diffs:
        assert diff == run_f1 - base_f1 == cmp.run.per_class_f1[name] - base_f1


def test_cli_eval_baseline_prints_both_side_by_side(
    trained: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir, csv = trained
    assert main(["eval", str(run_dir), str(csv), "--baseline"]) == 0
    out, err = capsys.readouterr()
    assert "run vs baseline" in out and "accuracy" in out and "macro-F1" in out
    assert "per-class F1" in out and all(name in out for name in ("food", "music", "tech"))
    assert "TF-IDF words 1-2 + LinearSVC" in out and "baseline: done" in err
    assert "note:" not in err  # DATA is the run's own file: its own split

    assert main(["eval", str(run_dir), str(csv), "--baseline", "--split", "valid", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["split"] == "valid" and d["baseline"]["cached"] is False
    for side in ("run", "baseline"):
        assert {"accuracy", "macro_f1", "weighted_f1", "per_class_f1"} <= set(d[side])
    diffs = d["per_class_f1_difference"]
    assert [r["difference"] for r in diffs] == sorted(r["difference"] for r in diffs)
    for r in diffs:
        assert r["run"] == d["run"]["per_class_f1"][r["label"]]
        assert r["difference"] == pytest.approx(r["run"] - r["baseline"])
    # asked again: the baseline comes from the cache
    assert main(["eval", str(run_dir), str(csv), "--baseline", "--split", "valid", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["baseline"]["cached"] is True


def test_cli_eval_baseline_on_another_file_and_bad_options(
    trained: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir, _ = trained
    other = _noisy_csv(tmp_path / "other.csv", n=400, seed=9)
    args = ["eval", str(run_dir), str(other), "--baseline", "--baseline-features", "char"]
    assert main([*args, "--json"]) == 0
    out, err = capsys.readouterr()
    assert "note:" in err and "not the file" in err
    d = json.loads(out)
    assert d["baseline"]["options"]["analyzer"] == "char_wb" and d["split"] == "test"
    assert main(["eval", str(run_dir), str(other), "--split", "test"]) == 2
    assert "--split goes with --baseline" in capsys.readouterr().err
