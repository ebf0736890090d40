"""The dense layers' Adam(W): torch.optim's arithmetic and state format, none of its imports."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest
import torch

from studio.engine.train.adam import Adam


def _params(seed: int) -> list[torch.nn.Parameter]:
    g = torch.Generator().manual_seed(seed)
    return [
        torch.nn.Parameter(torch.randn(5, 3, generator=g)),
        torch.nn.Parameter(torch.randn(3, generator=g)),
    ]


def _run(opt: object, params: list[torch.nn.Parameter], steps: int, lrs: list[float]) -> None:
    g = torch.Generator().manual_seed(7)
    for k in range(steps):
        for p in params:
            p.grad = torch.randn(p.shape, generator=g)
        for group in opt.param_groups:  # type: ignore[attr-defined]
            group["lr"] = lrs[k % len(lrs)]
        opt.step()  # type: ignore[attr-defined]


@pytest.mark.parametrize("decoupled", [True, False])
@pytest.mark.parametrize("fused", [True, False])
def test_matches_torch_optim_step_by_step(decoupled: bool, fused: bool) -> None:
    ours, theirs = _params(0), _params(0)
    opt = Adam(ours, 0.05, weight_decay=0.1, decoupled=decoupled)
    opt.param_groups[0]["fused"] = fused or None  # the per-tensor path where no kernel exists
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    ref = cls(theirs, lr=0.05, weight_decay=0.1)
    lrs = [0.05, 0.03, 0.01]  # a schedule changes the rate between steps
    _run(opt, ours, 6, lrs)
    _run(ref, theirs, 6, lrs)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_state_dict_loads_into_torch_optim_and_back() -> None:
    ours, theirs = _params(1), _params(1)
    opt = Adam(ours, 0.05)
    _run(opt, ours, 3, [0.05])
    ref = torch.optim.AdamW(theirs, lr=0.05, weight_decay=0.0)
    with torch.no_grad():
        for a, b in zip(ours, theirs, strict=True):
            b.copy_(a)
    # torch.optim keeps loaded tensors as they are: give it copies
    ref.load_state_dict(copy.deepcopy(opt.state_dict()))  # ours, resumed by torch.optim
    again = Adam(_params(1), 0.05)
    with torch.no_grad():
        for a, b in zip(again.params, ours, strict=True):
            a.copy_(b)
    again.load_state_dict(ref.state_dict())  # and torch.optim's, resumed by ours
    _run(opt, ours, 2, [0.02])
    _run(ref, theirs, 2, [0.02])
    _run(again, again.params, 2, [0.02])
    for a, b, c in zip(ours, theirs, again.params, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(a, c, rtol=1e-5, atol=1e-6)


def test_parameters_without_gradient_are_left_alone() -> None:
    params = _params(2)
    before = [p.detach().clone() for p in params]
    opt = Adam(params, 0.1)
    params[0].grad = torch.ones_like(params[0])
    opt.step()
    assert not torch.equal(params[0], before[0])
    assert torch.equal(params[1], before[1])
    assert params[1] not in opt.state


def test_mismatched_state_is_refused() -> None:
    opt = Adam(_params(0), 0.1)
    other = Adam(_params(0)[:1], 0.1)
    with pytest.raises(ValueError, match="2 parameters, this model 1"):
        other.load_state_dict(opt.state_dict())


def test_training_never_imports_dynamo() -> None:
    """The point of the class: a default fit does not pay torch._dynamo's import."""
    code = (
        "import sys, torch\n"
        "from studio.engine.train.adam import Adam\n"
        "p = torch.nn.Parameter(torch.ones(3)); o = Adam([p], 0.1)\n"
        "p.grad = torch.ones(3); o.step(); o.zero_grad()\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
