"""``model.kind``: after the epochs, fit the linear model and keep the better one.

``"auto"`` makes the choice only for networks that are linear in the bag (no hidden layers,
no pretrained vectors, mean or sum pooling): the linear model is then the same model class,
solved to its optimum rather than approached by SGD. A network with hidden layers,
pretrained vectors or max pooling was chosen for them and stays.

See :mod:`~studio.engine.train.linear` for the model and the measurements behind the
default. The choice is made on the validation split only (the mean of accuracy and
macro-F1; a tie keeps the embedding model), and the callbacks hear it as a notice, so the
run's log, the CLI and the window say which model was kept and by what scores.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

import torch

from studio.config import ModelConfig
from studio.engine.train.batching import DeviceData
from studio.engine.train.context import FitContext
from studio.engine.train.events import Callback, EpochEnd, FitResult
from studio.engine.train.linear import LinearFit, fit_linear, validation_score, why_not_linear
from studio.engine.train.losses import batch_loss, loss_function
from studio.engine.train.mapped import MappedData
from studio.engine.train.validation import predict_logits
from studio.errors import ConfigError


def considers_linear(model: ModelConfig) -> bool:
    """Whether ``model.kind`` fits the linear model: ``"linear"``, or ``"auto"`` for a
    network linear in the bag (a network chosen for its hidden layers, pretrained vectors or
    max pooling stays as it is)."""
    if model.kind == "auto":
        return not (model.hidden or model.pretrained_vectors or model.pooling == "max")
    return model.kind == "linear"


def choose_model(
    ctx: FitContext,
    train: DeviceData | MappedData,
    valid: DeviceData | MappedData,
    result: FitResult,
    callbacks: Sequence[Callback],
    group: object | None = None,
    one_thread_trained: bool = False,
) -> FitResult:
    """``result`` after ``model.kind`` had its say; when the linear model is kept, it is
    ``ctx.model`` (and ``ctx.spec``) from here on. ``one_thread_trained``: the epochs ran
    on one CPU thread, and so does the linear fit (the run repeats bit for bit)."""
    kind = ctx.config.model.kind
    if result.status == "stopped" or not considers_linear(ctx.config.model):
        return result
    reason = why_not_linear(ctx.spec, ctx.multi_label, train, group is not None)
    if reason is not None:
        if kind == "linear":
            raise ConfigError("model.kind", f'"linear" cannot be fitted for {reason}')
        _notify(ctx, callbacks, f"the linear model was not fitted ({reason})")
        return result
    assert isinstance(train, DeviceData) and isinstance(valid, DeviceData)
    with torch.no_grad():
        fit = fit_linear(
            ctx.config, ctx.spec, ctx.label_names, train, valid, ctx.device, one_thread_trained
        )
    linear = f"valid accuracy {fit.metrics['accuracy']:.4f}, macro-F1 {fit.metrics['macro_f1']:.4f}"
    if kind == "auto":
        mine = validation_score(result.val_accuracy, result.val_macro_f1)
        embedding = f"{result.val_accuracy:.4f}, macro-F1 {result.val_macro_f1:.4f}"
        if fit.score <= mine:
            _notify(
                ctx, callbacks,
                f"kept the embedding model (valid accuracy {embedding}); the linear model "
                f"over the same features reached {linear} in {fit.seconds:.1f} s",
            )  # fmt: skip
            seconds = result.train_seconds + fit.seconds
            return replace(result, train_seconds=seconds, linear_seconds=fit.seconds)
        _notify(
            ctx, callbacks,
            f"kept the linear model over the same features ({linear}, fitted in "
            f"{fit.seconds:.1f} s); the embedding model reached valid accuracy {embedding}",
        )  # fmt: skip
    ctx.model, ctx.spec, ctx.val_probs = fit.model, fit.spec, fit.probs
    history, rates = result.history, (result.docs_per_second, result.tokens_per_second)
    if kind == "linear":
        history = [_linear_epoch(ctx, fit, train)]
        rates = (history[0].docs_per_second, history[0].tokens_per_second)
        for cb in callbacks:
            cb.on_epoch_end(ctx, history[0])
    return replace(
        result,
        epochs=1 if kind == "linear" else result.epochs,
        best_epoch=1 if kind == "linear" else result.best_epoch,
        val_loss=fit.val_loss,
        val_accuracy=fit.metrics["accuracy"],
        val_macro_f1=fit.metrics["macro_f1"],
        val_weighted_f1=fit.metrics["weighted_f1"],
        train_seconds=result.train_seconds + fit.seconds,
        history=history,
        docs_per_second=rates[0],
        tokens_per_second=rates[1],
        model_kind="linear",
        linear_seconds=fit.seconds,
    )


def _linear_epoch(ctx: FitContext, fit: LinearFit, train: DeviceData) -> EpochEnd:
    """The linear fit as the run's one epoch (``model.kind = "linear"``): its curves, its
    checkpoint, its row of the run's metrics."""
    start = time.perf_counter()
    with torch.no_grad():
        logits = predict_logits(fit.model, train)
        train_loss = float(batch_loss(fit.spec, loss_function(fit.spec), logits, train.targets))
    seconds = fit.seconds + time.perf_counter() - start
    return EpochEnd(
        epoch=1,
        step=0,
        train_loss=train_loss,
        val_loss=fit.val_loss,
        val_accuracy=fit.metrics["accuracy"],
        val_macro_f1=fit.metrics["macro_f1"],
        val_weighted_f1=fit.metrics["weighted_f1"],
        elapsed=seconds,
        docs_per_second=train.n_docs / max(seconds, 1e-9),
        tokens_per_second=train.n_tokens / max(seconds, 1e-9),
        is_best=True,
        best_epoch=1,
    )


def _notify(ctx: FitContext, callbacks: Sequence[Callback], message: str) -> None:
    for cb in callbacks:
        cb.on_notice(ctx, message)
