"""The TF-IDF + linear SVM baseline a run is measured against, fitted on the run's own split.

scikit-learn's ``TfidfVectorizer`` (word 1-2-grams, or ``char_wb`` 1-4-grams, with sublinear
tf and ``min_df=2``) and ``LinearSVC(C=0.5)`` (one-vs-rest for multi-label data) are fitted on
a prepared dataset's training split and scored on its validation or test split with the
definitions of the run's evaluation report (:mod:`~studio.engine.analysis.report`): accuracy
is subset accuracy for multi-label data, macro-F1 averages the classes the scored documents
hold. :func:`run_baseline` caches each result as a small JSON file under the dataset cache
folder, keyed by the prepared dataset's cache key, the split and the options, so asking again
(the Evaluation page, ``studio eval --baseline``) does not refit. :func:`compare_with_baseline`
scores a trained run on the same documents, for the side-by-side view.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from studio.engine.atomic import write_text_atomic
from studio.engine.data.dataset import Cancelled, PreparedDataset, Progress
from studio.engine.runs.layout import default_cache_dir
from studio.errors import DatasetError, StudioError

if TYPE_CHECKING:
    from studio.engine.analysis.inference import LoadedRun

__all__ = [
    "BASELINES",
    "CHARS",
    "WORDS",
    "BaselineOptions",
    "BaselineResult",
    "FittedBaseline",
    "RunComparison",
    "Scores",
    "compare_with_baseline",
    "fit_baseline",
    "run_baseline",
    "score_predictions",
]

CACHE_VERSION = 1
SCORED_SPLITS = ("valid", "test")
Analyzer = Literal["word", "char_wb"]


@dataclass(frozen=True)
class BaselineOptions:
    """The baseline's features and regularisation, in scikit-learn's own parameter names."""

    analyzer: Analyzer = "word"
    ngram_range: tuple[int, int] = (1, 2)
    min_df: int = 2
    sublinear_tf: bool = True
    C: float = 0.5
    random_state: int = 0  # LinearSVC's dual solver shuffles: seeded, so results repeat

    @property
    def name(self) -> str:
        lo, hi = self.ngram_range
        return f"TF-IDF {'words' if self.analyzer == 'word' else 'char'} {lo}-{hi} + LinearSVC"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ngram_range": list(self.ngram_range)}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> BaselineOptions:
        return cls(**{**d, "ngram_range": tuple(d["ngram_range"])})


WORDS = BaselineOptions()
CHARS = BaselineOptions(analyzer="char_wb", ngram_range=(1, 4))
BASELINES: dict[str, BaselineOptions] = {"words": WORDS, "char": CHARS}


@dataclass(frozen=True)
class Scores:
    """Scores of some decisions, with the definitions of the run's evaluation report."""

    accuracy: float  # multi-label: subset accuracy (every label right)
    macro_f1: float  # mean over the classes the scored documents hold
    weighted_f1: float
    micro_f1: float | None  # multi-label only
    per_class_f1: dict[str, float]
    n_docs: int


@dataclass(frozen=True)
class BaselineResult(Scores):
    """The baseline's scores on one split of a prepared dataset, and how it got them."""

    split: str
    options: BaselineOptions
    multi_label: bool
    n_train: int
    train_seconds: float  # texts -> features -> fitted classifier
    cached: bool = False  # read back from the cache, not fitted by this call

    def to_json(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "cached"}
        return {**d, "options": self.options.to_json()}

    @classmethod
    def from_json(cls, d: dict[str, Any], cached: bool = False) -> BaselineResult:
        options = BaselineOptions.from_json(d["options"])
        return cls(**{**d, "options": options, "cached": cached})


def score_predictions(
    y_true: np.ndarray, y_pred: np.ndarray, label_names: Sequence[str], multi_label: bool
) -> Scores:
    """Scores of class indices ``[n]`` (or 0/1 decisions ``[n, labels]`` for multi-label)."""
    from sklearn.metrics import accuracy_score, f1_score

    labels = np.arange(len(label_names))
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if multi_label:
        t, p = t.astype(np.uint8), p.astype(np.uint8)
    if len(t) == 0:
        zero = dict.fromkeys(label_names, 0.0)
        return Scores(0.0, 0.0, 0.0, 0.0 if multi_label else None, zero, 0)
    support = t.sum(axis=0) if multi_label else np.bincount(t, minlength=len(labels))
    present = labels[support > 0]
    per_class = f1_score(t, p, labels=labels, average=None, zero_division=0)
    macro = f1_score(t, p, labels=present, average="macro", zero_division=0) if len(present) else 0
    return Scores(
        accuracy=float(accuracy_score(t, p)),
        macro_f1=float(macro),
        weighted_f1=float(f1_score(t, p, labels=labels, average="weighted", zero_division=0)),
        micro_f1=float(f1_score(t, p, average="micro", zero_division=0)) if multi_label else None,
        per_class_f1={n: float(f) for n, f in zip(label_names, per_class, strict=True)},
        n_docs=len(t),
    )


@dataclass(frozen=True)
class FittedBaseline:
    """A fitted vectoriser and classifier, and how long fitting them took."""

    options: BaselineOptions
    vectorizer: Any  # sklearn TfidfVectorizer
    classifier: Any  # sklearn LinearSVC, or OneVsRestClassifier of them
    multi_label: bool
    n_labels: int
    train_seconds: float

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Class indices ``[n]``, or 0/1 decisions ``[n, labels]`` for multi-label data."""
        if not texts:
            shape = (0, self.n_labels) if self.multi_label else (0,)
            return np.zeros(shape, dtype=np.uint8 if self.multi_label else np.int64)
        out = self.classifier.predict(self.vectorizer.transform(texts))
        return np.asarray(out.toarray() if hasattr(out, "toarray") else out)


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("baseline cancelled")


def _texts(p: PreparedDataset, docs: np.ndarray) -> list[str]:
    return [p.text(int(i)) for i in docs]


def fit_baseline(
    p: PreparedDataset,
    options: BaselineOptions = WORDS,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> FittedBaseline:
    """Fit the baseline on ``p``'s training split (its original texts and targets)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.svm import LinearSVC

    report = progress or (lambda _m, _f: None)
    docs = np.asarray(p.train_idx)
    if len(docs) == 0:
        raise DatasetError("the training split is empty", path=p.source)
    y = np.asarray(p.targets[docs])
    if p.multi_label:
        # int64, not the cache's uint8: scikit-learn 1.9's LabelBinarizer scrambles uint8
        # label columns past 256 labels (found on the Debian tags: 366 labels)
        y = y.astype(np.int64)
    if not p.multi_label and len(np.unique(y)) < 2:
        raise DatasetError("the baseline needs two classes in the training split", path=p.source)
    _check(cancel)
    report(f"baseline: features of {len(docs):,} training documents", 0.05)
    t0 = time.perf_counter()
    vectorizer = TfidfVectorizer(
        analyzer=options.analyzer,
        ngram_range=options.ngram_range,
        min_df=options.min_df,
        sublinear_tf=options.sublinear_tf,
    )
    try:
        x = vectorizer.fit_transform(_texts(p, docs))
    except ValueError as exc:  # empty vocabulary, e.g. min_df above every term's count
        raise DatasetError(f"the baseline found no features ({exc})", path=p.source) from None
    _check(cancel)
    report(f"baseline: fitting LinearSVC on {x.shape[1]:,} features", 0.3)
    svc = LinearSVC(C=options.C, random_state=options.random_state)
    classifier = OneVsRestClassifier(svc) if p.multi_label else svc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # one-vs-rest: a label no training document (or every one) carries is predicted constant
        warnings.filterwarnings("ignore", "Label .* is present in all training examples")
        classifier.fit(x, y)
    seconds = time.perf_counter() - t0
    return FittedBaseline(
        options, vectorizer, classifier, p.multi_label, len(p.label_names), seconds
    )


def _cache_file(root: Path, key: str, split: str, options: BaselineOptions) -> Path:
    try:
        sklearn_version = version("scikit-learn")
    except PackageNotFoundError:  # pragma: no cover - sklearn is a dependency
        sklearn_version = "?"
    what = {"version": CACHE_VERSION, "sklearn": sklearn_version, **options.to_json()}
    digest = hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:16]
    return root / "baselines" / f"{key}-{split}-{digest}.json"


def _load_cached(
    file: Path, key: str, split: str, options: BaselineOptions
) -> BaselineResult | None:
    try:
        d = json.loads(file.read_text(encoding="utf-8"))
        if d.pop("dataset_key") != key:
            return None
        result = BaselineResult.from_json(d, cached=True)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing or damaged: fitted again
    return result if (result.split, result.options) == (split, options) else None


def _save_cached(file: Path, key: str, result: BaselineResult) -> None:
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(file, json.dumps({"dataset_key": key, **result.to_json()}))
    except OSError:
        pass  # the cache is an optimisation; never fatal


def run_baseline(
    p: PreparedDataset,
    split: str = "test",
    options: BaselineOptions = WORDS,
    *,
    dataset_key: str | None = None,
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> BaselineResult:
    """The baseline fitted on ``p``'s training split and scored on ``split``, cached.

    ``dataset_key`` is ``p``'s cache key (:func:`~studio.engine.data.prepare.cache_key` of
    its data and tokenizer settings); by default the name of the cache folder ``p`` was
    opened from. Without either, nothing is cached. Results go to ``cache_dir`` (default
    :func:`~studio.engine.runs.layout.default_cache_dir`) ``/baselines``. ``progress`` gets
    ``(message, fraction)``; ``cancel`` set raises
    :class:`~studio.engine.data.dataset.Cancelled` between stages.
    """
    if split not in SCORED_SPLITS:
        raise StudioError(f"unknown split {split!r}; expected one of {', '.join(SCORED_SPLITS)}")
    docs = np.asarray(p.split_indices(split))
    if len(docs) == 0:
        raise DatasetError(f"the {split} split is empty", path=p.source)
    report = progress or (lambda _m, _f: None)
    key = dataset_key or (Path(p.cache_dir).name if p.cache_dir else None)
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    file = _cache_file(root, key, split, options) if key else None
    if file is not None and key is not None:
        found = _load_cached(file, key, split, options)
        if found is not None:
            report("baseline: cached result", 1.0)
            return found
    fitted = fit_baseline(p, options, progress=report, cancel=cancel)
    _check(cancel)
    report(f"baseline: scoring the {split} split", 0.9)
    pred = fitted.predict(_texts(p, docs))
    scores = score_predictions(np.asarray(p.targets[docs]), pred, p.label_names, p.multi_label)
    result = BaselineResult(
        **asdict(scores),
        split=split,
        options=options,
        multi_label=p.multi_label,
        n_train=len(p.train_idx),
        train_seconds=fitted.train_seconds,
    )
    if file is not None and key is not None:
        _save_cached(file, key, result)
    report("baseline: done", 1.0)
    return result


@dataclass(frozen=True)
class RunComparison:
    """A trained run and the baseline, scored on the same documents."""

    split: str
    run: Scores
    baseline: BaselineResult

    def f1_differences(self) -> list[tuple[str, float, float, float]]:
        """``(label, run F1, baseline F1, run - baseline)`` of the labels both score, the
        labels where the baseline is furthest ahead first."""
        rows = [
            (name, f1, self.baseline.per_class_f1[name], f1 - self.baseline.per_class_f1[name])
            for name, f1 in self.run.per_class_f1.items()
            if name in self.baseline.per_class_f1
        ]
        return sorted(rows, key=lambda r: (r[3], r[0]))


def _run_targets(run: LoadedRun, p: PreparedDataset, docs: np.ndarray) -> np.ndarray:
    """``p``'s targets of ``docs`` in the run's label order; a label it lacks is an error."""
    if p.multi_label != run.multi_label:
        kind = "multi-label" if run.multi_label else "single-label"
        raise DatasetError(f"the run is {kind} and this dataset is not", path=p.source)
    index = {name: k for k, name in enumerate(run.labels)}
    targets = np.asarray(p.targets[docs])
    if p.multi_label:
        y = np.zeros((len(docs), len(run.labels)), dtype=np.uint8)
        for j, name in enumerate(p.label_names):
            if name in index:
                y[:, index[name]] = targets[:, j]
            elif targets[:, j].any():
                raise DatasetError(f"label {name!r} is not one the model knows", path=p.source)
        return y
    mapping = np.array([index.get(name, -1) for name in p.label_names], dtype=np.int64)
    y = mapping[targets] if len(targets) else targets.astype(np.int64)
    if (y < 0).any():
        name = p.label_names[int(targets[np.flatnonzero(y < 0)[0]])]
        raise DatasetError(f"label {name!r} is not one the model knows", path=p.source)
    return y


def score_run(run: LoadedRun, p: PreparedDataset, split: str) -> Scores:
    """The run's scores on ``split`` of ``p``, its texts encoded as ``studio eval`` does."""
    docs = np.asarray(p.split_indices(split))
    y = _run_targets(run, p, docs)
    probs = run.predict_proba(_texts(p, docs))
    decided = probs >= run.threshold if run.multi_label else probs.argmax(axis=1)
    return score_predictions(y, decided, run.labels, run.multi_label)


def compare_with_baseline(
    run: LoadedRun,
    p: PreparedDataset,
    split: str = "test",
    options: BaselineOptions = WORDS,
    *,
    dataset_key: str | None = None,
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> RunComparison:
    """``run`` and the baseline (fitted on ``p``'s training split) scored on ``split``.

    ``p`` is best the run's own dataset prepared with its settings, so the baseline trains
    on exactly the run's training documents; the arguments are :func:`run_baseline`'s.
    """
    baseline = run_baseline(
        p, split, options, dataset_key=dataset_key, cache_dir=cache_dir,
        progress=progress, cancel=cancel,
    )  # fmt: skip
    return RunComparison(split, score_run(run, p, split), baseline)
