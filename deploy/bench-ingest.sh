# ./pipeline bench ingest: dcmtk storescu sends the 680 Philips files (one association, TCP_NODELAY=1 on both
# sides) to our SCP (plain DIMSE, then DICOM TLS with the local CA's scanner certificate), to a second ingest whose
# broker is plaintext (KAFKA_SECURITY=plaintext: what SASL_SSL to Kafka costs) and to dcmtk storescp, alternating, fresh
# SOP Instance UIDs every round; prints one JSON object.
bench_ingest() {
  local rounds=${BENCH_ROUNDS:-3}
  local src="$SHARED_DATA/dicom-vendors/philips-mr"
  [ -d "$src" ] || die "bench ingest needs $src (the shared DICOM set)"
  export PIPELINE_HOME="$ROOT/target/bench-ingest"
  export KAFKA_PORT=${BENCH_KAFKA_PORT:-19092} KAFKA_CONTROLLER_PORT=${BENCH_KAFKA_CONTROLLER_PORT:-19093}
  export KAFKA_INTERNAL_PORT=${BENCH_KAFKA_INTERNAL_PORT:-19094}
  export INGEST_DICOM_PORT=${BENCH_DICOM_PORT:-11212} INGEST_HTTP_PORT=${BENCH_HTTP_PORT:-18081}
  export INGEST_DICOM_TLS_PORT=${BENCH_DICOM_TLS_PORT:-11214}
  export FHIR_BRIDGE_HTTP_PORT=${BENCH_BRIDGE_PORT:-18085} EHR_PORT=${BENCH_EHR_PORT:-18090} STREAMS_HTTP_PORT=${BENCH_STREAMS_PORT:-18082}
  local scp_port=${BENCH_STORESCP_PORT:-11213}
  # The second, plaintext-Kafka stack (broker and ingest only) on ports of its own.
  # Globals (not local): the EXIT trap stops this stack after bench_ingest has returned.
  plain_home="$ROOT/target/bench-ingest-plaintext-kafka"
  plain_env=(PIPELINE_HOME="$plain_home" KAFKA_SECURITY=plaintext KAFKA_PORT="${BENCH_PLAIN_KAFKA_PORT:-19392}"
    KAFKA_CONTROLLER_PORT="${BENCH_PLAIN_KAFKA_CONTROLLER_PORT:-19393}" KAFKA_INTERNAL_PORT="${BENCH_PLAIN_KAFKA_INTERNAL_PORT:-19394}"
    INGEST_DICOM_PORT="${BENCH_PLAIN_DICOM_PORT:-11312}" INGEST_HTTP_PORT="${BENCH_PLAIN_HTTP_PORT:-18381}"
    INGEST_DICOM_TLS_PORT="${BENCH_PLAIN_DICOM_TLS_PORT:-11314}")
  plain_stack() { # up|down
    (export "${plain_env[@]}"; KAFKA_SECURITY=plaintext; STACK_PIDS="$PIPELINE_HOME/pids"; STACK_LOGS="$PIPELINE_HOME/logs"
     if [ "$1" = up ]; then STACK_PARTS=ingest stack_up >/dev/null; else stack_down; fi)
  }
  local plain_port=${BENCH_PLAIN_DICOM_PORT:-11312} plain_http=${BENCH_PLAIN_HTTP_PORT:-18381}
  STACK_PIDS="$PIPELINE_HOME/pids"; STACK_LOGS="$PIPELINE_HOME/logs"
  stack_down >/dev/null 2>&1 || true
  plain_stack down >/dev/null 2>&1 || true
  rm -rf "$PIPELINE_HOME" "$plain_home"; mkdir -p "$PIPELINE_HOME/rounds" "$PIPELINE_HOME/storescp"
  trap 'kill "${scp_pid:-}" 2>/dev/null; stack_down >&2; plain_stack down >&2' EXIT

  log "bench ingest: preparing $((rounds + 1)) rounds of the Philips series with fresh UIDs"
  local r files
  for ((r = 0; r <= rounds; r++)); do
    for d in "$r" "tls$r" "plain$r"; do
      mkdir -p "$PIPELINE_HOME/rounds/$d"
      find "$src" -type f -name '*.dcm' -exec cp -t "$PIPELINE_HOME/rounds/$d" {} +
      find "$PIPELINE_HOME/rounds/$d" -type f -print0 | xargs -0 dcmodify -q -nb -gin -gse -gst
    done
  done
  files=$(find "$PIPELINE_HOME/rounds/0" -type f | wc -l)

  # Only the broker and ingest: other services consuming the same topic would compete for the cores.
  STACK_PARTS=ingest stack_up >/dev/null
  plain_stack up
  TCP_NODELAY=1 storescp -od "$PIPELINE_HOME/storescp" "$scp_port" >"$STACK_LOGS/storescp.log" 2>&1 &
  scp_pid=$!
  sleep 1

  local sec="$PIPELINE_HOME/secrets"
  local tls=(+tls "$sec/scanner-key.pem" "$sec/scanner.pem" +cf "$sec/ca.pem")
  send_round() { # port dir aec [storescu options] -> prints milliseconds
    local t0 t1 out port=$1 dir=$2 aec=$3
    shift 3
    t0=$(date +%s%N)
    out=$(TCP_NODELAY=1 storescu -v -aec "$aec" -xe "$@" "127.0.0.1" "$port" "$dir"/* 2>&1)
    t1=$(date +%s%N)
    local ok; ok=$(grep -c 'Received Store Response (Success)' <<<"$out" || true)
    [ "$ok" = "$files" ] || { echo "$out" | tail -5 >&2; die "only $ok of $files stored at port $port"; }
    echo $(( (t1 - t0) / 1000000 ))
  }

  log "bench ingest: warm-up round (not counted)"
  send_round "$INGEST_DICOM_PORT" "$PIPELINE_HOME/rounds/0" INGEST >/dev/null
  send_round "$INGEST_DICOM_TLS_PORT" "$PIPELINE_HOME/rounds/tls0" INGEST "${tls[@]}" >/dev/null
  send_round "$plain_port" "$PIPELINE_HOME/rounds/plain0" INGEST >/dev/null
  send_round "$scp_port" "$PIPELINE_HOME/rounds/0" STORESCP >/dev/null
  local ours=() ours_tls=() ours_plain=() theirs=() ms
  for ((r = 1; r <= rounds; r++)); do
    ms=$(send_round "$INGEST_DICOM_PORT" "$PIPELINE_HOME/rounds/$r" INGEST); ours+=("$ms")
    ms=$(send_round "$INGEST_DICOM_TLS_PORT" "$PIPELINE_HOME/rounds/tls$r" INGEST "${tls[@]}"); ours_tls+=("$ms")
    ms=$(send_round "$plain_port" "$PIPELINE_HOME/rounds/plain$r" INGEST); ours_plain+=("$ms")
    ms=$(send_round "$scp_port" "$PIPELINE_HOME/rounds/$r" STORESCP); theirs+=("$ms")
    log "bench ingest: round $r: ours ${ours[-1]} ms, ours over TLS ${ours_tls[-1]} ms, ours with a plaintext broker ${ours_plain[-1]} ms, storescp ${theirs[-1]} ms for $files instances"
  done
  local stored; stored=$(curl -fsS "http://127.0.0.1:$INGEST_HTTP_PORT/q/metrics" | awk '/^ingest_instances_stored_total/ {print $2}')
  python3 - "$files" "$stored" "${ours[*]}" "${theirs[*]}" "${ours_tls[*]}" "${ours_plain[*]}" <<'PY'
import json, statistics, sys
files, stored = int(sys.argv[1]), float(sys.argv[2])
ours = [int(x) for x in sys.argv[3].split()]
theirs = [int(x) for x in sys.argv[4].split()]
ours_tls = [int(x) for x in sys.argv[5].split()]
ours_plain = [int(x) for x in sys.argv[6].split()]
rate = lambda ms: round(files / (ms / 1000.0), 1)
o, t, ot, op = statistics.median(ours), statistics.median(theirs), statistics.median(ours_tls), statistics.median(ours_plain)
print(json.dumps({
    "benchmark": "ingest",
    "files_per_round": files,
    "rounds": len(ours),
    "ours_instances_per_s": [rate(m) for m in ours],
    "storescp_instances_per_s": [rate(m) for m in theirs],
    "ours_median_instances_per_s": rate(o),
    "storescp_median_instances_per_s": rate(t),
    "ratio": round(t / o, 3),
    "ours_tls_instances_per_s": [rate(m) for m in ours_tls],
    "ours_tls_median_instances_per_s": rate(ot),
    "tls_cost": round(1 - o / ot, 3),
    "tls": "DICOM TLS, BCP 195 non-downgrading (dcmtk default profile), client certificate of the local CA",
    "kafka": "ours and ours_tls: SASL_SSL (SCRAM-SHA-512, TLS) to the broker with ACLs; ours_plaintext_kafka: a second broker and ingest, plaintext",
    "ours_plaintext_kafka_instances_per_s": [rate(m) for m in ours_plain],
    "ours_plaintext_kafka_median_instances_per_s": rate(op),
    "kafka_security_cost": round(1 - op / o, 3),
    "tls_and_kafka_security_cost": round(1 - op / ot, 3),
    "ours_stored_total": stored,
    "ours_guarantees": "blob fsync + Kafka acks=all before each C-STORE response",
    "storescp_guarantees": "file written, no fsync",
}))
PY
}

# ./pipeline bench ingest-memory: ingest alone with a small heap (INGEST_XMX, default 512m) while BENCH_ASSOCIATIONS
# (default 8) associations each send one BENCH_BYTES_EACH (default 1 GiB) instance at once, generated as it is sent,
# then as many STOW-RS requests (chunked) each with one such instance (BENCH_STOW=false skips them); ingest's heap is
# sampled from /q/metrics. Issue 20's target: all stored, heap under 512 MiB. Needs about 2 x associations x bytes of
# free disk under PIPELINE_HOME (the blobs; removed at the end).
bench_ingest_memory() {
  local n=${BENCH_ASSOCIATIONS:-8} each=${BENCH_BYTES_EACH:-1073741824}
  export INGEST_XMX=${INGEST_XMX:-512m}
  export PIPELINE_HOME="$ROOT/target/bench-ingest-memory"
  export KAFKA_PORT=${BENCH_KAFKA_PORT:-19092} KAFKA_CONTROLLER_PORT=${BENCH_KAFKA_CONTROLLER_PORT:-19093}
  export KAFKA_INTERNAL_PORT=${BENCH_KAFKA_INTERNAL_PORT:-19094}
  export INGEST_DICOM_PORT=${BENCH_DICOM_PORT:-11212} INGEST_HTTP_PORT=${BENCH_HTTP_PORT:-18081}
  export INGEST_DICOM_TLS_PORT=${BENCH_DICOM_TLS_PORT:-11214}
  export FHIR_BRIDGE_HTTP_PORT=${BENCH_BRIDGE_PORT:-18085} EHR_PORT=${BENCH_EHR_PORT:-18090} STREAMS_HTTP_PORT=${BENCH_STREAMS_PORT:-18082}
  STACK_PIDS="$PIPELINE_HOME/pids"; STACK_LOGS="$PIPELINE_HOME/logs"
  stack_down >/dev/null 2>&1 || true
  rm -rf "$PIPELINE_HOME"; mkdir -p "$PIPELINE_HOME"
  trap 'stack_down >&2; rm -rf "$PIPELINE_HOME/blobs"' EXIT
  STACK_PARTS=ingest stack_up >/dev/null
  log "bench ingest-memory: $n associations x $each bytes at once, ingest -Xmx$INGEST_XMX"
  local stow=()
  if [ "${BENCH_STOW:-true}" != false ]; then
    stow=("http://127.0.0.1:$INGEST_HTTP_PORT/dicomweb/studies")
    BENCH_TOKEN="$(stack_token scanner | tail -n 1)" || die "bench ingest-memory: no scanner token"
    export BENCH_TOKEN
  fi
  java -Xmx256m -cp "$(module_cp simulator)" org.imagingpipeline.simulator.IngestMemoryBench 127.0.0.1 "$INGEST_DICOM_PORT" \
    "http://127.0.0.1:$INGEST_HTTP_PORT/q/metrics" "$n" "$each" "$INGEST_XMX" "${stow[@]}"
}
