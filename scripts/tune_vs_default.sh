#!/bin/bash
# studio tune --budget 5m against the default, scored on a held-out test file nothing saw.
# usage: scripts/tune_vs_default.sh NAME DATA.tsv   (OUT=DIR for the files; the venv active)
set -u
name=$1; data=$2; out=${OUT:-/tmp/tune-vs-default}/$name; rm -rf "$out"; mkdir -p "$out"
python - "$data" "$out" <<'PY'
import random, sys
src, out = sys.argv[1], sys.argv[2]
lines = open(src, encoding="utf-8").read().splitlines()
head, rows = lines[0], lines[1:]
random.Random(0).shuffle(rows)
n = len(rows) // 10
open(f"{out}/test.tsv", "w", encoding="utf-8").write("\n".join([head, *rows[:n]]) + "\n")
open(f"{out}/dev.tsv", "w", encoding="utf-8").write("\n".join([head, *rows[n:]]) + "\n")
print(f"{src}: {len(rows) - n} dev rows, {n} test rows")
PY
score() { studio eval "$1" $out/test.tsv --json | python -c "import json,sys; r=json.load(sys.stdin); print(f\"test acc {r['accuracy']:.4f} macro-F1 {r['macro_f1']:.4f}\")"; }
run_of() { studio train $out/dev.tsv --runs-dir $out/runs --json "$@" | python -c "import json,sys; r=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(r['run_dir']); import sys as s; print(json.dumps({k: r.get(k) for k in ('val_accuracy','val_macro_f1','model_kind','best_epoch','train_seconds')}), file=s.stderr)"; }
echo "== default"; d=$(run_of); score $d
echo "== tune --budget 5m"; studio tune $out/dev.tsv --budget 5m --seed 0 --study-dir $out/study --runs-dir $out/runs 2>&1 | tail -40
best=$(ls $out/study/best.toml)
echo "== retrain --config best.toml"; t=$(run_of --config $best); score $t
