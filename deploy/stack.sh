# Local stack for ./pipeline up/down/status (sourced by ./pipeline). Every process is started in the
# background with its pid recorded under $PIPELINE_HOME/pids; `down` stops exactly those.
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
# A benchmark's whole stack, apart from `up`'s: PIPELINE_HOME=target/bench-NAME (emptied; the stack there stopped first)
# and ports of its own (BENCH_* override each): Kafka K, K+1 (controller), K+2 (internal); DICOM D, D+2 (TLS); HTTP
# H+1..H+5 (ingest, streams, inference, retrain, fhir-bridge) and H+10 (the EHR stand-in); the committed source model.
bench_stack_home() { # NAME K D H
  export PIPELINE_HOME="$ROOT/target/bench-$1"
  export KAFKA_PORT=${BENCH_KAFKA_PORT:-$2} KAFKA_CONTROLLER_PORT=${BENCH_KAFKA_CONTROLLER_PORT:-$(( $2 + 1 ))}
  export KAFKA_INTERNAL_PORT=${BENCH_KAFKA_INTERNAL_PORT:-$(( $2 + 2 ))}
  export INGEST_DICOM_PORT=${BENCH_DICOM_PORT:-$3} INGEST_DICOM_TLS_PORT=${BENCH_DICOM_TLS_PORT:-$(( $3 + 2 ))}
  export INGEST_HTTP_PORT=${BENCH_HTTP_PORT:-$(( $4 + 1 ))} STREAMS_HTTP_PORT=${BENCH_STREAMS_PORT:-$(( $4 + 2 ))}
  export INFERENCE_HTTP_PORT=${BENCH_INFERENCE_PORT:-$(( $4 + 3 ))} RETRAIN_HTTP_PORT=${BENCH_RETRAIN_PORT:-$(( $4 + 4 ))}
  export FHIR_BRIDGE_HTTP_PORT=${BENCH_BRIDGE_PORT:-$(( $4 + 5 ))} EHR_PORT=${BENCH_EHR_PORT:-$(( $4 + 10 ))}
  export CONSOLE_HTTP_PORT=${BENCH_CONSOLE_PORT:-$(( $4 + 6 ))}
  export SOURCE_MODEL=${SOURCE_MODEL:-$ROOT/models/source.onnx}
  STACK_PIDS="$PIPELINE_HOME/pids"; STACK_LOGS="$PIPELINE_HOME/logs"
  stack_down >/dev/null 2>&1 || true
  rm -rf "$PIPELINE_HOME"; mkdir -p "$PIPELINE_HOME"
}

# Kafka security (docs/security.md "Kafka"): the client listener KAFKA_PORT is SASL_SSL (SCRAM-SHA-512) with one principal
# per service and ACLs; the internal listener (inter-broker traffic and the provisioning identity, mutual TLS) is
# KAFKA_INTERNAL_PORT. KAFKA_SECURITY=plaintext runs the old unauthenticated broker (for debugging only).
# Read when used (benchmarks set KAFKA_PORT after this file is sourced).
kafka_internal_port() { echo "${KAFKA_INTERNAL_PORT:-$((KAFKA_PORT + 2))}"; }
KAFKA_SECURITY="${KAFKA_SECURITY:-sasl_ssl}"
# Cluster mode (`./pipeline up --brokers 3`, or KAFKA_BROKERS=3; docs/operations.md "Cluster mode"): N KRaft nodes, each
# broker and controller, one cluster id, every topic with N replicas and min.insync.replicas N-1 (at least 1). Node 1 is
# "broker" on KAFKA_PORT (data $PIPELINE_HOME/kafka); node i > 1 is "broker-i" on KAFKA_PORT + 10(i-1) (client; +1
# controller, +2 internal; data $PIPELINE_HOME/kafka-i). The count is recorded in $PIPELINE_HOME/kafka-cluster at the
# first `up` and a home is never started with another count (its nodes' storage names the quorum it was formatted for).
kafka_cluster_file() { echo "$PIPELINE_HOME/kafka-cluster"; }
broker_name() { if [ "$1" = 1 ]; then echo broker; else echo "broker-$1"; fi; }
broker_data() { if [ "$1" = 1 ]; then echo "$PIPELINE_HOME/kafka"; else echo "$PIPELINE_HOME/kafka-$1"; fi; }
broker_port() { echo $((KAFKA_PORT + 10 * ($1 - 1))); }
broker_controller_port() { if [ "$1" = 1 ]; then echo "$KAFKA_CONTROLLER_PORT"; else echo $(($(broker_port "$1") + 1)); fi; }
broker_internal_port() { if [ "$1" = 1 ]; then kafka_internal_port; else echo $(($(broker_port "$1") + 2)); fi; }
# The brokers this home runs: KAFKA_BROKERS when set (by `up --brokers N` or the environment), else the recorded count, else 1.
kafka_brokers() {
  if [ -n "${KAFKA_BROKERS:-}" ]; then echo "$KAFKA_BROKERS"
  elif [ -f "$(kafka_cluster_file)" ]; then sed -n 's/^brokers=//p' "$(kafka_cluster_file)"
  else echo 1; fi
}
# Every node's client listener: what each service gets as kafka.bootstrap.servers.
kafka_bootstrap() {
  local i n out=""; n=$(kafka_brokers)
  for ((i = 1; i <= n; i++)); do out+="${out:+,}127.0.0.1:$(broker_port "$i")"; done
  echo "$out"
}
# What provisioning connects to: the internal listeners when secured, else the client ones.
kafka_provision_bootstrap() {
  kafka_secured || { kafka_bootstrap; return; }
  local i n out=""; n=$(kafka_brokers)
  for ((i = 1; i <= n; i++)); do out+="${out:+,}127.0.0.1:$(broker_internal_port "$i")"; done
  echo "$out"
}
kafka_min_insync() { local n; n=$(kafka_brokers); echo $((n > 1 ? n - 1 : 1)); }
# A Kafka cluster id (16 random bytes, base64url without padding, not starting with '-', as Kafka's Uuid prints them).
new_kafka_cluster_id() {
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [[ $id == -* ]] || { echo "$id"; return; }
  done
}
# Checks the requested count against the home's record (writes it at the first cluster start); prints the cluster id.
kafka_cluster_record() { # brokers
  local n=$1 file recorded id
  file=$(kafka_cluster_file)
  if [ -f "$file" ]; then
    recorded=$(sed -n 's/^brokers=//p' "$file"); id=$(sed -n 's/^cluster.id=//p' "$file")
    [ "$recorded" = "$n" ] || die "$PIPELINE_HOME was set up with $recorded Kafka broker(s), not $n: ./pipeline down, then use another PIPELINE_HOME (or delete this one's data)"
  else
    [ "$n" = 1 ] && { echo ""; return; } # a single node keeps its own cluster.id in its data folder (as before)
    [ -f "$PIPELINE_HOME/kafka/kraft-logs/meta.properties" ] \
      && die "$PIPELINE_HOME holds a single broker's data: a cluster needs a fresh PIPELINE_HOME"
    id=$(new_kafka_cluster_id)
    printf 'brokers=%s\ncluster.id=%s\n' "$n" "$id" > "$file"
  fi
  echo "$id"
}
kafka_secured() { [ "$KAFKA_SECURITY" != plaintext ]; }
# A service's Kafka credentials: its Quarkus properties file under secrets/kafka (kafka.* and kafka-streams.* settings).
# Always one java option (quote it): the file when secured, else a marker that names the plaintext mode.
kafka_opt() { # principal
  if kafka_secured; then echo "-Dquarkus.config.locations=file:$PIPELINE_HOME/secrets/kafka/$1.quarkus.properties"
  else echo "-Dpipeline.kafka.security=plaintext"; fi
}
INGEST_DICOM_PORT="${INGEST_DICOM_PORT:-11112}"
# DICOM TLS (ingest.dicom.tls.*, docs/security.md "DICOM"): off with INGEST_DICOM_TLS_ENABLED=false.
INGEST_DICOM_TLS_PORT="${INGEST_DICOM_TLS_PORT:-2762}"
INGEST_HTTP_PORT="${INGEST_HTTP_PORT:-8081}"
STREAMS_HTTP_PORT="${STREAMS_HTTP_PORT:-8082}"
RETRAIN_HTTP_PORT="${RETRAIN_HTTP_PORT:-8084}"
FHIR_BRIDGE_HTTP_PORT="${FHIR_BRIDGE_HTTP_PORT:-8085}"
CONSOLE_HTTP_PORT="${CONSOLE_HTTP_PORT:-8086}"
INFERENCE_HTTP_PORT="${INFERENCE_HTTP_PORT:-8083}"
# The source model inference registers as the default when the registry has none; PACS_ADDRESS (HOST:PORT:AET) optional.
DEFAULT_SOURCE_MODEL="$ROOT/models/source.onnx" # the committed source model; SOURCE_MODEL overrides it (read when `up` runs)
EHR_PORT="${EHR_PORT:-8090}"
STACK_SERVICES=(broker ehr ingest streams inference retrain fhir-bridge console) # plus broker-2.., ingest-2.. in cluster mode
# Instances (`./pipeline up --instances 2`, or STACK_INSTANCES=2; docs/operations.md "Cluster mode"): instance i > 1 of
# ingest, streams, inference and fhir-bridge is "SERVICE-i", every port of instance 1 + 100(i-1), in the same consumer
# groups; ingest instances share the blob store ($PIPELINE_HOME/blobs) and each keeps its own acknowledged index and
# quarantine ($PIPELINE_HOME/instances/ingest-i), streams instances their own state ($PIPELINE_HOME/instances/streams-i).
# retrain and the EHR stand-in run once (retrain's job store is one writer's: a second instance would need a lease).
SCALED_SERVICES=(ingest streams inference fhir-bridge)
instance_name() { if [ "$2" = 1 ]; then echo "$1"; else echo "$1-$2"; fi; } # service instance
instance_port() { echo $(($1 + 100 * ($2 - 1))); } # port-of-instance-1 instance
# Which services `up` starts besides the broker (benchmarks start only what they measure).
STACK_PARTS="${STACK_PARTS:-ehr ingest streams inference retrain fhir-bridge console}"
part() { [[ " $STACK_PARTS " == *" $1 "* ]]; }
STACK_PIDS="$PIPELINE_HOME/pids"
STACK_LOGS="$PIPELINE_HOME/logs"
# The token issuer (test-support LocalIssuer): its key pair under PIPELINE_HOME/secrets/, created once by `up`; every
# service verifies bearer tokens with the public key (docs/security.md). MP_JWT_VERIFY_PUBLICKEY_LOCATION overrides it.
ISSUER_MAIN=org.imagingpipeline.testsupport.auth.TokenCommand

# ./pipeline token ROLE...: a token for the roles as the last stdout line (the key is created first when missing).
stack_token() {
  java -cp "$(module_cp test-support)" "$ISSUER_MAIN" token --secrets "$PIPELINE_HOME/secrets" "$@"
}

# The token issuer's key pair, retrain's model-signing key pair (events ModelSigning), each created once (never
# replaced), and the local CA (local-ca LocalCaCommand: ca.pem, created once) with the certificates it issues: ingest's
# DICOM TLS listener (INGEST_TLS_NAMES: extra host names/addresses for it, comma-separated), "scanner" (a client
# certificate for local senders: storescu +tls scanner-key.pem scanner.pem +cf ca.pem) and "inference" (its client
# certificate towards a PACS over TLS); the services' verification settings as -D options. Retrain signs every ml.model.versions record with
# model-signing-key.pem; inference trusts model-signing-public.pem plus MODEL_SIGNING_TRUSTED_KEYS (comma-separated
# public key files of earlier keys, during a rotation; docs/security.md).
stack_secrets() {
  # One JVM for the four of test-support's classpath (StackSecrets; each created once, then only checked).
  local issue_ca=(--issue "ingest${INGEST_TLS_NAMES:+=$INGEST_TLS_NAMES}" --issue scanner --issue inference)
  # Kafka: the broker's and the provisioning identity's certificates, a SCRAM password and client settings per principal.
  kafka_secured && issue_ca+=(--kafka)
  java -cp "$(module_cp test-support)" org.imagingpipeline.testsupport.StackSecrets --secrets "$PIPELINE_HOME/secrets" \
    "${issue_ca[@]}" >&2 || die "cannot create the keys and certificates under $PIPELINE_HOME/secrets (token issuer, model signing, local CA, Kafka)"
  # fhir-bridge's SMART Backend Services key pair (fhir-bridge SmartKeys): fhir-bridge-smart-key.pem (0600, the client
  # assertions' RS384 key) and fhir-bridge-smart-jwks.json (the public JWK Set an EHR registers); created once.
  if part fhir-bridge || part ehr; then
    local q="$ROOT/fhir-bridge/target/quarkus-app"
    java -cp "$q/app/*:$q/lib/main/*:$q/lib/boot/*" org.imagingpipeline.fhirbridge.smart.SmartKeys "$PIPELINE_HOME/secrets" >/dev/null \
      || die "cannot create fhir-bridge's SMART key under $PIPELINE_HOME/secrets"
  fi
  AUTH_OPTS=(-Dmp.jwt.verify.publickey.location="${MP_JWT_VERIFY_PUBLICKEY_LOCATION:-$PIPELINE_HOME/secrets/token-issuer-public.pem}")
  local trusted="$PIPELINE_HOME/secrets/model-signing-public.pem${MODEL_SIGNING_TRUSTED_KEYS:+,$MODEL_SIGNING_TRUSTED_KEYS}"
  INFERENCE_SIGNING_OPTS=(-Dinference.model-signing.public-keys="$trusted")
  RETRAIN_SIGNING_OPTS=(-Dretrain.model-signing.private-key="$PIPELINE_HOME/secrets/model-signing-key.pem")
  [ -n "${MODEL_SIGNING_TRUSTED_KEYS:-}" ] && RETRAIN_SIGNING_OPTS+=(-Dretrain.model-signing.trusted-public-keys="$MODEL_SIGNING_TRUSTED_KEYS")
  return 0
}

pid_alive() { [ -f "$STACK_PIDS/$1.pid" ] && kill -0 "$(cat "$STACK_PIDS/$1.pid")" 2>/dev/null; }

start_bg() { # name, command...
  local name=$1; shift
  mkdir -p "$STACK_PIDS" "$STACK_LOGS"
  if pid_alive "$name"; then log "stack: $name already running (pid $(cat "$STACK_PIDS/$name.pid"))"; return; fi
  setsid "$@" >>"$STACK_LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$STACK_PIDS/$name.pid"
  log "stack: started $name (pid $!, log $STACK_LOGS/$name.log)"
}

wait_http() { # name url seconds
  local name=$1 url=$2 secs=$3 i
  for ((i = 0; i < secs * 4; i++)); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    pid_alive "$name" || { tail -n 30 "$STACK_LOGS/$name.log" >&2; die "$name exited; log: $STACK_LOGS/$name.log"; }
    sleep 0.25
  done
  tail -n 30 "$STACK_LOGS/$name.log" >&2; die "$name did not become healthy at $url within ${secs}s"
}

wait_kafka() {
  local i j n name provision=(--bootstrap "$(kafka_provision_bootstrap)" --replication-factor "$(kafka_brokers)")
  # Secured: topics, SCRAM users and ACLs through the internal listener, as the provisioning identity (a super user).
  kafka_secured && provision+=(--secrets "$PIPELINE_HOME/secrets")
  n=$(kafka_brokers)
  for ((i = 0; i < 360; i++)); do
    if java -cp "$(module_cp test-support)" org.imagingpipeline.testsupport.TopicProvisioner "${provision[@]}" \
        >>"$STACK_LOGS/topics.log" 2>&1; then return 0; fi
    for ((j = 1; j <= n; j++)); do
      name=$(broker_name "$j")
      pid_alive "$name" || { tail -n 30 "$STACK_LOGS/$name.log" >&2; die "$name exited; log: $STACK_LOGS/$name.log"; }
    done
    sleep 0.5
  done
  die "Kafka did not answer on $(kafka_bootstrap)"
}

# What provisioning derives from: the topic catalogue (events), the access rules and the provisioner (test-support), the
# node count and security, and the Kafka credentials. A rebuild changes the jars, so `up` provisions once more after it.
kafka_provisioned_file() { echo "$PIPELINE_HOME/kafka-provisioned"; }
kafka_provision_fingerprint() {
  {
    echo "brokers $(kafka_brokers) security ${KAFKA_SECURITY:-sasl_ssl}"
    cat "$ROOT"/test-support/target/lib/events-*.jar
    find "$ROOT/test-support/target/classes/org/imagingpipeline/testsupport" -maxdepth 2 -name '*.class' -print0 | sort -z | xargs -0 cat
    [ -d "$PIPELINE_HOME/secrets/kafka" ] && find "$PIPELINE_HOME/secrets/kafka" -type f -print0 | sort -z | xargs -0 cat
  } 2>/dev/null | sha256sum | cut -d' ' -f1
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

check_ports_free() { # name:port ...
  local item name port
  for item in "$@"; do
    name=${item%%:*}; port=${item#*:}
    if ! pid_alive "$name" && port_busy "$port"; then
      die "port $port (for $name) is already in use: another stack? See ./pipeline status with its PIPELINE_HOME, or set ${name^^}_PORT"
    fi
  done
}

stack_up() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --brokers) [ $# -ge 2 ] || die "up: --brokers needs a count"; KAFKA_BROKERS=$2; shift 2 ;;
      --brokers=*) KAFKA_BROKERS=${1#*=}; shift ;;
      --instances) [ $# -ge 2 ] || die "up: --instances needs a count"; STACK_INSTANCES=$2; shift 2 ;;
      --instances=*) STACK_INSTANCES=${1#*=}; shift ;;
      *) die "up: unknown option $1 (./pipeline up [--brokers N] [--instances N])" ;;
    esac
  done
  mkdir -p "$PIPELINE_HOME"
  local brokers cluster_id b; brokers=$(kafka_brokers)
  [[ $brokers =~ ^[1-9]$ ]] || die "up: --brokers must be 1 to 9, not '$brokers'"
  export KAFKA_BROKERS=$brokers
  local instances=${STACK_INSTANCES:-1} i
  [[ $instances =~ ^[1-9]$ ]] || die "up: --instances must be 1 to 9, not '$instances'"
  for ((b = 2; b <= brokers; b++)); do
    check_ports_free "broker-$b:$(broker_port "$b")" "broker-$b:$(broker_controller_port "$b")"
    kafka_secured && check_ports_free "broker-$b:$(broker_internal_port "$b")"
  done
  # No two listeners on one port (a cluster's extra nodes take KAFKA_PORT + 10, + 20, ...).
  local ports=() seen=" " p
  for ((b = 1; b <= brokers; b++)); do
    ports+=("$(broker_name "$b"):$(broker_port "$b")" "$(broker_name "$b"):$(broker_controller_port "$b")")
    kafka_secured && ports+=("$(broker_name "$b"):$(broker_internal_port "$b")")
  done
  local instance_ports=()
  for ((i = 1; i <= instances; i++)); do
    instance_ports=("$(instance_name ingest $i):$(instance_port "$INGEST_DICOM_PORT" $i)" "$(instance_name ingest $i):$(instance_port "$INGEST_HTTP_PORT" $i)"
      "$(instance_name streams $i):$(instance_port "$STREAMS_HTTP_PORT" $i)" "$(instance_name inference $i):$(instance_port "$INFERENCE_HTTP_PORT" $i)"
      "$(instance_name fhir-bridge $i):$(instance_port "$FHIR_BRIDGE_HTTP_PORT" $i)")
    [ "${INGEST_DICOM_TLS_ENABLED:-true}" = false ] || instance_ports+=("$(instance_name ingest $i):$(instance_port "$INGEST_DICOM_TLS_PORT" $i)")
    [ "$i" = 1 ] || check_ports_free "${instance_ports[@]}" # instance 1's are checked with the rest below
    ports+=("${instance_ports[@]}")
  done
  ports+=("retrain:$RETRAIN_HTTP_PORT" "console:$CONSOLE_HTTP_PORT")
  [ -n "${FHIR_BASE_URL:-}" ] || ports+=("ehr:$EHR_PORT")
  for p in "${ports[@]}"; do
    [[ $seen == *":${p#*:} "* ]] && die "up: port ${p#*:} is configured twice (${p%%:*} and$(tr ' ' '\n' <<<"$seen" | grep ":${p#*:}\$" | sed 's/:.*//; s/^/ /'))"
    seen+="$p "
  done
  cluster_id=$(kafka_cluster_record "$brokers") || exit 1
  check_ports_free "broker:$KAFKA_PORT" "broker:$KAFKA_CONTROLLER_PORT" "ingest:$INGEST_DICOM_PORT" "ingest:$INGEST_HTTP_PORT" \
    "streams:$STREAMS_HTTP_PORT" "inference:$INFERENCE_HTTP_PORT" "retrain:$RETRAIN_HTTP_PORT" "fhir-bridge:$FHIR_BRIDGE_HTTP_PORT"
  [ -n "${FHIR_BASE_URL:-}" ] || check_ports_free "ehr:$EHR_PORT"
  part console && check_ports_free "console:$CONSOLE_HTTP_PORT"
  [ "${INGEST_DICOM_TLS_ENABLED:-true}" = false ] || check_ports_free "ingest:$INGEST_DICOM_TLS_PORT"
  kafka_secured && check_ports_free "broker:$(kafka_internal_port)"
  stack_secrets
  local broker_security=() cluster_opts=() voters=""
  if [ "$brokers" -gt 1 ]; then
    for ((b = 1; b <= brokers; b++)); do voters+="${voters:+,}$b@127.0.0.1:$(broker_controller_port "$b")"; done
  fi
  # Nodes already running: `up` restarts what is missing and provisions again only what changed (below).
  local running_before=0
  for ((b = 1; b <= brokers; b++)); do pid_alive "$(broker_name "$b")" && running_before=$((running_before + 1)); done
  # Every node starts before any answers: a cluster's nodes become ready together, once a quorum of them runs.
  for ((b = 1; b <= brokers; b++)); do
    broker_security=(); cluster_opts=()
    kafka_secured && broker_security=(--secrets "$PIPELINE_HOME/secrets" --internal-port "$(broker_internal_port "$b")")
    [ "$brokers" -gt 1 ] && cluster_opts=(--node-id "$b" --voters "$voters" --cluster-id "$cluster_id" --replication "$brokers")
    start_bg "$(broker_name "$b")" java -Xmx512m -cp "$(module_cp test-support)" org.imagingpipeline.testsupport.KraftBroker \
      --data-dir "$(broker_data "$b")" --port "$(broker_port "$b")" --controller-port "$(broker_controller_port "$b")" \
      "${broker_security[@]}" "${cluster_opts[@]}"
  done
  local where="127.0.0.1:$KAFKA_PORT" fingerprint; fingerprint=$(kafka_provision_fingerprint)
  [ "$brokers" -gt 1 ] && where="$(kafka_bootstrap) ($brokers nodes, $brokers replicas per topic, min.insync.replicas $(kafka_min_insync))"
  # Provisioning (a JVM, topics reconciled, every SCRAM credential set) is needed when the cluster starts and after a
  # change of what it derives from; a node restarted into a running cluster only catches up (seconds that count when
  # `up` restarts a crashed process: docs/operations.md, "What `up` does when some of the stack runs").
  if [ "$running_before" -gt 0 ] && [ "$(cat "$(kafka_provisioned_file)" 2>/dev/null)" = "$fingerprint" ]; then
    log "stack: Kafka was running ($running_before of $brokers nodes) on $where; catalogue, access and credentials unchanged since provisioned"
  else
    wait_kafka
    echo "$fingerprint" > "$(kafka_provisioned_file)"
    if kafka_secured; then
      log "stack: Kafka ready on $where (SASL_SSL, SCRAM-SHA-512, ACLs; credentials in $PIPELINE_HOME/secrets/kafka), topics provisioned"
    else
      log "stack: Kafka ready on $where (PLAINTEXT, no authentication: KAFKA_SECURITY=plaintext), topics provisioned"
    fi
  fi
  # Kafka Streams' own topics (changelogs, repartitions) get as many replicas as the catalogue's.
  local streams_replication=(-Dkafka-streams.replication.factor="$brokers")
  [ "$brokers" -gt 1 ] && streams_replication+=(-Dkafka-streams.topic.min.insync.replicas="$(kafka_min_insync)")
  local instance_opts=()
  for ((i = 1; i <= instances; i++)); do
    instance_opts=()
    [ "$i" = 1 ] || instance_opts=(-Dingest.home="$PIPELINE_HOME/instances/ingest-$i" -Dingest.blob-root="$PIPELINE_HOME/blobs")
    part ingest && start_bg "$(instance_name ingest $i)" java -Xmx"${INGEST_XMX:-1g}" "${AUTH_OPTS[@]}" "$(kafka_opt ingest)" \
      -Dkafka.bootstrap.servers="$(kafka_bootstrap)" -Dquarkus.http.port="$(instance_port "$INGEST_HTTP_PORT" $i)" \
      -Dingest.dicom.port="$(instance_port "$INGEST_DICOM_PORT" $i)" -Dingest.dicom.tls.port="$(instance_port "$INGEST_DICOM_TLS_PORT" $i)" \
      -Dingest.dicom.allowed-calling-aets="${INGEST_ALLOWED_AETS:-}" \
      -Dpipeline.home="$PIPELINE_HOME" "${instance_opts[@]}" \
      -jar "$ROOT/ingest/target/quarkus-app/quarkus-run.jar"
  done
  local fhir_base="${FHIR_BASE_URL:-http://127.0.0.1:$EHR_PORT/fhir}"
  if part ehr && [ -z "${FHIR_BASE_URL:-}" ]; then
    local q="$ROOT/fhir-bridge/target/quarkus-app" ehr_auth=()
    # EHR_AUTH=smart: the stand-in runs a SMART Backend Services token endpoint with fhir-bridge's JWK Set registered
    # (client id fhir-bridge) and every FHIR request needs its access token; the bridge authenticates with
    # private_key_jwt (BRIDGE_FHIR_AUTH_MODE, read by the bridge from the environment). Default: no EHR auth, because
    # the demo and the scenario tests read the stand-in's reports without a token (docs/security.md).
    if [ "${EHR_AUTH:-none}" = smart ]; then
      ehr_auth=(--smart-client "fhir-bridge=$PIPELINE_HOME/secrets/fhir-bridge-smart-jwks.json")
      export BRIDGE_FHIR_AUTH_MODE=smart
    fi
    start_bg ehr java -Xmx512m -Djava.util.logging.manager=org.jboss.logmanager.LogManager \
      -cp "$q/app/*:$q/lib/main/*:$q/lib/boot/*" org.imagingpipeline.fhirbridge.ehr.EhrServerMain \
      --host 127.0.0.1 --port "$EHR_PORT" "${ehr_auth[@]}"
  fi
  # The drift detector's KNOWN reference: the training patients of the source model (its card's sites minus its
  # validation patients, found in STREAMS_DRIFT_TRAINING_DATA), and/or a file of INSTITUTION,PATIENTID lines.
  local source_model="${SOURCE_MODEL:-$DEFAULT_SOURCE_MODEL}"
  local streams_opts=() ref_card="${STREAMS_DRIFT_MODEL_CARD:-${source_model%.onnx}.card.json}"
  local ref_data="${STREAMS_DRIFT_TRAINING_DATA:-$SHARED_DATA/lgg-flair}"
  if [ -f "$ref_card" ] && [ -d "$ref_data" ]; then
    streams_opts+=(-Dstreams.drift.model-card="$ref_card" -Dstreams.drift.training-data="$ref_data")
  fi
  [ -n "${STREAMS_DRIFT_REFERENCE_FILE:-}" ] && streams_opts+=(-Dstreams.drift.reference-file="$STREAMS_DRIFT_REFERENCE_FILE")
  [ ${#streams_opts[@]} -gt 0 ] || log "stack: streams has no KNOWN reference (no model card at $ref_card or no data at $ref_data):" \
    "every domain stays CANDIDATE until approved (POST /domains/{id}/approve)"
  for ((i = 1; i <= instances; i++)); do
    instance_opts=()
    [ "$i" = 1 ] || instance_opts=(-Dkafka-streams.state.dir="$PIPELINE_HOME/instances/streams-$i/streams-state")
    part streams && start_bg "$(instance_name streams $i)" java -Xmx768m "${AUTH_OPTS[@]}" "$(kafka_opt streams)" \
      -Dkafka.bootstrap.servers="$(kafka_bootstrap)" -Dquarkus.http.port="$(instance_port "$STREAMS_HTTP_PORT" $i)" \
      -Dpipeline.home="$PIPELINE_HOME" -Dstreams.assembly.inactivity="${STREAMS_ASSEMBLY_INACTIVITY:-30s}" "${streams_replication[@]}" \
      "${streams_opts[@]}" "${instance_opts[@]}" -jar "$ROOT/streams/target/quarkus-app/quarkus-run.jar"
  done
  if part inference; then
    [ -f "$source_model" ] || log "stack: no source model at $source_model (set SOURCE_MODEL or ./pipeline train --out it);" \
      "inference answers series with ERROR results until a default model is promoted"
    # One registrar of the source model: retrain (the registry's owner) when it runs, else inference itself.
    local inference_source=""; part retrain || { [ -f "$source_model" ] && inference_source=$source_model; }
    # PACS_TLS=true: SEGs to PACS_ADDRESS over DICOM TLS, trusting PACS_TLS_CA (default: the local CA) and presenting
    # the local CA's inference certificate.
    local pacs_tls=()
    [ "${PACS_TLS:-false}" = true ] && pacs_tls=(-Dinference.pacs-tls.enabled=true
      -Dinference.pacs-tls.trust-store="${PACS_TLS_CA:-$PIPELINE_HOME/secrets/ca.pem}"
      -Dinference.pacs-tls.certificate="$PIPELINE_HOME/secrets/inference.pem" -Dinference.pacs-tls.private-key="$PIPELINE_HOME/secrets/inference-key.pem")
    for ((i = 1; i <= instances; i++)); do
      [ "$i" = 1 ] || inference_source="" # one registrar
      start_bg "$(instance_name inference $i)" env SOURCE_MODEL="$inference_source" PACS_ADDRESS="${PACS_ADDRESS:-}" \
        java -Xmx1g "${AUTH_OPTS[@]}" "${INFERENCE_SIGNING_OPTS[@]}" "${pacs_tls[@]}" "$(kafka_opt inference)" -Dkafka.bootstrap.servers="$(kafka_bootstrap)" \
        -Dquarkus.http.port="$(instance_port "$INFERENCE_HTTP_PORT" $i)" -Dpipeline.home="$PIPELINE_HOME" -jar "$ROOT/inference/target/quarkus-app/quarkus-run.jar"
    done
  fi
  # retrain runs each adaptation job in a child JVM of its own installation (retrain.adapt.command=self: the jars of
  # retrain/target/quarkus-app, nothing from the checkout); libtorch is extracted once into the build's DJL cache.
  # The gate's source data is passed when present.
  # SOURCE_MODEL (default: the committed models/source.onnx) is registered as the default model when present.
  local retrain_opts=()
  local retrain_data="${RETRAIN_SOURCE_DATA:-$SHARED_DATA/lgg-flair}"
  # Source sites: RETRAIN_SOURCE_SITES, else the parent model card's training sites (./pipeline adapt's default).
  [ -d "$retrain_data" ] && retrain_opts=(-Dretrain.source-data="$retrain_data")
  [ -d "$retrain_data" ] && [ -n "${RETRAIN_SOURCE_SITES:-}" ] && retrain_opts+=(-Dretrain.source-sites="$RETRAIN_SOURCE_SITES")
  [ -f "$source_model" ] && retrain_opts+=(-Dretrain.source-model="$source_model")
  # Expert-corrected masks by SeriesInstanceUID (the demo's simulated radiologist writes them); the gate decides on them.
  [ -n "${RETRAIN_EXPERT_LABELS:-}" ] && retrain_opts+=(-Dretrain.expert-labels="$RETRAIN_EXPERT_LABELS")
  part retrain && start_bg retrain java -Xmx384m "${AUTH_OPTS[@]}" "${RETRAIN_SIGNING_OPTS[@]}" "$(kafka_opt retrain)" \
    -Dkafka.bootstrap.servers="$(kafka_bootstrap)" -Dquarkus.http.port="$RETRAIN_HTTP_PORT" \
    -Dpipeline.home="$PIPELINE_HOME" -Dretrain.adapt.jvm-options="-Xmx${RETRAIN_XMX:-4g}" \
    -Dretrain.adapt.djl-cache="${DJL_CACHE_DIR:-$ROOT/retrain/target/djl-cache}" -Dretrain.adapt.directory="$PIPELINE_HOME" \
    "${retrain_opts[@]}" -jar "$ROOT/retrain/target/quarkus-app/quarkus-run.jar"
  for ((i = 1; i <= instances; i++)); do
    part fhir-bridge && start_bg "$(instance_name fhir-bridge $i)" env FHIR_BASE_URL="$fhir_base" java -Xmx768m "${AUTH_OPTS[@]}" "$(kafka_opt fhir-bridge)" \
      -Dkafka.bootstrap.servers="$(kafka_bootstrap)" -Dquarkus.http.port="$(instance_port "$FHIR_BRIDGE_HTTP_PORT" $i)" -Dpipeline.home="$PIPELINE_HOME" \
      -Dbridge.mapping.dicomweb-base-url="${BRIDGE_MAPPING_DICOMWEB_BASE_URL:-http://127.0.0.1:$INGEST_HTTP_PORT/dicomweb}" \
      -jar "$ROOT/fhir-bridge/target/quarkus-app/quarkus-run.jar"
  done
  # The ML-ops console (docs/console.md): pages over streams' and retrain's APIs, with the signed-in person's token.
  part console && start_bg console java -Xmx192m "${AUTH_OPTS[@]}" -Dquarkus.http.port="$CONSOLE_HTTP_PORT" \
    -Dpipeline.home="$PIPELINE_HOME" -Dconsole.streams-url="http://127.0.0.1:$STREAMS_HTTP_PORT" \
    -Dconsole.retrain-url="http://127.0.0.1:$RETRAIN_HTTP_PORT" -jar "$ROOT/console/target/quarkus-app/quarkus-run.jar"
  local n
  for ((i = 1; i <= instances; i++)); do
    n=$(instance_name ingest $i)
    part ingest && wait_http "$n" "http://127.0.0.1:$(instance_port "$INGEST_HTTP_PORT" $i)/q/health/ready" 120 \
      && log "stack: $n ready (DICOM 127.0.0.1:$(instance_port "$INGEST_DICOM_PORT" $i) AE INGEST, DICOM TLS 127.0.0.1:$(instance_port "$INGEST_DICOM_TLS_PORT" $i), HTTP 127.0.0.1:$(instance_port "$INGEST_HTTP_PORT" $i))"
    n=$(instance_name streams $i)
    part streams && wait_http "$n" "http://127.0.0.1:$(instance_port "$STREAMS_HTTP_PORT" $i)/q/health/ready" 120 \
      && log "stack: $n ready (series assembly -> imaging.series.ready, HTTP 127.0.0.1:$(instance_port "$STREAMS_HTTP_PORT" $i))"
    n=$(instance_name inference $i)
    part inference && wait_http "$n" "http://127.0.0.1:$(instance_port "$INFERENCE_HTTP_PORT" $i)/q/health/ready" 120 \
      && log "stack: $n ready (series -> segmentation results + SEG, HTTP 127.0.0.1:$(instance_port "$INFERENCE_HTTP_PORT" $i))"
  done
  part retrain && wait_http retrain "http://127.0.0.1:$RETRAIN_HTTP_PORT/q/health/ready" 120 \
    && log "stack: retrain ready (adaptation jobs, HTTP 127.0.0.1:$RETRAIN_HTTP_PORT)"
  if part ehr && [ -z "${FHIR_BASE_URL:-}" ]; then
    wait_http ehr "http://127.0.0.1:$EHR_PORT/health" 60
    log "stack: EHR stand-in ready (FHIR R4 at http://127.0.0.1:$EHR_PORT/fhir)"
  fi
  part console && wait_http console "http://127.0.0.1:$CONSOLE_HTTP_PORT/q/health/ready" 120 \
    && log "stack: console ready (http://127.0.0.1:$CONSOLE_HTTP_PORT/, sign in with ./pipeline token mlops viewer)"
  # The bridge validates a sample bundle before it reports ready (10-60 s on 2 cores).
  for ((i = 1; i <= instances; i++)); do
    n=$(instance_name fhir-bridge $i)
    part fhir-bridge && wait_http "$n" "http://127.0.0.1:$(instance_port "$FHIR_BRIDGE_HTTP_PORT" $i)/q/health/ready" 180 \
      && log "stack: $n ready (HTTP 127.0.0.1:$(instance_port "$FHIR_BRIDGE_HTTP_PORT" $i), delivering to $fhir_base)"
  done
  stack_status
  return 0
}

stop_one() { # name
  local name=$1 pid i
  [ -f "$STACK_PIDS/$name.pid" ] || return 0
  pid=$(cat "$STACK_PIDS/$name.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 240; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then log "stack: $name did not stop in 60s, killing"; kill -KILL "$pid" 2>/dev/null || true; fi
    log "stack: stopped $name (pid $pid)"
  fi
  rm -f "$STACK_PIDS/$name.pid"
}

stack_down() {
  # Reverse start order: services first, the broker last so that they can flush.
  stop_one console
  stop_service fhir-bridge
  stop_service inference
  stop_one retrain
  stop_service streams
  stop_service ingest
  stop_one ehr
  stop_brokers
}

# A service's extra instances (SERVICE-2, ...), then instance 1.
stop_service() { # service
  local f
  for f in "$STACK_PIDS/$1"-[0-9]*.pid; do [ -f "$f" ] && stop_one "$(basename "$f" .pid)"; done
  stop_one "$1"
}

# Every Kafka node at once (SIGTERM to all, then wait): one by one, the last node would wait for a quorum already gone.
stop_brokers() {
  local f stopping=()
  for f in "$STACK_PIDS"/broker.pid "$STACK_PIDS"/broker-*.pid; do
    [ -f "$f" ] || continue
    stop_one "$(basename "$f" .pid)" &
    stopping+=($!)
  done
  [ ${#stopping[@]} -eq 0 ] || wait "${stopping[@]}"
  return 0
}

stack_status() {
  local name state out="{" first=1 b f services=("${STACK_SERVICES[@]}")
  for ((b = 2; b <= $(kafka_brokers); b++)); do services+=("broker-$b"); done
  for name in "${SCALED_SERVICES[@]}"; do
    for f in "$STACK_PIDS/$name"-[0-9]*.pid; do [ -f "$f" ] && services+=("$(basename "$f" .pid)"); done
  done
  for name in "${services[@]}"; do
    if pid_alive "$name"; then state="\"running\",\"pid\":$(cat "$STACK_PIDS/$name.pid")"; else state="\"stopped\""; fi
    [ $first = 1 ] || out+=","; first=0
    out+="\"$name\":{\"state\":$state}"
  done
  out+=",\"pipeline_home\":\"$PIPELINE_HOME\"}"
  echo "$out"
}
