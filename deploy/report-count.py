#!/usr/bin/env python3
"""Segmentation reports per series in an EHR search bundle (GET DiagnosticReport?_count=...), for the stack's benchmarks.

  report-count.py BUNDLE --series                 the number of series with at least one report
  report-count.py BUNDLE --json chaos N --kills KILLS.tsv --retries RETRIES.log --times START SENT DONE --drained yes|no
                                                  --load L0 L1
                                                  ./pipeline chaos's one JSON object
  report-count.py BUNDLE --current-by VERSION     the number of series whose current report is model VERSION's
  report-count.py BUNDLE --json replay N --version VERSION --job JOB.json --domain ID --metrics METRICS.txt
                 --times SEND REPORTED PROMOTED DONE --load L0 L1
                                                  ./pipeline bench replay's one JSON object
"""
import argparse
import collections
import json

REPORT_ID_SYSTEM = "urn:imaging-pipeline:id:segmentation-report"  # value: SERIES_UID:MODEL_VERSION
CURRENT_ID_SYSTEM = "urn:imaging-pipeline:id:series-current-report"  # value: SERIES_UID, on the current report only
SUPERSEDED_TAG = "superseded"


def reports_per_series(bundle_path):
    """(Counter of reports per SeriesInstanceUID, number of reports whose resource version is above 1)."""
    per_series, updated = collections.Counter(), 0
    with open(bundle_path) as f:
        bundle = json.load(f)
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        for ident in resource.get("identifier", []):
            if ident.get("system") == REPORT_ID_SYSTEM:
                per_series[ident["value"].rsplit(":", 1)[0]] += 1
                if resource.get("meta", {}).get("versionId", "1") != "1":
                    updated += 1
    return per_series, updated


def current_reports(bundle_path):
    """Per SeriesInstanceUID: the model versions of its reports that carry the current-report identifier (one, when
    all is well), and the number of its reports tagged superseded."""
    current, superseded = collections.defaultdict(list), collections.Counter()
    with open(bundle_path) as f:
        bundle = json.load(f)
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        idents = {i.get("system"): i.get("value", "") for i in resource.get("identifier", [])}
        key = idents.get(REPORT_ID_SYSTEM)
        if key is None:
            continue
        series, version = key.rsplit(":", 1)
        if CURRENT_ID_SYSTEM in idents:
            current[series].append(version)
        if any(t.get("code") == SUPERSEDED_TAG for t in resource.get("meta", {}).get("tag", [])):
            superseded[series] += 1
    return current, superseded


def current_by(current, version):
    return sum(1 for versions in current.values() if versions == [version])


def metric_sum(path, name, **labels):
    total = 0.0
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("#") or not line.startswith(name):
                    continue
                head, value = line.rsplit(" ", 1)
                if head.split("{")[0] != name or any(f'{k}="{v}"' not in head for k, v in labels.items()):
                    continue
                total += float(value)
    except (FileNotFoundError, ValueError):
        return None
    return total


def replay_json(args, current, superseded, per_series):
    n = int(args.json[1])
    with open(args.job) as f:
        job = json.load(f)
    t_send, t_reported, t_promoted, t_done = (int(t) for t in args.times)
    amended = current_by(current, args.version)
    replay_seconds = t_done - t_promoted
    return {"benchmark": "replay", "series": n, "domain": args.domain, "promoted_version": args.version,
            "adaptation": {"job": job.get("id"), "method": job.get("method"), "status": job.get("status"),
                           "decision": job.get("decision"), "series": len(job.get("seriesUids", [])),
                           "seconds": t_promoted - t_reported},
            "series_amended": amended, "series_not_amended": n - amended,
            "series_with_one_current_report": sum(1 for v in current.values() if len(v) == 1),
            "series_with_several_current_reports": sum(1 for v in current.values() if len(v) > 1),
            "series_without_current_report": max(0, n - len(current)),
            "reports": sum(per_series.values()), "reports_superseded": sum(superseded.values()),
            "replay_seconds": replay_seconds, "replay_series_per_second": round(amended / replay_seconds, 3) if replay_seconds > 0 else None,
            "target": {"series": 100, "seconds": 300, "met": n >= 100 and amended >= n and replay_seconds <= 300
                       and all(len(v) == 1 for v in current.values())},
            "send_and_first_reports_seconds": t_reported - t_send,
            "inference_series_ok": metric_sum(args.metrics, "inference_series_total", status="ok"),
            "load_average_start": float(args.load[0]), "load_average_end": float(args.load[1])}


def chaos_json(args, per_series, updated):
    n = int(args.json[1])
    kills = []
    with open(args.kills) as f:
        for line in f:
            name, t_kill, t_restart, t_ready = line.split()
            kills.append({"process": name, "seconds_down": int(t_restart) - int(t_kill),
                          "ready_after_restart_seconds": int(t_ready) - int(t_restart),
                          "recovered_after_kill_seconds": int(t_ready) - int(t_kill)})
    try:
        with open(args.retries) as f:
            retries = sum(1 for _ in f)
    except FileNotFoundError:
        retries = 0
    t_start, t_sent, t_done = (int(t) for t in args.times)
    return {"benchmark": "chaos", "brokers": 3, "instances": 2, "series_sent": n, "series_reported": len(per_series),
            "lost": max(0, n - len(per_series)), "duplicates": sum(c - 1 for c in per_series.values() if c > 1),
            "reports_updated": updated, "stages_drained": args.drained == "yes", "send_batches_resent": retries,
            "kills": kills,
            "max_recovered_after_kill_seconds": max((k["recovered_after_kill_seconds"] for k in kills), default=None),
            "send_seconds": t_sent - t_start, "drain_after_send_seconds": t_done - t_sent,
            "load_average_start": float(args.load[0]), "load_average_end": float(args.load[1])}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bundle")
    p.add_argument("--series", action="store_true")
    p.add_argument("--json", nargs=2, metavar=("NAME", "N"))
    p.add_argument("--kills")
    p.add_argument("--retries")
    p.add_argument("--times", nargs="+")
    p.add_argument("--drained", choices=("yes", "no"), default="no")
    p.add_argument("--load", nargs=2)
    p.add_argument("--current-by", metavar="VERSION")
    p.add_argument("--version")
    p.add_argument("--job")
    p.add_argument("--domain")
    p.add_argument("--metrics")
    args = p.parse_args()
    per_series, updated = reports_per_series(args.bundle)
    if args.series:
        print(len(per_series))
    elif args.current_by:
        print(current_by(current_reports(args.bundle)[0], args.current_by))
    elif args.json and args.json[0] == "chaos":
        print(json.dumps(chaos_json(args, per_series, updated)))
    elif args.json and args.json[0] == "replay":
        current, superseded = current_reports(args.bundle)
        print(json.dumps(replay_json(args, current, superseded, per_series)))
    else:
        p.error("--series, --current-by VERSION, --json chaos N ... or --json replay N ...")


if __name__ == "__main__":
    main()
