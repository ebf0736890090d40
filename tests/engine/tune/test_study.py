"""Studies run through the engine API: repeatable, capped, pruned, stoppable, reproducible."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import optuna
import psutil
import pytest
from optuna.trial import TrialState, create_trial

from studio.cli import main
from studio.config import StudioConfig, load_config
from studio.engine.data.prepare import prepare_dataset
from studio.engine.train.context import FitContext
from studio.engine.train.control import TrainControl
from studio.engine.train.events import Callback, FitStart
from studio.engine.train.loop import fit
from studio.engine.tune import (
    Budget,
    StudyResult,
    TrialRecord,
    TuneCallback,
    TuneSettings,
    create_study,
    load_trials,
    run_study,
)
from studio.engine.tune.runner import PRUNER_STARTUP_TRIALS, make_pruner
from studio.engine.tune.study import StudyFolder
from studio.engine.tune.trial import parameter_count, train_trial
from studio.errors import StudioError
from tests.conftest import write_topics_csv
from tests.engine.tune.helpers import TINY_SPACE, tiny_base


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A small three-topic CSV (400 training documents): a trial takes about a second."""
    return write_topics_csv(tmp_path / "topics.csv", n=500)


class Events(TuneCallback):
    """Every hook call, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def on_trial_start(self, trial_number: int, params: dict[str, Any]) -> None:
        self.calls.append(("start", trial_number))

    def on_trial_epoch(self, trial_number: int, epoch: int, score: float) -> None:
        self.calls.append(("epoch", (trial_number, epoch, score)))

    def on_trial_end(self, trial: TrialRecord) -> None:
        self.calls.append(("end", trial))

    def on_best(self, trial_number: int, score: float, config: StudioConfig) -> None:
        self.calls.append(("best", (trial_number, score)))


def _study(
    tmp_path: Path, name: str, base: StudioConfig, budget: Budget, **settings: Any
) -> tuple[StudyResult, Events]:
    folder = create_study(base, TuneSettings(**settings), study_dir=tmp_path / name)
    events = Events()
    return run_study(folder, budget, [events], space=TINY_SPACE), events


def _summary(result: StudyResult) -> list[tuple[int, str, dict[str, Any], float | None]]:
    return [(t.number, t.state, t.params, t.score) for t in result.trials]


def test_same_seed_same_trials_and_scores(data: Path, tmp_path: Path) -> None:
    base = tiny_base(data)
    first, events = _study(tmp_path, "a", base, Budget(trials=3), seed=5)
    second, _ = _study(tmp_path, "b", base, Budget(trials=3), seed=5)
    assert len(first.trials) == 3 and all(t.counted for t in first.trials)
    assert _summary(first) == _summary(second)  # same parameters, same scores, exactly
    assert [t.curve for t in first.trials] == [t.curve for t in second.trials]
    assert first.trials[0].base  # the first trial is the base config's own values
    assert first.trials[0].params["train.epochs"] == 2
    other, _ = _study(tmp_path, "c", base, Budget(trials=2), seed=6)
    assert other.trials[1].params != first.trials[1].params
    # the events tell each trial's start, its epochs' scores and its end, in order
    kinds = [k for k, _ in events.calls if k != "best"]
    assert kinds[:2] == ["start", "epoch"] and kinds.count("end") == 3
    ends = [v for k, v in events.calls if k == "end"]
    assert [e.curve for e in ends] == [t.curve for t in first.trials]
    assert ("best", (0, first.trials[0].score)) in events.calls


def test_best_config_reproduces_the_tuned_score(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result, _ = _study(tmp_path, "s", tiny_base(data), Budget(trials=3), seed=1)
    assert result.best is not None and result.best_config is not None
    assert load_config(result.best_path) == result.best_config
    assert main(["train", "--config", str(result.best_path), "--quiet", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["val_accuracy"] == result.best.score  # same seed, same data: the same score


def test_max_params_skips_oversized_trials_before_training(data: Path, tmp_path: Path) -> None:
    base = tiny_base(data)  # 16 dimensions, no buckets
    prepared = prepare_dataset(base.data, base.tokenizer)
    cap = parameter_count(base, prepared) - 1  # over it: the base and every 16-dim model
    result, events = _study(tmp_path, "m", base, Budget(trials=2), seed=3, max_params=cap)
    skipped = [t for t in result.trials if t.state == "skipped"]
    trained = [t for t in result.trials if t.state != "skipped"]
    assert result.trials[0].base and result.trials[0].state == "skipped"
    assert len(trained) == 2  # skipped trials do not count towards the budget
    for t in skipped:
        assert t.parameters is not None and t.parameters > cap
        assert t.curve == () and t.score is None and "max_params" in t.message
    assert all(t.parameters is not None and t.parameters <= cap for t in trained)
    assert all(t.params["model.embed_dim"] == 8 for t in trained)
    never_trained = {t.number for t in skipped}
    assert not any(k == "epoch" and v[0] in never_trained for k, v in events.calls)
    # the oversized base draw queued itself, shrunk to fit, as the very next trial
    assert "queued next with embed_dim 8" in result.trials[0].message
    shrunk = {**result.trials[0].params, "model.embed_dim": 8}
    assert result.trials[1].params == shrunk and result.trials[1].state != "skipped"


def test_parameter_count_is_the_models(data: Path) -> None:
    config = tiny_base(data).with_overrides(tokenizer={"ngram_buckets": 500})
    prepared = prepare_dataset(config.data, config.tokenizer)

    class Count(Callback):
        def on_fit_start(self, ctx: FitContext, info: FitStart) -> None:
            self.parameters = info.parameters
            ctx.should_stop = True

    count = Count()
    fit(config, [count], prepared=prepared)
    assert parameter_count(config, prepared) == count.parameters


def test_parameter_count_is_the_linear_models_when_it_may_be_kept(
    data: Path, tmp_path: Path
) -> None:
    from studio.engine.analysis.inference import load_run
    from studio.engine.train.session import train_run

    config = tiny_base(data).with_overrides(
        tokenizer={"ngram_buckets": 500}, model={"kind": "linear", "embed_dim": 2}
    )
    prepared = prepare_dataset(config.data, config.tokenizer)
    outcome = train_run(config, runs_dir=tmp_path / "runs")
    assert outcome.run_dir is not None
    model = load_run(outcome.run_dir).model
    saved = sum(p.numel() for p in model.parameters())
    assert parameter_count(config, prepared) == saved
    embedding = parameter_count(config.with_overrides(model={"kind": "embedding"}), prepared)
    either = parameter_count(config.with_overrides(model={"kind": "auto"}), prepared)
    assert saved > embedding and either == max(saved, embedding)  # auto may keep either


def _good_trial(value: float) -> optuna.trial.FrozenTrial:
    return create_trial(
        state=TrialState.COMPLETE,
        value=value,
        intermediate_values={1: value, 2: value},
        distributions={},
        params={},
    )


def test_a_trial_far_below_the_median_is_pruned_and_its_fit_stopped(data: Path) -> None:
    """The real median pruner, fed by the epoch callback, stops the fit cooperatively."""
    config = tiny_base(data).with_overrides(train={"epochs": 4, "table_lr": 1e-4,
                                                         "lr": 1e-4})  # fmt: skip
    prepared = prepare_dataset(config.data, config.tokenizer)
    study = optuna.create_study(direction="maximize", pruner=make_pruner())
    for value in [0.98 + 0.005 * i for i in range(PRUNER_STARTUP_TRIALS)]:
        study.add_trial(_good_trial(value))
    trial = study.ask()
    events = Events()
    outcome = train_trial(trial, config, prepared, "accuracy", [events])
    assert outcome.state == "pruned" and outcome.message == "pruned after epoch 2"
    epochs = [v for k, v in events.calls if k == "epoch"]
    assert [e[1] for e in epochs] == [1, 2]  # not pruned after epoch 1 (warm-up); no epoch 3
    assert trial.should_prune()


def test_stop_ends_the_running_trial_as_stopped_and_a_rerun_continues(
    data: Path, tmp_path: Path
) -> None:
    base = tiny_base(data, epochs=2)
    control = TrainControl()

    class StopInSecondTrial(Events):
        def on_trial_epoch(self, trial_number: int, epoch: int, score: float) -> None:
            super().on_trial_epoch(trial_number, epoch, score)
            if trial_number == 1:
                control.request_stop()  # the window's Stop, from the study's thread

    folder = create_study(base, TuneSettings(seed=2), study_dir=tmp_path / "s")
    result = run_study(folder, Budget(trials=3), [StopInSecondTrial()], control, space=TINY_SPACE)
    assert result.ended_by == "stop"
    states = {t.number: t.state for t in result.trials}
    # trial 1 stopped mid-way unless it had one epoch (then it completed before the stop)
    assert states[0] == "complete" and states[1] in ("stopped", "complete")
    again = run_study(folder, space=TINY_SPACE)  # the study's own budget: 3 trials
    assert again.ended_by == "trials"
    assert sum(t.counted for t in again.trials) == 3
    assert [t for t in again.trials if t.number <= 1] == [t for t in result.trials if t.number <= 1]
    assert load_trials(folder) == again.trials


def test_a_study_held_by_a_live_process_is_refused_and_a_dead_ones_trial_is_stopped(
    data: Path, tmp_path: Path
) -> None:
    folder = create_study(tiny_base(data), TuneSettings(), study_dir=tmp_path / "s")
    opened = StudyFolder(folder)
    try:
        opened.study().ask()  # a trial left running, as by a killed process
        holder = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                                  stdin=subprocess.PIPE)  # fmt: skip
        try:
            owner = {"pid": holder.pid, "host": socket.gethostname(),
                     "created": psutil.Process(holder.pid).create_time()}  # fmt: skip
            (folder / "running.json").write_text(json.dumps(owner))
            with pytest.raises(StudioError, match=f"being tuned by process {holder.pid}"):
                run_study(folder, Budget(trials=1), space=TINY_SPACE)
        finally:
            holder.communicate(b"")  # it ends; its running.json stays behind
        with opened.session() as interrupted:
            assert interrupted == [0]
        assert [(t.state, t.counted) for t in opened.records()] == [("stopped", False)]
        assert "interrupted" in opened.records()[0].message
    finally:
        opened.close()
