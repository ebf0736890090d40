"""Training user and item embeddings for recommendation: a user table and an item table,
scored by their dot product, trained with a sampled softmax over in-batch negatives (the
default) or with BPR on sampled negatives (:mod:`~studio.engine.train.rec_losses`).

The tables are the engine's embedding tables with row 0 reserved (``<pad>``: never
updated), each updated by the engine's fused row-wise Adagrad
(:class:`~studio.engine.train.table_optim.RowwiseAdagrad`) from the analytic gradient: no
autograd graph and no sparse tensors. BPR's negatives are drawn uniformly or by popularity
(training counts to the power 0.75, as word2vec draws them); the softmax's negatives are
the other items of the batch's block, which are drawn by popularity already. With
``exclude_positives`` (by default on for BPR, off for the softmax) a negative that is one of
the user's training items is drawn again (BPR) or masked out (softmax).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from torch import nn

from studio.engine.data.interaction_split import InteractionSplit
from studio.engine.data.interactions import Interactions
from studio.engine.data.item_text import item_encoder
from studio.engine.train.als import ALS_NAME, als_metrics
from studio.engine.train.control import TrainControl
from studio.engine.train.distributed import ProcessGroup
from studio.engine.train.item_text import ItemText
from studio.engine.train.ranking import RankMetrics, popularity_scores, rank_metrics
from studio.engine.train.rec_losses import bpr_step, softmax_step
from studio.engine.train.rec_sync import GatheredRows, ItemRows, RowTarget, shard_rows
from studio.engine.train.table_files import new_table
from studio.engine.train.table_optim import RowwiseAdagrad
from studio.errors import StudioError

POPULARITY = "popularity"

__all__ = [
    "POPULARITY",
    "RecEpoch",
    "RecResult",
    "RecSettings",
    "RecTables",
    "UserTower",
    "draw_negatives",
    "fit_recs",
]


@dataclass(frozen=True)
class RecSettings:
    dim: int = 64
    epochs: int = 20
    batch_size: int = 4096
    lr: float = 0.05
    loss: Literal["softmax", "bpr"] = "softmax"
    block: int = 128  # softmax: the in-batch negatives of each interaction
    tower: Literal["dot", "mlp"] = "dot"  # mlp: the user's vector through a residual MLP
    negatives: Literal["uniform", "popularity"] = "uniform"
    # None: the loss's own default, measured: on for BPR; off for the softmax, where masking
    # a user's other items lost 0.12-0.18 recall@10 on both Debian sets (popular items that
    # most users have are then never pushed down)
    exclude_positives: bool | None = None
    k: int = 10
    seed: int = 0
    device: str = "cpu"
    als_baseline: bool = True  # also fit implicit's ALS on the split, when it is installed
    # held-out users scored each epoch, a seeded sample when there are more (0: all); every
    # model and baseline is scored on the same ones. Scoring ranks every item for each user
    eval_users: int = 50_000

    def __post_init__(self) -> None:
        for name in ("dim", "epochs", "batch_size", "k", "block"):
            if getattr(self, name) < 1:
                raise StudioError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.negatives not in ("uniform", "popularity"):
            raise StudioError(f"negatives must be uniform or popularity, got {self.negatives!r}")
        if self.loss not in ("softmax", "bpr"):
            raise StudioError(f"loss must be softmax or bpr, got {self.loss!r}")
        if self.tower not in ("dot", "mlp"):
            raise StudioError(f"tower must be dot or mlp, got {self.tower!r}")
        if self.tower == "mlp" and self.loss != "softmax":
            raise StudioError("the MLP tower trains with the softmax loss (--loss softmax)")


@dataclass(frozen=True)
class RecEpoch:
    epoch: int
    loss: float
    metrics: RankMetrics
    seconds: float  # training seconds so far
    interactions_per_second: float


@dataclass
class RecTables:
    """Row ``u + 1`` of ``users`` is user ``u``'s vector, row ``i + 1`` of ``items`` item
    ``i``'s; row 0 of each is ``<pad>``."""

    users: torch.Tensor
    items: torch.Tensor
    tower: UserTower | None = None
    text: ItemText | None = None  # item side features: text bags added to the item rows

    def item_matrix(self) -> torch.Tensor:
        """Every item row's scoring vector ``[n_items + 1, dim]``: its row, plus its text's."""
        with torch.no_grad():
            return self.items if self.text is None else self.items + self.text.matrix()

    def user_vectors(self, users: np.ndarray | torch.Tensor) -> torch.Tensor:
        """The scoring vectors of ``users`` (dense ids): their rows, through the tower if any."""
        with torch.no_grad():
            rows = self.users[torch.as_tensor(users, dtype=torch.long) + 1]
            return rows if self.tower is None else self.tower(rows)

    def scores(self, users: np.ndarray) -> np.ndarray:
        """Every item's score for each of ``users`` (dense ids)."""
        return self.scorer()(users)

    def scorer(self) -> Callable[[np.ndarray], np.ndarray]:
        """:meth:`scores` with the item vectors composed once (for many calls)."""
        items = self.item_matrix()[1:].T

        def scores(users: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return (self.user_vectors(users) @ items).cpu().numpy()

        return scores


class UserTower(nn.Module):
    """``u + W2 relu(W1 u)``: a residual two-layer MLP on the user's vector; the item side
    stays its table row, so item neighbours and the word2vec export are unchanged. ``W2``
    starts at zero: training starts from the dot-product model."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.hidden = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(2 * dim, dim)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return u + self.out(torch.relu(self.hidden(u)))


@dataclass
class RecResult:
    tables: RecTables
    history: list[RecEpoch] = field(default_factory=list)
    popularity: RankMetrics | None = None
    baselines: dict[str, RankMetrics] = field(default_factory=dict)  # by name, popularity first


def _pair_codes(users: np.ndarray, items: np.ndarray, n_items: int) -> np.ndarray:
    return np.unique(users.astype(np.int64) * n_items + items)


def draw_negatives(
    users: np.ndarray, n_items: int, rng: np.random.Generator, cumulative: np.ndarray | None,
    positives: np.ndarray | None, rounds: int = 8,
) -> np.ndarray:  # fmt: skip
    """One negative item per user: uniform, or by ``cumulative`` popularity; with sorted
    ``positives`` pair codes, a draw that is a positive of its user is drawn again (up to
    ``rounds`` times; then the few left step to the next item that is not one)."""

    def draw(n: int) -> np.ndarray:
        if cumulative is None:
            return rng.integers(0, n_items, size=n)
        return np.minimum(np.searchsorted(cumulative, rng.random(n) * cumulative[-1]), n_items - 1)

    neg = draw(len(users))
    if positives is None or len(positives) == 0:
        return neg
    for attempt in range(rounds + n_items + 1):
        clash = _clashes(users * n_items + neg, positives)
        if len(clash) == 0:
            break
        if attempt < rounds:
            neg[clash] = draw(len(clash))
        else:  # a user who has nearly every item: step to the next one
            neg[clash] = (neg[clash] + 1) % n_items
    return neg  # still clashing only for a user who has every item


def _clashes(codes: np.ndarray, positives: np.ndarray) -> np.ndarray:
    """Where ``codes`` are in the sorted ``positives``. The codes are looked up in sorted
    order, which numpy's binary search walks ~2.5x faster (measured) than random order."""
    order = np.argsort(codes, kind="stable")
    at = np.minimum(np.searchsorted(positives, codes[order]), len(positives) - 1)
    return np.sort(order[positives[at] == codes[order]])


def fit_recs(
    data: Interactions,
    split: InteractionSplit,
    settings: RecSettings,
    on_epoch: Callable[[RecEpoch], None] | None = None,
    control: TrainControl | None = None,
    on_baseline: Callable[[str, RankMetrics], None] | None = None,
    item_texts: Sequence[str] | None = None,
    group: ProcessGroup | None = None,
) -> RecResult:
    """Train on ``split.train_idx``; score recall/NDCG/hit@k on ``split.test_idx`` each epoch.
    ``on_baseline`` gets each baseline's name and metrics before the first epoch: popularity,
    then (with ``settings.als_baseline`` and implicit installed) ALS. ``item_texts`` (one
    per item, by dense id) adds each item's text bag to its vector
    (:mod:`~studio.engine.train.item_text`). With ``group`` (a rank of a distributed run)
    each global batch is shared out by whole blocks, every rank applies every rank's
    rows (:mod:`~studio.engine.train.rec_sync`), and rank 0 alone scores and reports."""
    s = settings
    gen = torch.Generator().manual_seed(s.seed)
    rng = np.random.default_rng(s.seed)
    tower = None
    if s.tower == "mlp":
        with torch.random.fork_rng(devices=[]):  # seeded: the same tower in every process
            torch.manual_seed(s.seed)
            tower = UserTower(s.dim).to(s.device)
    text = None
    if item_texts is not None:
        if len(item_texts) != data.n_items:
            raise StudioError(f"{len(item_texts):,} item texts for {data.n_items:,} items")
        text = ItemText(item_encoder(item_texts), item_texts, s.dim, s.lr, s.device)
    tables = RecTables(
        new_table(data.n_users + 1, s.dim, gen, s.device),
        new_table(data.n_items + 1, s.dim, gen, s.device),
        tower,
        text,
    )
    tu, ti = data.users[split.train_idx], data.items[split.train_idx]
    test = _scored(data.users[split.test_idx], data.items[split.test_idx], s)
    main = group is None or group.rank == 0
    stop = _StopVote(control, group is not None)
    step = _stepper(s, tables, tu, ti, data.n_items, rng, group, stop)
    result = RecResult(tables)
    for name, metrics in _baselines(s, (tu, ti), test, data.n_users, data.n_items) if main else ():
        result.baselines[name] = metrics
        if on_baseline is not None:
            on_baseline(name, metrics)
    result.popularity = result.baselines.get(POPULARITY)
    seconds = 0.0
    for epoch in range(1, s.epochs + 1):
        start, total, batches = time.perf_counter(), 0.0, 0
        order = rng.permutation(len(tu))
        for at in range(0, len(order), s.batch_size):
            if stop:
                return result
            total += step(order[at : at + s.batch_size])
            batches += 1
        seconds += time.perf_counter() - start
        if not main:
            continue
        metrics = rank_metrics(tables.scorer(), (tu, ti), test, s.k)
        done = RecEpoch(epoch, total / max(batches, 1), metrics, seconds, len(tu) * epoch / seconds)
        result.history.append(done)
        if on_epoch is not None:
            on_epoch(done)
    return result


class _StopVote:
    """Whether to stop before the next step. Alone: the control's word. In a distributed run
    only rank 0 has a control (the window's stop file): each step's loss sum carries every
    rank's vote (:func:`_shared`), so all ranks stop after the same step, with no extra
    collective."""

    def __init__(self, control: TrainControl | None, distributed: bool) -> None:
        self.control, self.distributed = control, distributed
        self.agreed = False  # what the ranks' last sum said

    def asked(self) -> bool:
        return self.control is not None and self.control.stop_requested

    def __bool__(self) -> bool:
        return self.agreed if self.distributed else self.asked()


def _scored(users: np.ndarray, items: np.ndarray, s: RecSettings) -> tuple[np.ndarray, np.ndarray]:
    """The held-out rows of at most ``s.eval_users`` users (a seeded sample), else all."""
    distinct = np.unique(users)
    if s.eval_users <= 0 or len(distinct) <= s.eval_users:
        return users, items
    chosen = np.random.default_rng([s.seed, 1]).choice(distinct, s.eval_users, replace=False)
    keep = np.isin(users, chosen)
    return users[keep], items[keep]


def _baselines(
    s: RecSettings, train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray],
    n_users: int, n_items: int,
) -> Iterator[tuple[str, RankMetrics]]:  # fmt: skip
    yield POPULARITY, rank_metrics(popularity_scores(train[1], n_items), train, test, s.k)
    if s.als_baseline and len(test[0]):
        als = als_metrics(train, test, n_users, n_items, s.k, s.seed)
        if als is not None:
            yield ALS_NAME, als


def _targets(s: RecSettings, tables: RecTables) -> tuple[RowTarget, RowTarget]:
    """Where the step's user and item row gradients go (see :mod:`.rec_sync`)."""
    users, items = (RowwiseAdagrad(t, s.lr, "sum") for t in (tables.users, tables.items))
    return users, items if tables.text is None else ItemRows(items, tables.text)


def _shared(
    step: Callable[[np.ndarray], float], s: RecSettings,
    opts: tuple[GatheredRows, GatheredRows], group: ProcessGroup, stop: _StopVote,
) -> Callable[[np.ndarray], float]:  # fmt: skip
    """``step`` on this rank's share of each global batch, then every rank's rows applied
    everywhere; the loss is the global batch's mean. The same sum takes the stop votes."""

    def shared(rows: np.ndarray) -> float:
        local = rows[shard_rows(len(rows), s.block, group.rank, group.world_size)]
        loss = step(local) if len(local) else 0.0
        for opt in opts:
            opt.flush()
        sums = torch.tensor([loss * len(local), len(local), float(stop.asked())],
                            device=group.device)  # fmt: skip
        group.sum_(sums)
        stop.agreed = bool(sums[2] > 0)
        return float(sums[0] / sums[1].clamp_min(1))

    return shared


def _stepper(
    s: RecSettings, tables: RecTables, tu: np.ndarray, ti: np.ndarray, n_items: int,
    rng: np.random.Generator, group: ProcessGroup | None = None,
    stop: _StopVote | None = None,
) -> Callable[[np.ndarray], float]:  # fmt: skip
    """The training step of ``s.loss``, as a function of the batch's training rows."""
    targets = _targets(s, tables)
    if group is None:
        return _local_stepper(s, tables, targets, tu, ti, n_items, rng, None)
    gathered = (GatheredRows(targets[0], s.dim, group), GatheredRows(targets[1], s.dim, group))
    step = _local_stepper(s, tables, gathered, tu, ti, n_items, rng, group)
    return _shared(step, s, gathered, group, _StopVote(None, True) if stop is None else stop)


def _local_stepper(
    s: RecSettings, tables: RecTables, opts: tuple[RowTarget, RowTarget], tu: np.ndarray,
    ti: np.ndarray, n_items: int, rng: np.random.Generator, group: ProcessGroup | None,
) -> Callable[[np.ndarray], float]:  # fmt: skip
    """The step on the rows given (in a distributed run: this rank's share)."""
    exclude = s.loss == "bpr" if s.exclude_positives is None else s.exclude_positives
    positives = _pair_codes(tu, ti, n_items) if exclude else None
    counts = np.bincount(ti, minlength=n_items).astype(np.float64)
    users = torch.as_tensor(tu + 1, device=s.device)
    items = torch.as_tensor(ti + 1, device=s.device)
    if s.loss == "softmax":
        log_q = torch.as_tensor(np.log(np.r_[1.0, counts + 1.0] / (counts.sum() + n_items)),
                                dtype=torch.float32, device=s.device)  # fmt: skip
        codes = None if positives is None else torch.as_tensor(positives, device=s.device)
        tower = tables.tower
        tower_opt = None if tower is None else torch.optim.Adam(tower.parameters(), lr=1e-3)

        def softmax(rows: np.ndarray) -> float:
            at = torch.as_tensor(rows, device=s.device)
            if tower_opt is not None:
                tower_opt.zero_grad(set_to_none=True)
            loss = softmax_step(tables.users, tables.items, opts, users[at], items[at], log_q,
                                s.block, codes, n_items, tower, tables.text)  # fmt: skip
            if tower_opt is not None:
                if group is not None:  # the tower is a replica too: the ranks' mean
                    for p in tower.parameters():  # type: ignore[union-attr]
                        grad = torch.zeros_like(p) if p.grad is None else p.grad
                        p.grad = group.sum_(grad).div_(group.world_size)
                tower_opt.step()
            return loss

        return softmax
    cumulative = np.cumsum(counts**0.75) if s.negatives == "popularity" else None
    # a rank's draws are its own: the shared rng must give every rank the same epoch order
    draws = rng if group is None else np.random.default_rng([s.seed, group.rank])

    def bpr(rows: np.ndarray) -> float:
        neg = draw_negatives(tu[rows], n_items, draws, cumulative, positives)
        at = torch.as_tensor(rows, device=s.device)
        nid = torch.as_tensor(neg + 1, device=s.device)
        return bpr_step(tables.users, tables.items, opts, users[at], items[at], nid, tables.text)

    return bpr
