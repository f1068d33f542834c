# ./pipeline bench ehr-outage (issue 20's target: "under a 10-minute EHR outage with 500 series flowing, every report
# arrives once after recovery"): the whole stack on ports of its own, the EHR stand-in stopped, BENCH_SERIES (500) real
# series sent by the scanner simulator while it is down (the DU patients of ../shared/data/lgg-flair again and again,
# each round under a new --uid-namespace, so every series is new), the EHR started again after BENCH_OUTAGE_SECONDS
# (600), then a wait until every series has its report in the EHR (at most BENCH_DRAIN_MINUTES, 30). Prints one JSON
# object: series sent, series with a report, duplicates, lost, the outage (until the EHR answered again: the restart and
# its readiness check count), how long the sending and the drain after recovery took, the bridge's counters, the load.
bench_ehr_outage() {
  local n=${BENCH_SERIES:-500} outage=${BENCH_OUTAGE_SECONDS:-600} drain_minutes=${BENCH_DRAIN_MINUTES:-30}
  local lgg="$SHARED_DATA/lgg-flair"
  [ -d "$lgg/DU" ] || die "bench ehr-outage needs $lgg (the shared lgg-flair set)"
  bench_stack_home ehr-outage 19492 11412 18480
  export STREAMS_ASSEMBLY_INACTIVITY=${STREAMS_ASSEMBLY_INACTIVITY:-5s}
  trap 'stack_down >&2' EXIT
  stack_up >/dev/null
  local load0 per_round
  load0=$(cut -d' ' -f1 /proc/loadavg)
  per_round=$(find "$lgg/DU" -mindepth 1 -maxdepth 1 -type d | wc -l)
  stop_one ehr
  local t_down t_sent t_up t_done
  t_down=$(date +%s)
  log "bench ehr-outage: EHR down; sending $n series ($per_round per round, new UIDs each round) while it is down for ${outage}s"
  (
    local sent=0 round=1 k
    while [ "$sent" -lt "$n" ]; do
      k=$(( n - sent < per_round ? n - sent : per_round ))
      java -Xmx1g -cp "$(module_cp simulator)" org.imagingpipeline.simulator.SendCommand --data "$lgg" --sites DU --patients "$k" \
        --uid-namespace "ehr-outage-$round" > "$PIPELINE_HOME/send-$round.json" 2> "$PIPELINE_HOME/send-$round.err" \
        || { echo "send round $round failed" >&2; exit 1; }
      sent=$(( sent + k )); round=$(( round + 1 ))
    done
    date +%s > "$PIPELINE_HOME/sent-at"
  ) &
  local sender=$!
  while [ $(( $(date +%s) - t_down )) -lt "$outage" ]; do sleep 5; done
  stack_up >/dev/null # restarts what is down: the EHR; t_up is when it answers again
  t_up=$(date +%s)
  log "bench ehr-outage: EHR up again after $(( t_up - t_down ))s"
  wait "$sender" || die "bench ehr-outage: sending failed (see $PIPELINE_HOME/send-*.err)"
  t_sent=$(cat "$PIPELINE_HOME/sent-at")
  local deadline=$(( $(date +%s) + drain_minutes * 60 )) reported=0
  while :; do
    curl -s --max-time 60 "http://127.0.0.1:$EHR_PORT/fhir/DiagnosticReport?_count=5000" > "$PIPELINE_HOME/reports.json" || true
    reported=$(python3 "$ROOT/deploy/report-count.py" "$PIPELINE_HOME/reports.json" --series 2>/dev/null || echo 0)
    [ "$reported" -ge "$n" ] && break
    [ "$(date +%s)" -ge "$deadline" ] && { log "bench ehr-outage: drain timed out with $reported of $n series reported"; break; }
    sleep 10
  done
  t_done=$(date +%s)
  curl -s --max-time 30 "http://127.0.0.1:$FHIR_BRIDGE_HTTP_PORT/q/metrics" > "$PIPELINE_HOME/bridge-metrics.txt" || true
  python3 - "$PIPELINE_HOME/reports.json" "$PIPELINE_HOME/bridge-metrics.txt" "$n" "$outage" "$t_down" "$t_up" "$t_sent" "$t_done" \
    "$load0" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import json, sys, collections
reports, metrics, n, outage, t_down, t_up, t_sent, t_done, load0, load1 = sys.argv[1:]
n, t_down, t_up, t_sent, t_done = int(n), int(t_down), int(t_up), int(t_sent), int(t_done)
per_series = collections.Counter()
for e in json.load(open(reports)).get("entry", []):
    for i in e["resource"].get("identifier", []):
        if i.get("system") == "urn:imaging-pipeline:id:segmentation-report":
            per_series[i["value"].rsplit(":", 1)[0]] += 1
counters = collections.defaultdict(float)
for line in open(metrics):
    if line.startswith("#"): continue
    name = line.split("{")[0].split(" ")[0]
    if name.startswith("fhir_bridge_"):
        try: counters[name] += float(line.rsplit(" ", 1)[1])
        except ValueError: pass
print(json.dumps({"benchmark": "ehr-outage", "series_sent": n, "series_reported": len(per_series),
    "lost": max(0, n - len(per_series)), "duplicates": sum(c - 1 for c in per_series.values() if c > 1),
    "reports": sum(per_series.values()), "outage_seconds": t_up - t_down, "send_seconds": t_sent - t_down,
    "drain_after_recovery_seconds": t_done - t_up, "bridge_counters": dict(sorted(counters.items())),
    "load_average_start": float(load0), "load_average_end": float(load1)}))
PY
}
