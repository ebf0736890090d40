"""Adam and AdamW for the dense layers, without ``torch.optim``'s start-up cost.

Building any ``torch.optim`` optimiser (and its first ``step``) imports ``torch._dynamo``:
1.1 s on 2 CPU cores, the largest single part of a run's time outside training (measured
with py-spy on ``studio train``). :class:`Adam` does the same update with PyTorch's own
fused kernels (``torch._fused_adam_`` / ``torch._fused_adamw_``, which ``fused=True`` calls),
or the same arithmetic tensor by tensor where no kernel exists for the device. Its
``state_dict`` has ``torch.optim.Adam``'s format, so resume checkpoints are unchanged and
load either way. It has what the trainer uses of an optimiser: ``param_groups``,
``zero_grad``, ``step``, ``state_dict`` and ``load_state_dict``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch

FUSED_DEVICES = ("cpu", "cuda", "mps")
FUSED_DTYPES = (torch.float32, torch.float16, torch.bfloat16)


class Adam:
    """Adam (``decoupled=False``: L2 weight decay) or AdamW (``decoupled=True``).

    One parameter group; no AMSGrad. The arithmetic is ``torch.optim.Adam``'s /
    ``torch.optim.AdamW``'s (a test compares them step by step).
    """

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: float,
        weight_decay: float = 0.0,
        decoupled: bool = True,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        fused = all(p.device.type in FUSED_DEVICES and p.dtype in FUSED_DTYPES for p in self.params)
        self.param_groups: list[dict[str, Any]] = [
            {
                "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                "amsgrad": False, "maximize": False, "foreach": None, "capturable": False,
                "differentiable": False, "fused": fused or None,
                "decoupled_weight_decay": decoupled, "params": self.params,
            }
        ]  # fmt: skip
        self.state: dict[torch.nn.Parameter, dict[str, torch.Tensor]] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    def _slot(self, p: torch.nn.Parameter) -> dict[str, torch.Tensor]:
        s = self.state.get(p)
        if s is None:
            s = self.state[p] = {
                "step": torch.zeros((), dtype=torch.float32, device=p.device),
                "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
            }
        return s

    @torch.no_grad()
    def step(self) -> None:
        group = self.param_groups[0]
        live: list[torch.Tensor] = [p for p in self.params if p.grad is not None]
        grads: list[torch.Tensor] = [p.grad for p in self.params if p.grad is not None]
        if not live:
            return
        if any(g.is_sparse for g in grads):
            raise RuntimeError("Adam does not support sparse gradients")
        slots = [self._slot(p) for p in self.params if p.grad is not None]
        lr, wd, eps = float(group["lr"]), float(group["weight_decay"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        decoupled = bool(group["decoupled_weight_decay"])
        if group["fused"]:
            steps = [s["step"] for s in slots]
            torch._foreach_add_(steps, 1)
            kernel = torch._fused_adamw_ if decoupled else torch._fused_adam_
            kernel(
                live, grads, [s["exp_avg"] for s in slots],
                [s["exp_avg_sq"] for s in slots], [], steps, lr=lr, beta1=beta1,
                beta2=beta2, weight_decay=wd, eps=eps, amsgrad=False, maximize=False,
            )  # fmt: skip
            return
        for p, g, s in zip(live, grads, slots, strict=True):
            _update(p, g, s, lr, wd, eps, beta1, beta2, decoupled)

    def state_dict(self) -> dict[str, Any]:
        """``torch.optim.Adam``'s format: state by parameter index, groups by index."""
        index = {p: i for i, p in enumerate(self.params)}
        state = {index[p]: dict(s) for p, s in self.state.items()}
        groups = [dict(g, params=list(range(len(self.params)))) for g in self.param_groups]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state saved by :meth:`state_dict` or by ``torch.optim.Adam(W)``."""
        (saved,) = state_dict["param_groups"]
        if len(saved["params"]) != len(self.params):
            raise ValueError(
                f"the saved optimizer state has {len(saved['params'])} parameters, "
                f"this model {len(self.params)}"
            )
        group = self.param_groups[0]
        for key in ("lr", "eps", "weight_decay"):
            group[key] = saved.get(key, group[key])
        group["betas"] = tuple(saved.get("betas", group["betas"]))
        self.state = {}
        for i, s in state_dict["state"].items():
            p = self.params[saved["params"].index(int(i))]
            step = s["step"]
            self.state[p] = {
                "step": torch.as_tensor(step, dtype=torch.float32).to(p.device).clone(),
                "exp_avg": s["exp_avg"].to(p.device, p.dtype).clone(),
                "exp_avg_sq": s["exp_avg_sq"].to(p.device, p.dtype).clone(),
            }


def _update(
    p: torch.Tensor,
    grad: torch.Tensor,
    s: dict[str, torch.Tensor],
    lr: float,
    wd: float,
    eps: float,
    beta1: float,
    beta2: float,
    decoupled: bool,
) -> None:
    """One Adam(W) step of one tensor, as ``torch.optim``'s single-tensor path computes it."""
    s["step"] += 1
    step = float(s["step"])
    if wd != 0:
        if decoupled:
            p.mul_(1 - lr * wd)
        else:
            grad = grad.add(p, alpha=wd)
    s["exp_avg"].lerp_(grad, 1 - beta1)
    s["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad.conj(), value=1 - beta2)
    bias1, bias2 = 1 - beta1**step, 1 - beta2**step
    denom = (s["exp_avg_sq"].sqrt() / math.sqrt(bias2)).add_(eps)
    p.addcdiv_(s["exp_avg"], denom, value=-lr / bias1)
