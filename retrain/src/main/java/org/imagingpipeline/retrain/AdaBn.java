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
 * AdaBN (Li et al. 2016; domain-specific batch norm as in DSBN / MS-Net): re-estimates batch norms' running mean
 * and variance from their inputs over the target domain's images; weights and affine parameters stay. Plain: the
 * target's population statistics replace the parent's (first pass in training mode, each layer normalised with
 * its batch's statistics; batches drawn across all series in a seeded order, since neighbouring slices of one
 * patient are alike). Source-referenced: the parent's statistics move by the target-minus-source difference (see
 * {@link #reestimate(UNet, NDManager, List, List, int, int, long, Scope, double, BnSnapshot, ProgressBar)}).
 * More passes run in inference mode with the statistics of the previous pass: {@link #REFINEMENT_PASSES} after the
 * plain first pass; referenced, one per batch norm in the scope (at least three): a unit's input depends only on the
 * units before it, so after pass k the first k units hold exactly the statistics of their input as the exported model
 * will see it. (Until 2026-12-05 referenced AdaBN always made three passes from the parent's statistics: deep scopes
 * were left with statistics measured under stale upstream statistics.) Statistics are accumulated per
 * batch ({@link BnStatistics}), not by the layers' exponential moving average. {@link Scope} says which batch
 * norms change (the adapt command's default: the first two encoder levels). The adapted model is the source
 * model with target statistics: the inference service routes only that domain to it, so the source domain keeps
 * its own.
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

    /** Refinement passes after the first, at least; scopes of more units get one pass per unit (see reestimate). */
    public static final int REFINEMENT_PASSES = 2;

    /**
     * Which batch norms are re-estimated: {@link #ENCODER} (encoder and bottleneck), {@link #ALL}, or the first
     * {@code n} encoder levels only ({@link #levels(int)}: the low-level appearance a scanner changes, while the
     * deeper layers' statistics depend on what is in the image, i.e. on the case mix of the target sample).
     */
    public record Scope(String name, int encoderLevels, boolean bottleneck, boolean decoder) {

        public static final Scope ENCODER = new Scope("encoder", Integer.MAX_VALUE, true, false);
        public static final Scope ALL = new Scope("all", Integer.MAX_VALUE, true, true);

        public static Scope levels(int n) {
            if (n < 1) {
                throw new DataException("--bn-scope levels:N needs N >= 1, got " + n);
            }
            return new Scope("levels:" + n, n, false, false);
        }

        /** {@code encoder}, {@code all} or {@code levels:N}. */
        public static Scope parse(String text) {
            String t = text.trim().toLowerCase(java.util.Locale.ROOT);
            if (t.equals("encoder")) {
                return ENCODER;
            }
            if (t.equals("all")) {
                return ALL;
            }
            if (t.startsWith("levels:")) {
                try {
                    return levels(Integer.parseInt(t.substring("levels:".length())));
                } catch (NumberFormatException e) {
                    throw new DataException("--bn-scope levels:N needs a whole number, got '" + text + "'");
                }
            }
            throw new DataException("--bn-scope must be encoder, all or levels:N, got '" + text + "'");
        }

        boolean covers(String unit) {
            if (unit.startsWith("enc")) {
                int level = Integer.parseInt(unit.substring(3, unit.length() - 1));
                return level < encoderLevels;
            }
            if (unit.startsWith("mid")) {
                return bottleneck;
            }
            return decoder;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** {@link #reestimate(UNet, NDManager, List, List, int, int, long, Scope, double, BnSnapshot, ProgressBar)} with
     *  the network's current statistics as the parent's and no source reference. */
    public static Report reestimate(UNet net, NDManager parent, List<float[]> slices, int size, int batch,
                                    long seed, Scope scope, double targetWeight, ProgressBar bar) {
        return reestimate(net, parent, slices, null, size, batch, seed, scope, targetWeight, BnSnapshot.of(net), bar);
    }

    /**
     * Re-estimates the statistics of the batch norms in {@code scope} on the target {@code slices}; every batch norm
     * outside the scope keeps (gets back) the parent's statistics ({@code parentStats}, taken before any
     * training-mode pass, which moves them all).
     * <p>
     * Without {@code sourceReference} (plain AdaBN) a layer's new statistics are the target population's, mixed with
     * the parent's by {@code targetWeight}. With it (source-referenced AdaBN) the parent's statistics are moved by the
     * <em>difference</em> between target and source as this procedure measures both: mean {@code R + w (T - S)},
     * variance {@code R (T / S)^w}, where S are the layer's input statistics on the source slices through the parent
     * and T those on the target. A network's running statistics are a moving average over augmented training batches,
     * not the population statistics of its source data as measured here (re-estimating every layer on the model's
     * own 36 training patients cost 0.06 Dice): the reference cancels that bias, so a target that looks like the
     * source leaves the model as it is and only the domain shift moves it. All passes run in inference mode.
     */
    public static Report reestimate(UNet net, NDManager parent, List<float[]> slices, List<float[]> sourceReference,
                                    int size, int batch, long seed, Scope scope, double targetWeight,
                                    BnSnapshot parentStats, ProgressBar bar) {
        return reestimate(net, parent, slices, sourceReference, size, batch, seed, scope, targetWeight, false, parentStats, bar);
    }

    /**
     * As above; with {@code foreground} the statistics count only the pixels of the anatomy ({@link Foreground}: the
     * target's and the source's own thresholds), not the air around it.
     */
    public static Report reestimate(UNet net, NDManager parent, List<float[]> slices, List<float[]> sourceReference,
                                    int size, int batch, long seed, Scope scope, double targetWeight, boolean foreground,
                                    BnSnapshot parentStats, ProgressBar bar) {
        if (!(targetWeight > 0 && targetWeight <= 1)) {
            throw new DataException("--bn-weight must be in (0, 1], got " + targetWeight);
        }
        if (slices.isEmpty()) {
            throw new DataException("no target slices to estimate batch-norm statistics from");
        }
        if (sourceReference != null && sourceReference.isEmpty()) {
            throw new DataException("no source slices to reference the batch-norm statistics to");
        }
        Map<String, ConvBnRelu> units = new LinkedHashMap<>();
        net.namedUnits().forEach((name, u) -> {
            if (scope.covers(name)) {
                units.put(name, u);
            }
        });
        Map<String, float[][]> original = new LinkedHashMap<>();
        units.forEach((name, u) -> original.put(name, new float[][] {parentStats.mean(name), parentStats.variance(name)}));
        // Referenced: every pass runs in inference mode from the parent's statistics. A unit's input depends only on the
        // units before it, so after pass k the first k units of the scope hold their exact statistics (each measured with
        // every unit upstream already adapted): as many passes as units, at least 3. Plain: the first pass normalises
        // each layer with its batch's statistics, already close to the fixed point; two refinements follow.
        int passes = sourceReference == null ? 1 + REFINEMENT_PASSES : Math.max(1 + REFINEMENT_PASSES, units.size());
        long work = (long) passes * batches(slices.size(), batch)
                + (sourceReference == null ? 0 : batches(sourceReference.size(), batch));
        Progress progress = new Progress(bar, passes + (sourceReference == null ? 0 : 1), work);
        ParameterStore ps = new ParameterStore(parent, false);
        Map<String, BnStatistics> reference = null;
        if (sourceReference != null) {
            parentStats.restore(net, name -> true);
            reference = measure(net, ps, parent, sourceReference, size, batch, seed, false, units, progress,
                    foreground ? Foreground.of(sourceReference) : null);
        }
        Foreground targetMask = foreground ? Foreground.of(slices) : null;
        for (int pass = 0; pass < passes; pass++) {
            // Plain AdaBN: the first pass normalises each layer with its batch's statistics (training mode).
            boolean training = sourceReference == null && pass == 0;
            Map<String, BnStatistics> stats;
            try {
                stats = measure(net, ps, parent, slices, size, batch, seed, training, units, progress, targetMask);
            } finally {
                parentStats.restore(net, name -> !scope.covers(name));
            }
            for (Map.Entry<String, ConvBnRelu> e : units.entrySet()) {
                float[][] r = original.get(e.getKey());
                float[][] next = reference == null ? mix(r[0], r[1], stats.get(e.getKey()), targetWeight)
                        : referenced(r[0], r[1], stats.get(e.getKey()), reference.get(e.getKey()), targetWeight);
                e.getValue().bn().getParameters().get("runningMean").getArray().set(next[0]);
                e.getValue().bn().getParameters().get("runningVar").getArray().set(next[1]);
            }
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

    /**
     * The input statistics of the batch norms in {@code scope} over {@code slices}, through the network as it is, in
     * inference mode (nothing changes): the source reference that feature-statistics alignment aims at.
     */
    public static Map<String, BnStatistics> statistics(UNet net, NDManager parent, List<float[]> slices, int size, int batch,
                                                       long seed, Scope scope, boolean foreground, ProgressBar bar) {
        if (slices == null || slices.isEmpty()) {
            throw new DataException("no source slices to measure batch-norm input statistics on");
        }
        Map<String, ConvBnRelu> units = new LinkedHashMap<>();
        net.namedUnits().forEach((name, u) -> {
            if (scope.covers(name)) {
                units.put(name, u);
            }
        });
        Progress progress = new Progress(bar, 1, batches(slices.size(), batch));
        return measure(net, new ParameterStore(parent, false), parent, slices, size, batch, seed, false, units, progress,
                foreground ? Foreground.of(slices) : null);
    }

    /** Mean R + w (T - S) and variance R ((T + eps) / (S + eps))^w per channel; see {@link #reestimate}. */
    static float[][] referenced(float[] runningMean, float[] runningVar, BnStatistics target, BnStatistics source,
                                double w) {
        float[] tm = target.mean();
        float[] tv = target.variance();
        float[] sm = source.mean();
        float[] sv = source.variance();
        float[] m = new float[tm.length];
        float[] v = new float[tm.length];
        for (int c = 0; c < m.length; c++) {
            m[c] = (float) (runningMean[c] + w * (tm[c] - sm[c]));
            v[c] = (float) (runningVar[c] * Math.pow((tv[c] + ConvBnRelu.BN_EPSILON) / (sv[c] + ConvBnRelu.BN_EPSILON), w));
        }
        return new float[][] {m, v};
    }

    private static int batches(int n, int batch) {
        return (n + batch - 1) / batch;
    }

    /** Progress over all passes (target passes and the source reference pass). */
    private static final class Progress {
        private final ProgressBar bar;
        private final int passes;
        private final long total;
        private final long t0 = System.nanoTime();
        private int pass;
        private long done;

        Progress(ProgressBar bar, int passes, long total) {
            this.bar = bar;
            this.passes = passes;
            this.total = total;
        }

        void nextPass() {
            pass++;
        }

        void step() {
            done++;
            double elapsed = (System.nanoTime() - t0) / 1e9;
            bar.update(ProgressBar.Phase.STATISTICS, pass, passes, done, total, Double.NaN, null, Double.NaN, elapsed / done,
                    elapsed / done * (total - done), done == total);
        }
    }

    /** The input statistics of {@code units} over {@code slices} (seeded shuffled batches mixing all series). */
    @SuppressWarnings("unchecked")
    private static Map<String, BnStatistics> measure(UNet net, ParameterStore ps, NDManager parent, List<float[]> slices,
                                                     int size, int batch, long seed, boolean training,
                                                     Map<String, ConvBnRelu> units, Progress progress, Foreground fg) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < slices.size(); i++) {
            order.add(i);
        }
        // Neighbouring slices of one patient are alike: a training-mode batch of them would be far from the population.
        Collections.shuffle(order, new Random(seed));
        Map<String, BnStatistics> stats = new LinkedHashMap<>();
        Map<Long, NDArray>[] masks = fg == null ? null : new Map[1];
        units.forEach((name, u) -> {
            BnStatistics s = new BnStatistics();
            stats.put(name, s);
            if (masks == null) {
                u.recordInto(s);
            } else {
                u.tap(x -> s.add(x, masks[0].get(x.getShape().get(2))));
            }
        });
        progress.nextPass();
        try {
            for (int from = 0; from < slices.size(); from += batch) {
                int to = Math.min(slices.size(), from + batch);
                float[] x = new float[(to - from) * size * size];
                for (int i = from; i < to; i++) {
                    System.arraycopy(slices.get(order.get(i)), 0, x, (i - from) * size * size, size * size);
                }
                try (NDManager bm = parent.newSubManager()) {
                    NDArray input = bm.create(x, new Shape(to - from, 1, size, size));
                    if (masks != null) {
                        masks[0] = fg.pyramid(input, net.depth() + 1);
                    }
                    net.forward(ps, new NDList(input), training);
                }
                progress.step();
            }
        } finally {
            units.values().forEach(u -> u.recordInto(null));
        }
        return stats;
    }
}
