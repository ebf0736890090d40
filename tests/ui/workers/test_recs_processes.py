"""The window's launch of a recommendation run as processes: its command line carries every
setting the page chose, and the launch's exit is read as the CLI means it."""

from __future__ import annotations

import dataclasses
import json

import pytest

from studio.cli.parser import build_parser
from studio.cli.recs import _settings
from studio.engine.train.recs import RecSettings
from studio.errors import StudioError
from studio.ui.workers.recs_job import RecsRequest
from studio.ui.workers.recs_processes import _outcome, recs_command, settings_fields


def test_the_command_line_carries_every_setting(tmp_path: object) -> None:
    settings = RecSettings(dim=24, epochs=7, batch_size=999, lr=0.2, loss="bpr", block=33,
                           negatives="popularity", exclude_positives=False, k=5, seed=9,
                           eval_users=123)  # fmt: skip
    request = RecsRequest("plays.csv", settings, "random", 0.3, 2, item_text="texts.tsv",
                          nproc=3)  # fmt: skip
    command = recs_command(request, tmp_path / "run")  # type: ignore[operator]
    assert command[1:4] == ["-m", "studio", "recs"]
    args = build_parser().parse_args(command[3:])
    assert _settings(args) == settings
    assert (args.data, args.nproc, args.holdout, args.share, args.min_count, args.item_text,
            args.json) == ("plays.csv", 3, "random", 0.3, 2, "texts.tsv", True)  # fmt: skip
    # a setting added to RecSettings must be carried, or knowingly left to the CLI's default
    left = {"als_baseline"}
    assert {f.name for f in dataclasses.fields(RecSettings)} - left == set(settings_fields())


def test_the_launchs_exit_is_read_as_the_cli_means_it() -> None:
    report = {"users": 3, "items": 4, "train": 10, "test": 2}
    assert _outcome(0, "epoch 1…\n" + json.dumps(report) + "\n", "") == report
    with pytest.raises(StudioError, match=r"^no column 'sku'"):
        _outcome(2, "", "noise\nstudio: error: no column 'sku'\n")
    with pytest.raises(StudioError, match=r"status 1: .*Traceback"):
        _outcome(1, "", "Traceback (most recent call last): …")
    with pytest.raises(StudioError, match="no report"):
        _outcome(0, "", "")
