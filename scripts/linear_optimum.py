"""How far is a trained model from the linear optimum on the character TF-IDF's features?

    python scripts/linear_optimum.py DATA [--analyzer char_wb|word]

Builds scikit-learn's TF-IDF features of the baseline (``char_wb`` 1-4-grams or words 1-2,
sublinear tf, ``min_df=2``) on the studio's own train/valid/test split, then fits a
full-rank linear model to convergence with L-BFGS in torch: the squared hinge one-vs-rest
objective of ``LinearSVC(C=0.5)`` (it should land on LinearSVC's score) and softmax
cross-entropy at three L2 strengths. What it prints separates the loss from the optimiser:
the engine trains softmax cross-entropy for a few minibatch epochs. Scores are on the test
split; nothing here tunes on it (the L2 strengths are reported side by side, not chosen).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.svm import LinearSVC

from studio.config import StudioConfig
from studio.engine.data.prepare import prepare_dataset


def _scores(pred: np.ndarray, y: np.ndarray) -> str:
    return f"{(pred == y).mean():.4f} / {f1_score(y, pred, average='macro'):.4f}"


def _torch_csr(x: sp.csr_matrix) -> torch.Tensor:
    coo = x.tocoo()
    index = np.vstack([coo.row, coo.col]).astype(np.int64)
    values = coo.data.astype(np.float32)
    return torch.sparse_coo_tensor(index, values, coo.shape).coalesce()


def fit_linear(
    x: torch.Tensor, y: np.ndarray, classes: int, loss: str, l2: float
) -> Callable[[torch.Tensor], np.ndarray]:
    """A full-rank linear model fitted with L-BFGS (200 iterations); returns predict(x)."""
    n, features = x.shape
    w = torch.zeros(features, classes, requires_grad=True)
    b = torch.zeros(classes, requires_grad=True)
    target = torch.from_numpy(y)
    signs = -torch.ones(n, classes)
    signs[torch.arange(n), target] = 1.0
    opt = torch.optim.LBFGS([w, b], max_iter=200, history_size=20, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        scores = torch.sparse.mm(x, w) + b
        if loss == "squared hinge":
            value = torch.clamp(1 - signs * scores, min=0).pow(2).sum() / n
        else:
            value = torch.nn.functional.cross_entropy(scores, target)
        value = value + l2 * (w * w).sum()
        value.backward()
        return value

    opt.step(closure)
    return lambda t: (torch.sparse.mm(t, w) + b).argmax(1).detach().numpy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data")
    ap.add_argument("--analyzer", choices=("char_wb", "word"), default="char_wb")
    args = ap.parse_args()
    config = StudioConfig().with_overrides(data={"path": args.data})
    p = prepare_dataset(config.data, config.tokenizer)
    splits = [np.asarray(s) for s in (p.train_idx, p.valid_idx, p.test_idx)]
    texts = [[p.text(int(i)) for i in s] for s in splits]
    y_train, _, y_test = (np.asarray(p.targets[s]) for s in splits)
    grams = (1, 4) if args.analyzer == "char_wb" else (1, 2)
    vec = TfidfVectorizer(analyzer=args.analyzer, ngram_range=grams, min_df=2, sublinear_tf=True)
    x_train = vec.fit_transform(texts[0])
    x_test = vec.transform(texts[2])
    classes = len(p.label_names)
    t0 = time.perf_counter()
    svc = LinearSVC(C=0.5).fit(x_train, y_train)
    print(f"{x_train.shape[1]:,} features, {classes} classes")
    print(f"LinearSVC(C=0.5): test {_scores(svc.predict(x_test), y_test)}"
          f" ({time.perf_counter() - t0:.1f} s)")  # fmt: skip
    xt, xs = _torch_csr(x_train), _torch_csr(x_test)
    n = x_train.shape[0]
    for loss, l2 in (("squared hinge", 1 / (2 * 0.5 * n)), ("softmax", 1e-4), ("softmax", 1e-5),
                     ("softmax", 1e-6)):  # fmt: skip
        t0 = time.perf_counter()
        predict = fit_linear(xt, y_train, classes, loss, l2)
        print(f"full-rank {loss}, L2 {l2:.1e}, L-BFGS: test {_scores(predict(xs), y_test)}"
              f" ({time.perf_counter() - t0:.1f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
