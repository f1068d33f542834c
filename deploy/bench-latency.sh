# ./pipeline bench latency (issue 18's target: "arrival of a series' last instance to its report in the EHR: p95 <= 5 s
# on the local stack; say where the time goes"): the whole stack on ports of its own, with its default settings
# (automatic adaptation off, so that no job shares the cores), then BENCH_SERIES (20) real DU series sent by the scanner
# simulator one at a time, one association each, BENCH_INTERVAL (10) seconds apart (a scanner's pace is minutes; the
# interval keeps one series in flight, so queueing behind other series is not what is measured: the demo measures
# that), the DU patients in turn, each under its own --uid-namespace; one warm-up series first, left out. Then
# demo's LatencyReport reads the topics and the EHR: per stage (assembly, inference wait, load, inference,
# post-processing, delivery) and in total, p50/p95/max seconds and each stage's share. One JSON object; adds the load.
bench_latency() {
  local n=${BENCH_SERIES:-20} interval=${BENCH_INTERVAL:-10}
  local lgg="$SHARED_DATA/lgg-flair"
  [ -d "$lgg/DU" ] || die "bench latency needs $lgg (the shared lgg-flair set)"
  bench_stack_home latency 19792 11712 18780
  export RETRAIN_AUTO_ENABLED=false
  trap 'stack_down >&2' EXIT
  stack_up >/dev/null
  local load0 ehr="http://127.0.0.1:$EHR_PORT/fhir"
  load0=$(cut -d' ' -f1 /proc/loadavg)
  local patients=() p
  while IFS= read -r p; do patients+=("$p"); done < <(find "$lgg/DU" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)
  send_one() { # index
    java -Xmx512m -cp "$(module_cp simulator)" org.imagingpipeline.simulator.SendCommand --data "$lgg" --sites DU \
      --include-patients "${patients[$(( $1 % ${#patients[@]} ))]}" --uid-namespace "bench-latency-$1" \
      --to "127.0.0.1:$INGEST_DICOM_PORT" --export "$PIPELINE_HOME/sent" > "$PIPELINE_HOME/send-$1.json" 2> "$PIPELINE_HOME/send-$1.err" \
      || die "bench latency: sending series $1 failed (see $PIPELINE_HOME/send-$1.err)"
  }
  reported() {
    curl -s --max-time 60 -H 'Cache-Control: no-cache' "$ehr/DiagnosticReport?_count=10000" > "$PIPELINE_HOME/reports.json" || true
    python3 "$ROOT/deploy/report-count.py" "$PIPELINE_HOME/reports.json" --series 2>/dev/null || echo 0
  }
  await_reports() { # count seconds
    local end=$(( $(date +%s) + $2 ))
    while [ "$(reported)" -lt "$1" ]; do
      [ "$(date +%s)" -lt "$end" ] || die "bench latency: $(reported) of $1 series reported within $2 s (logs: $STACK_LOGS)"
      sleep 2
    done
  }
  log "bench latency: one warm-up series, then $n series ${interval}s apart (load $(cut -d' ' -f1-3 /proc/loadavg))"
  send_one 0; await_reports 1 300
  local i
  for i in $(seq 1 "$n"); do
    send_one "$i"
    sleep "$interval"
  done
  await_reports $(( n + 1 )) 600
  local load1; load1=$(cut -d' ' -f1 /proc/loadavg)
  java -Xmx512m -cp "$(module_cp demo)" org.imagingpipeline.demo.LatencyReport --bootstrap "127.0.0.1:$KAFKA_PORT" \
    --client-properties "$PIPELINE_HOME/secrets/kafka/cli.properties" --ehr "$ehr" --export "$PIPELINE_HOME/sent" --skip 1 \
    > "$PIPELINE_HOME/latency.json" || log "bench latency: some series have no complete record (see $PIPELINE_HOME/latency.json)"
  python3 - "$PIPELINE_HOME/latency.json" "$interval" "$load0" "$load1" <<'PY'
import json, sys
d = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
d["interval_seconds"] = int(sys.argv[2])
d["load_average_start"], d["load_average_end"] = float(sys.argv[3]), float(sys.argv[4])
print(json.dumps(d))
PY
}
