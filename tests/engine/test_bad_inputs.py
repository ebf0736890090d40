"""Every bad input in tests/bad_inputs.py: one line on stderr, exit status 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.cli import main
from tests.bad_inputs import BAD_INPUTS, BadInput


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[c.name for c in BAD_INPUTS])
def test_bad_input_gives_one_line(
    case: BadInput, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    args = case.make(tmp_path)
    if case.patch is not None:
        case.patch(monkeypatch)
    status = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert status == case.exit_code, err
    if case.exit_code == 0:
        # Not an error (documented in the table): it trains and prints the run folder.
        assert Path(out.splitlines()[0]).is_dir(), out
        assert "error" not in err
        return
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("studio: error:"), err
    assert case.expect in lines[0], err
    assert out == ""


def test_table_covers_the_brief() -> None:
    assert len(BAD_INPUTS) >= 25
    assert len({c.name for c in BAD_INPUTS}) == len(BAD_INPUTS)
