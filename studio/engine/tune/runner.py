"""``run_study``: trial after trial until the budget is spent, the study stored as it goes.

Sampling: Optuna's TPE sampler, seeded. Each trial gets a fresh sampler seeded by (study
seed, trial number), so a trial's parameters depend only on the seed and the trials before
it: two studies with the same seed and budget draw the same trials, and a resumed study does
not replay the random start-up draws of the first session. The first
:data:`STARTUP_TRIALS` trials after the base one are random, the rest TPE.

Pruning: :class:`optuna.pruners.MedianPruner` fed with each epoch's validation score. It
prunes a trial whose best score so far is worse than the median of the complete trials' at
the same epoch, once :data:`PRUNER_STARTUP_TRIALS` trials are complete, and never after the
first epoch (:data:`PRUNER_WARMUP_EPOCHS`): a one-epoch trial has annealed its learning rate
by then and a longer one has not, so first-epoch scores are not comparable. The median rule
rather than successive halving: the number of epochs is itself searched, so trials are of
unequal length, and there are few of them; the median compares each at its own epoch with
every complete trial, needs no rungs or resource scale, and prunes nothing it cannot
compare.

Trials run one at a time (``n_jobs = 1``), each on the one prepared dataset (prepared once;
with a BPE tokenizer, once per vocabulary size, through the dataset cache).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from studio.config import StudioConfig, TokenizerConfig, save_config
from studio.engine.data.dataset import PreparedDataset, Progress
from studio.engine.data.prepare import prepare_dataset
from studio.engine.runs.layout import default_cache_dir
from studio.engine.train.control import TrainControl
from studio.engine.train.devices import resolve_device
from studio.engine.tune.budget import Budget
from studio.engine.tune.events import StudyResult, StudyStart, TrialRecord, TuneCallback
from studio.engine.tune.space import (
    SPACE,
    Param,
    apply_params,
    base_params,
    label,
    shrink_to_fit,
    space_for,
    suggest,
)
from studio.engine.tune.study import (
    BASE,
    BEST_FILE,
    MESSAGE,
    OUTCOME,
    PARAMETERS,
    SECONDS,
    StudyFolder,
    quiet_optuna,
    record_of,
)
from studio.engine.tune.trial import Outcome, parameter_count, train_trial
from studio.errors import StudioError

__all__ = [
    "PRUNER_STARTUP_TRIALS",
    "PRUNER_WARMUP_EPOCHS",
    "STARTUP_TRIALS",
    "make_pruner",
    "make_sampler",
    "run_study",
]

STARTUP_TRIALS = 5  # random trials (after the base one) before TPE models the results
PRUNER_STARTUP_TRIALS = 2  # complete trials before the pruner prunes anything
PRUNER_WARMUP_EPOCHS = 1  # epochs (reported as steps 1, 2, ...) a trial is never pruned after
MAX_SKIPS_IN_A_ROW = 100  # oversized draws in a row before a session gives up


def run_study(
    study_dir: str | Path,
    budget: Budget | None = None,
    callbacks: Sequence[TuneCallback] = (),
    control: TrainControl | None = None,
    *,
    device: str | None = None,
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
    space: tuple[Param, ...] = SPACE,
) -> StudyResult:
    """Run trials of the study in ``study_dir`` until ``budget`` (default: the study's) ends.

    ``control.request_stop()`` (the window's Stop) ends the running trial as *stopped* and
    the session with it; ``pause()`` pauses it. ``device`` overrides the base config's for
    this session. Blocks; the callbacks hear of every trial. The study folder keeps every
    trial, so calling this again continues the study.
    """
    started = time.monotonic()
    folder = StudyFolder(study_dir)
    try:
        with quiet_optuna(), folder.session() as interrupted:
            if budget is not None:
                folder.set_budget(budget)
            session = _Session(folder, callbacks, control or TrainControl(), device, space)
            for number in interrupted:
                session.notice(f"trial {number} was interrupted (its process ended): stopped")
            return session.run(started, cache_dir, progress)
    finally:
        folder.close()


_OPTUNA_STATES = {
    "pruned": TrialState.PRUNED,
    # over max_params, never trained (user attribute outcome=skipped). FAIL, not PRUNED: TPE
    # ignores failed trials but ranks pruned ones without a score as the worst and, while
    # every trial so far is one, models the "good" group on them, drawing oversized models
    # again and again; constraints_func would be the other way, but it is experimental.
    "skipped": TrialState.FAIL,
    "failed": TrialState.FAIL,
    "stopped": TrialState.FAIL,  # interrupted (outcome=stopped): not counted
}


def make_sampler(seed: int, number: int) -> optuna.samplers.TPESampler:
    """The TPE sampler for trial ``number`` of a study seeded with ``seed``."""
    digest = hashlib.sha256(f"studio-tune:{seed}:{number}".encode()).digest()
    return optuna.samplers.TPESampler(
        seed=int.from_bytes(digest[:4], "little"), n_startup_trials=STARTUP_TRIALS + 1
    )


def make_pruner() -> optuna.pruners.MedianPruner:
    """The median pruner; steps are 1-based epochs, so warm-up steps are epochs + 1."""
    return optuna.pruners.MedianPruner(
        n_startup_trials=PRUNER_STARTUP_TRIALS, n_warmup_steps=PRUNER_WARMUP_EPOCHS + 1
    )


class _Session:
    """One tuning session of a study: the loop over trials and what it keeps between them."""

    def __init__(
        self,
        folder: StudyFolder,
        callbacks: Sequence[TuneCallback],
        control: TrainControl,
        device: str | None,
        space: tuple[Param, ...],
    ) -> None:
        self.folder, self.settings = folder, folder.settings
        self.callbacks, self.control = list(callbacks), control
        base = folder.base
        if device is not None:
            base = base.with_overrides(device={"device": device})
        resolve_device(base.device.device)  # fail before any trial
        self.base = base
        self.space = space_for(folder.base, space)
        self.budget = folder.settings.budget
        self.prepared: dict[tuple[Any, ...], PreparedDataset] = {}
        self.best: TrialRecord | None = None
        self.skips_in_a_row = 0

    def notice(self, message: str) -> None:
        for cb in self.callbacks:
            cb.on_notice(message)

    # -- the session -----------------------------------------------------------------------

    def run(
        self, started: float, cache_dir: str | Path | None, progress: Progress | None
    ) -> StudyResult:
        self.cache_dir = cache_dir if cache_dir is not None else default_cache_dir()
        self.progress = progress
        self.deadline = None if self.budget.seconds is None else started + self.budget.seconds
        first = self.prepare(self.base.tokenizer)
        self.check_smallest(first)
        self.queue_base()
        records = self.folder.records()
        self.best = self.best_of(records)
        if self.best is not None and not (self.folder.path / BEST_FILE).exists():
            self.save_best(self.best)  # killed between a trial's end and its best.toml
        info = StudyStart(
            self.folder.path, self.settings.objective, self.settings.direction, self.budget,
            records, self.base.device.device,
        )  # fmt: skip
        for cb in self.callbacks:
            cb.on_study_start(info)
        ended_by = self.loop(records)
        return self.result(ended_by, time.monotonic() - started)

    def loop(self, records: list[TrialRecord]) -> str:
        """Trials until the budget or a stop ends the session; what ended it."""
        counted = sum(r.counted for r in records)
        while True:
            self.control.checkpoint()  # a pause between trials holds here
            if self.control.stop_requested:
                return "stop"
            if self.budget.trials is not None and counted >= self.budget.trials:
                return "trials"
            if self.deadline is not None and time.monotonic() >= self.deadline:
                return "time"
            if self.skips_in_a_row >= MAX_SKIPS_IN_A_ROW:
                self.notice(f"{MAX_SKIPS_IN_A_ROW} draws in a row were over max_params; ending")
                return "skipped"
            record = self.run_trial()
            counted += record.counted
            self.skips_in_a_row = self.skips_in_a_row + 1 if record.state == "skipped" else 0

    def result(self, ended_by: str, seconds: float) -> StudyResult:
        records = self.folder.records()
        best = self.best_of(records)
        result = StudyResult(
            study_dir=self.folder.path,
            objective=self.settings.objective,
            direction=self.settings.direction,
            trials=records,
            best=best,
            best_config=None if best is None else self.config_of(best.params),
            base_config=self.base,
            ended_by=ended_by,
            seconds=seconds,
            best_path=self.folder.path / BEST_FILE,
        )
        for cb in self.callbacks:
            cb.on_study_end(result)
        return result

    # -- one trial -------------------------------------------------------------------------

    def next_study(self) -> optuna.Study:
        """The study with a sampler seeded for its next trial's number."""
        trials = self.folder.trials()
        waiting = [t.number for t in trials if t.state == TrialState.WAITING]
        number = waiting[0] if waiting else len(trials)
        return self.folder.study(make_sampler(self.settings.seed, number), make_pruner())

    def run_trial(self) -> TrialRecord:
        study = self.next_study()
        trial = study.ask()
        try:
            params = suggest(trial, self.space)
            config = self.config_of(params)
            for cb in self.callbacks:
                cb.on_trial_start(trial.number, params)
            outcome = self.train(trial, config, params)
        except BaseException as exc:  # an error that ends the session, or Ctrl-C
            trial.set_user_attr(OUTCOME, "stopped")
            trial.set_user_attr(MESSAGE, f"interrupted: {exc}" if str(exc) else "interrupted")
            study.tell(trial, state=TrialState.FAIL)
            raise
        trial.set_user_attr(SECONDS, round(outcome.seconds, 3))
        if outcome.message:
            trial.set_user_attr(MESSAGE, outcome.message)
        if outcome.state in ("skipped", "stopped"):
            trial.set_user_attr(OUTCOME, outcome.state)
        if outcome.state == "complete":
            study.tell(trial, outcome.score)
        else:
            study.tell(trial, state=_OPTUNA_STATES[outcome.state])
        record = next(
            record_of(t) for t in study.get_trials(deepcopy=False) if t.number == trial.number
        )
        if record.state == "complete" and self.improves(record):
            self.best = record
            self.save_best(record)  # on_best comes just before the trial's on_trial_end
        for cb in self.callbacks:
            cb.on_trial_end(record)
        return record

    def train(self, trial: optuna.Trial, config: StudioConfig, params: dict[str, Any]) -> Outcome:
        """Skip an oversized model (queueing the nearest draw that fits); else train it."""
        prepared = self.prepare(config.tokenizer)
        count = parameter_count(config, prepared)
        trial.set_user_attr(PARAMETERS, count)
        cap = self.settings.max_params
        if cap is not None and count > cap:
            message = f"{count:,} parameters, over max_params {cap:,}"
            return Outcome("skipped", message=message + self.queue_fitting(params, cap))
        return train_trial(
            trial, config, prepared, self.settings.objective, self.callbacks,
            self.control, self.deadline,
        )  # fmt: skip

    # -- data, configs and the best trial --------------------------------------------------

    def prepare(self, tok: TokenizerConfig) -> PreparedDataset:
        """The prepared dataset for a trial's tokenizer settings, prepared once."""
        key = (tok.kind, tok.lowercase, tok.vocab_size if tok.kind == "bpe" else None)
        if key not in self.prepared:
            self.prepared[key] = prepare_dataset(
                self.base.data, tok, cache_dir=self.cache_dir, progress=self.progress
            )
        return self.prepared[key]

    def check_smallest(self, prepared: PreparedDataset) -> None:
        """Fail at once when no point of the space fits under ``max_params``."""
        cap = self.settings.max_params
        if cap is None:
            return
        smallest: dict[str, Any] = {
            p.key: min(p.choices) if p.kind == "choice" else p.low
            for p in self.space
            if p.key in ("model.embed_dim", "tokenizer.ngram_buckets", "tokenizer.vocab_size")
        }
        for p in self.space:  # character n-grams off: no n-gram rows
            if p.key == "tokenizer.char_ngrams" and (0, 0) in p.choices:
                smallest[p.key] = (0, 0)
        count = parameter_count(apply_params(self.base, smallest), prepared)
        if count > cap:
            raise StudioError(
                f"--max-params {cap:,}: even the smallest model searched has {count:,} parameters"
            )

    def queue_base(self) -> None:
        """Queue the base config's own values as a trial (the first session's first trial).

        So the best trial is never worse on validation than the config the user started
        from. Queued again only when that trial was interrupted.
        """
        if any(r.base and r.state != "stopped" for r in self.folder.records()):
            return
        params = base_params(self.folder.base, self.space)
        self.folder.study().enqueue_trial(params, user_attrs={BASE: True})

    def queue_fitting(self, params: dict[str, Any], cap: int) -> str:
        """Queue ``params`` shrunk under ``cap`` as the next trial (see
        :func:`~studio.engine.tune.space.shrink_to_fit`), so an oversized draw still leads
        to a trained one; what was queued, for the skipped trial's message."""

        def fits(candidate: dict[str, Any]) -> bool:
            config = self.config_of(candidate)
            return parameter_count(config, self.prepare(config.tokenizer)) <= cap

        fitted = shrink_to_fit(params, self.space, fits)
        if fitted is None:
            return ""
        self.folder.study().enqueue_trial({k: label(v) for k, v in fitted.items()})
        changed = ", ".join(f"{k.split('.')[1]} {label(fitted[k])}" for k in fitted
                            if fitted[k] != params[k])  # fmt: skip
        return f"; queued next with {changed}"

    def config_of(self, params: dict[str, Any]) -> StudioConfig:
        return apply_params(self.base, params)

    def improves(self, record: TrialRecord, than: TrialRecord | None = None) -> bool:
        """Whether ``record`` scores better than ``than`` (default: the best so far)."""
        than = self.best if than is None else than
        if than is None or than.score is None:
            return True
        assert record.score is not None
        if self.settings.direction == "maximize":
            return record.score > than.score
        return record.score < than.score

    def best_of(self, records: list[TrialRecord]) -> TrialRecord | None:
        """The best complete trial (the first one, of equal scores)."""
        best: TrialRecord | None = None
        for r in records:
            if (
                r.state == "complete"
                and r.score is not None
                and (best is None or self.improves(r, best))
            ):
                best = r
        return best

    def save_best(self, record: TrialRecord) -> None:
        config = self.config_of(record.params)
        save_config(config, self.folder.path / BEST_FILE)
        assert record.score is not None
        for cb in self.callbacks:
            cb.on_best(record.number, record.score, config)
