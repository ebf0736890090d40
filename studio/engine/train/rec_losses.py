"""The two training steps of the user/item tables, each from its analytic gradient (no
autograd graph), handed to each table's ``apply_rows`` (its row-wise Adagrad, or a
:mod:`~studio.engine.train.rec_sync` wrapper).

- :func:`softmax_step`, the default: a sampled softmax over in-batch negatives. The batch
  is cut into blocks of ``block`` interactions; each user is scored against every item of
  its block, its own positive is the target, and each logit is corrected by the log of its
  item's sampling frequency (the ``logQ`` correction of Yi et al., RecSys 2019), since the
  other rows' items are drawn by popularity. A candidate equal to the row's item, or (with
  ``positives``) one of the row's user's training items, is masked out.
- :func:`bpr_step`: ``-log sigmoid(u.(p - n))`` with one sampled negative per positive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from studio.engine.train.item_text import ItemText
    from studio.engine.train.rec_sync import RowTarget

__all__ = ["bpr_step", "softmax_step"]

_MASKED = -1e9


@torch.no_grad()
def bpr_step(
    users_table: torch.Tensor, items_table: torch.Tensor, opts: tuple[RowTarget, RowTarget],
    uid: torch.Tensor, pid: torch.Tensor, nid: torch.Tensor, text: ItemText | None = None,
) -> float:  # fmt: skip
    """One BPR step over table rows ``uid``, ``pid``, ``nid`` (already shifted past
    ``<pad>``); returns the batch's mean loss. With ``text``, an item's vector is its row
    plus its text's (see :mod:`~studio.engine.train.item_text`); ``opts[1]`` then updates
    both (:class:`~studio.engine.train.rec_sync.ItemRows`)."""
    u = users_table[uid]
    both = torch.cat([pid, nid])
    items = _item_vectors(items_table, both, text)
    p, n = items[: len(pid)], items[len(pid) :]
    x = (u * (p - n)).sum(dim=1)
    g = (-torch.sigmoid(-x) / len(x)).unsqueeze(1)  # d loss / d x, per pair
    opts[0].apply_rows(uid, g * (p - n))
    opts[1].apply_rows(both, torch.cat([g * u, -g * u]))
    return float(torch.nn.functional.softplus(-x).mean())


def _item_vectors(table: torch.Tensor, rows: torch.Tensor, text: ItemText | None) -> torch.Tensor:
    return table[rows] if text is None else table[rows] + text.vectors(rows)


@torch.no_grad()
def softmax_step(
    users_table: torch.Tensor, items_table: torch.Tensor, opts: tuple[RowTarget, RowTarget],
    uid: torch.Tensor, pid: torch.Tensor, log_q: torch.Tensor, block: int,
    positives: torch.Tensor | None = None, n_items: int = 0, tower: nn.Module | None = None,
    text: ItemText | None = None,
) -> float:  # fmt: skip
    """One in-batch sampled-softmax step over rows ``uid`` and ``pid`` (shifted past
    ``<pad>``). ``log_q[row]`` is the log sampling frequency of each item row; ``positives``
    (sorted ``user * n_items + item`` codes of dense ids) masks a user's other items. With a
    user ``tower``, the user's vector is ``tower(row)``: the analytic gradient of the scores
    is carried back through it by autograd, leaving the tower's own gradients for its
    optimiser to step. With ``text``, an item's vector is its row plus its text's. Returns
    the batch's mean cross-entropy."""
    total, done = 0.0, 0
    n = len(uid)
    blocks = max(n // block, 1)
    size = n // blocks
    cut = blocks * size
    for start, count, width in ((0, blocks, size), (cut, 1, n - cut)):
        if count * width > 1:  # a leftover of one row has no negatives: skipped
            end = start + count * width
            loss = _softmax_blocks(users_table, items_table, opts, uid[start:end],
                                   pid[start:end], log_q, count, positives, n_items,
                                   tower, text)  # fmt: skip
            total += loss * count * width
            done += count * width
    return total / max(done, 1)


def _softmax_blocks(
    users_table: torch.Tensor, items_table: torch.Tensor, opts: tuple[RowTarget, RowTarget],
    uid: torch.Tensor, pid: torch.Tensor, log_q: torch.Tensor, blocks: int,
    positives: torch.Tensor | None, n_items: int, tower: nn.Module | None = None,
    text: ItemText | None = None,
) -> float:  # fmt: skip
    n = len(uid)
    width = n // blocks
    rows = users_table[uid]
    if tower is not None:
        rows.requires_grad_(True)
        with torch.enable_grad():
            towered = tower(rows)
        u = towered.detach().view(blocks, width, -1)
    else:
        u = rows.view(blocks, width, -1)
    p = _item_vectors(items_table, pid, text).view(blocks, width, -1)
    logits = torch.bmm(u, p.transpose(1, 2)).sub_(log_q[pid].view(blocks, 1, width))
    ib, ub = pid.view(blocks, width), uid.view(blocks, width)
    masked = ib.unsqueeze(2) == ib.unsqueeze(1)
    if positives is not None and len(positives):
        codes = (ub - 1).unsqueeze(2) * n_items + (ib - 1).unsqueeze(1)
        at = torch.searchsorted(positives, codes).clamp_max_(len(positives) - 1)
        masked |= positives[at] == codes
    masked.diagonal(dim1=1, dim2=2).fill_(False)
    logits.masked_fill_(masked, _MASKED)
    g = torch.softmax(logits, dim=2)
    diagonal = g.diagonal(dim1=1, dim2=2)
    loss = float(-diagonal.clamp_min(1e-30).log().mean())
    diagonal.sub_(1.0)
    g.div_(n)
    user_grad = torch.bmm(g, p).view(n, -1)
    if tower is not None:
        towered.backward(user_grad)
        user_grad = rows.grad if rows.grad is not None else torch.zeros_like(rows)
    opts[0].apply_rows(uid, user_grad)
    opts[1].apply_rows(pid, torch.bmm(g.transpose(1, 2), u).view(n, -1))
    return loss
