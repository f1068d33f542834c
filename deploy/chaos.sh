# ./pipeline chaos (issue 16 item 4): the stack in cluster mode (3 Kafka nodes, 2 instances of ingest, streams,
# inference and fhir-bridge; docs/operations.md "Cluster mode") on ports of its own, CHAOS_SERIES (40) real series sent
# by the scanner simulator (the DU patients of ../shared/data/lgg-flair, a known domain, so no adaptation job runs;
# CHAOS_PER_SEND per association batch, each batch under a new --uid-namespace, alternating between the two ingest
# instances; a batch that fails is sent again, same UIDs, to the other instance), while one process at a time is killed
# with SIGKILL, CHAOS_KILL_EVERY seconds (10) after the previous one is back: ingest (instance 1, while the sender uses
# it), a Kafka node (broker-2), streams, inference, fhir-bridge and retrain, each started again CHAOS_DOWN_SECONDS (15)
# later by `up`. Then it waits until every series has its report in the EHR (at most CHAOS_DRAIN_MINUTES, 15) and every
# stage has consumed its input (so no redelivered record can still add a report), and prints one JSON object: series
# sent, series with a report, duplicates, lost, whether the stages drained, and per kill the seconds until the
# process was back after its restart (a service: its own /q/health/ready answers; a Kafka node: every catalogued
# partition back to all its in-sync replicas) and from the kill.
stack_chaos() {
  local n=${CHAOS_SERIES:-40} per_send=${CHAOS_PER_SEND:-5} every=${CHAOS_KILL_EVERY:-10} down=${CHAOS_DOWN_SECONDS:-15}
  local drain_minutes=${CHAOS_DRAIN_MINUTES:-15} lgg="$SHARED_DATA/lgg-flair"
  [ -d "$lgg/DU" ] || die "chaos needs $lgg (the shared lgg-flair set)"
  [[ $down =~ ^[0-9]+$ ]] && [ "$down" -ge 10 ] \
    || die "chaos: CHAOS_DOWN_SECONDS must be 10 or more (a killed Kafka node is fenced after its 9 s session timeout), not '$down'"
  export PIPELINE_HOME="$ROOT/target/chaos"
  export KAFKA_PORT=${CHAOS_KAFKA_PORT:-19592} KAFKA_CONTROLLER_PORT=$(( ${CHAOS_KAFKA_PORT:-19592} + 1 ))
  export KAFKA_INTERNAL_PORT=$(( ${CHAOS_KAFKA_PORT:-19592} + 2 ))
  export INGEST_DICOM_PORT=11512 INGEST_DICOM_TLS_PORT=11514 INGEST_HTTP_PORT=18581 STREAMS_HTTP_PORT=18582
  export INFERENCE_HTTP_PORT=18583 RETRAIN_HTTP_PORT=18584 FHIR_BRIDGE_HTTP_PORT=18585 CONSOLE_HTTP_PORT=18586 EHR_PORT=18590
  export SOURCE_MODEL=${SOURCE_MODEL:-$ROOT/models/source.onnx}
  export STREAMS_ASSEMBLY_INACTIVITY=${STREAMS_ASSEMBLY_INACTIVITY:-5s}
  # The scenario counts report versions (a second version = a duplicate write): a promotion's replay, which supersedes
  # reports on purpose, would blur that, so it is off here (retrain.replay.window through Quarkus' environment mapping).
  export RETRAIN_REPLAY_WINDOW=0s
  export KAFKA_BROKERS=3 STACK_INSTANCES=2
  STACK_PIDS="$PIPELINE_HOME/pids"; STACK_LOGS="$PIPELINE_HOME/logs"
  stack_down >/dev/null 2>&1 || true
  rm -rf "$PIPELINE_HOME"; mkdir -p "$PIPELINE_HOME"
  trap 'stack_down >&2' EXIT
  local t_start; t_start=$(date +%s)
  stack_up >/dev/null
  log "chaos: cluster up in $(( $(date +%s) - t_start ))s; sending $n series while killing one process at a time (${every}s after the last is back)"
  local load0; load0=$(cut -d' ' -f1 /proc/loadavg)
  : > "$PIPELINE_HOME/kills.tsv"
  (
    local sent=0 batch=1 k try port ports=("$INGEST_DICOM_PORT" "$(instance_port "$INGEST_DICOM_PORT" 2)")
    while [ "$sent" -lt "$n" ]; do
      k=$(( n - sent < per_send ? n - sent : per_send ))
      for try in 0 1 2 3 4 5; do
        port=${ports[$(( (batch + try) % 2 ))]}
        if java -Xmx1g -cp "$(module_cp simulator)" org.imagingpipeline.simulator.SendCommand --data "$lgg" --sites DU \
            --patients "$k" --uid-namespace "chaos-$batch" --to "127.0.0.1:$port" \
            >> "$PIPELINE_HOME/send.jsonl" 2>> "$PIPELINE_HOME/send.err"; then
          break
        fi
        echo "$(date +%s) batch $batch to $port failed (try $try): sent again to the other instance" >> "$PIPELINE_HOME/send-retries.log"
        [ "$try" = 5 ] && { echo "batch $batch failed 6 times" >&2; exit 1; }
        sleep 2
      done
      sent=$(( sent + k )); batch=$(( batch + 1 ))
    done
    date +%s > "$PIPELINE_HOME/sent-at"
  ) &
  local sender=$! victim t_kill t_restart t_ready
  for victim in ingest broker-2 streams inference fhir-bridge retrain; do
    sleep "$every"
    pid_alive "$victim" || die "chaos: $victim is not running before its kill"
    t_kill=$(date +%s)
    kill -KILL "$(cat "$STACK_PIDS/$victim.pid")"
    log "chaos: killed $victim"
    sleep "$down"
    t_restart=$(date +%s)
    # `up` starts again what is not running and returns once every service is ready; the victim counts as back when it
    # is: a service when its own /q/health/ready answers, a Kafka node when every partition has all its replicas in sync.
    stack_up >/dev/null & local up_pid=$!
    if [[ $victim == broker* ]]; then chaos_await_isr "$victim"; else chaos_await_ready "$victim"; fi
    t_ready=$(date +%s)
    wait "$up_pid" || die "chaos: up failed after killing $victim"
    printf '%s\t%s\t%s\t%s\n' "$victim" "$t_kill" "$t_restart" "$t_ready" >> "$PIPELINE_HOME/kills.tsv"
    log "chaos: $victim back $(( t_ready - t_restart ))s after its restart"
  done
  wait "$sender" || die "chaos: sending failed (see $PIPELINE_HOME/send.err)"
  local t_sent; t_sent=$(cat "$PIPELINE_HOME/sent-at")
  local deadline=$(( $(date +%s) + drain_minutes * 60 )) reported=0
  while :; do
    curl -s --max-time 60 "http://127.0.0.1:$EHR_PORT/fhir/DiagnosticReport?_count=5000" > "$PIPELINE_HOME/reports.json" || true
    reported=$(python3 "$ROOT/deploy/report-count.py" "$PIPELINE_HOME/reports.json" --series 2>/dev/null || echo 0)
    [ "$reported" -ge "$n" ] && break
    [ "$(date +%s)" -ge "$deadline" ] && { log "chaos: drain timed out with $reported of $n series reported"; break; }
    sleep 10
  done
  # Every series has a report; a duplicate would come from a record handled again after a kill or a rebalance. Wait
  # until every stage has committed past its input (demo module's DrainCommand), then count again: the count is final.
  local drained=no
  if java -Xmx256m -cp "$(module_cp demo)" org.imagingpipeline.demo.DrainCommand --bootstrap "$(kafka_bootstrap)" \
      --client-properties "$PIPELINE_HOME/secrets/kafka/cli.properties" --timeout-seconds 180 2>> "$PIPELINE_HOME/drain.log"; then
    drained=yes
    curl -sf --max-time 60 "http://127.0.0.1:$EHR_PORT/fhir/DiagnosticReport?_count=5000" > "$PIPELINE_HOME/reports.json" \
      || log "chaos: the EHR did not answer after the drain"
  else
    log "chaos: the stages did not consume their input within 180 s each (see $PIPELINE_HOME/drain.log)"
  fi
  local t_done; t_done=$(date +%s)
  python3 "$ROOT/deploy/report-count.py" "$PIPELINE_HOME/reports.json" --json chaos "$n" \
    --kills "$PIPELINE_HOME/kills.tsv" --retries "$PIPELINE_HOME/send-retries.log" \
    --times "$t_start" "$t_sent" "$t_done" --drained "$drained" --load "$load0" "$(cut -d' ' -f1 /proc/loadavg)"
}

# Waits (at most 10 minutes) until the service's own readiness endpoint answers 200 (instance 1's HTTP port).
chaos_await_ready() {
  local port i
  case "$1" in
    ingest) port=$INGEST_HTTP_PORT ;; streams) port=$STREAMS_HTTP_PORT ;; inference) port=$INFERENCE_HTTP_PORT ;;
    retrain) port=$RETRAIN_HTTP_PORT ;; fhir-bridge) port=$FHIR_BRIDGE_HTTP_PORT ;; *) die "chaos: no readiness endpoint for $1" ;;
  esac
  for ((i = 0; i < 600; i++)); do
    curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$port/q/health/ready" && return 0
    sleep 1
  done
  log "chaos: $1 not ready 10 minutes after its restart"
}

# Waits (at most 10 minutes) until the killed Kafka node runs again and every partition of the catalogue has all its
# replicas in sync: it has caught up (TopicProvisioner --await-isr through the internal listeners, one JVM polling twice
# a second). It looks only once the new process runs: by then the killed one is fenced and out of every ISR (broker
# session timeout 9 s < CHAOS_DOWN_SECONDS), so a full ISR is the new process's, not the dead one's.
chaos_await_isr() {
  local i
  for ((i = 0; i < 1200; i++)); do pid_alive "$1" && break; sleep 0.5; done
  java -cp "$(module_cp test-support)" org.imagingpipeline.testsupport.TopicProvisioner --bootstrap "$(kafka_provision_bootstrap)" \
    --secrets "$PIPELINE_HOME/secrets" --await-isr 600 >/dev/null 2>>"$PIPELINE_HOME/isr.log" \
    || log "chaos: partitions still under-replicated 10 minutes after the restart (see $PIPELINE_HOME/isr.log)"
}
