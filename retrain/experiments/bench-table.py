#!/usr/bin/env python3
"""Tables from `./pipeline bench adaptation` JSON (one object per file; several files = several seeds/runs).

usage: bench-table.py [--expert-series N] RESULT.json [RESULT2.json ...]

With corrected series (bench --expert-series N) the patients whose masks the simulated radiologist returned are
training data for finetune, so every mean and paired difference below leaves them out (the rows' `expert_patients`;
for files written before that field, the first N patient ids in sorted order, as the bench chooses them, N from the
file or --expert-series). Retention is served / clean Dice over the same patients.

Per shift: source-only and every candidate's mean per-patient Dice, the gate's decisions, the served model and its
retention (served / clean), and the paired per-patient difference served - source-only with a bootstrap 95% interval
(10 000 resamples of patients, seeded). Files with the same shift ids are pooled per shift (patients x seeds)."""
import json, sys, random
from collections import defaultdict

def boot(diffs, n=10000, seed=13):
    if not diffs:
        return (float('nan'),) * 3
    rnd = random.Random(seed)
    m = sum(diffs) / len(diffs)
    means = sorted(sum(rnd.choice(diffs) for _ in diffs) / len(diffs) for _ in range(n))
    return m, means[int(0.025 * n)], means[int(0.975 * n) - 1]

def from_jsonl(path):
    """A run rebuilt from the bench's --jsonl rows (one per finished shift or real site): usable when a run was cut."""
    shifts, sites = [], []
    for line in open(path):
        row = json.loads(line)
        (sites if 'site' in row and 'id' not in row else shifts).append(row)
    return {'model_version': '(jsonl) ' + path, 'model_sha256': '', 'half': '?', 'candidates': '?', 'expert_series': '?',
            'patients': sorted(shifts[0]['source_only']) if shifts else [], 'load_average_start': '?',
            'summary': {'load_average_end': '?', 'rows': len(shifts)}, 'clean_dice': {}, 'shifts': shifts,
            'real_sites': sites, 'clean_dice_mean': float('nan')}

def expert_of(run, row, n_arg):
    if row.get('expert_patients'):
        return set(row['expert_patients'])
    n = run.get('expert_series')
    n = n if isinstance(n, int) else n_arg
    return set(sorted(row['source_only'])[:n]) if n else set()

def mean_of(d, keep):
    v = [x for p, x in d.items() if p in keep]
    return sum(v) / len(v)

def main(args):
    n_arg = 0
    if args and args[0] == '--expert-series':
        n_arg, args = int(args[1]), args[2:]
    paths = args
    runs = [from_jsonl(p) if p.endswith('.jsonl') else json.load(open(p)) for p in paths]
    clean = {}
    for r in runs:
        clean.update({(r['model_sha256'], k): v for k, v in r['clean_dice'].items()})
    rows = defaultdict(list)
    for r in runs:
        for s in r['shifts']:
            rows[s['id']].append((r, s))
    methods = []
    for r in runs:
        for s in r['shifts'] + r.get('real_sites', []):
            for m in s['candidates']:
                if m not in methods:
                    methods.append(m)
    r0 = runs[0]
    print(f"model {r0['model_version']} ({r0['model_sha256'][:12]}), half {r0['half']}, candidates {r0['candidates']}, "
          f"corrected series {r0['expert_series']}, {len(r0['patients'])} patients, runs {len(runs)}, "
          f"load {[r['load_average_start'] + ' .. ' + r['summary']['load_average_end'] for r in runs]}")
    print(f"clean Dice (source model): {sum(r['clean_dice_mean'] for r in runs) / len(runs):.4f}")
    head = ['shift', 'family', 'source-only'] + methods + ['gate passed', 'served', 'retention', 'served - source-only [95% CI]'] \
        + [m + ' - source-only [95% CI]' for m in methods]
    print('| ' + ' | '.join(head) + ' |')
    print('|' + '---|' * len(head))
    ret = []
    left_out = set()
    for sid in sorted(rows):
        lst = rows[sid]
        keep = {id(s): set(s['source_only']) - expert_of(r, s, n_arg) for r, s in lst}
        for r, s in lst:
            left_out |= expert_of(r, s, n_arg)
        so = sum(mean_of(s['source_only'], keep[id(s)]) for _, s in lst) / len(lst)
        cells = [sid, lst[0][1]['family'], f"{so:.3f}"]
        for m in methods:
            v = [mean_of(s['candidates'][m]['dice'], keep[id(s)]) for _, s in lst if 'dice' in s['candidates'].get(m, {})]
            cells.append(f"{sum(v) / len(v):.3f}" if v else '-')
        passed = defaultdict(int)
        for _, s in lst:
            for m, c in s['candidates'].items():
                if c.get('passed'):
                    passed[m] += 1
        cells.append(', '.join(f"{m} {n}/{len(lst)}" for m, n in passed.items()) or 'none')
        sv = sum(mean_of(s['served'], keep[id(s)]) for _, s in lst) / len(lst)
        # served / clean over the same patients (the clean per-patient Dice is in a run's JSON; a .jsonl-only run has
        # the clean mean of all patients only: source-only mean / source-only retention)
        rt = sum(mean_of(s['served'], keep[id(s)]) / (mean_of(r['clean_dice'], keep[id(s)]) if r.get('clean_dice')
                 else s['source_only_mean'] / s['source_only_retention']) for r, s in lst) / len(lst)
        ret.append(rt)
        diffs = [s['served'][p] - s['source_only'][p] for _, s in lst for p in keep[id(s)]]
        m, lo, hi = boot(diffs)
        cells += [f"{sv:.3f} ({'/'.join(str(s['chosen']) for _, s in lst)})", f"{rt:.3f}", f"{m:+.3f} [{lo:+.3f}, {hi:+.3f}]"]
        for meth in methods:
            d = [s['candidates'][meth]['dice'][p] - s['source_only'][p] for _, s in lst
                 if 'dice' in s['candidates'].get(meth, {}) for p in keep[id(s)]]
            cm, clo, chi = boot(d)
            cells.append(f"{cm:+.3f} [{clo:+.3f}, {chi:+.3f}]" if d else '-')
        print('| ' + ' | '.join(cells) + ' |')
    if left_out:
        print(f"\nleft out of every mean and difference (corrected series, in-sample for finetune): {sorted(left_out)}")
    if ret:
        print(f"\nretention: min {min(ret):.3f}, mean {sum(ret) / len(ret):.3f}; below 0.90: "
              f"{[sid for sid, x in zip(sorted(rows), ret) if x < 0.90]}")
    for r in runs:
        for s in r.get('real_sites', []):
            diffs = [s['served'][p] - s['source_only'][p] for p in s['source_only']]
            m, lo, hi = boot(diffs)
            cand = ', '.join(f"{k} {v.get('dice_mean', '-')}{'*' if v.get('passed') else ''}" for k, v in s['candidates'].items())
            print(f"real site {s['site']} ({s['patients']} patients): source-only {s['source_only_mean']:.4f}; {cand}; "
                  f"served {s['served_mean']:.4f} ({s['chosen']}); paired {m:+.4f} [{lo:+.4f}, {hi:+.4f}]")
    for r in runs:
        print(f"summary: {json.dumps(r['summary'])}")

if __name__ == '__main__':
    main(sys.argv[1:])
