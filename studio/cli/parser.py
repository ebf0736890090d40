"""The ``studio`` command line: every subcommand and option, declared with argparse."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from studio import __version__
from studio.cli.label_issues import add_label_issues
from studio.cli.recs import add_recs

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``studio`` and its subcommands (``args.command`` names the one given)."""
    p = argparse.ArgumentParser(
        prog="studio",
        description="Embedding Studio: train text classifiers with an embedding layer.",
    )
    p.add_argument("--version", action="version", version=f"studio {__version__}")
    p.add_argument("--open", metavar="PATH", help="open the window with this dataset loaded")
    p.add_argument("--screenshot", metavar="FILE", help=argparse.SUPPRESS)
    p.add_argument("--report-startup", action="store_true", help=argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for add in (_add_train, _add_eval, _add_predict, _add_runs, _add_bench, _add_devices):
        add(sub)
    _add_export(sub)
    _add_tune(sub)
    add_label_issues(sub)
    add_recs(sub)
    return p


def _add_model_settings(t: argparse.ArgumentParser) -> None:
    """``studio train``'s features and model: tokens, buckets, n-grams, kind, pooling, size."""
    t.add_argument("--tokenizer", choices=["words", "bpe"])
    t.add_argument("--vocab-size", type=int)
    t.add_argument("--min-freq", type=int)
    t.add_argument("--ngram-buckets", type=int, help="hashed word-bigram rows (0 = none)")
    t.add_argument(
        "--char-ngrams",
        metavar="MINN,MAXN",
        help="hashed character n-grams of each word, fastText's subwords, e.g. 3,6 (0 = none)",
    )
    t.add_argument("--char-buckets", type=int, help="hashed character n-gram rows")
    t.add_argument("--weighting", choices=["none", "idf"], help="idf: weigh each row by its rarity")
    t.add_argument(
        "--model-kind",
        choices=["auto", "embedding", "linear"],
        help="auto: also fit the linear model over the same features and keep the better on "
        "validation; embedding: the trained network only; linear: the linear model only",
    )
    t.add_argument(
        "--linear-c",
        type=float,
        metavar="C",
        help="the linear model's C (liblinear's inverse regularisation; default 0.5)",
    )
    t.add_argument("--pooling", choices=["mean", "sum", "sqrtn", "max"])
    t.add_argument("--embed-dim", type=int)
    t.add_argument("--hidden", help="hidden layer widths, e.g. 128,64 (empty = none)")


def _add_train(sub: Subparsers) -> None:
    """``studio train``: the data, the settings, distributed and resumed runs."""
    t = sub.add_parser("train", help="train a model and save it as a run")
    t.add_argument("data", nargs="?", help="dataset file or folder (default: config's data.path)")
    t.add_argument("--config", help="TOML config file (the window saves the same format)")
    t.add_argument("--preset", choices=["default", "seed"], help="seed = the original Keras model")
    t.add_argument("--text-col", help="text column name (default: auto-detect)")
    t.add_argument("--label-col", help="label column name (default: auto-detect)")
    t.add_argument("--label-delimiter", help="split labels on this for multi-label data")
    t.add_argument("--valid", help="validation file (default: a stratified split)")
    _add_model_settings(t)
    t.add_argument("--batch-size", help="documents per step, or 'auto': largest that fits")
    t.add_argument("--epochs", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--optimizer", choices=["adamw", "adam", "sgd"])
    t.add_argument(
        "--class-weights",
        choices=["none", "balanced"],
        help="weigh classes in the training loss; balanced: n / (classes * count) of the "
        "training split (a {label = weight} table only through --config)",
    )
    t.add_argument("--device", help="cpu, cuda, cuda:N, mps or auto")
    t.add_argument(
        "--workers",
        type=int,
        help="CPU training threads sharing one table (0 = auto; 1 = bit-identical reruns)",
    )
    t.add_argument("--seed", type=int)
    t.add_argument("--runs-dir", help="where run folders go (default: user data dir)")
    t.add_argument("--run-dir", help="write the run into exactly this new (or empty) folder")
    t.add_argument(
        "--nproc",
        type=int,
        default=1,
        metavar="N",
        help="train in N processes on this machine (torch.distributed: NCCL on GPUs, one "
        "GPU each, chosen with CUDA_VISIBLE_DEVICES; gloo on CPU); batch-size is the total",
    )
    t.add_argument(
        "--dist-timeout",
        type=float,
        metavar="SECONDS",
        help="distributed runs: how long a rank waits for a silent peer before the whole "
        "run stops with an error (default 300)",
    )
    t.add_argument("--save-config", metavar="FILE", help="write the effective config and exit")
    t.add_argument("--json", action="store_true", help="end stdout with one JSON summary line")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument(
        "--live-predictions",
        action="store_true",
        help="after each epoch, write the validation predictions to RUN/live/ for another "
        "process to show (the window's child runs; the folder is scratch)",
    )
    t.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue a stopped, failed or killed run from its last epoch checkpoint "
        "(uses the run's config.toml; other training options are ignored)",
    )


def _add_tune(sub: Subparsers) -> None:
    """``studio tune DATA``: a new study (budget, objective, cap) or ``--resume STUDY``."""
    t = sub.add_parser("tune", help="search training settings for the best validation score")
    t.add_argument("data", nargs="?", help="dataset file or folder (default: config's data.path)")
    t.add_argument("--budget", metavar="TIME", help="time to tune: 90s, 10m, 1h (default 10m)")
    t.add_argument("--trials", type=int, metavar="N", help="finished trials the study holds")
    t.add_argument(
        "--objective",
        choices=["accuracy", "macro_f1", "val_loss"],
        help="the validation score to optimise (default: accuracy)",
    )
    t.add_argument("--device", help="cpu, cuda, cuda:N, mps or auto")
    t.add_argument("--max-params", metavar="N", help="skip models over N parameters (e.g. 5M)")
    t.add_argument("--seed", type=int, help="seeds the sampler and every trial's training")
    t.add_argument("--config", help="TOML config every trial starts from (default: defaults)")
    t.add_argument("--text-col", help="text column name (default: auto-detect)")
    t.add_argument("--label-col", help="label column name (default: auto-detect)")
    t.add_argument("--label-delimiter", help="split labels on this for multi-label data")
    t.add_argument(
        "--study-dir", metavar="DIR", help="the new study's folder (default: <runs>/studies/…)"
    )
    t.add_argument("--runs-dir", help="the folder holding studies/ (default: user data dir)")
    t.add_argument(
        "--resume",
        metavar="STUDY",
        help="continue a study (name or folder), keeping every finished trial; --trials and "
        "--budget then replace its budget",
    )
    t.add_argument("--json", action="store_true", help="end stdout with one JSON summary line")
    t.add_argument("--quiet", action="store_true", help="no line per trial")


def _add_eval(sub: Subparsers) -> None:
    """``studio eval RUN DATA``."""
    e = sub.add_parser("eval", help="evaluate a run on a labelled dataset")
    e.add_argument("run", help="run folder")
    e.add_argument("data", help="labelled dataset file")
    e.add_argument("--text-col")
    e.add_argument("--label-col")
    e.add_argument(
        "--baseline",
        action="store_true",
        help="also fit a TF-IDF + LinearSVC baseline on the training split of DATA (prepared "
        "with the run's settings: the run's own split when DATA is its training file) and "
        "score both on --split",
    )
    e.add_argument(
        "--baseline-features",
        choices=["words", "char"],
        default="words",
        help="the baseline's features: word 1-2-grams (default) or char_wb 1-4-grams",
    )
    e.add_argument(
        "--split",
        choices=["valid", "test"],
        help="with --baseline: the split both are scored on (default: test)",
    )
    e.add_argument("--json", action="store_true")


def _add_predict(sub: Subparsers) -> None:
    """``studio predict RUN TEXT...``."""
    pr = sub.add_parser("predict", help="predict the label of a text with a run's model")
    pr.add_argument("run", help="run folder")
    pr.add_argument("text", nargs="+", help="text to classify")
    pr.add_argument("--json", action="store_true")


def _add_runs(sub: Subparsers) -> None:
    """``studio runs``."""
    r = sub.add_parser("runs", help="list the runs in the runs directory")
    r.add_argument("--runs-dir")
    r.add_argument("--json", action="store_true")


def _add_bench(sub: Subparsers) -> None:
    """``studio bench [DATA]``."""
    b = sub.add_parser(
        "bench", help="the studio engine against the seed loop, TF-IDF baselines and fastText"
    )
    b.add_argument("data", nargs="?", help="dataset (default: the bundled sample)")
    b.add_argument("--text-col")
    b.add_argument("--label-col")
    b.add_argument("--config", help="TOML config for the studio rows (default preset otherwise)")
    b.add_argument("--device", help="cpu, cuda, cuda:N or mps (for the studio rows)")
    b.add_argument("--repeats", type=int, default=3, help="runs of each contender (medians)")
    b.add_argument("--seed-epochs", type=int, default=2, help="epochs of the seed-style loop")
    b.add_argument(
        "--autotune-seconds",
        type=int,
        default=120,
        metavar="N",
        help="the time fastText's autotune may search, per repeat (0 = leave the row out)",
    )
    b.add_argument(
        "--suite",
        choices=["accuracy", "speed", "recs"],
        default="accuracy",
        help="accuracy: every contender scored on test; speed: docs/s against fastText and "
        "studio train's time outside training; recs: user/item tables on an interactions file "
        "(default: the bundled one) against popularity and implicit's ALS, and their speed",
    )
    b.add_argument("--user-col", help="recs: the user column (default: found by name)")
    b.add_argument("--item-col", help="recs: the item column (default: found by name)")
    b.add_argument("--generated", type=int, default=1_000_000,
                   help="recs: generated interactions for the speed rows")  # fmt: skip
    b.add_argument("--als-seconds", type=float, default=300,
                   help="recs: seconds of ALS's random search (0: none)")  # fmt: skip
    b.add_argument("--json", action="store_true")


def _add_devices(sub: Subparsers) -> None:
    """``studio devices``."""
    d = sub.add_parser("devices", help="list CPU, CUDA and MPS devices")
    d.add_argument("--json", action="store_true")


def _add_export(sub: Subparsers) -> None:
    """``studio export RUN --format F --out PATH``; the formats are the engine's list."""
    from studio.engine.export.formats import FORMATS  # torch-free

    x = sub.add_parser("export", help="export a run's model, embeddings or training curves")
    x.add_argument("run", help="run folder")
    x.add_argument(
        "--format",
        required=True,
        choices=FORMATS,
        help="onnx/torchscript: the classifier (plus PATH.json: vocabulary, labels, how to "
        "feed it); word2vec/projector: the vocabulary's vectors; tensorboard/csv: the "
        "training curves",
    )
    x.add_argument("--out", required=True, metavar="PATH", help="file or folder to write")
    x.add_argument("--overwrite", action="store_true", help="replace existing output")
