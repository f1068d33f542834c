#!/usr/bin/env bash
# Paired adaptation experiments with the real DU source model (see docs/adaptation.md).
set -u
cd /work/wt6/target/exp; source cp.sh
D=/work/shared/data/lgg-flair
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
