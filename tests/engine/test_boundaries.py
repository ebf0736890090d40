"""The architecture rules, checked: the engine runs with Qt absent."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_linter_contracts_hold() -> None:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    proc = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "broken" in proc.stdout and "0 broken" in proc.stdout


def test_engine_trains_with_qt_made_unimportable(tmp_path: Path) -> None:
    """Simulates a GPU box with no Qt installed: any Qt import would raise."""
    script = f"""
import sys
for name in ("PySide6", "pyqtgraph", "PyQt5", "PyQt6"):
    sys.modules[name] = None
from studio.config import StudioConfig, DataConfig
from studio.engine import train_run
sys.path.insert(0, {str(ROOT / "tests")!r})
from conftest import write_topics_csv
path = write_topics_csv(__import__("pathlib").Path({str(tmp_path)!r}) / "t.csv", n=300)
r = train_run(StudioConfig(data=DataConfig(path=str(path))).with_overrides(train={{"epochs": 1}}),
              runs_dir={str(tmp_path / "runs")!r}, cache_dir={str(tmp_path / "cache")!r})
loaded = [m for m in sys.modules if m.split(".")[0] in ("PySide6", "pyqtgraph", "studio")]
assert not any(m.startswith("studio.ui") for m in loaded), loaded
print("ok", r.status)
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert "ok finished" in proc.stdout


def test_cli_help_does_not_import_torch() -> None:
    script = "import sys; from studio import cli; assert 'torch' not in sys.modules; print('ok')"
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert proc.stdout.strip() == "ok", proc.stderr
