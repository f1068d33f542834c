#!/usr/bin/env python3
"""Replays the gate's rule with a few corrected series (gate-few-labels-decision.md) on `bench adaptation
--expert-series N --jsonl` rows: L0 (today: labelled Dice must rise by 0.02), L1(delta) (labelled Dice may fall by at
most delta and the label-free rules A or B pass) and L2(delta) (L0 or L1(delta)); every rule also needs the source check.
Also L0-nf (registered after the tuning table, for seed 2's reporting half): L0 with finetune not promotable on fewer
than 5 corrected series; it is printed but takes no part in the tuning-half choice.

usage: gate-few-labels.py [--rows] ROWS.jsonl [ROWS2.jsonl ...]
       --rows: also every row's candidates (labelled Dice before/after, rule A/B, out-of-sample paired change)

Out-of-sample only: the corrected patients (the row's `expert_patients`) are left out of every paired change. Among the
candidates a rule passes it serves the one with the highest labelled Dice after (ties: lowest TTA disagreement after),
as the retraining service does. Per rule: rows promoted, harmful promotions (mean paired change < 0), mean paired change
over all rows (0 where nothing is promoted), and the pre-registered choice."""
import importlib.util, os, sys

_spec = importlib.util.spec_from_file_location('gate_rules', os.path.join(os.path.dirname(__file__), 'gate-rules.py'))
gate_rules = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gate_rules)

MIN_LABELLED_GAIN = 0.02
DELTAS = (0.00, 0.01, 0.02, 0.03, 0.05)

def source_ok(g):
    return g['source_dice_after'] >= g['source_dice_before'] - g['source_dice_tolerance']

def label_free(g):
    """The label-free target side as the gate computes it without labels: rule A or rule B (tau 0.25, rho 0.20)."""
    return gate_rules.GATE(g)

def l0(g):
    return source_ok(g) and g['labelled_target_dice_after'] >= g['labelled_target_dice_before'] + MIN_LABELLED_GAIN

def l1(delta):
    return lambda g: (source_ok(g) and g['labelled_target_dice_after'] >= g['labelled_target_dice_before'] - delta
                      and label_free(g))

def l2(delta):
    return lambda g: l0(g) or l1(delta)(g)

RULES = {'L0': l0}
RULES.update({f'L1({d:.2f})': l1(d) for d in DELTAS})
RULES.update({f'L2({d:.2f})': l2(d) for d in DELTAS})

# Registered after the tuning table (gate-few-labels-decision.md, "Next"), for seed 2's reporting half: L0, with
# finetune not promotable on fewer than FINETUNE_MIN_SERIES corrected series. Not part of the tuning-half choice.
FINETUNE_MIN_SERIES = 5
ADDED = {'L0-nf': l0}

def allowed(name, method, row):
    return not (name == 'L0-nf' and method == 'finetune' and len(row.get('expert_patients') or []) < FINETUNE_MIN_SERIES)

def change(row, cand):
    keep = [p for p in row['source_only'] if p not in set(row.get('expert_patients') or [])]
    return sum(cand['dice'][p] - row['source_only'][p] for p in keep) / len(keep)

def served(row, rule, name=None):
    best = None
    for m, c in row['candidates'].items():
        g = c.get('gate')
        if not g or 'dice' not in c or g.get('labelled_target_dice_after') is None or not allowed(name, m, row):
            continue
        if rule(g):
            k = (-g['labelled_target_dice_after'], g['tta_disagreement_after'])
            if best is None or k < best[0]:
                best = (k, m, change(row, c))
    return best

def main(args):
    show_rows = '--rows' in args
    rows = gate_rules.rows_of([a for a in args if a != '--rows'])
    if not rows:
        sys.exit('no rows')
    if show_rows:
        print('| row | candidate | labelled before | labelled after | source check | rule A or B | out-of-sample change |')
        print('|---|---|---|---|---|---|---|')
        for r in rows:
            for m, c in sorted(r['candidates'].items()):
                g = c.get('gate')
                if not g or 'dice' not in c:
                    continue
                print(f"| {r.get('id', r.get('site'))} | {m} | {g.get('labelled_target_dice_before')} | "
                      f"{g.get('labelled_target_dice_after')} | {source_ok(g)} | {label_free(g)} | {change(r, c):+.3f} |")
        print()
    print(f'{len(rows)} rows: ' + ', '.join(sorted(str(r.get('id', r.get('site'))) for r in rows)))
    print('| rule | promoted | harmful | mean paired change (all rows) | served per row |')
    print('|---|---|---|---|---|')
    score = {}
    for name, rule in {**RULES, **ADDED}.items():
        promoted, harmful, total, picks = 0, 0, 0.0, []
        for r in rows:
            b = served(r, rule, name)
            if b:
                promoted += 1
                harmful += b[2] < 0
                total += b[2]
                picks.append(f"{r.get('id', r.get('site'))}:{b[1]} {b[2]:+.3f}")
        score[name] = (harmful, total / len(rows))
        print(f'| {name} | {promoted} | {harmful} | {total / len(rows):+.4f} | {"; ".join(picks)} |')
    # The pre-registered choice: zero harmful, highest mean; ties to L0, then the smaller delta (dict order).
    ok = [n for n in RULES if score[n][0] == 0]
    if not ok:
        print('\nno rule without a harmful promotion: keep L0')
        return
    delta = lambda n: 0.0 if n == 'L0' else float(n[3:-1])
    best = max(ok, key=lambda n: (round(score[n][1], 6), n == 'L0', -delta(n), -list(RULES).index(n)))
    adopt = best != 'L0' and score[best][1] > score['L0'][1]
    print(f"\nchoice: {best} (mean {score[best][1]:+.4f} vs L0 {score['L0'][1]:+.4f}): "
          + ('adopt it, then test it once on seed 2\'s reporting half' if adopt else 'keep L0'))

if __name__ == '__main__':
    main(sys.argv[1:])
