"""A screenshot of the Recommend page: train on an interactions file, then list a user's
top items.

    python scripts/screenshot_recommend.py DATA --user USER [--epochs 10] [--out FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from screenshots import new_window  # scripts/ is on the path of a script run from it


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("--user", required=True)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--size", default="1400x860")
    parser.add_argument("--out", type=Path, default=Path("recommend.png"))
    args = parser.parse_args()
    app, window, tmp = new_window(args.size)
    page = window.recommend_page
    window.tabs.setCurrentWidget(page)
    page.open_path(args.data)
    page.recs_epochs.setValue(args.epochs)
    page.recs_holdout.setCurrentText("random")

    def grab(_result: object) -> None:
        QTimer.singleShot(300, lambda: (window.grab().save(str(args.out)), window.close()))

    def trained(running: bool) -> None:
        if not running:
            page.query_tasks.sig_result.connect(grab)
            page.user.setText(args.user)
            page.find_recommendations()

    page.sig_running.connect(trained)
    QTimer.singleShot(500, page.train)
    code = app.exec()
    tmp.cleanup()
    print(args.out)
    return code


if __name__ == "__main__":
    sys.exit(main())
