"""Recommendation training: ranking metrics against hand-computed values, negatives that
are never a positive of their user, and user/item tables that beat the popularity baseline
on data with taste in it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studio.engine.data.interaction_split import split_interactions
from studio.engine.data.interactions import read_interactions
from studio.engine.train.ranking import popularity_scores, rank_metrics
from studio.engine.train.recs import RecSettings, draw_negatives, fit_recs
from studio.errors import StudioError


def test_metrics_match_a_hand_computed_case() -> None:
    # 2 users, 5 items. user 0 trained on item 0; held out items 1 and 4.
    # user 1 trained on item 2; held out item 3.
    scores = np.array([[9.0, 5.0, 1.0, 4.0, 3.0], [1.0, 2.0, 9.0, 0.0, 5.0]])
    train = (np.array([0, 1]), np.array([0, 2]))
    test = (np.array([0, 0, 1]), np.array([1, 4, 1 * 0 + 3]))
    m = rank_metrics(lambda users: scores[users], train, test, k=2)
    # user 0: item 0 is left out; top 2 = items 1 (5.0), 3 (4.0): one hit of two held out
    # user 1: item 2 is left out; top 2 = items 4 (5.0), 1 (2.0): no hit
    assert m.users == 2
    assert m.recall == pytest.approx((1 / 2 + 0) / 2)
    assert m.hit_rate == pytest.approx(0.5)
    ideal = 1 + 1 / np.log2(3)  # two relevant items could fill both places
    assert m.ndcg == pytest.approx((1 / ideal + 0) / 2)
    pop = rank_metrics(popularity_scores(np.array([0, 2, 2]), 5), train, test, k=1)
    assert pop.recall == pytest.approx(0.0)  # item 2 first: left out for user 1 only
    assert pop.hit_rate == pytest.approx(0.0)


@pytest.mark.parametrize("popular", [False, True])
def test_negatives_are_never_a_positive_of_their_user(popular: bool) -> None:
    rng = np.random.default_rng(0)
    n_items = 50
    users = np.repeat(np.arange(19), 10)
    items = rng.integers(0, n_items, len(users))
    # user 19 has every item but one: only item 7 can be its negative
    users = np.r_[users, np.full(n_items - 1, 19)]
    items = np.r_[items, np.delete(np.arange(n_items), 7)]
    positives = np.unique(users * n_items + items)
    counts = np.bincount(items, minlength=n_items) ** 0.75
    cumulative = np.cumsum(counts) if popular else None
    batch = np.tile(np.arange(20), 50)
    neg = draw_negatives(batch, n_items, rng, cumulative, positives)
    assert not np.isin(batch * n_items + neg, positives).any()
    assert set(neg[batch == 19].tolist()) == {7}
    free = draw_negatives(batch, n_items, rng, cumulative, None)  # the option off: no check
    assert free.shape == batch.shape and np.isin(batch * n_items + free, positives).any()


def test_tables_beat_popularity_on_data_with_taste(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    groups = rng.integers(0, 12, 300)  # each of 300 items belongs to one of 12 tastes
    lines = ["user,item,t"]
    for u in range(400):
        taste = np.flatnonzero(groups == rng.integers(0, 12))
        for t in range(int(rng.integers(6, 20))):
            lines.append(f"u{u},i{rng.choice(taste)},{t}")
    path = tmp_path / "taste.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = read_interactions(path)
    split = split_interactions(data, "last")
    seen: list[int] = []
    result = fit_recs(data, split, RecSettings(dim=16, epochs=6), lambda e: seen.append(e.epoch))
    assert seen == [1, 2, 3, 4, 5, 6] and result.popularity is not None
    last = result.history[-1]
    assert last.metrics.recall >= 2 * result.popularity.recall
    assert last.loss < result.history[0].loss
    assert result.tables.users[0].abs().sum() == 0 and result.tables.items[0].abs().sum() == 0


def test_the_cli_trains_saves_and_recommends(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from studio.cli import main

    path = tmp_path / "plays.csv"
    rng = np.random.default_rng(2)
    rows = ["customer,product,ts"]
    for u in range(60):
        for t in range(8):
            rows.append(f"c{u},p{(u % 6) * 10 + int(rng.integers(0, 10))},{t}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    args = ["recs", str(path), "--epochs", "3", "--dim", "8", "--runs-dir", str(tmp_path / "r")]
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["columns"]["user"] == "customer" and report["columns"]["item"] == "product"
    assert [h["epoch"] for h in report["history"]] == [1, 2, 3] and report["popularity"]
    assert main(["recommend", report["run_dir"], "c7", "-k", "5", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert len(found["items"]) == 5 and not {i for i, _ in found["items"]} & set(found["already"])
    assert found["already"] and all(p.startswith("p1") for p in found["already"])  # c7: 10..19
    assert main(["recommend", report["run_dir"], "--like", "p13", "-k", "3", "--json"]) == 0
    near = json.loads(capsys.readouterr().out)["similar"]
    assert len(near) == 3 and "p13" not in {i for i, _ in near}
    assert [c for _, c in near] == sorted((c for _, c in near), reverse=True)
    vec = tmp_path / "items.vec"
    assert main(["recommend", report["run_dir"], "--vectors", str(vec)]) == 0
    head, *rows = vec.read_text(encoding="utf-8").splitlines()
    assert head == f"{len(rows)} 8" and rows[0].split()[0] in {"p" + str(n) for n in range(60)}
    capsys.readouterr()
    assert main(["recommend", report["run_dir"], "nobody"]) == 2
    assert "no user 'nobody'" in capsys.readouterr().err


def test_the_one_row_update_is_the_bag_update_for_bags_of_one() -> None:
    import torch

    from studio.engine.train.table_optim import RowwiseAdagrad

    gen = torch.Generator().manual_seed(0)
    ids = torch.tensor([3, 1, 3, 2, 5])  # a row twice in one step
    grad = torch.randn(len(ids), 4, generator=gen)
    a = torch.randn(6, 4, generator=gen)
    b = a.clone()
    bags, rows = RowwiseAdagrad(a, 0.1, "sum"), RowwiseAdagrad(b, 0.1, "sum")
    for _ in range(3):
        bags.apply(ids, torch.arange(len(ids)), grad, may_pad=False)
        rows.apply_rows(ids, grad)
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(bags.state, rows.state)
    assert not torch.equal(a[[1, 2, 3, 5]], torch.zeros(4, 4))


class _Recorder:
    """Stands in for a table's optimiser: keeps the gradient rows it is given."""

    def __init__(self, rows: int, dim: int) -> None:
        import torch

        self.grad = torch.zeros(rows, dim, dtype=torch.float64)

    def apply_rows(self, ids: object, grad: object) -> None:
        self.grad.index_add_(0, ids, grad)  # type: ignore[arg-type]


def test_the_softmax_step_gradient_is_autograds_with_masks() -> None:
    import torch

    from studio.engine.train.rec_losses import softmax_step

    gen = torch.Generator().manual_seed(3)
    users = torch.randn(6, 4, generator=gen, dtype=torch.float64)
    items = torch.randn(7, 4, generator=gen, dtype=torch.float64)
    log_q = torch.randn(7, generator=gen, dtype=torch.float64)
    uid = torch.tensor([1, 2, 3, 4, 5, 1, 2, 3])  # two blocks of four
    pid = torch.tensor([1, 2, 1, 3, 4, 5, 6, 6])  # item row 1 twice in block 0, 6 twice in 1
    # training pairs as dense codes: user 0 (row 1) also has item 2 (row 3), in its block
    positives = torch.tensor(sorted([0 * 6 + 0, 0 * 6 + 2, 1 * 6 + 1]))
    recorders = (_Recorder(6, 4), _Recorder(7, 4))
    loss = softmax_step(users, items, recorders, uid, pid, log_q, 4, positives, 6)  # type: ignore[arg-type]

    u = users.clone().requires_grad_()
    it = items.clone().requires_grad_()
    total = torch.zeros((), dtype=torch.float64)
    for block in (slice(0, 4), slice(4, 8)):
        bu, bi = uid[block], pid[block]
        logits = u[bu] @ it[bi].T - log_q[bi]
        mask = (bi.unsqueeze(1) == bi.unsqueeze(0)) & ~torch.eye(4, dtype=torch.bool)
        if block.start == 0:
            mask[0, 3] = True  # user row 1's own item row 3 is not its negative
        logits = logits.masked_fill(mask, -1e9)
        total = total + torch.nn.functional.cross_entropy(logits, torch.arange(4), reduction="sum")
    (total / 8).backward()
    assert loss == pytest.approx(float(total.detach()) / 8, rel=1e-6)
    assert torch.allclose(recorders[0].grad, u.grad)  # type: ignore[arg-type]
    assert torch.allclose(recorders[1].grad, it.grad)  # type: ignore[arg-type]


@pytest.mark.parametrize("loss", ["softmax", "bpr"])
def test_both_losses_learn_taste_and_leave_pad_alone(tmp_path: Path, loss: str) -> None:
    rng = np.random.default_rng(4)
    groups = rng.integers(0, 10, 200)
    lines = ["user,item"]
    for u in range(300):
        taste = np.flatnonzero(groups == rng.integers(0, 10))
        lines += [f"u{u},i{rng.choice(taste)}" for _ in range(int(rng.integers(6, 16)))]
    path = tmp_path / "taste.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = read_interactions(path)
    split = split_interactions(data, "random", seed=0)
    settings = RecSettings(dim=16, epochs=8, loss=loss, batch_size=512, block=64)  # type: ignore[arg-type]
    result = fit_recs(data, split, settings)
    assert result.popularity is not None
    assert result.history[-1].metrics.recall >= 2 * result.popularity.recall
    assert result.tables.users[0].abs().sum() == 0 and result.tables.items[0].abs().sum() == 0


@pytest.mark.parametrize("tower", ["dot", "mlp"])
def test_the_onnx_towers_score_as_the_run_does(tmp_path: Path, tower: str) -> None:
    import json

    import onnxruntime as ort

    from studio.cli import main
    from studio.engine.analysis.recommend import load_recs_run

    path = tmp_path / "plays.csv"
    rows = ["user,item"] + [f"u{u},i{(u * 7 + t) % 23}" for u in range(40) for t in range(5)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    runs = tmp_path / "runs"
    args = ["recs", str(path), "--epochs", "2", "--dim", "8", "--tower", tower]
    assert main([*args, "--runs-dir", str(runs)]) == 0
    run = load_recs_run(next(runs.iterdir()))
    assert (run.tables.tower is not None) == (tower == "mlp")
    out = tmp_path / "towers.onnx"
    assert main(["recommend", str(run.path), "--onnx", str(out)]) == 0
    assert main(["recommend", str(run.path), "--onnx", str(out)]) == 2  # no silent overwrite
    side = json.loads((tmp_path / "towers.onnx.json").read_text(encoding="utf-8"))
    assert side["users"] == list(run.user_names) and side["items"] == list(run.item_names)
    users = np.array([side["users"].index("u3"), side["users"].index("u17")], dtype=np.int64)
    items = np.arange(len(side["items"]), dtype=np.int64)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    scores, uvec, ivec = session.run(None, {"users": users, "items": items})
    np.testing.assert_allclose(scores, run.tables.scores(users), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(uvec, run.tables.user_vectors(users).numpy(), rtol=1e-5, atol=1e-6)
    assert ivec.shape == (len(items), 8)


def test_als_is_a_second_baseline_on_the_same_split(tmp_path: Path) -> None:
    pytest.importorskip("implicit")
    from studio.engine.train.als import ALS_NAME

    path = tmp_path / "plays.csv"
    rows = ["user,item"] + [f"u{u},i{(u % 5) * 8 + t % 8}" for u in range(50) for t in range(6)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    data = read_interactions(path)
    split = split_interactions(data, "random", seed=0)
    seen: list[str] = []
    result = fit_recs(data, split, RecSettings(dim=8, epochs=1), None, None,
                      lambda name, _m: seen.append(name))  # fmt: skip
    assert seen == ["popularity", ALS_NAME] and list(result.baselines) == seen
    assert 0.0 <= result.baselines[ALS_NAME].recall <= 1.0
    assert result.baselines[ALS_NAME].users == result.popularity.users  # type: ignore[union-attr]
    off = fit_recs(data, split, RecSettings(dim=8, epochs=1, als_baseline=False))
    assert list(off.baselines) == ["popularity"]


def test_the_mlp_tower_trains_and_moves_off_the_dot_product(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    lines = ["user,item"] + [f"u{u},i{(u % 6) * 10 + int(rng.integers(0, 10))}"
                             for u in range(240) for _ in range(8)]  # fmt: skip
    path = tmp_path / "plays.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = read_interactions(path)
    split = split_interactions(data, "random", seed=0)
    result = fit_recs(data, split, RecSettings(dim=8, epochs=6, tower="mlp", block=32))
    tower = result.tables.tower
    assert tower is not None and float(tower.out.weight.detach().abs().sum()) > 0  # it was trained
    assert result.popularity is not None
    assert result.history[-1].metrics.recall >= 2 * result.popularity.recall
    with pytest.raises(StudioError, match="softmax"):
        RecSettings(tower="mlp", loss="bpr")


def test_studio_bench_recs_reports_rows_speed_and_ratios(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from studio.cli import main

    rng = np.random.default_rng(6)
    path = tmp_path / "plays.csv"
    lines = ["user,item"] + [f"u{u},i{(u % 4) * 10 + int(rng.integers(0, 10))}"
                             for u in range(120) for _ in range(8)]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["bench", str(path), "--suite", "recs", "--als-seconds", "0", "--generated", "3000"]
    assert main([*args, "--repeats", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    models = [r["model"] for r in report["rows"]]
    assert models[0] == "popularity" and models[1].startswith("studio defaults")
    assert not any("tuned" in m for m in models)  # --als-seconds 0: no search
    studio, pop = report["rows"][1]["recall@10"], report["rows"][0]["recall@10"]
    assert report["ratios"]["recall@10 / popularity's"] == pytest.approx(studio / pop)
    assert {(r["loss"], r["batch_size"]) for r in report["speed"]} == {
        (loss, b) for loss in ("softmax", "bpr") for b in (1024, 4096, 16384)
    }
    assert all(r["interactions_per_second_median"] > 0 for r in report["speed"])
