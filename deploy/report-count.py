#!/usr/bin/env python3
"""Segmentation reports per series in an EHR search bundle (GET DiagnosticReport?_count=...), for the stack's benchmarks.

  report-count.py BUNDLE --series                 the number of series with at least one report
  report-count.py BUNDLE --json chaos N --kills KILLS.tsv --retries RETRIES.log --times START SENT DONE --drained yes|no
                                                  --load L0 L1
                                                  ./pipeline chaos's one JSON object
"""
import argparse
import collections
import json

REPORT_ID_SYSTEM = "urn:imaging-pipeline:id:segmentation-report"  # value: SERIES_UID:MODEL_VERSION


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
    p.add_argument("--times", nargs=3)
    p.add_argument("--drained", choices=("yes", "no"), default="no")
    p.add_argument("--load", nargs=2)
    args = p.parse_args()
    per_series, updated = reports_per_series(args.bundle)
    if args.series:
        print(len(per_series))
    elif args.json and args.json[0] == "chaos":
        print(json.dumps(chaos_json(args, per_series, updated)))
    else:
        p.error("--series or --json chaos N ...")


if __name__ == "__main__":
    main()
