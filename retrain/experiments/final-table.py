# Table of phase F (docs/results.md): per target, source-only and adapted Dice, patients up, share of the gap, the
# labelled gate (3 series, Dice must rise by 0.02) and the label-free rule recomputed from the gate's proxy numbers.
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1] if len(sys.argv) > 1 else 'final/results.jsonl')]
src={};ev={};ad={}
for r in rows:
    t=r['tag']
    if t.startswith('source:'): src[t.split(':',1)[1]]=r
    elif t.startswith('eval:'):
        m,s=t[5:].split(':',1); ev[(m,s)]=r
    else:
        m,s=t.split(':',1); ad[(m,s)]=r
clean=src.get('none',{}).get('dice_mean')
def proxies(g):
    eb,ea=g['target_entropy_before'],g['target_entropy_after']
    e=1 if ea<=eb*0.95 else (-1 if ea>eb*1.05 else 0)
    tb,ta=g['tta_disagreement_before'],g['tta_disagreement_after']
    t=1 if ta<=tb-0.01 else (-1 if ta>tb+0.01 else 0)
    vb,va=g['volume_plausibility_before'],g['volume_plausibility_after']
    v=(va>vb)-(va<vb)
    ok=min(e,t,v)>=0 and (e>0)+(t>0)+(v>0)>=2 and g['source_dice_after']>=g['source_dice_before']-0.02
    w=lambda d:{1:'+',0:'=',-1:'-'}[d]
    return ('pass' if ok else 'fail')+' (%s%s%s)'%(w(e),w(t),w(v))
for (m,s),r in ad.items():
    e=ev.get((m,s)); so=src.get(s)
    g=r.get('gate') or {}
    lab=('%s %.3f->%.3f'%('pass' if (g.get('labelled_target_dice_after',0)>=g.get('labelled_target_dice_before',0)+0.02 and g['source_dice_after']>=g['source_dice_before']-0.02) else 'fail', g.get('labelled_target_dice_before',0), g.get('labelled_target_dice_after',0))) if g else '-'
    gap=''
    if e and so and clean and s not in ('none','HT','CS'):
        d=clean-so['dice_mean']
        gap='%.0f%% of gap, %.0f%% of clean'%(100*(e['dice_mean']-so['dice_mean'])/d if d>0 else float('nan'),100*e['dice_mean']/clean)
    up=''
    if e and so:
        a={p['id']:p['dice'] for p in so['per']}; b={p['id']:p['dice'] for p in e['per']}
        up='%d/%d up'%(sum(1 for k in a if b.get(k,0)>a[k]),len(a))
    print('| %s | %s | %.3f / %.3f | %.3f / %.3f | %s | %s | %s | %s | src-view %.3f as-served %s |'%(s,m,so['dice_mean'],so['dice_median'],e['dice_mean'] if e else float('nan'),e['dice_median'] if e else float('nan'),up,gap,lab,proxies(g) if g else '-',g.get('source_dice_after',float('nan')),g.get('source_dice_as_served')))
