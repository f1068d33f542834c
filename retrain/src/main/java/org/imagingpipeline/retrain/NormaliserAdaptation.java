package org.imagingpipeline.retrain;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Test-time adaptation of an {@link InputNormaliser} (Karani et al. 2021: a shallow normalisation module in front of
 * a frozen segmenter, adapted per domain) by <em>feature-statistics alignment</em>: the loss makes the per-channel
 * mean and variance of the batch-norm inputs of the first {@code levels} encoder levels on target batches match those
 * of the source (measured on source slices through the parent, in inference mode, as AdaBN measures them), the
 * activation-matching idea of ActMAD (Mirza et al. 2023) applied to the input module only. Per channel:
 * {@code ((mu_t - mu_s) / sigma_s)^2 + 0.5 log(var_t / var_s)^2}, averaged over channels and layers. The segmenter's
 * weights and statistics stay; only the module's parameters move (Adam), so the network's knowledge is untouched and
 * the result is the parent with a domain-specific input stage. Unlike AdaBN, the module can undo non-linear contrast
 * curves and local changes (noise, blur), not only per-channel shifts and scales.
 */
public final class NormaliserAdaptation {

    private NormaliserAdaptation() {
    }

    public static OptimisationLog run(UNet net, NDManager parent, List<float[]> target, Map<String, BnStatistics> source,
                                      int levels, int size, int batch, float lr, long seed, StepBudget budget) {
        return run(net, parent, target, source, levels, size, batch, lr, seed, false, budget);
    }

    /** As above; with {@code foreground} the target's statistics count the anatomy's pixels only (as the source's should). */
    public static OptimisationLog run(UNet net, NDManager parent, List<float[]> target, Map<String, BnStatistics> source,
                                      int levels, int size, int batch, float lr, long seed, boolean foreground,
                                      StepBudget budget) {
        Foreground fg = foreground ? Foreground.of(target) : null;
        if (net.normaliser() == null) {
            throw new IllegalArgumentException("the network has no input normaliser to adapt");
        }
        Map<String, ConvBnRelu> units = new LinkedHashMap<>();
        net.namedUnits().forEach((name, u) -> {
            if (source.containsKey(name)) {
                units.put(name, u);
            }
        });
        if (units.isEmpty()) {
            throw new IllegalArgumentException("no source statistics for any unit");
        }
        Map<String, float[][]> ref = new LinkedHashMap<>();
        source.forEach((name, s) -> ref.put(name, new float[][] {s.mean(), s.variance()}));
        int trainable = 0;
        for (var pair : net.getParameters()) {
            boolean mine = pair.getKey().contains("normaliser");
            Parameter p = pair.getValue();
            if (p.getType() != Parameter.Type.RUNNING_MEAN && p.getType() != Parameter.Type.RUNNING_VAR) {
                p.freeze(!mine);
            }
            trainable += mine ? (int) p.getArray().size() : 0;
        }
        SliceSampler sampler = new SliceSampler(target, null, size * size, new Random(seed));
        AdamStep adam = new AdamStep(lr);
        ParameterStore ps = new ParameterStore(parent, false);
        float[] x = new float[batch * size * size];
        double first = Double.NaN;
        double ema = Double.NaN;
        int step = 0;
        try {
            do {
                sampler.fill(x, null);
                float lossValue;
                try (NDManager bm = parent.newSubManager()) {
                    NDArray xa = bm.create(x, new Shape(batch, 1, size, size));
                    Map<Long, NDArray> masks = fg == null ? null : fg.pyramid(xa, levels + 1);
                    List<NDArray> taps = new ArrayList<>();
                    List<String> names = new ArrayList<>();
                    units.forEach((name, u) -> u.tap(a -> {
                        taps.add(a);
                        names.add(name);
                    }));
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        net.forwardEncoder(ps, xa, false, levels);
                        NDArray loss = null;
                        for (int k = 0; k < taps.size(); k++) {
                            NDArray a = taps.get(k);
                            NDArray term = alignment(a, masks == null ? null : masks.get(a.getShape().get(2)), ref.get(names.get(k)), bm);
                            loss = loss == null ? term : loss.add(term);
                        }
                        loss = loss.div(taps.size());
                        gc.backward(loss);
                        lossValue = loss.getFloat();
                    } finally {
                        units.values().forEach(u -> u.tap(null));
                    }
                    adam.step(net, parent);
                }
                if (!Float.isFinite(lossValue)) {
                    throw new IllegalStateException("alignment loss became " + lossValue + " at step " + (step + 1));
                }
                step++;
                first = step == 1 ? lossValue : first;
                ema = Double.isNaN(ema) ? lossValue : 0.9 * ema + 0.1 * lossValue;
            } while (!budget.afterStep(step, ema, "alignment", ema));
        } finally {
            for (var pair : net.getParameters()) {
                Parameter p = pair.getValue();
                if (p.getType() != Parameter.Type.RUNNING_MEAN && p.getType() != Parameter.Type.RUNNING_VAR) {
                    p.freeze(false);
                }
            }
        }
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("trainable_parameters", trainable);
        d.put("aligned_units", List.copyOf(units.keySet()));
        d.put("alignment_first_step", DiceEvaluator.round(first));
        d.put("alignment_last_steps_ema", DiceEvaluator.round(ema));
        d.put("learning_rate", lr);
        d.put("batch", batch);
        return new OptimisationLog(step, DiceEvaluator.round(first), DiceEvaluator.round(ema),
                Math.round(budget.seconds() * 10) / 10.0, budget.stopReason(), d);
    }

    /** Mean over channels of ((mu_t - mu_s)/sigma_s)^2 + 0.5 log(var_t/var_s)^2 for one N x C x H x W batch-norm input. */
    static NDArray alignment(NDArray a, NDArray mask, float[][] sourceMeanVar, NDManager m) {
        int c = (int) a.getShape().get(1);
        NDArray mu;
        NDArray var;
        if (mask == null) {
            mu = a.mean(new int[] {3}, true).mean(new int[] {2}, true).mean(new int[] {0}, true);
            var = a.sub(mu).square().mean(new int[] {3}, true).mean(new int[] {2}, true).mean(new int[] {0}, true);
        } else {
            NDArray n = mask.sum().add(1f);
            mu = a.mul(mask).sum(new int[] {3}, true).sum(new int[] {2}, true).sum(new int[] {0}, true).div(n);
            var = a.sub(mu).square().mul(mask).sum(new int[] {3}, true).sum(new int[] {2}, true).sum(new int[] {0}, true).div(n);
        }
        Shape s = new Shape(1, c, 1, 1);
        float[] sv = new float[c];
        for (int i = 0; i < c; i++) {
            sv[i] = sourceMeanVar[1][i] + ConvBnRelu.BN_EPSILON;
        }
        NDArray sMean = m.create(sourceMeanVar[0], s);
        NDArray sVar = m.create(sv, s);
        NDArray dMean = mu.sub(sMean).square().div(sVar);
        NDArray dLogVar = var.add(ConvBnRelu.BN_EPSILON).div(sVar).log().square().mul(0.5f);
        return dMean.add(dLogVar).mean();
    }
}
