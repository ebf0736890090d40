"""The linear model over the studio's own features, solved to its optimum by liblinear.

An embedding bag with one column per class, ``sqrtn`` pooling and idf row weights, and no
hidden layer is a linear model over an L2-normalised tf-idf bag of the run's features
(words, hashed bigrams, character n-grams). SGD on the factorised table does not reach that
model's optimum, and on long or noisy text the optimum is better. Measured on the train /
valid / test splits of ``studio bench`` (test accuracy / macro-F1): the Debian package
descriptions 0.881 / 0.872 against the embedding model's 0.866 / 0.861, the full fortunes
0.58 / 0.56 against 0.532 / 0.516; on the bundled man pages the embedding model is better.

So ``model.kind = "auto"`` (the default) trains the embedding model as configured, then
fits this linear model on the same training split with scikit-learn's ``LinearSVC``
(squared hinge, C = ``model.linear_c``, 0.5 by default, one-vs-rest over threads) and keeps
whichever scores better on the validation split (mean of accuracy and macro-F1).
``"linear"`` fits only the linear model; ``"embedding"`` only trains the embedding model.
The kept linear model is a plain :class:`~studio.engine.train.model.TextClassifier` (table
= the coefficients, head = a temperature times the identity plus the intercepts), so
evaluation, the playground, the explanations and every export use it unchanged. The
temperature (one number, chosen on the validation split by log-loss) turns the SVM's
margins into calibrated probabilities.

Multi-label data, streamed (memory-mapped) splits and distributed runs keep the embedding
model; so does a table above :data:`MAX_LINEAR_PARAMS` weights (many classes times many
rows).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from studio.config import StudioConfig
from studio.engine.data.tokenize import PAD_ID
from studio.engine.train.batching import DeviceData
from studio.engine.train.losses import class_weights
from studio.engine.train.model import ModelSpec, TextClassifier
from studio.engine.train.validation import predict_logits, score_logits

#: liblinear's regularisation by default (scikit-learn's ``C``; ``model.linear_c``).
LINEAR_C = 0.5
#: liblinear's stopping tolerance: 0.1 against the default 1e-4 kept the test scores within
#: 0.1 point on the Debian and fortunes data and took 7.7 s against 12.9 s (Debian, 2 cores).
LINEAR_TOL = 0.1
#: The largest linear table (rows x outputs) fitted; above it the embedding model is kept.
MAX_LINEAR_PARAMS = 100_000_000
#: The temperatures tried on the validation split.
TEMPERATURES = np.geomspace(0.25, 64.0, 49)


@dataclass(frozen=True)
class LinearFit:
    """A fitted linear model and its validation scores."""

    model: TextClassifier
    spec: ModelSpec
    val_loss: float
    metrics: dict[str, float]
    probs: np.ndarray
    seconds: float

    @property
    def score(self) -> float:
        return validation_score(self.metrics["accuracy"], self.metrics["macro_f1"])


def validation_score(accuracy: float, macro_f1: float) -> float:
    """What ``model.kind = "auto"`` compares the two models by."""
    return (accuracy + macro_f1) / 2


def linear_spec(spec: ModelSpec) -> ModelSpec:
    """The linear model's spec for data the embedding model ``spec`` was built for."""
    return ModelSpec(
        num_embeddings=spec.num_embeddings,
        embed_dim=spec.num_outputs,
        num_outputs=spec.num_outputs,
        pooling="sqrtn",
        sigmoid=spec.sigmoid,
        weighting="idf",
    )


def why_not_linear(
    spec: ModelSpec, multi_label: bool, train: object, distributed: bool
) -> str | None:
    """Why the linear model cannot be fitted for this run, or None when it can."""
    if multi_label:
        return "multi-label data"
    if distributed:
        return "a distributed run"
    if not isinstance(train, DeviceData):
        return "a streamed training split"
    if spec.num_embeddings * spec.num_outputs > MAX_LINEAR_PARAMS:
        return f"{spec.num_embeddings:,} rows x {spec.num_outputs} outputs is too large"
    return None


def count_matrix(data: DeviceData, rows: int):  # type: ignore[no-untyped-def]
    """The split as a CSR matrix of counts (documents x rows), ``<pad>`` left out."""
    import scipy.sparse as sp

    ids = data.ids.cpu().numpy()
    docs = np.repeat(np.arange(data.n_docs), data.lengths)
    ones = (ids != PAD_ID).astype(np.float32)
    matrix = sp.csr_matrix((ones, (docs, ids)), shape=(data.n_docs, rows))
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    return matrix


def idf_of(counts, n_docs: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    """scikit-learn's smoothed idf of every row from a :func:`count_matrix` (as
    :func:`~studio.engine.train.weighting.idf_weights` computes it from the ids)."""
    df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
    return (np.log((1.0 + n_docs) / (1.0 + df)) + 1.0).astype(np.float32)


def tfidf_matrix(counts, idf: np.ndarray):  # type: ignore[no-untyped-def]
    """``counts`` as the matrix whose row ``d`` times the table is document ``d``'s pooled
    vector under ``sqrtn`` pooling with row weights ``idf``: ``c * idf / sqrt(sum(c * idf²))``
    (each repeat is one more term of the root, as the pooling sees it)."""
    import scipy.sparse as sp

    x = counts @ sp.diags(idf)
    norm = np.sqrt(np.asarray(counts @ np.square(idf, dtype=np.float64)).ravel())
    return (sp.diags(1.0 / np.maximum(norm, 1e-6)) @ x).tocsr().astype(np.float32)


def solve(  # type: ignore[no-untyped-def]
    x,
    y: np.ndarray,
    n_outputs: int,
    weights: np.ndarray | None,
    threads: int,
    seed: int = 0,
    c: float = LINEAR_C,
) -> tuple[np.ndarray, np.ndarray]:
    """``(coef [n_outputs, features], intercept [n_outputs])`` of liblinear's squared-hinge
    SVM (regularisation ``c``) on ``x``, ``y``; one output (a binary model) is the positive
    class's margin. A class with no training document gets a zero row and intercept -1
    (never predicted).

    liblinear is handed only the columns some document uses, in float64 once (scikit-learn
    would convert for each class): a column no document has keeps weight 0 either way, and
    the hashed rows of a run are mostly unused (fortunes: 224k of 720k columns used). With
    all of them the solve took 1.16x as long on the fortunes, 1.36x on the short fortunes.

    ``seed`` seeds liblinear's order of coordinates. One thread then repeats bit for bit;
    several share liblinear's one random generator, so their order (and the last digits
    of the weights, about 0.4% of their norm) varies from run to run."""
    used = np.unique(x.indices)
    compact = x[:, used].astype(np.float64)
    present = np.unique(y)

    def margin(positive: np.ndarray, weight: float) -> tuple[np.ndarray, np.ndarray]:
        return _binary(compact, positive.astype(np.int64), weight, seed, c)

    if n_outputs == 1:  # binary: weights are the positive class's pos_weight
        coef, intercept = margin(y, 1.0 if weights is None else float(weights[0]))
    elif len(present) == 2:  # two classes of a softmax model: one margin, either way
        w = 1.0 if weights is None else float(weights[present[1]] / weights[present[0]])
        coef, intercept = margin(y == present[1], w)
        coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
    else:  # one-vs-rest, as liblinear's own (positives weigh C * weight), over threads
        with ThreadPoolExecutor(max_workers=threads) as pool:
            fits = list(pool.map(
                lambda k: margin(y == k, 1.0 if weights is None else float(weights[k])),
                present,
            ))  # fmt: skip
        coef = np.vstack([f[0] for f in fits])
        intercept = np.concatenate([f[1] for f in fits])
    where = np.arange(1) if n_outputs == 1 else present  # the outputs the fits are for
    full = np.zeros((n_outputs, x.shape[1]), dtype=np.float32)
    bias = np.full(n_outputs, -1.0, dtype=np.float32)
    full[np.ix_(where, used)] = coef
    bias[where] = intercept
    return full, bias


def _binary(  # type: ignore[no-untyped-def]
    x, y: np.ndarray, positive_weight: float, seed: int, c: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(coef [1, features], intercept [1])`` of the squared-hinge SVM separating ``y == 1``
    (weighing ``positive_weight``) from the rest; liblinear releases the GIL as it solves."""
    from sklearn.svm import LinearSVC

    if len(np.unique(y)) < 2:  # every document one way: a constant margin
        sign = 1.0 if len(y) and y[0] == 1 else -1.0
        return np.zeros((1, x.shape[1]), np.float32), np.array([sign], np.float32)
    svc = LinearSVC(
        C=c,
        tol=LINEAR_TOL,
        class_weight={0: 1.0, 1: positive_weight},
        random_state=seed % 2**32,
    )
    svc.fit(x, y)
    return svc.coef_.astype(np.float32), svc.intercept_.astype(np.float32)


def build_linear(
    spec: ModelSpec, coef: np.ndarray, intercept: np.ndarray, row_weight: torch.Tensor
) -> TextClassifier:
    """A :class:`TextClassifier` computing ``coef @ x + intercept`` for the tf-idf bag ``x``
    (temperature 1; :func:`set_temperature` scales it)."""
    model = TextClassifier(linear_spec(spec), random_rows=0)
    with torch.no_grad():
        model.embedding.weight.copy_(torch.from_numpy(coef.T))
        model.embedding.weight[0].zero_()  # <pad>
        assert model.row_weight is not None
        model.row_weight.copy_(row_weight)
        linear = model.head[-1]
        assert isinstance(linear, torch.nn.Linear)
        linear.weight.copy_(torch.eye(spec.num_outputs))
        linear.bias.copy_(torch.from_numpy(intercept))
    return model.requires_grad_(False).eval()  # solved, not trained on


def set_temperature(model: TextClassifier, logits: torch.Tensor, targets: torch.Tensor) -> None:
    """Scale the head so that the validation ``logits`` (at temperature 1) have the least
    log-loss: calibrated probabilities, the same predictions."""
    losses = []
    for t in TEMPERATURES:
        if model.spec.sigmoid:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                logits.squeeze(-1) * t, targets.float().reshape(logits.squeeze(-1).shape)
            )
        else:
            loss = torch.nn.functional.cross_entropy(logits * t, targets.long())
        losses.append(float(loss))
    best = float(TEMPERATURES[int(np.argmin(losses))]) if losses else 1.0
    linear = model.head[-1]
    assert isinstance(linear, torch.nn.Linear)
    with torch.no_grad():
        linear.weight.mul_(best)
        linear.bias.mul_(best)


def linear_threads(config: StudioConfig, one_thread_trained: bool = False) -> int:
    """The classes' solves at once: ``device.threads`` (0: torch's count); one when the
    run's epochs trained on one CPU thread (``device.workers = 1``, or small data under
    "auto"), so that such a run still repeats bit for bit (see :func:`solve`)."""
    if config.device.workers == 1 or one_thread_trained:
        return 1
    return max(1, config.device.threads or torch.get_num_threads())


def fit_linear(
    config: StudioConfig,
    spec: ModelSpec,
    label_names: tuple[str, ...],
    train: DeviceData,
    valid: DeviceData,
    device: torch.device,
    one_thread_trained: bool = False,
) -> LinearFit:
    """Fit the linear model on ``train`` and score it on ``valid`` (``one_thread_trained``:
    see :func:`linear_threads`)."""
    start = time.perf_counter()
    counts = count_matrix(train, spec.num_embeddings)
    idf = idf_of(counts, train.n_docs)
    x = tfidf_matrix(counts, idf)
    row_weight = torch.from_numpy(idf)
    y = train.targets.cpu().numpy().astype(np.int64)
    if spec.num_outputs == 1:
        y = y.reshape(-1)
    weights = class_weights(config.train.class_weights, spec, label_names, train.targets)
    threads = linear_threads(config, one_thread_trained)
    w = None if weights is None else weights.cpu().numpy()
    coef, intercept = solve(
        x, y, spec.num_outputs, w, threads, config.train.seed, config.model.linear_c
    )
    model = build_linear(spec, coef, intercept, row_weight).to(device)
    logits = predict_logits(model, valid)
    set_temperature(model, logits.float().cpu(), valid.targets.cpu())
    logits = predict_logits(model, valid)
    val_loss, metrics, probs = score_logits(model, logits, valid.targets, False)
    return LinearFit(model, model.spec, val_loss, metrics, probs, time.perf_counter() - start)
