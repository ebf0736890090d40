"""``studio tune``: options to a new (or resumed) study, its trials live, then the tables.

A line per trial goes to stderr as the study runs; at the end the trials table, the chosen
parameters (value and default) and the best score go to stdout (or one JSON line with
``--json``). The engine does the work (:mod:`studio.engine.tune`).
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.config import SAMPLE_DATA, SAMPLE_DATASET, StudioConfig, load_config
from studio.errors import StudioError

if TYPE_CHECKING:
    from rich.console import Console

    from studio.engine.tune.budget import Budget
    from studio.engine.tune.events import StudyResult, StudyStart, TrialRecord, TuneCallback

__all__ = ["DEFAULT_BUDGET", "cmd_tune"]

DEFAULT_BUDGET = "10m"  # when neither --budget nor --trials is given for a new study
_FIXED_BY_STUDY = ("data", "config", "objective", "seed", "max_params", "study_dir")
_SIZE = re.compile(r"(\d+(?:\.\d*)?)([kmg]?)")


def parse_size(text: str, option: str = "--max-params") -> int:
    """``5000000``, ``500k``, ``5M`` or ``1.5G`` as a whole number; StudioError otherwise."""
    m = _SIZE.fullmatch(text.strip().lower())
    if m is None:
        raise StudioError(f"{option}: expected a number like 5000000, 500k or 5M; got {text!r}")
    value = float(m.group(1)) * {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[m.group(2)]
    if value < 1:
        raise StudioError(f"{option}: must be at least 1, got {text!r}")
    return int(value)


def _budget(args: argparse.Namespace) -> Budget | None:
    """The session's budget from --trials / --budget; None when neither is given."""
    from studio.engine.tune.budget import Budget, parse_duration

    if args.trials is not None and args.trials < 1:
        raise StudioError(f"--trials: must be at least 1, got {args.trials}")
    seconds = parse_duration(args.budget) if args.budget is not None else None
    if args.trials is None and seconds is None:
        return None
    return Budget(trials=args.trials, seconds=seconds)


def base_config(args: argparse.Namespace) -> StudioConfig:
    """The config every trial starts from: --config (or the defaults), DATA, columns, seed."""
    config = load_config(args.config) if args.config else StudioConfig()
    data = {"path": args.data, "text_column": args.text_col, "label_column": args.label_col,
            "label_delimiter": args.label_delimiter}  # fmt: skip
    sections: dict[str, dict[str, Any]] = {"data": {k: v for k, v in data.items() if v}}
    if args.seed is not None:
        sections["train"] = {"seed": args.seed}
    if args.device:
        sections["device"] = {"device": args.device}
    config = config.with_overrides(**sections)
    d = config.data
    if not d.path or Path(d.path).resolve() == SAMPLE_DATASET:
        if not SAMPLE_DATASET.exists():
            raise StudioError("no dataset given: pass DATA or a --config with data.path")
        sample = {"path": SAMPLE_DATA.path,
                  "text_column": d.text_column or SAMPLE_DATA.text_column,
                  "label_column": d.label_column or SAMPLE_DATA.label_column}  # fmt: skip
        config = config.with_overrides(data=sample)
    return config


def _open_study(args: argparse.Namespace, budget: Budget | None) -> Path:
    """The study folder: the one to resume, or a new one made from the options."""
    from studio.engine.tune.budget import Budget, parse_duration
    from studio.engine.tune.study import TuneSettings, create_study, resolve_study

    max_params = parse_size(args.max_params) if args.max_params is not None else None
    if args.resume:
        given = [o for o in _FIXED_BY_STUDY if getattr(args, o) is not None]
        if given:
            names = ", ".join("DATA" if o == "data" else "--" + o.replace("_", "-") for o in given)
            raise StudioError(
                f"--resume: the study keeps its own data and settings; leave out {names}"
            )
        return resolve_study(args.resume, args.runs_dir)
    base = base_config(args)
    settings = TuneSettings(
        objective=args.objective or "accuracy",
        seed=base.train.seed,
        max_params=max_params,
        budget=budget or Budget(seconds=parse_duration(DEFAULT_BUDGET)),
    )
    return create_study(base, settings, study_dir=args.study_dir, runs_dir=args.runs_dir)


def cmd_tune(args: argparse.Namespace) -> int:
    """``studio tune``: create or resume a study, run it, print the tables."""
    from rich.console import Console

    from studio.engine.train.control import TrainControl
    from studio.engine.tune.runner import run_study

    budget = _budget(args)  # bad --trials / --budget fail before anything is written
    folder = _open_study(args, budget)
    err = Console(stderr=True)
    control = TrainControl()
    _stop_on_sigterm(control)
    listener = trial_lines(err, quiet=args.quiet)

    def progress(message: str, _fraction: float) -> None:
        if not args.quiet:
            err.print(f"[dim]{message}…[/]")

    try:
        result = run_study(
            folder, budget if args.resume else None, [listener], control,
            device=args.device if args.resume else None, progress=progress,
        )  # fmt: skip
    except BaseException:
        if not args.resume:  # a new study that failed before its first trial leaves nothing
            from studio.engine.tune.study import discard_if_empty

            discard_if_empty(folder)
        raise
    if args.json:
        print(json.dumps(_summary(result)))
    else:
        _print_tables(Console(), result)
    return 0


def _stop_on_sigterm(control: Any) -> None:
    """SIGTERM stops the running trial (recorded as stopped) and the study with it."""
    import signal

    signal.signal(signal.SIGTERM, lambda _signum, _frame: control.request_stop())


def fmt_value(value: Any, short: bool = False) -> str:
    """A parameter value, plainly: 0.0123, 200,000 (``short``: 200k), 64."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        if short and value >= 1000 and value % 1000 == 0:
            return f"{value // 1_000_000}M" if value % 1_000_000 == 0 else f"{value // 1000}k"
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _score(value: float | None) -> str:
    return "" if value is None or not math.isfinite(value) else f"{value:.4f}"


def trial_lines(console: Console, quiet: bool = False) -> TuneCallback:
    """A TuneCallback printing one line per trial (and the notices) to ``console``."""
    from studio.engine.tune.events import TuneCallback

    class TrialLines(TuneCallback):
        def __init__(self) -> None:
            self.best: tuple[int, float] | None = None
            self.objective = ""

        def on_study_start(self, info: StudyStart) -> None:
            self.objective = info.objective
            done = sum(r.counted for r in info.trials)
            console.print(
                f"study {info.study_dir} on {info.device}: {info.objective} "
                f"({info.direction}), budget {info.budget.describe()}"
                + (f"; {done} trial(s) already finished" if done else "")
            )

        def on_trial_end(self, trial: TrialRecord) -> None:
            if quiet:
                return
            parts = [f"trial {trial.number:>3}", f"{trial.state:<8}", f"{_score(trial.score):>6}"]
            if trial.curve:
                parts.append(f"{len(trial.curve)} epoch(s)")
            if trial.seconds:
                parts.append(f"{trial.seconds:.1f} s")
            if trial.message:
                parts.append(f"({trial.message})")
            if self.best is not None:
                new = self.best[0] == trial.number
                parts.append("[bold]new best[/]" if new else f"best: {self.best[1]:.4f}")
            console.print("  ".join(parts), highlight=False)

        def on_best(self, trial_number: int, score: float, config: StudioConfig) -> None:
            self.best = (trial_number, score)

        def on_notice(self, message: str) -> None:
            console.print(f"[yellow]{message}[/]")

    return TrialLines()


def _params_text(params: dict[str, Any]) -> str:
    return " ".join(f"{k.split('.', 1)[1]}={fmt_value(v, short=True)}" for k, v in params.items())


def _print_tables(console: Console, result: StudyResult) -> None:
    from studio.console import table
    from studio.engine.tune.space import value_of

    rows = [
        [str(t.number) + ("*" if t.base else ""), t.state, _score(t.score),
         _params_text(t.params), "" if t.seconds is None else f"{t.seconds:.1f}"]
        for t in result.trials
    ]  # fmt: skip
    title = f"{len(result.trials)} trials (* = the base config's values)"
    console.print(table(title, ["#", "state", result.objective, "params", "seconds"], rows))
    best = result.best
    if best is None or best.score is None:
        console.print("no trial completed; nothing to save")
        return
    chosen = [
        [k, fmt_value(v), fmt_value(value_of(result.base_config, k))]
        for k, v in best.params.items()
    ]
    console.print(table(f"best: trial {best.number}", ["parameter", "value", "default"], chosen))
    console.print(
        f"best validation {result.objective}: {best.score:.4f} (trial {best.number}); "
        f"session {result.seconds:.0f} s, ended by {result.ended_by}",
        highlight=False,
    )
    console.print(f"config: {result.best_path}", highlight=False, soft_wrap=True)


def _record_json(t: TrialRecord) -> dict[str, Any]:
    score = t.score if t.score is not None and math.isfinite(t.score) else None
    return {
        "number": t.number, "state": t.state, "score": score, "params": t.params,
        "seconds": t.seconds, "parameters": t.parameters, "message": t.message, "base": t.base,
    }  # fmt: skip


def _summary(result: StudyResult) -> dict[str, Any]:
    best = result.best
    return {
        "study_dir": str(result.study_dir),
        "objective": result.objective,
        "direction": result.direction,
        "ended_by": result.ended_by,
        "seconds": result.seconds,
        "best": None if best is None else _record_json(best),
        "best_config": str(result.best_path) if best is not None else None,
        "trials": [_record_json(t) for t in result.trials],
    }
