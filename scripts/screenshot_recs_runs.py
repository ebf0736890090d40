"""Screenshots of a recommendation run on the Embeddings page (its items) and two runs on
the Runs page, for the README.

    python scripts/screenshot_recs_runs.py RUNS_DIR RUN [--out resources/screenshots]

``RUNS_DIR`` holds recommendation runs (``studio recs ... --runs-dir RUNS_DIR``); ``RUN`` is
the one whose items are mapped. Run under ``xvfb-run`` on a machine without a display.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("runs_dir", type=Path)
    parser.add_argument("run", type=Path)
    parser.add_argument("--out", type=Path, default=Path("resources/screenshots"))
    args = parser.parse_args()
    app = QApplication([])
    from studio.ui.main_window import MainWindow

    ini = Path(tempfile.mkdtemp()) / "settings.ini"
    window = MainWindow(QSettings(str(ini), QSettings.Format.IniFormat), str(args.runs_dir))
    window.resize(1400, 900)
    window.show()
    window.open_recs_run(str(args.run))
    explorer, runs = window.explorer_page, window.runs_page

    def runs_page() -> None:
        window.tabs.setCurrentWidget(runs)
        QTimer.singleShot(2500, select)

    def select() -> None:
        runs.select_runs(sorted(p for p in args.runs_dir.iterdir() if p.is_dir()))
        QTimer.singleShot(2500, lambda: (window.grab().save(str(args.out / "recs-runs.png")),
                                         app.quit()))  # fmt: skip

    def mapped(_result: object) -> None:
        QTimer.singleShot(500, lambda: (window.grab().save(str(args.out / "items-map.png")),
                                        runs_page()))  # fmt: skip

    explorer.projection_tasks.sig_result.connect(mapped)
    window.tabs.setCurrentWidget(explorer)
    QTimer.singleShot(180_000, app.quit)
    app.exec()
    window.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
