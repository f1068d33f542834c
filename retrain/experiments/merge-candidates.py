#!/usr/bin/env python3
"""Merges `bench adaptation --jsonl` rows of several runs that tried different candidates on the same shifts and seed
(the same shifted images, so the same source-only Dice, which is checked) into the rows one auto job with all their
candidates would give: the gate judged every candidate against the same parent measurements, so the verdicts carry
over; the served model is recomputed with auto's choice (the passing candidate with the highest labelled Dice, else
the lowest test-time-augmentation disagreement after adaptation).

usage: merge-candidates.py [--regate] RUN1.jsonl [RUN2.jsonl ...] > MERGED.jsonl   (then bench-table.py MERGED.jsonl)
       --regate: re-judge every label-free candidate with the gate's current rule (gate-rules.py GATE: rule A or
       rule B) from its recorded proxies, for rows measured before the rule changed"""
import importlib.util, json, os, sys

def current_gate():
    spec = importlib.util.spec_from_file_location('gate_rules', os.path.join(os.path.dirname(__file__), 'gate-rules.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.GATE

def key(r):
    return (r.get('id', r.get('site')), r.get('seed'))

def main(paths):
    regate = current_gate() if '--regate' in paths else None
    paths = [p for p in paths if p != '--regate']
    merged, order = {}, []
    for p in paths:
        for line in open(p):
            r = json.loads(line)
            k = key(r)
            if k not in merged:
                merged[k] = r
                order.append(k)
                continue
            m = merged[k]
            for pid, v in r['source_only'].items():
                if abs(m['source_only'][pid] - v) > 1e-3:
                    sys.exit(f"{k}: source-only Dice of {pid} differs between runs ({m['source_only'][pid]} vs {v}): "
                             "not the same shifted images")
            m['candidates'].update(r['candidates'])
            m['job_seconds'] = m.get('job_seconds', 0) + r.get('job_seconds', 0)
    for k in order:
        r = merged[k]
        if regate:
            for c in r['candidates'].values():
                g = c.get('gate')
                if g and g.get('labelled_target_dice_after') is None and 'target_entropy_before' in g:
                    c['passed'] = bool(regate(g))
        best = None
        for name, c in r['candidates'].items():
            g = c.get('gate')
            if not c.get('passed') or not g or 'dice' not in c:
                continue
            score = g['labelled_target_dice_after'] if g.get('labelled_target_dice_after') is not None \
                else -g['tta_disagreement_after']
            if best is None or score > best[0]:
                best = (score, name)
        clean = r['source_only_mean'] / r['source_only_retention'] if r.get('source_only_retention') else None
        if best:
            r['chosen'] = best[1]
            r['served'] = dict(r['candidates'][best[1]]['dice'])
        else:
            r['chosen'] = None
            r['served'] = dict(r['source_only'])
        r['served_mean'] = round(sum(r['served'].values()) / len(r['served']), 4)
        if clean:
            r['retention'] = round(r['served_mean'] / clean, 4)
        print(json.dumps(r))

if __name__ == '__main__':
    main(sys.argv[1:])
