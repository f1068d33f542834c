#!/usr/bin/env bash
# Test stand-in for `./pipeline adapt` that honours its contract (docs/retrain-service.md): reads --model, --data
# DIR/SITE/PATIENT/*.png, --sites, --method, --out; prints progress on stderr as the real command does (with
# --progress json, as the service asks: one {"progress":{...}} line per step, docs/adaptation.md; else bar lines) and
# the result JSON as the last stdout line; exit 2 on bad input. The "adapted" model is the parent's bytes plus a marker
# line (the service hashes and copies model files, it never parses them). The gate passes for adabn and adversarial
# and fails for entropy, so that tests can drive both outcomes through the public API. --seed 99 makes it a long job
# (it sleeps for 120 s after its first progress line) for queue and cancel tests. With --target-labels L the gate
# reports how many series folders L/SITE holds (labelled_target_series) and decides on that side as the real gate
# does. --method auto answers as the real auto does when its adabn candidate passed: "chosen_method":"adabn" and the
# candidates' verdicts (a normaliser candidate failed the gate; with --keep-candidates its file stays as
# OUT.candidate-normaliser.onnx).
set -euo pipefail
model= data= sites= method= out= seed= labels= progress=bar keep=
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --sites) sites=$2; shift 2 ;;
    --method) method=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --target-labels) labels=$2; shift 2 ;;
    --progress) progress=$2; shift 2 ;;
    --source-data|--source-sites|--max-minutes|--candidates) shift 2 ;;
    --keep-candidates) keep=1; shift ;;
    *) echo "adapt: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -f "$model" ] || { echo "adapt: no model file $model" >&2; exit 2; }
[ -d "$data/$sites" ] || { echo "adapt: no site folder $data/$sites" >&2; exit 2; }
patients=$(find "$data/$sites" -mindepth 1 -maxdepth 1 -type d | wc -l)
slices=$(find "$data/$sites" -name 'slice_*.png' | wc -l)
[ "$slices" -gt 0 ] || { echo "adapt: no slices under $data/$sites" >&2; exit 2; }
case "$progress" in bar|json) ;; *) echo "adapt: error: --progress must be bar or json, got '$progress'" >&2; exit 2 ;; esac
report() { # step i of 4
  if [ "$progress" = json ]; then
    printf '{"progress":{"phase":"optimise","method":"%s","step":%d,"steps":4,"loss":0.5,"metric":"entropy","metric_value":0.31,"s_per_step":0.01,"elapsed_s":0.0,"eta_s":0.0,"rss_mb":10}}\n' "$method" "$1" >&2
  else
    echo "epoch 1/1 [######------] step $1/4 loss 0.5000 entropy 0.310 0.01 s/step ETA 0m00s RSS 10 MB" >&2
  fi
}
if [ "$seed" = 99 ]; then report 1; sleep 120 & wait; fi
for i in 1 2 3 4; do report "$i"; done
cp "$model" "$out"
printf '\nadapted %s on %s (%s slices)\n' "$method" "$sites" "$slices" >> "$out"
chosen=$method; [ "$method" = auto ] && chosen=adabn
printf '{"method":"%s","parent_sha256":"%s"}\n' "$chosen" "$(sha256sum "$model" | cut -d' ' -f1)" > "${out%.onnx}.card.json"
sha=$(sha256sum "$out" | cut -d' ' -f1)
parent=$(sha256sum "$model" | cut -d' ' -f1)
if [ "$method" = entropy ]; then
  gate='{"passed":false,"reasons":["target entropy did not improve (0.31 -> 0.33)"],"source_dice_before":0.8,"source_dice_after":0.79,"source_dice_tolerance":0.02,"target_entropy_before":0.31,"target_entropy_after":0.33,"tta_disagreement_before":0.1,"tta_disagreement_after":0.1,"volume_plausibility_before":0.5,"volume_plausibility_after":0.5}'
else
  gate='{"passed":true,"reasons":[],"source_dice_before":0.8,"source_dice_after":0.795,"source_dice_tolerance":0.02,"target_entropy_before":0.31,"target_entropy_after":0.22,"tta_disagreement_before":0.1,"tta_disagreement_after":0.07,"volume_plausibility_before":0.5,"volume_plausibility_after":0.6}'
fi
if [ -n "$labels" ]; then
  [ -d "$labels/$sites" ] || { echo "adapt: error: no labels for $sites under $labels" >&2; exit 2; }
  labelled=$(find "$labels/$sites" -mindepth 1 -maxdepth 1 -type d | wc -l)
  gate="${gate%\}},\"labelled_target_dice_before\":0.41,\"labelled_target_dice_after\":0.47,\"labelled_target_series\":$labelled}"
fi
echo "adapt: wrote $out" >&2
if [ "$method" = auto ]; then
  rejected="${out%.onnx}.candidate-normaliser.onnx"
  cp "$model" "$rejected"; printf '\nnormaliser candidate\n' >> "$rejected"
  rsha=$(sha256sum "$rejected" | cut -d' ' -f1)
  rgate='{"passed":false,"reasons":["fail: 0 of the 3 target proxies better (needs 2, none worse)"],"source_dice_before":0.8,"source_dice_after":0.8}'
  kept=; if [ -n "$keep" ]; then kept=",\"model\":\"$rejected\""; else rm -f "$rejected"; fi
  printf '{"model":"%s","sha256":"%s","parent_sha256":"%s","method":"auto","chosen_method":"adabn","sites":"%s","patients":%d,"slices":%d,"seconds":0.1,"gate":%s,"candidates":[{"method":"adabn","passed":true,"seconds":0.1,"sha256":"%s","gate":%s},{"method":"normaliser","passed":false,"seconds":0.1,"sha256":"%s"%s,"gate":%s}]}\n' \
    "$out" "$sha" "$parent" "$sites" "$patients" "$slices" "$gate" "$sha" "$gate" "$rsha" "$kept" "$rgate"
else
  printf '{"model":"%s","sha256":"%s","parent_sha256":"%s","method":"%s","sites":"%s","patients":%d,"slices":%d,"seconds":0.1,"gate":%s}\n' \
    "$out" "$sha" "$parent" "$method" "$sites" "$patients" "$slices" "$gate"
fi
