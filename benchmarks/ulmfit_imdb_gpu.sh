#!/usr/bin/env bash
# ULMFiT on IMDb on one GPU, paper sizes, with no WikiText-103 model: forward and backward
# AWD-LSTM language models trained from scratch on IMDb's text (configs/ulmfit/imdb_gpu_lm.yaml,
# both at once, each for LM_MINUTES of wall time), then the forward, backward and averaged
# classifiers (configs/ulmfit/imdb_clas.yaml: gradual unfreezing, a cycle per stage) with 100,
# 1,000 and all labelled training reviews, seed 42, tested on the 25,000 test reviews.
#
#   benchmarks/ulmfit_imdb_gpu.sh DATA_DIR OUT_DIR [LM_MINUTES]
#
# DATA_DIR holds aclImdb_v1.tar.gz. Four classifier runs share the GPU at a time. LM_ARGS and
# CLAS_ARGS add options to every language-model and classifier run (e.g. a CPU rehearsal on
# tiny settings); LNLP is the command (default lightning-nlp). Ends with one JSON line.
set -euo pipefail
DATA=$1
OUT=$2
MINUTES=${3:-30}
LNLP=${LNLP:-lightning-nlp}
PYTHON=${PYTHON:-python3}
LM_ARGS=${LM_ARGS:-}
CLAS_ARGS=${CLAS_ARGS:-}
mkdir -p "$OUT"
start=$(date +%s)
say() { echo "[$(( $(date +%s) - start )) s] $*"; }

say "language models, forward and backward, ${MINUTES} min each"
for dir in fwd bwd; do
  backwards=false; [ $dir = bwd ] && backwards=true
  $LNLP fit --config configs/ulmfit/imdb_gpu_lm.yaml --data.data_dir "$DATA" \
    --data.backwards $backwards --trainer.default_root_dir "$OUT/lm_$dir" \
    --trainer.callbacks.minutes "$MINUTES" --trainer.enable_progress_bar false $LM_ARGS \
    >"$OUT/lm_$dir.log" 2>&1 &
done
wait -n || { tail -30 "$OUT"/lm_*.log; exit 1; }
wait -n || { tail -30 "$OUT"/lm_*.log; exit 1; }
grep -h "TimeBudget\|val/" "$OUT"/lm_*.log | tail -8 || true
FWD=$OUT/lm_fwd/version_0/pretrained
BWD=$OUT/lm_bwd/version_0/pretrained

say "classifiers"
curve() {  # name, then curve options
  local name=$1; shift
  $LNLP curve --classifier configs/ulmfit/imdb_clas.yaml --methods "[ulmfit]" --seeds "[42]" \
    --classifier_args "--data.data_dir $DATA --trainer.precision bf16-mixed \
      --trainer.enable_progress_bar false $CLAS_ARGS" \
    --output_dir "$OUT/curve_$name" --summary_count null "$@" >"$OUT/curve_$name.log" 2>&1
}
curve 100 --pretrained "$FWD" --backward "$BWD" --counts "[100]" --summary_count 100 &
curve 1000 --pretrained "$FWD" --backward "$BWD" --counts "[1000]" --summary_count 1000 &
curve all_fwd --pretrained "$FWD" --counts "[null]" &
curve all_bwd --pretrained "$BWD" --counts "[null]" --classifier_args \
  "--data.data_dir $DATA --trainer.precision bf16-mixed --trainer.enable_progress_bar false \
   --data.backwards true $CLAS_ARGS" &
failed=0
for _ in 1 2 3 4; do wait -n || failed=1; done
for name in 100 1000 all_fwd all_bwd; do tail -4 "$OUT/curve_$name.log"; done
[ $failed = 0 ] || exit 1

say "all labels: the forward and backward classifiers' average"
$PYTHON - "$OUT" <<'PY'
import json, sys
from pathlib import Path
from lightning_nlp.cli.curve import CurveRow, ensemble_row

out = Path(sys.argv[1])
rows = [CurveRow(**r) for n in ("all_fwd", "all_bwd")
        for r in json.loads(next((out / f"curve_{n}").glob("version_*/curve.json")).read_text())["rows"]]
rows[1].method = "ulmfit_bwd"
both = ensemble_row(rows, "all", rows[0].train_docs, rows[0].seed)
for n in ("100", "1000"):
    rows += [CurveRow(**r) for r in json.loads(next((out / f"curve_{n}").glob("version_*/curve.json")).read_text())["rows"]]
rows.append(both)
table = [{"method": r.method, "labels": r.budget, "acc": round(r.acc, 4), "minutes": round(r.seconds / 60, 1)} for r in rows]
(out / "summary.json").write_text(json.dumps(table, indent=1))
print(json.dumps(table))
PY
say "done"
