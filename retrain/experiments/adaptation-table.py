import json,sys
rows=[json.loads(l) for l in open('real/results.jsonl')]
ev={}; gate={}
for r in rows:
    t=r['tag']
    if t.startswith('eval:'): ev[t[5:]]=r
    elif t.startswith('source:'): ev[t]=r
    else: gate[t]=r.get('gate')
clean=ev['source:none']['dice_mean']
sets=['none','gamma','biasfield','lowfield1','newscanner1','newscanner2','strong1','strong2']
print('| target (9 DU validation patients) | source only | adabn | entropy | adversarial |')
print('|---|---|---|---|---|')
for s in sets:
    src=ev.get('source:'+s)
    if not src: continue
    sd=src['dice_mean']
    cells=[f"{sd:.3f} / {src['dice_median']:.3f}"]
    for m in ['adabn','entropy','adversarial']:
        e=ev.get(f'{m}:{s}')
        if not e: cells.append('-'); continue
        d=e['dice_mean']; gap=clean-sd
        rec=f", {100*(d-sd)/gap:+.0f}% of gap" if s!='none' and gap>0.04 else ""
        g=gate.get(f'{m}:{s}')
        gs=f", gate {'PASS' if g['passed'] else 'fail'}" if g else ""
        cells.append(f"{d:.3f} / {e['dice_median']:.3f} ({d/clean*100:.0f}% of clean{rec}{gs})")
    print(f"| {s} | "+" | ".join(cells)+" |")
for s in ['CS','HT']:
    src=ev.get('source:'+s)
    if not src: continue
    line=f"| {s} (first 12 patients) | {src['dice_mean']:.3f} / {src['dice_median']:.3f} |"
    for m in ['adabn','entropy','adversarial']:
        e=ev.get(f'{m}:{s}'); g=gate.get(f'{m}:{s}')
        line+=(f" {e['dice_mean']:.3f} / {e['dice_median']:.3f}" + (f", gate {'PASS' if g['passed'] else 'fail'}" if g else "")+" |") if e else " - |"
    print(line)
print()
for k,g in gate.items():
    if g: print(k, json.dumps(g))
