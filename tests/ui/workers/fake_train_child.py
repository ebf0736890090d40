"""A stand-in for ``studio train --nproc N``: writes a run folder the way the recorder does.

Started by the window's process worker in tests instead of the real distributed launch (no
torch: it starts in a blink). Takes the same options as the real command; what it does comes
from the environment:

``FAKE_MODE``
    ``normal`` (default): a start record, ``FAKE_STEPS`` steps per epoch for ``FAKE_EPOCHS``
    epochs, then an end record; stops after the current step once ``<run dir>/STOP`` exists
    (status "stopped") and exits 0. ``usage``: one ``studio: error:`` line, exit 2.
    ``crash``: some steps, then a traceback on stderr and exit 3. ``stubborn``: like normal,
    but ignores STOP (SIGTERM ends it).
``FAKE_STEP_SECONDS``
    the time one step takes (default 0.005).
``FAKE_RANKS``
    with ``FAKE_PIDFILE``: start this many "rank" processes in sessions of their own, like
    torchrun, writing every pid (its own first) to that file. Ranks wait for STOP; in
    stubborn mode they also ignore STOP and SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

RANK_CODE = """
import os, signal, sys, time
stop, stubborn = sys.argv[1], sys.argv[2] == "1"
if stubborn:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
while stubborn or not os.path.exists(stop):
    time.sleep(0.02)
"""


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True)
    p.add_argument("--nproc", type=int, required=True)
    p.add_argument("--run-dir", required=True)
    p.add_argument("--device", required=True)
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--live-predictions", action="store_true")
    args = p.parse_args()
    mode = os.environ.get("FAKE_MODE", "normal")
    epochs = int(os.environ.get("FAKE_EPOCHS", "2"))
    steps = int(os.environ.get("FAKE_STEPS", "20"))
    step_seconds = float(os.environ.get("FAKE_STEP_SECONDS", "0.005"))
    if mode == "usage":
        print("studio: error: data.path: fake.csv: no such file", file=sys.stderr, flush=True)
        return 2
    run = Path(args.run_dir)
    if any(run.iterdir()):
        print(f"studio: error: {run}: the run folder is not empty", file=sys.stderr)
        return 2
    stop = run / "STOP"
    stubborn = mode == "stubborn"
    pids = [os.getpid()]
    ranks = []
    for _ in range(int(os.environ.get("FAKE_RANKS", "0"))):
        code = [sys.executable, "-c", RANK_CODE, str(stop), "1" if stubborn else "0"]
        ranks.append(subprocess.Popen(code, start_new_session=True))
        pids.append(ranks[-1].pid)
    pidfile = os.environ.get("FAKE_PIDFILE")
    if pidfile:
        Path(pidfile).write_text(" ".join(str(p) for p in pids))

    (run / "config.toml").write_text(Path(args.config).read_text())
    meta = {
        "format": 1, "status": "running", "pid": os.getpid(), "dataset": "fake.csv",
        "device": args.device, "n_train": 400, "n_valid": 100, "parameters": 12345,
        "settings": {"vocab_size": 500, "epochs": epochs, "batch_size": 20},
    }  # fmt: skip
    (run / "run.json").write_text(json.dumps(meta))
    t0 = time.monotonic()
    out = open(run / "metrics.jsonl", "a", encoding="utf-8")  # noqa: SIM115

    def write(record: dict) -> None:
        out.write(json.dumps(record) + "\n")
        out.flush()

    write({"type": "start", "total_steps": epochs * steps, "epochs": epochs})
    status, step, done_epochs, history = "finished", 0, 0, []
    for epoch in range(1, epochs + 1):
        for _ in range(steps):
            if stop.exists() and not stubborn:
                status = "stopped"
                break
            step += 1
            time.sleep(step_seconds)
            loss = 1.0 / (1.0 + 0.05 * step)
            write({"type": "step", "step": step, "epoch": epoch, "loss": loss, "lr": 0.01,
                   "time": round(time.monotonic() - t0, 4)})  # fmt: skip
            if mode == "crash" and step == steps // 2:
                print("Traceback (most recent call last):", file=sys.stderr)
                print('  File "fake_train_child.py", line 1, in <module>', file=sys.stderr)
                print("RuntimeError: fake crash in rank 1", file=sys.stderr, flush=True)
                return 3
        if status == "stopped":
            break
        acc = 0.5 + 0.4 * epoch / epochs
        record = {
            "epoch": epoch, "step": step, "train_loss": loss, "val_loss": loss * 1.1,
            "val_accuracy": acc, "val_macro_f1": acc - 0.05, "val_weighted_f1": acc - 0.02,
            "elapsed": time.monotonic() - t0, "docs_per_second": 1000.0,
            "tokens_per_second": 9000.0, "is_best": True, "best_epoch": epoch,
        }  # fmt: skip
        write({"type": "epoch", "time": round(time.monotonic() - t0, 4), **record})
        history.append(record)
        done_epochs = epoch
    best = history[-1] if history else {}
    nan = float("nan")
    summary = {
        "status": status, "run_dir": str(run), "epochs": done_epochs, "steps": step,
        "best_epoch": best.get("epoch", 0), "val_loss": best.get("val_loss", nan),
        "val_accuracy": best.get("val_accuracy", nan),
        "val_macro_f1": best.get("val_macro_f1", nan),
        "val_weighted_f1": best.get("val_weighted_f1", nan),
        "train_seconds": time.monotonic() - t0, "docs_per_second": 1000.0,
        "tokens_per_second": 9000.0,
    }  # fmt: skip
    (run / "model.safetensors").write_bytes(b"")
    write({"type": "end", **summary})
    out.close()
    (run / "run.json").write_text(json.dumps({**meta, "status": status, "summary": summary}))
    for rank in ranks:
        rank.wait()
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(main())
