"""Item side features: the item-text file read and matched by id (errors name the file, the
line and the column), the words vocabulary, text bags trained with the tables, items never
seen in training placed by their text, and the composed vectors saved with the run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from studio.engine.data.interaction_split import split_interactions
from studio.engine.data.interactions import read_interactions
from studio.engine.data.item_text import item_encoder, read_item_texts
from studio.engine.train.item_text import ItemText
from studio.engine.train.recs import RecSettings, fit_recs
from studio.errors import DatasetError

TASTES = ("jazz", "rock", "folk", "metal")


def _files(tmp_path: Path) -> tuple[Path, Path]:
    """40 items in 4 tastes; item i's text names its taste; users keep to one taste."""
    rng = np.random.default_rng(4)
    rows = ["user,item"]
    for u in range(120):
        rows += [f"u{u},i{(u % 4) * 10 + int(rng.integers(0, 10))}" for _ in range(6)]
    plays = tmp_path / "plays.csv"
    plays.write_text("\n".join(rows) + "\n", encoding="utf-8")
    texts = ["item\ttitle"] + [f"i{i}\tsome {TASTES[i // 10]} record no{i}" for i in range(40)]
    texts.append("gone\tan item nobody had")
    described = tmp_path / "items.tsv"
    described.write_text("\n".join(texts) + "\n", encoding="utf-8")
    return plays, described


def test_texts_are_matched_by_id_and_counted(tmp_path: Path) -> None:
    plays, described = _files(tmp_path)
    data = read_interactions(plays)
    texts = read_item_texts(described, data.item_names)
    assert texts.columns == ("item", "title") and texts.matched == 40 and texts.unused == 1
    for name, text in zip(data.item_names, texts.texts, strict=True):
        assert text.endswith(f"no{name[1:]}") and TASTES[int(name[1:]) // 10] in text
    encoder = item_encoder(texts.texts)
    assert {"some", "record", *TASTES} <= set(encoder.tokens) and "no3" not in encoder.tokens


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        ("item\ttitle\ni0\ta\ni0\tb\n", "line 3, column 'item': item 'i0' again (first on line 2)"),
        ("item\ttitle\n\tjazz\n", "line 2, column 'item': empty item"),
        ("item\ttitle\nx1\tjazz\n", "column 'item': no item of the interactions is named"),
        ("a\tb\tc\n1\t2\t3\n", "no id column found among a, b, c; name it with --item-id-col"),
    ],
)
def test_a_bad_item_text_file_is_named(tmp_path: Path, content: str, expect: str) -> None:
    plays, _ = _files(tmp_path)
    bad = tmp_path / "bad.tsv"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(DatasetError) as found:
        read_item_texts(bad, read_interactions(plays).item_names)
    assert str(bad) in str(found.value) and expect in str(found.value)


def test_bags_gather_each_rows_words_without_unk() -> None:
    encoder = item_encoder(["a b", "b c zz", "", "a c"])
    text = ItemText(encoder, ["a b", "b c zz", "", "a c"], dim=3, lr=0.1, device="cpu")
    ids, offsets = text.bags(torch.tensor([2, 0, 1, 3]))  # rows: item 1, pad, item 0, empty
    a, b, c = (encoder.tokens.index(w) for w in "abc")
    assert ids.tolist() == [b, c, a, b] and offsets.tolist() == [0, 2, 2, 4]
    grad = torch.ones(2, 3)
    text.apply(torch.tensor([1, 1]), grad)  # item 0 twice
    moved = text.words.abs().sum(dim=1) > 0
    assert moved.nonzero().flatten().tolist() == sorted([a, b])
    np.testing.assert_allclose(text.matrix()[1], text.words[[a, b]].mean(0))
    assert text.matrix()[0].abs().sum() == 0 and text.matrix()[3].abs().sum() == 0


def test_cold_items_are_placed_by_their_text(tmp_path: Path) -> None:
    plays, described = _files(tmp_path)
    data = read_interactions(plays)
    split = split_interactions(data, "items", share=0.1, seed=2)  # 4 items never trained
    cold = np.setdiff1d(np.arange(data.n_items), data.items[split.train_idx])
    assert len(cold) == 4
    texts = read_item_texts(described, data.item_names).texts
    settings = RecSettings(dim=16, epochs=8, als_baseline=False)
    with_text = fit_recs(data, split, settings, item_texts=texts).tables
    ids_only = fit_recs(data, split, settings).tables

    def same_taste_share(tables: object) -> float:
        vectors = torch.nn.functional.normalize(tables.item_matrix()[1:], dim=1)  # type: ignore[attr-defined]
        taste = np.array([int(n[1:]) // 10 for n in data.item_names])
        hits = []
        for i in cold:  # its 5 nearest warm items: of its own taste?
            sims = (vectors @ vectors[i]).numpy()
            sims[cold] = -np.inf
            hits += list(taste[np.argsort(-sims)[:5]] == taste[i])
        return float(np.mean(hits))

    assert same_taste_share(with_text) >= 0.8  # chance is 0.25
    assert same_taste_share(ids_only) <= 0.6


def test_the_cli_saves_composed_vectors_and_the_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from studio.cli import main
    from studio.engine.analysis.recommend import load_recs_run
    from studio.engine.runs.checkpoint import load_weights

    plays, described = _files(tmp_path)
    args = ["recs", str(plays), "--item-text", str(described), "--epochs", "2", "--dim", "8",
            "--runs-dir", str(tmp_path / "runs"), "--json"]  # fmt: skip
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["item_text"]["matched"] == 40 and report["item_text"]["words"] >= 6
    run = Path(report["run_dir"])
    weights = load_weights(run / "tables.safetensors")
    words = json.loads((run / "item_text.json").read_text())
    assert weights["item_words"].shape[0] == len(words["tokens"])
    loaded = load_recs_run(run)
    assert not torch.equal(loaded.tables.items, weights["item_rows"])  # rows + text bags
    assert main(["recommend", str(run), "--like", "i3", "-k", "3", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["similar"]) == 3
