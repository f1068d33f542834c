# ./pipeline bench drift: the drift detector, twice.
# 1. On a real broker (broker, ingest, streams; ./pipeline send by real C-STORE): DU registered KNOWN from its first 30
#    patients (reference file), then held-out DU patients, DU patients through each acquisition profile, CS and HT;
#    series-until-decision per site and profile read from GET /domains, detector cost per series from /q/metrics.
# 2. Offline (DriftPowerBench, no broker): detection power over repeated random draws, the sequential rule, the
#    KNOWN-domain watch over >= 500 perturbed DU replays.
# Prints one JSON object (last stdout line); progress on stderr.
bench_drift() {
  local data="$SHARED_DATA/lgg-flair"
  [ -d "$data/DU" ] || die "bench drift needs $data (the shared lgg-flair set)"
  export PIPELINE_HOME="$ROOT/target/bench-drift"
  export KAFKA_PORT=${BENCH_KAFKA_PORT:-19292} KAFKA_CONTROLLER_PORT=${BENCH_KAFKA_CONTROLLER_PORT:-19293}
  export INGEST_DICOM_PORT=${BENCH_DICOM_PORT:-19212} INGEST_HTTP_PORT=${BENCH_HTTP_PORT:-19281}
  export STREAMS_HTTP_PORT=${BENCH_STREAMS_PORT:-19282} FHIR_BRIDGE_HTTP_PORT=${BENCH_BRIDGE_PORT:-19285} EHR_PORT=${BENCH_EHR_PORT:-19290}
  export STREAMS_ASSEMBLY_INACTIVITY=2s
  STACK_PIDS="$PIPELINE_HOME/pids"; STACK_LOGS="$PIPELINE_HOME/logs"
  stack_down >/dev/null 2>&1 || true
  rm -rf "$PIPELINE_HOME"; mkdir -p "$PIPELINE_HOME"
  trap 'stack_down >&2' EXIT
  local refs="$PIPELINE_HOME/reference-patients.csv"
  { echo "# DU training patients: the first 30 (sorted)"; ls "$data/DU" | sort | head -30 | sed 's/^/DU,/'; } >"$refs"
  export STREAMS_DRIFT_REFERENCE_FILE="$refs"
  STACK_PARTS="ingest streams" stack_up >/dev/null
  local api="http://127.0.0.1:$STREAMS_HTTP_PORT"
  send() { java -cp "$(module_cp simulator)" org.imagingpipeline.simulator.SendCommand --data "$data" --to "127.0.0.1:$INGEST_DICOM_PORT" "$@" >/dev/null; }
  series_done() { curl -fsS "$api/q/metrics" | awk '/^streams_drift_detector_seconds_count/ {print int($2)}'; }
  await_series() { # total, seconds
    local end=$((SECONDS + $2))
    while [ "$(series_done || echo 0)" -lt "$1" ]; do
      [ $SECONDS -lt $end ] || die "streams processed $(series_done) of $1 series within $2 s (logs: $STACK_LOGS)"
      sleep 1
    done
  }
  local t0 t1
  log "bench drift: DU training patients (30) -> KNOWN"
  t0=$(date +%s%N)
  send --sites DU --patients 30; await_series 30 300
  log "bench drift: held-out DU (5), profiles (3 patients each), CS (5), HT (8)"
  send --sites DU --patients 35; await_series 35 300
  local n=35 p
  for p in gamma biasfield lowfield newscanner; do send --sites DU --patients 3 --profile "$p"; n=$((n + 3)); await_series $n 300; done
  send --sites CS --patients 5; n=$((n + 5)); await_series $n 300
  send --sites HT --patients 8; n=$((n + 8)); await_series $n 300
  t1=$(date +%s%N)
  curl -fsS "$api/domains" >"$PIPELINE_HOME/domains.json"
  curl -fsS "$api/q/metrics" >"$PIPELINE_HOME/metrics.txt"
  stack_down >&2; trap - EXIT

  log "bench drift: offline power table (DriftPowerBench, ~4 min on 2 cores)"
  local q="$ROOT/streams/target/quarkus-app"
  java -Xmx3g -cp "$q/app/*:$q/lib/main/*:$(module_cp simulator)" org.imagingpipeline.streams.DriftPowerBench --data "$data" \
    --trials "${BENCH_TRIALS:-60}" >"$PIPELINE_HOME/power.json"
  python3 - "$PIPELINE_HOME/domains.json" "$PIPELINE_HOME/metrics.txt" "$PIPELINE_HOME/power.json" "$n" "$(( (t1 - t0) / 1000000 ))" <<'PY'
import json, re, sys
domains = json.load(open(sys.argv[1]))
metrics = open(sys.argv[2]).read()
power = json.loads(open(sys.argv[3]).read().strip().splitlines()[-1])
series, wall_ms = int(sys.argv[4]), int(sys.argv[5])
def metric(name):
    m = re.search(r'^' + name + r'(?:\{[^}]*\})? ([0-9.eE+-]+)$', metrics, re.M)
    return float(m.group(1)) if m else None
feat_ms = 1000 * metric('streams_drift_features_seconds_sum') / metric('streams_drift_features_seconds_count')
det_ms = 1000 * metric('streams_drift_detector_seconds_sum') / metric('streams_drift_detector_seconds_count')
def label(d):
    f = d['fingerprint']
    st = f.get('station', '')
    return f['institution'] + ('+' + st[4:].lower() if st.startswith('SIM ') else '')
until = {}
for d in domains:
    ev = d.get('evidence') or {}
    until[label(d)] = {'status': d['status'], 'series': d['seriesCount'], 'decided_after': ev.get('n') if d['status'] in ('DRIFT_CONFIRMED', 'ALIAS') else None,
                       'pValue': ev.get('pValue'), 'aliasOf': d.get('aliasOf')}
print(json.dumps({
    'benchmark': 'drift',
    'broker': {'series': series, 'wall_seconds_incl_send_and_assembly': round(wall_ms / 1000, 1),
               'feature_ms_per_series': round(feat_ms, 1), 'detector_ms_per_series': round(det_ms, 1),
               'topology_series_per_second': round(1000 / (feat_ms + det_ms), 1),
               'domains': until},
    'offline': power,
}))
PY
}
