# ./pipeline demo [--data DIR] [--out DIR] (sourced by ./pipeline).
# This first demo covers what exists today: it starts the stack, sends DICOM files by real C-STORE
# (the shared vendor set, or synthetic series it generates when ../shared is absent), shows what arrived
# on imaging.instances.received, writes OUT/summary.json and OUT/index.html, and stops the stack.
demo_main() {
  local data="" out="$ROOT/target/demo"
  while [ $# -gt 0 ]; do
    case "$1" in
      --data) data=$2; shift 2 ;;
      --out) out=$2; shift 2 ;;
      *) die "demo: unknown option $1 (use --data DIR, --out DIR)" ;;
    esac
  done
  mkdir -p "$out"; out=$(cd "$out" && pwd)
  export PIPELINE_HOME="$out/stack"
  STACK_PIDS="$PIPELINE_HOME/pids"; STACK_LOGS="$PIPELINE_HOME/logs"
  stack_down >/dev/null 2>&1 || true
  rm -rf "$PIPELINE_HOME"

  local synthetic=false source_desc
  if [ -n "$data" ]; then
    [ -d "$data" ] || die "demo: --data $data is not a folder"
    source_desc="DICOM files under $data"
  elif [ -d "$SHARED_DATA/dicom-vendors" ]; then
    data="$SHARED_DATA/dicom-vendors"
    source_desc="real vendor DICOM (GE, Siemens, Philips, UIH; 9 transfer syntaxes) from $data"
  else
    synthetic=true
    data="$out/generated-dicom"
    rm -rf "$data"
    log "demo: no shared data at $SHARED_DATA — generating SYNTHETIC MR series (phantoms, not patient data)"
    java -cp "$(deploy_cp)" org.imagingpipeline.deploy.SyntheticDicom --out "$data" --patients-per-site 2 --slices 16 >&2
    source_desc="SYNTHETIC phantom series generated in $data (no ../shared data on this machine)"
  fi
  log "demo: data: $source_desc"

  trap 'log "demo: stopping the stack"; stack_down' EXIT
  trap 'exit 130' INT TERM
  log "demo: starting the stack (broker, ingest) under $PIPELINE_HOME"
  export STREAMS_ASSEMBLY_INACTIVITY=${STREAMS_ASSEMBLY_INACTIVITY:-5s}
  stack_up >/dev/null
  local t0 t1 send_json arrivals metrics
  t0=$(date +%s%N)
  log "demo: sending by C-STORE to INGEST@127.0.0.1:$INGEST_DICOM_PORT"
  send_json=$(java -cp "$(deploy_cp)" org.imagingpipeline.deploy.SendCommand --data "$data" --to "127.0.0.1:$INGEST_DICOM_PORT" | tail -n 1) || true
  t1=$(date +%s%N)
  log "demo: sent: $send_json"
  local expect; expect=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("sent",0))' "$send_json" 2>/dev/null || echo 0)
  log "demo: what arrived on imaging.instances.received:"
  arrivals=$(java -cp "$(deploy_cp)" org.imagingpipeline.deploy.ArrivalsSummary --bootstrap "127.0.0.1:$KAFKA_PORT" --expect "$expect" --quiet-seconds 5 --series-wait-seconds 60 | tail -n 1)
  metrics=$(curl -fsS "http://127.0.0.1:$INGEST_HTTP_PORT/q/metrics" | grep -E '^ingest_(instances_|store_to_ack_seconds\{)' || true)
  python3 - "$out" "$send_json" "$arrivals" "$metrics" "$synthetic" "$source_desc" "$(( (t1 - t0) / 1000000 ))" <<'PY'
import html, json, sys
out, send, arrivals, metrics, synthetic, source, ms = sys.argv[1:8]
send = json.loads(send) if send.strip().startswith("{") else {}
arr = json.loads(arrivals) if arrivals.strip().startswith("{") else {}
m = {}
for line in metrics.splitlines():
    k, _, v = line.rpartition(" ")
    m[k] = float(v)
sent, arrived = send.get("sent", 0), arr.get("instances", 0)
q = lambda x: m.get('ingest_store_to_ack_seconds{quantile="%s"}' % x)
summary = {
    "stage": "ingest and series assembly (the later stages are not built yet: their fields are null)",
    "data": source, "synthetic": synthetic == "true",
    "studies_sent": arr.get("studies"),
    "instances_sent": sent, "instances_arrived": arrived, "instances_lost": sent - arrived,
    "series_arrived": arr.get("series"),
    "series_assembled": arr.get("series_ready"),
    "series_by_domain": arr.get("series_by_domain"),
    "rejected_by_reason": {k.split('"')[1]: v for k, v in m.items() if k.startswith("ingest_instances_rejected_total") and v > 0},
    "send_seconds": round(int(ms) / 1000.0, 2),
    "store_to_ack_ms": {"p50": round(q("0.5") * 1000, 1) if q("0.5") else None, "p95": round(q("0.95") * 1000, 1) if q("0.95") else None},
    "by_scanner": arr.get("by_scanner", []),
    "reports_in_ehr": None, "fhir_validation_errors": None, "domains": None, "models": None, "latency_ms": None, "lost": None,
}
json.dump(summary, open(f"{out}/summary.json", "w"), indent=2)
rows = "".join(f"<tr><td>{html.escape(r['scanner'])}</td><td>{r['instances']}</td><td>{r['series']}</td><td>{r['studies']}</td>"
               f"<td>{html.escape(', '.join(r['transfer_syntaxes']))}</td></tr>" for r in summary["by_scanner"])
banner = "<p class=warn>SYNTHETIC data: generated phantoms, not patient images (no ../shared data here).</p>" if summary["synthetic"] else ""
page = f"""<!doctype html><html><head><meta charset=utf-8><title>Imaging pipeline demo</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:70em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}.warn{{background:#fee;padding:.5em}}</style></head>
<body><h1>Imaging pipeline demo: ingest</h1>{banner}
<p>Data: {html.escape(source)}</p>
<p><b>{sent}</b> instances sent by C-STORE, <b>{arrived}</b> arrived on <code>imaging.instances.received</code>, lost: <b>{sent - arrived}</b>.
Series assembled on <code>imaging.series.ready</code>: <b>{summary['series_assembled']}</b> of {summary['series_arrived']}, in {len(summary['series_by_domain'] or {})} header domains.
Store-to-ack p50 {summary['store_to_ack_ms']['p50']} ms, p95 {summary['store_to_ack_ms']['p95']} ms.</p>
<table><tr><th>manufacturer | model | modality</th><th>instances</th><th>series</th><th>studies</th><th>transfer syntaxes</th></tr>{rows}</table>
<p>Drift detection, segmentation, adaptation and FHIR delivery of results are later stages; this page grows with them.</p>
</body></html>"""
open(f"{out}/index.html", "w").write(page)
print(f"demo: {sent} sent, {arrived} arrived, {sent - arrived} lost; summary in {out}/summary.json, page in {out}/index.html", file=sys.stderr)
print(json.dumps({k: summary[k] for k in ("instances_sent", "instances_arrived", "instances_lost", "series_arrived", "series_assembled", "studies_sent", "synthetic")}))
PY
}
