#!/usr/bin/env bash
# Paired adaptation experiments with the real DU source model (see docs/adaptation.md).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "${EXP_DIR:=$ROOT/retrain/target/exp}"; cd "$EXP_DIR"; source "$ROOT/retrain/experiments/classpath.sh"
D=${DATA:-$ROOT/../shared/data/lgg-flair}
M=real/source.onnx
VAL=$(jq -r '.training.validation_patients|join(",")' real/source.card.json)
RES=real/results.jsonl
ev() { # model data site tag [extra]
  local m=$1 d=$2 s=$3 tag=$4; shift 4
  J org.imagingpipeline.retrain.EvaluateCommand --model $m --data $d --sites $s --threads 2 "$@" 2>/dev/null | tail -1 \
    | jq -c --arg tag "$tag" '{tag:$tag, site, patients, dice_mean, dice_median, per:[.per_patient[].dice]}' >> $RES
}
ad() { # method data site tag [extra]
  local meth=$1 d=$2 s=$3 tag=$4; shift 4
  local out=real/models/$tag.onnx
  J org.imagingpipeline.retrain.AdaptCommand --model $M --data $d --sites $s --method $meth --out $out --threads 2 "$@" 2>>real/adapt.err | tail -1 \
    | jq -c --arg tag "$tag" '. + {tag:$tag}' >> $RES
  ev $out $d $s "eval:$tag" ${EVX:-}
}
SETS="none:none:1 strong1:newscanner:g=0.6,a=0.35,blur=1,noise=0.04:1 newscanner1:newscanner:1 gamma:gamma:1 biasfield:biasfield:1 lowfield1:lowfield:1 newscanner2:newscanner:2 strong2:newscanner:g=0.6,a=0.35,blur=1,noise=0.04:2"
GATED=" none strong1 newscanner1 "
mkdir -p real/tgt real/models
phase=${1:-A}
if [ "$phase" = A ]; then
  # AdaBN on the source's own training patients (clean, unshifted): what re-estimation alone does.
  TRAIN=$(ls $D/DU | grep -v -x -F "$(echo $VAL | tr , '\n')" | paste -sd,)
  mkdir -p real/srctrain; J org.imagingpipeline.retrain.ShiftedCopy --data $D --sites DU --patient-ids $TRAIN --profile none --out real/srctrain --site DU --masks none >/dev/null
  J org.imagingpipeline.retrain.AdaptCommand --model $M --data real/srctrain --sites DU --method adabn --out real/models/adabn-srctrain.onnx --threads 2 2>>real/adapt.err | tail -1 | jq -c '. + {tag:"adabn:srctrain"}' >> $RES
  ev real/models/adabn-srctrain.onnx real/tgt none "eval:adabn:srctrain->none"
fi
for s in $SETS; do
  name=${s%%:*}; rest=${s#*:}; seed=${rest##*:}; prof=${rest%:*}
  gate="--no-gate"; case "$GATED" in *" $name "*) gate="";; esac
  case $phase in
    A) [ -d real/tgt/$name ] || J org.imagingpipeline.retrain.ShiftedCopy --data $D --sites DU --patient-ids $VAL --profile $prof --seed $seed --out real/tgt --site $name >/dev/null
       ev $M real/tgt $name "source:$name"
       ad adabn real/tgt $name "adabn:$name" --source-data $D --source-sites DU $gate ;;
    C) case " none strong1 newscanner1 strong2 " in *" $name "*) ad entropy real/tgt $name "entropy:$name" --max-steps 50 --seed $seed;; esac ;;
    D) case " strong1 newscanner1 " in *" $name "*) ad adversarial real/tgt $name "adversarial:$name" --max-steps 100 --seed $seed --source-data $D --source-sites DU --no-gate;; esac ;;
  esac
  echo "$(date -u +%T) phase $phase $name done" >&2
done
if [ "$phase" = B ]; then
  export EVX="--patients 12"
  for site in CS HT; do
    ev $M $D $site "source:$site" --patients 12
    ad adabn $D $site "adabn:$site" --patients 12 --source-data $D --source-sites DU
    echo "$(date -u +%T) phase B $site done" >&2
  done
fi
if [ "$phase" = F ]; then # second session: final defaults (referenced AdaBN, levels:2), gate with 3 labelled series
  RES=final/results.jsonl; mkdir -p final/models final/labels3
  evf() { local m=$1 d=$2 s=$3 tag=$4; shift 4
    J org.imagingpipeline.retrain.EvaluateCommand --model $m --data $d --sites $s --threads 2 "$@" 2>/dev/null | tail -1 \
      | jq -c --arg tag "$tag" '{tag:$tag, site, patients, dice_mean, dice_median, per:[.per_patient[] | {id:.patient, dice}]}' >> $RES; }
  adf() { local meth=$1 d=$2 s=$3 tag=$4; shift 4; local out=final/models/${tag//:/_}.onnx
    J org.imagingpipeline.retrain.AdaptCommand --model $M --data $d --sites $s --method $meth --out $out --threads 2 \
      --source-data $D --source-sites DU --target-labels final/labels3 "$@" 2>>final/adapt.err | tail -1 | jq -c --arg tag "$tag" '. + {tag:$tag}' >> $RES
    evf $out $d $s "eval:$tag" ${EVX:-}; }
  labels3() { mkdir -p final/labels3/$1; for p in $(ls $2/$1 | head -3); do ln -sfn "$(cd $2/$1/$p && pwd)" final/labels3/$1/$p; done; }
  for s in $SETS; do
    name=${s%%:*}; rest=${s#*:}; seed=${rest##*:}; prof=${rest%:*}
    [ -d real/tgt/$name ] || J org.imagingpipeline.retrain.ShiftedCopy --data $D --sites DU --patient-ids $VAL --profile $prof --seed $seed --out real/tgt --site $name >/dev/null
    labels3 $name real/tgt; evf $M real/tgt $name "source:$name"; adf adabn real/tgt $name "adabn:$name"
  done
  export EVX="--patients 12"
  for site in HT CS; do labels3 $site $D; evf $M $D $site "source:$site" --patients 12; adf adabn $D $site "adabn:$site" --patients 12; done
  unset EVX
  for name in strong1 gamma lowfield1 strong2; do
    adf entropy real/tgt $name "entropy:$name" --max-steps 50 --seed 1
    adf adversarial real/tgt $name "adversarial:$name" --max-steps 100 --seed 1
  done
  python3 "$ROOT/retrain/experiments/final-table.py" $RES
fi
if [ "$phase" = E ]; then # extra runs: entropy and adversarial on strong1; AdaBN and entropy on CS
  ad entropy real/tgt strong1 "entropy:strong1" --max-steps 50 --seed 1
  echo "$(date -u +%T) entropy strong1 done" >&2
  ad adversarial real/tgt strong1 "adversarial:strong1" --max-steps 100 --seed 1 --source-data $D --source-sites DU --no-gate
  echo "$(date -u +%T) adversarial strong1 done" >&2
  export EVX="--patients 12"
  ev $M $D CS "source:CS" --patients 12
  ad adabn $D CS "adabn:CS" --patients 12 --source-data $D --source-sites DU
  echo "$(date -u +%T) CS done" >&2
  ad entropy $D CS "entropy:CS" --patients 12 --source-data $D --source-sites DU --max-steps 50
  echo "$(date -u +%T) CS entropy done" >&2
fi
