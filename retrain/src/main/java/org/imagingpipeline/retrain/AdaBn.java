package org.imagingpipeline.retrain;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * AdaBN (Li et al. 2016; domain-specific batch norm as in DSBN / MS-Net): replaces batch norms' running mean
 * and variance with the population statistics of their inputs over the target domain's images; weights and
 * affine parameters stay. The first pass runs in training mode (each layer normalised with its batch's
 * statistics; batches drawn across all series in a seeded order, since neighbouring slices of one patient are
 * alike); {@link #REFINEMENT_PASSES} more passes run in inference mode with the statistics of the previous
 * pass, so each layer's statistics are those of its input as the exported model will see it. Statistics are
 * accumulated per batch ({@link BnStatistics}), not by the layers' exponential moving average.
 * {@link Scope} says which batch norms change (default: encoder and bottleneck). The adapted model is the
 * source model with target statistics: the inference service routes only that domain to it, so the source
 * domain keeps its own.
 */
public final class AdaBn {

    /** How far the statistics moved: mean |delta mean| / sqrt(old var) over all channels, per unit. */
    public record Report(int slices, Map<String, Double> shiftPerUnit, double meanShift,
                         Map<String, Double> varianceRatioPerUnit) { }

    private AdaBn() {
    }

    /**
     * The mixture of the source statistics (weight 1 - w) and the target's (weight w): mean and variance of the
     * two-component mixture (Schneider et al. 2020 mix source and target statistics for small target samples).
     */
    static float[][] mix(float[] sourceMean, float[] sourceVar, BnStatistics target, double w) {
        float[] tm = target.mean();
        float[] tv = target.variance();
        float[] m = new float[tm.length];
        float[] v = new float[tm.length];
        for (int c = 0; c < m.length; c++) {
            double d = tm[c] - sourceMean[c];
            m[c] = (float) (w * tm[c] + (1 - w) * sourceMean[c]);
            v[c] = (float) (w * tv[c] + (1 - w) * sourceVar[c] + w * (1 - w) * d * d);
        }
        return new float[][] {m, v};
    }

    /** Refinement passes after the first; see the class comment. */
    public static final int REFINEMENT_PASSES = 2;

    /** Which batch norms are re-estimated. */
    public enum Scope {
        /** encoder and bottleneck: the low-level appearance a scanner changes */
        ENCODER,
        /** every batch norm, decoder included */
        ALL;

        boolean covers(String unit) {
            return this == ALL || unit.startsWith("enc") || unit.startsWith("mid");
        }
    }

    public static Report reestimate(UNet net, NDManager parent, List<float[]> slices, int size, int batch,
                                    long seed, Scope scope, double targetWeight, ProgressBar bar) {
        if (!(targetWeight > 0 && targetWeight <= 1)) {
            throw new DataException("--bn-weight must be in (0, 1], got " + targetWeight);
        }
        if (slices.isEmpty()) {
            throw new DataException("no target slices to estimate batch-norm statistics from");
        }
        Map<String, ConvBnRelu> units = new LinkedHashMap<>();
        net.namedUnits().forEach((name, u) -> {
            if (scope.covers(name)) {
                units.put(name, u);
            }
        });
        Map<String, float[][]> original = new LinkedHashMap<>();
        units.forEach((name, u) -> original.put(name, new float[][] {
            u.bn().getParameters().get("runningMean").getArray().toFloatArray(),
            u.bn().getParameters().get("runningVar").getArray().toFloatArray()}));
        // Batches mix slices of all series: neighbouring slices of one patient would give batch statistics far
        // from the population's, and the first pass normalises with batch statistics.
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < slices.size(); i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(seed));
        int batches = (slices.size() + batch - 1) / batch;
        int passes = 1 + REFINEMENT_PASSES;
        long t0 = System.nanoTime();
        ParameterStore ps = new ParameterStore(parent, false);
        for (int pass = 0; pass < passes; pass++) {
            Map<String, BnStatistics> stats = new LinkedHashMap<>();
            units.forEach((name, u) -> {
                BnStatistics s = new BnStatistics();
                stats.put(name, s);
                u.recordInto(s);
            });
            try {
                for (int b = 0; b < batches; b++) {
                    int from = b * batch;
                    int to = Math.min(slices.size(), from + batch);
                    float[] x = new float[(to - from) * size * size];
                    for (int i = from; i < to; i++) {
                        System.arraycopy(slices.get(order.get(i)), 0, x, (i - from) * size * size, size * size);
                    }
                    try (NDManager bm = parent.newSubManager()) {
                        NDArray xa = bm.create(x, new Shape(to - from, 1, size, size));
                        net.forward(ps, new NDList(xa), pass == 0);
                    }
                    long done = (long) pass * batches + b + 1;
                    double elapsed = (System.nanoTime() - t0) / 1e9;
                    bar.update(pass + 1, passes, done, (long) passes * batches, Double.NaN, Double.NaN,
                            elapsed / done, elapsed / done * ((long) passes * batches - done), done == (long) passes * batches);
                }
            } finally {
                units.values().forEach(u -> u.recordInto(null));
            }
            units.forEach((name, u) -> {
                float[][] mixed = mix(original.get(name)[0], original.get(name)[1], stats.get(name), targetWeight);
                u.bn().getParameters().get("runningMean").getArray().set(mixed[0]);
                u.bn().getParameters().get("runningVar").getArray().set(mixed[1]);
            });
        }
        Map<String, Double> shift = new LinkedHashMap<>();
        Map<String, Double> ratio = new LinkedHashMap<>();
        double sum = 0;
        for (Map.Entry<String, ConvBnRelu> e : units.entrySet()) {
            float[] oldMean = original.get(e.getKey())[0];
            float[] oldVar = original.get(e.getKey())[1];
            float[] newMean = e.getValue().bn().getParameters().get("runningMean").getArray().toFloatArray();
            double d = 0;
            for (int c = 0; c < newMean.length; c++) {
                d += Math.abs(newMean[c] - oldMean[c]) / Math.sqrt(oldVar[c] + ConvBnRelu.BN_EPSILON);
            }
            shift.put(e.getKey(), DiceEvaluator.round(d / newMean.length));
            float[] newVar = e.getValue().bn().getParameters().get("runningVar").getArray().toFloatArray();
            double r = 0;
            for (int c = 0; c < newVar.length; c++) {
                r += (newVar[c] + ConvBnRelu.BN_EPSILON) / (oldVar[c] + ConvBnRelu.BN_EPSILON);
            }
            ratio.put(e.getKey(), DiceEvaluator.round(r / newVar.length));
            sum += d / newMean.length;
        }
        return new Report(slices.size(), shift, DiceEvaluator.round(sum / units.size()), ratio);
    }
}
