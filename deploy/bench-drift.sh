# ./pipeline bench drift: the drift detector, twice.
# 1. On a real broker (broker, ingest, streams; ./pipeline send by real C-STORE): DU registered KNOWN from its first 36
#    patients (reference file: 80%, the source model's training share), then the 9 held-out DU patients, DU patients
#    through each named acquisition profile, CS and HT; series-until-decision per site and profile read from
#    GET /domains, decode + statistics + detector time per series from /q/metrics (series/s of the drift topology).
# 2. Offline (DriftPowerBench, no broker): per shift of the shift suite's reporting half, detection power at 1, 2, 3, 5
#    series over random draws (KNOWN = DU, and KNOWN = DU + HT), the sequential rule, the real sites CS and HT, and
#    false flags over 500 replays of held-out DU patients (the KNOWN domain's watch; and as if a new header key).
# BENCH_DRAWS (60), BENCH_HALF (reporting). Prints one JSON object (last stdout line); progress on stderr.
bench_drift() {
  local data="$SHARED_DATA/lgg-flair"
  [ -d "$data/DU" ] || die "bench drift needs $data (the shared lgg-flair set)"
  export PIPELINE_HOME="$ROOT/target/bench-drift"
  export KAFKA_PORT=${BENCH_KAFKA_PORT:-19292} KAFKA_CONTROLLER_PORT=${BENCH_KAFKA_CONTROLLER_PORT:-19293}
  export KAFKA_INTERNAL_PORT=${BENCH_KAFKA_INTERNAL_PORT:-19294}
  export INGEST_DICOM_PORT=${BENCH_DICOM_PORT:-19212} INGEST_HTTP_PORT=${BENCH_HTTP_PORT:-19281}
  export INGEST_DICOM_TLS_PORT=${BENCH_DICOM_TLS_PORT:-19214}
  export STREAMS_HTTP_PORT=${BENCH_STREAMS_PORT:-19282} FHIR_BRIDGE_HTTP_PORT=${BENCH_BRIDGE_PORT:-19285} EHR_PORT=${BENCH_EHR_PORT:-19290}
  export STREAMS_ASSEMBLY_INACTIVITY=2s
  STACK_PIDS="$PIPELINE_HOME/pids"; STACK_LOGS="$PIPELINE_HOME/logs"
  stack_down >/dev/null 2>&1 || true
  rm -rf "$PIPELINE_HOME"; mkdir -p "$PIPELINE_HOME"
  trap 'stack_down >&2' EXIT
  local refs="$PIPELINE_HOME/reference-patients.csv"
  { echo "# DU training patients: the first 36 (sorted)"; ls "$data/DU" | sort | head -36 | sed 's/^/DU,/'; } >"$refs"
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
  log "bench drift: DU training patients (36) -> KNOWN (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  t0=$(date +%s%N); local load0; load0=$(cut -d' ' -f1 /proc/loadavg)
  send --sites DU --patients 36; await_series 36 300
  log "bench drift: held-out DU (9), profiles (3 patients each), CS (5), HT (5)"
  send --sites DU --patients 45; await_series 45 300
  local n=45 p
  for p in gamma biasfield lowfield newscanner; do send --sites DU --patients 3 --profile "$p"; n=$((n + 3)); await_series $n 300; done
  send --sites CS --patients 5; n=$((n + 5)); await_series $n 300
  send --sites HT --patients 5; n=$((n + 5)); await_series $n 300
  t1=$(date +%s%N)
  # GET /domains needs a viewer's bearer token (docs/security.md); it goes to curl on a file descriptor, not argv.
  curl -fsS -H @<(printf 'Authorization: Bearer %s\n' "$(stack_token viewer --minutes 5 2>/dev/null)") "$api/domains" \
    >"$PIPELINE_HOME/domains.json"
  curl -fsS "$api/q/metrics" >"$PIPELINE_HOME/metrics.txt"
  stack_down >&2; trap - EXIT

  log "bench drift: offline power table (DriftPowerBench, ~10 min on 2 idle cores)"
  local q="$ROOT/streams/target/quarkus-app"
  java -Xmx3g -cp "$q/app/*:$q/lib/main/*:$(module_cp simulator)" org.imagingpipeline.streams.DriftPowerBench --data "$data" \
    --draws "${BENCH_DRAWS:-60}" --half "${BENCH_HALF:-reporting}" --replays 500 >"$PIPELINE_HOME/power.json"
  python3 - "$PIPELINE_HOME/domains.json" "$PIPELINE_HOME/metrics.txt" "$PIPELINE_HOME/power.json" "$n" "$(( (t1 - t0) / 1000000 ))" "$load0" <<'PY'
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
    'load_average_1m': {'broker_run_start': float(sys.argv[6]), 'end': float(open('/proc/loadavg').read().split()[0])},
    'broker': {'series': series, 'wall_seconds_incl_send_and_assembly': round(wall_ms / 1000, 1),
               'feature_ms_per_series': round(feat_ms, 1), 'detector_ms_per_series': round(det_ms, 1),
               'topology_series_per_second': round(1000 / (feat_ms + det_ms), 1),
               'domains': until},
    'offline': power,
}))
PY
}
