# ./pipeline bench replay (issue 18's target: "a replay of 100 past series after a promotion completes in <= 5 minutes
# on 2 cores, with exactly one current report per series"): the whole stack on ports of its own (automatic adaptation
# off, so that the promotion comes after every series), BENCH_SERIES (100) real DU series of one simulated new scanner
# (BENCH_PROFILE, the demo's by default; the source model's held-out DU patients again and again, each round under a new
# --uid-namespace, so every series is new; its training patients would count as the drift detector's KNOWN reference),
# a wait until each has its report in the EHR, then one adaptation job of the new domain through
# the retrain service's API (POST /domains/{id}/adapt, role mlops, method BENCH_ADAPT_METHOD (auto) on
# BENCH_ADAPT_SERIES (20) of its series). When the gate promotes it, the retrain service replays the domain's past series
# (retrain.replay.max-series = BENCH_SERIES) and the bench waits until every series' current report in the EHR is the
# promoted model's (at most BENCH_REPLAY_MINUTES, 30). The clock runs from the job's end (the promotion record is
# published before the job is marked done) to the moment the last series' current report was by the new model.
# Prints one JSON object: series, the domain, the adaptation job (method chosen, seconds), replay_seconds, series
# amended, current reports per series (exactly one each), superseded reports, inference's counters, the load.
bench_replay() {
  local n=${BENCH_SERIES:-100} profile=${BENCH_PROFILE:-newscanner:g=0.6,a=0.35,blur=1,noise=0.04}
  local adapt_method=${BENCH_ADAPT_METHOD:-auto} adapt_series=${BENCH_ADAPT_SERIES:-20}
  local report_minutes=${BENCH_REPORT_MINUTES:-30} adapt_minutes=${BENCH_ADAPT_MINUTES:-30} replay_minutes=${BENCH_REPLAY_MINUTES:-30}
  local lgg="$SHARED_DATA/lgg-flair"
  [ -d "$lgg/DU" ] || die "bench replay needs $lgg (the shared lgg-flair set)"
  bench_stack_home replay 19692 11612 18680
  export STREAMS_ASSEMBLY_INACTIVITY=${STREAMS_ASSEMBLY_INACTIVITY:-4s}
  # Quarkus reads these as retrain.auto.enabled and retrain.replay.max-series.
  export RETRAIN_AUTO_ENABLED=false RETRAIN_REPLAY_MAX_SERIES="$n" RETRAIN_EXPERT_LABELS=""
  trap 'stack_down >&2' EXIT
  stack_up >/dev/null
  local load0 per_round ehr="http://127.0.0.1:$EHR_PORT/fhir" retrain="http://127.0.0.1:$RETRAIN_HTTP_PORT"
  load0=$(cut -d' ' -f1 /proc/loadavg)
  local card="${SOURCE_MODEL%.onnx}.card.json" held_out
  held_out=$(python3 -c 'import json,sys; print(",".join(p for p in json.load(open(sys.argv[1]))["training"]["validation_patients"] if p.startswith("TCGA_DU_")))' "$card") \
    || die "bench replay: no held-out DU patients in $card"
  per_round=$(tr ',' '\n' <<<"$held_out" | grep -c .)
  # Tokens go to curl on a file descriptor, never on its command line.
  local viewer mlops
  viewer=$(stack_token viewer --minutes 240 2>/dev/null | tail -1)
  mlops=$(stack_token mlops --minutes 240 2>/dev/null | tail -1)
  [ -n "$viewer" ] && [ -n "$mlops" ] || die "bench replay: no token from ./pipeline token"
  as_viewer() { curl -fsS --max-time 60 -H @<(printf 'Authorization: Bearer %s\n' "$viewer") "$@"; }
  reports() { curl -s --max-time 120 -H 'Cache-Control: no-cache' "$ehr/DiagnosticReport?_count=10000" > "$PIPELINE_HOME/reports.json"; }

  log "bench replay: sending $n series of one simulated new scanner ($profile; the $per_round held-out DU patients per round, new UIDs each round)"
  local t_send sent=0 round=1 k
  t_send=$(date +%s)
  while [ "$sent" -lt "$n" ]; do
    k=$(( n - sent < per_round ? n - sent : per_round ))
    java -Xmx1g -cp "$(module_cp simulator)" org.imagingpipeline.simulator.SendCommand --data "$lgg" --sites DU \
      --include-patients "$(tr ',' '\n' <<<"$held_out" | head -"$k" | paste -sd,)" --profile "$profile" --uid-namespace "bench-replay-$round" --to "127.0.0.1:$INGEST_DICOM_PORT" \
      > "$PIPELINE_HOME/send-$round.json" 2> "$PIPELINE_HOME/send-$round.err" \
      || die "bench replay: send round $round failed (see $PIPELINE_HOME/send-$round.err)"
    sent=$(( sent + k )); round=$(( round + 1 ))
  done
  local deadline=$(( $(date +%s) + report_minutes * 60 )) reported=0
  while :; do
    reports || true
    reported=$(python3 "$ROOT/deploy/report-count.py" "$PIPELINE_HOME/reports.json" --series 2>/dev/null || echo 0)
    [ "$reported" -ge "$n" ] && break
    [ "$(date +%s)" -ge "$deadline" ] && die "bench replay: only $reported of $n series reported within $report_minutes min (logs: $STACK_LOGS)"
    sleep 5
  done
  local t_reported; t_reported=$(date +%s)
  log "bench replay: $n of $n series reported after $(( t_reported - t_send ))s"

  # The new scanner's domain: the one that is not KNOWN (the source model's site is the reference).
  as_viewer "http://127.0.0.1:$STREAMS_HTTP_PORT/domains" > "$PIPELINE_HOME/domains.json" || die "bench replay: GET /domains failed"
  local domain
  domain=$(python3 -c 'import json,sys; d=[x for x in json.load(open(sys.argv[1])) if x["status"]!="KNOWN" and x["status"]!="ALIAS"]
d.sort(key=lambda x: -x.get("seriesCount",0)); print(d[0]["id"] if d else "")' "$PIPELINE_HOME/domains.json")
  [ -n "$domain" ] || die "bench replay: the drift detector flagged no new domain (see $PIPELINE_HOME/domains.json)"
  log "bench replay: new domain $domain; adaptation job ($adapt_method on $adapt_series of its series)"
  local job
  job=$(curl -fsS --max-time 60 -H @<(printf 'Authorization: Bearer %s\n' "$mlops") -H 'Content-Type: application/json' \
    -d "{\"method\":\"$adapt_method\",\"maxSeries\":$adapt_series,\"seed\":1}" "$retrain/domains/$domain/adapt" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') || die "bench replay: POST /domains/$domain/adapt failed"
  deadline=$(( $(date +%s) + adapt_minutes * 60 ))
  while :; do
    as_viewer "$retrain/jobs/$job" > "$PIPELINE_HOME/job.json" 2>/dev/null || true
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if j.get("status") in ("SUCCEEDED","REJECTED","FAILED") else 1)' \
      "$PIPELINE_HOME/job.json" 2>/dev/null && break
    [ "$(date +%s)" -ge "$deadline" ] && die "bench replay: adaptation job $job did not finish within $adapt_minutes min"
    sleep 5
  done
  local t_promoted; t_promoted=$(date +%s)
  as_viewer "$retrain/domains/$domain" > "$PIPELINE_HOME/domain.json" || die "bench replay: GET /domains/$domain failed"
  local version
  version=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])).get("serving"); print(s["version"] if s else "")' "$PIPELINE_HOME/domain.json")
  [ -n "$version" ] || die "bench replay: the gate promoted no model for $domain (job: $PIPELINE_HOME/job.json); nothing is replayed"
  log "bench replay: $domain promoted to $version; waiting until every series' current report is by $version"
  deadline=$(( $(date +%s) + replay_minutes * 60 ))
  local amended=0 last=-1 t_done
  while :; do
    reports || true
    amended=$(python3 "$ROOT/deploy/report-count.py" "$PIPELINE_HOME/reports.json" --current-by "$version" 2>/dev/null || echo 0)
    [ "$amended" -ge "$n" ] && break
    [ "$(date +%s)" -ge "$deadline" ] && { log "bench replay: $amended of $n series amended within $replay_minutes min"; break; }
    [ "$amended" != "$last" ] && log "bench replay: $amended of $n series amended"
    last=$amended
    sleep 3
  done
  t_done=$(date +%s)
  sleep 15 # late duplicates would show here
  reports || true
  curl -s --max-time 30 "http://127.0.0.1:$INFERENCE_HTTP_PORT/q/metrics" > "$PIPELINE_HOME/inference-metrics.txt" || true
  python3 "$ROOT/deploy/report-count.py" "$PIPELINE_HOME/reports.json" --json replay "$n" --version "$version" \
    --job "$PIPELINE_HOME/job.json" --domain "$domain" --metrics "$PIPELINE_HOME/inference-metrics.txt" \
    --times "$t_send" "$t_reported" "$t_promoted" "$t_done" --load "$load0" "$(cut -d' ' -f1 /proc/loadavg)"
}
