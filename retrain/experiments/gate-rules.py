#!/usr/bin/env python3
"""Replays the promotion gate's label-free rule, and alternatives, on the candidates of `bench adaptation --jsonl` rows.

usage: gate-rules.py [--grid] ROWS.jsonl [ROWS2.jsonl ...]
       --grid: also the tau x rho grid of rule B (gate-margin-decision.md)

For every candidate (shift x method) it has the proxies before/after (entropy, test-time-augmentation disagreement,
share of plausible lesion volumes), the source check and the per-patient Dice of the candidate and of source-only.
Each rule is scored by what it would have served: promotions, promotions whose mean paired Dice change is negative
(harmful), and the mean Dice change over all rows (0 for rows where nothing is promoted)."""
import json, sys

def verdicts(g, ent_gain=0.05, tta_eps=0.01):
    e0, e1 = g['target_entropy_before'], g['target_entropy_after']
    ent = 1 if e1 <= e0 * (1 - ent_gain) else (-1 if e1 > e0 * (1 + ent_gain) else 0)
    t0, t1 = g['tta_disagreement_before'], g['tta_disagreement_after']
    tta = 1 if t1 <= t0 - tta_eps else (-1 if t1 > t0 + tta_eps else 0)
    v0, v1 = g['volume_plausibility_before'], g['volume_plausibility_after']
    vol = 1 if v1 > v0 else (-1 if v1 < v0 else 0)
    src = g['source_dice_after'] >= g['source_dice_before'] - g['source_dice_tolerance']
    return src, ent, tta, vol

def rule_b(g, tau, rho):
    """PromotionGate's rule B: TTA disagreement falls by >= tau (relative), mean entropy rises by <= rho (relative),
    plausible volumes not worse, source check passes."""
    src, _, _, vol = verdicts(g)
    return (src and vol >= 0 and g['tta_disagreement_after'] <= g['tta_disagreement_before'] * (1 - tau)
            and g['target_entropy_after'] <= g['target_entropy_before'] * (1 + rho))

def rule_a(s, e, t, v):
    return s and min(e, t, v) >= 0 and (e > 0) + (t > 0) + (v > 0) >= 2

RULES = {
    'rule A (until 2026-12-06): none worse, 2 of 3 better': rule_a,
    'none worse, 1 of 3 better': lambda s, e, t, v: s and min(e, t, v) >= 0 and (e > 0) + (t > 0) + (v > 0) >= 1,
    'none worse, TTA better': lambda s, e, t, v: s and min(e, t, v) >= 0 and t > 0,
    'TTA and volumes better, entropy not counted': lambda s, e, t, v: s and t > 0 and v > 0,
    'TTA better, volumes not worse, entropy not counted': lambda s, e, t, v: s and t > 0 and v >= 0,
}

GATE = lambda g: rule_a(*verdicts(g)) or rule_b(g, 0.25, 0.20)

def rows_of(paths):
    """Rows of the same shift (or real site) and seed from several runs (e.g. one per candidate set) are merged: a
    rule then chooses among all their candidates, as one auto job with all of them would."""
    merged = {}
    for p in paths:
        for l in open(p):
            r = json.loads(l)
            key = (r.get('id', r.get('site')), r.get('seed'))
            if key in merged:
                merged[key]['candidates'].update(r['candidates'])
            else:
                merged[key] = r
    return list(merged.values())

def main(paths):
    grid = '--grid' in paths
    paths = [p for p in paths if p != '--grid']
    rows = rows_of(paths)
    rules = {name: (lambda r: lambda g: r(*verdicts(g)))(rule) for name, rule in RULES.items()}
    rules['the gate now: rule A or rule B (tau 0.25, rho 0.20)'] = GATE
    if grid:
        for tau in (0.15, 0.20, 0.25, 0.30, 0.35, 0.40):
            for rho in (0.05, 0.10, 0.15, 0.20, 0.25, 0.30):
                rules[f'grid: rule A or rule B (tau {tau:.2f}, rho {rho:.2f})'] = \
                    (lambda t, r: lambda g: rule_a(*verdicts(g)) or rule_b(g, t, r))(tau, rho)
    for name, rule in rules.items():
        promoted, harmful, total, gains = 0, 0, 0, []
        for r in rows:
            best = None
            for m, c in r['candidates'].items():
                g = c.get('gate')
                if not g or 'dice' not in c:
                    continue
                d = sum(c['dice'][p] - r['source_only'][p] for p in r['source_only']) / len(r['source_only'])
                if rule(g) and (best is None or g['tta_disagreement_after'] < best[1]):
                    best = (m, g['tta_disagreement_after'], d)
            total += 1
            if best:
                promoted += 1
                harmful += best[2] < 0
                gains.append(best[2])
                print(f"  {name}: {r.get('id', r.get('site'))} -> {best[0]} ({best[2]:+.4f})")
        mean = sum(gains) / total if total else 0
        print(f"{name}: {promoted} of {total} rows promoted, {harmful} harmful (mean paired Dice change < 0), "
              f"mean change over all rows {mean:+.4f}, worst promoted {min(gains, default=0):+.4f}")

if __name__ == '__main__':
    main(sys.argv[1:])
