"""The Recommend page in the window: open an interactions file, train with recall@k drawn
per epoch against the popularity line, then an item's neighbours and a user's top items."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pytestqt.qtbot import QtBot

from studio.ui.main_window import MainWindow
from studio.ui.pages.recommend import RecommendPage


def _interactions(path: Path) -> Path:
    rng = np.random.default_rng(3)
    rows = ["user,item,timestamp"]
    for u in range(150):
        taste = (u % 5) * 20  # five tastes of twenty items each
        for t in range(10):
            rows.append(f"u{u},i{taste + int(rng.integers(0, 20))},{t}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _opened(window: MainWindow, qtbot: QtBot, tmp_path: Path, epochs: int) -> RecommendPage:
    """The Recommend page with the taste fixture opened and ``epochs`` set."""
    page = window.recommend_page
    with qtbot.waitSignal(page.describe_tasks.sig_result, timeout=30_000):
        page.open_path(str(_interactions(tmp_path / "plays.csv")))
    page.recs_epochs.setValue(epochs)
    return page


def test_open_train_neighbours_and_recommendations(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    page = window.recommend_page
    window.tabs.setCurrentWidget(page)
    assert not page.train_button.isEnabled()  # nothing open yet
    with qtbot.waitSignal(page.describe_tasks.sig_result, timeout=30_000):
        page.open_path(str(_interactions(tmp_path / "plays.csv")))
    assert page.summary.text().startswith("1,500 interactions · 150 users · 100 items")
    ranks, counts = page.item_tail.getData()
    assert len(ranks) == 100 and list(counts) == sorted(counts, reverse=True)
    page.recs_epochs.setValue(4)
    page.recs_dim.setValue(16)
    with qtbot.waitSignal(page.sig_running, check_params_cb=lambda on: not on, timeout=120_000):
        page.train_button.click()
        assert not window.train_action.isEnabled()  # one training at a time
    assert page.run_dir is not None and (Path(page.run_dir) / "recs.json").exists()
    xs, ys = page.curve.getData()
    popularity = page.baselines["popularity"]
    assert list(xs) == [1, 2, 3, 4] and popularity.isVisible()
    assert ys[-1] > popularity.value()  # the tables beat popularity on data with taste

    with qtbot.waitSignal(page.query_tasks.sig_result, timeout=30_000):
        page.like.setText("i3")
        page.find_similar()
    near = [page.results.item(r, 0).text() for r in range(page.results.rowCount())]
    assert len(near) == page.recs_k.value() and "i3" not in near
    assert sum(int(n[1:]) < 20 for n in near) >= 5  # mostly the same taste (items 0..19)

    with qtbot.waitSignal(page.query_tasks.sig_result, timeout=30_000):
        page.user.setText("u7")
        page.find_recommendations()
    top = {page.results.item(r, 0).text() for r in range(page.results.rowCount())}
    had = page.already.text().split(": ", 1)[1].split(", ")
    assert page.already.text().startswith("u7 already had") and not top & set(had)
    _items_on_the_embeddings_page(window, qtbot, page.run_dir)
    _listed_and_opened_from_the_runs_page(window, qtbot, page.run_dir)


def _items_on_the_embeddings_page(window: MainWindow, qtbot: QtBot, run_dir: str) -> None:
    explorer = window.explorer_page
    assert explorer.run_dir == run_dir  # the trained run's items, not a text run's words
    explorer.controls.method.setCurrentText("PCA")  # UMAP's first run compiles for ~40 s
    with qtbot.waitSignal(explorer.projection_tasks.sig_result, timeout=60_000):
        window.tabs.setCurrentWidget(explorer)
    assert len(explorer.points) == 100 and set(explorer.points) == {f"i{n}" for n in range(100)}
    assert explorer.labels[0].startswith("head") and explorer.labels[-1].startswith("tail")
    assert "coloured by popularity tier" in explorer.status.text()
    with qtbot.waitSignal(explorer.explorer_tasks.sig_result, timeout=30_000):
        explorer.search.setText("i3")
        explorer.find_neighbours()
    near = [
        explorer.neighbours.item(r).text().split()[-1] for r in range(explorer.neighbours.count())
    ]
    assert len(near) == 10 and "i3" not in near
    assert sum(int(n[1:]) < 20 for n in near) >= 5  # the same taste, as on the Recommend page


def _listed_and_opened_from_the_runs_page(window: MainWindow, qtbot: QtBot, run_dir: str) -> None:
    from studio.ui.models.runs_table import PATH_ROLE, RunsTableModel

    runs = window.runs_page
    window.tabs.setCurrentWidget(runs)
    qtbot.waitUntil(lambda: runs.model.row_of(run_dir) is not None, timeout=30_000)
    row = runs.model.row_of(run_dir)
    assert row is not None and runs.model.run_at(row).kind == "recs"
    cell = runs.model.index(row, RunsTableModel.ACCURACY).data()
    recall = json.loads((Path(run_dir) / "recs.json").read_text())["history"][-1]["recall"]
    assert cell.endswith(" R@10") and abs(float(cell.split("%")[0]) / 100 - recall) < 6e-5
    runs.select_runs([run_dir])
    assert runs.plot_metric() == "val_recall"  # recommendation runs alone: their recall
    curve = runs.curve(run_dir)
    assert curve is not None
    qtbot.waitUntil(lambda: curve.getData()[0] is not None, timeout=30_000)
    xs, ys = curve.getData()
    assert list(xs) == [1, 2, 3, 4] and abs(ys[-1] - recall) < 1e-9  # the held-out recall
    assert not runs.resume_run_button.isEnabled()  # trained again, never resumed
    window.recommend_page.run_dir = None
    runs.open_selected()
    assert window.tabs.currentWidget() is window.recommend_page
    assert window.recommend_page.run_dir == run_dir
    assert runs.model.index(row, 0).data(PATH_ROLE) == run_dir


def test_a_bad_file_is_named_on_the_page(window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    page = window.recommend_page
    bad = tmp_path / "bad.csv"
    bad.write_text("user,item,rating\na,x,5\nb,y,lots\n", encoding="utf-8")
    with qtbot.waitSignal(page.describe_tasks.sig_error, timeout=30_000):
        page.open_path(str(bad))
    assert page.summary.text().startswith("<b>Cannot be read:</b>")
    with qtbot.waitSignal(page.sig_running, check_params_cb=lambda on: not on, timeout=60_000):
        page.train_button.click()
    text = page.status.text()
    assert text.startswith("<b>No model:</b>") and f"{bad}, line 3, column 'rating'" in text
    assert page.run_dir is None and page.train_button.isEnabled()


def test_runs_are_compared_and_one_is_used_for_queries(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    page = _opened(window, qtbot, tmp_path, epochs=2)
    trained = []
    for dim, loss in ((8, 0), (16, 1)):  # softmax with the MLP tower, then BPR
        page.recs_dim.setValue(dim)
        page.recs_loss.setCurrentIndex(loss)
        assert page.recs_mlp.isEnabled() == (loss == 0)  # the tower is the softmax's
        page.recs_mlp.setChecked(True)
        with qtbot.waitSignal(page.sig_running, check_params_cb=lambda on: not on, timeout=60_000):
            page.train_button.click()
        trained.append(Path(page.run_dir or ""))
        qtbot.waitUntil(
            lambda: Path(page.run_dir or "") in {r.path for r in page.runs_panel.runs()}
        )
    panel = page.runs_panel
    assert [r.path for r in panel.runs()][:2] == trained[::-1]  # newest first
    assert [r.path for r in panel.selected_runs()] == [trained[1]]  # the new run is selected
    cells = [panel.table.item(0, c).text() for c in range(panel.table.columnCount())]
    assert cells[:5] == [trained[1].name, "bpr", "dot", "16", "2"]
    assert [panel.table.item(1, c).text() for c in (1, 2)] == ["softmax", "mlp"]
    panel.table.selectAll()
    assert {p for p in trained if panel.curve(p) is not None} == set(trained)
    xs, ys = panel.curve(trained[0]).getData()  # type: ignore[union-attr]
    assert list(xs) == [1, 2] and 0.0 <= ys[-1] <= 1.0
    assert not panel.use_button.isEnabled()  # queries come from one run
    panel.table.clearSelection()
    panel.select_run(trained[0])
    panel.use_button.click()
    assert page.run_dir == str(trained[0])


def test_item_text_is_trained_with_and_a_bad_one_is_named(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    page = _opened(window, qtbot, tmp_path, epochs=2)
    bad = tmp_path / "bad.tsv"
    bad.write_text("item\ttitle\ni1\tjazz\ni1\tfolk\n", encoding="utf-8")
    page.set_item_text(str(bad))
    with qtbot.waitSignal(page.sig_running, check_params_cb=lambda on: not on, timeout=60_000):
        page.train_button.click()
    assert f"{bad}, line 3, column 'item': item 'i1' again" in page.status.text()
    texts = tmp_path / "items.tsv"
    lines = [f"i{i}\ttaste{i // 20} record" for i in range(100)]
    texts.write_text("item\ttitle\n" + "\n".join(lines) + "\n", encoding="utf-8")
    page.set_item_text(str(texts))
    assert page.file_label.text().endswith("item text: items.tsv")
    with qtbot.waitSignal(page.sig_running, check_params_cb=lambda on: not on, timeout=60_000):
        page.train_button.click()
    assert page.run_dir is not None
    meta = json.loads((Path(page.run_dir) / "recs.json").read_text())
    assert meta["item_text"]["matched"] == 100 and meta["item_text"]["words"] == 6


def test_several_processes_train_live_and_stop_together(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    page = _opened(window, qtbot, tmp_path, epochs=400)
    page.recs_devices.processes.setValue(2)
    page.recs_dim.setValue(8)
    page.recs_min_count.setValue(9)  # drops users with under 9 distinct items, and so on

    def drawn() -> list[float]:
        xs, _ys = page.curve.getData()
        return [] if xs is None else list(xs)

    with qtbot.waitSignal(page.sig_running, check_params_cb=lambda on: not on, timeout=120_000):
        page.train_button.click()
        qtbot.waitUntil(lambda: len(drawn()) >= 1, timeout=90_000)  # the ranks' records, live
        page.stop_button.click()
    assert "stopped after epoch" in page.status.text()
    epochs = drawn()
    assert 1 <= len(epochs) < 400 and epochs == list(range(1, len(epochs) + 1))
    assert page.baselines["popularity"].isVisible()  # the baseline record came through too
    (run,) = (tmp_path / "runs").iterdir()
    meta = json.loads((run / "run.json").read_text(encoding="utf-8"))
    assert meta["status"] == "stopped" and meta["kind"] == "recs"
    assert meta["split"] == {"holdout": "last", "share": 0.2, "min_count": 9, "seed": 0}
    from studio.engine.data.interaction_split import min_count_filter
    from studio.engine.data.interactions import read_interactions

    kept = int(min_count_filter(read_interactions(tmp_path / "plays.csv"), 9).sum())
    assert 0 < kept < 1500 and meta["n_train"] + meta["n_valid"] == kept
    assert not (run / "STOP").exists()  # consumed, so the folder reads as a plain run


def test_the_device_picker_offers_what_the_setup_page_listed(window: MainWindow) -> None:
    devices = [
        {"name": "cpu", "label": "CPU (2 threads)", "available": True, "reason": ""},
        {"name": "cuda:0", "label": "Test GPU (cuda:0)", "available": True, "reason": "",
         "total_memory": 8 << 30, "free_memory": 6 << 30},
    ]  # fmt: skip
    window.setup_page.devices.set_devices(devices)  # as its lister would
    picker = window.recommend_page.recs_devices
    assert [picker.device_combo.itemData(i) for i in range(picker.device_combo.count())] == [
        "cpu", "cuda:0",
    ]  # fmt: skip
    picker.select("cuda:0")
    assert picker.selection().device == "cuda:0" and picker.selection().nproc == 1
