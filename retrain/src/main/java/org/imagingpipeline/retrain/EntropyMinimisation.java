package org.imagingpipeline.retrain;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * TENT-style test-time adaptation (Wang et al. 2021): only the batch norms' affine parameters (scale, shift)
 * are trained, by minimising the mean binary entropy of the predicted lesion probability on unlabelled target
 * slices, with batch statistics in the forward pass. Lesions are a small share of the pixels, so entropy alone
 * can collapse to "no lesion anywhere"; a prior term keeps the batch's mean lesion probability near the share
 * the model predicted on the target before this step (binary KL, weight {@link #PRIOR_WEIGHT}).
 * Run after {@link AdaBn}; the caller re-estimates the statistics afterwards, because downstream layers' inputs
 * changed.
 */
public final class EntropyMinimisation {

    public static final float PRIOR_WEIGHT = 1f;

    private EntropyMinimisation() {
    }

    /** Mean predicted lesion probability over the slices (inference mode): the prior the loop holds on to. */
    public static double meanProbability(UNet net, NDManager parent, List<float[]> slices, int size, int batch) {
        ParameterStore ps = new ParameterStore(parent, false);
        double sum = 0;
        for (int from = 0; from < slices.size(); from += batch) {
            int to = Math.min(slices.size(), from + batch);
            float[] x = new float[(to - from) * size * size];
            for (int i = from; i < to; i++) {
                System.arraycopy(slices.get(i), 0, x, (i - from) * size * size, size * size);
            }
            try (NDManager bm = parent.newSubManager()) {
                NDArray z = net.forward(ps, new NDList(bm.create(x, new Shape(to - from, 1, size, size))), false)
                        .singletonOrThrow();
                sum += Activation.sigmoid(z).sum().getFloat();
            }
        }
        return sum / ((double) slices.size() * size * size);
    }

    public static OptimisationLog run(UNet net, NDManager parent, List<float[]> slices, int size, int batch,
                                      float lr, long seed, StepBudget budget) {
        double prior = Math.min(1 - 1e-4, Math.max(1e-5, meanProbability(net, parent, slices, size, batch)));
        int trainable = 0;
        for (var pair : net.getParameters()) {
            boolean affine = pair.getKey().endsWith("gamma") || pair.getKey().endsWith("beta");
            Parameter p = pair.getValue();
            if (p.getType() != Parameter.Type.RUNNING_MEAN && p.getType() != Parameter.Type.RUNNING_VAR) {
                p.freeze(!affine);
            }
            trainable += affine ? (int) p.getArray().size() : 0;
        }
        SliceSampler sampler = new SliceSampler(slices, null, size * size, new Random(seed));
        AdamStep adam = new AdamStep(lr);
        ParameterStore ps = new ParameterStore(parent, false);
        float[] x = new float[batch * size * size];
        double first = Double.NaN;
        double ema = Double.NaN;
        double entropyEma = Double.NaN;
        int step = 0;
        try {
            do {
                sampler.fill(x, null);
                float lossValue;
                float entropyValue;
                try (NDManager bm = parent.newSubManager()) {
                    NDArray xa = bm.create(x, new Shape(batch, 1, size, size));
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray z = net.forward(ps, new NDList(xa), true).singletonOrThrow();
                        NDArray p = Activation.sigmoid(z);
                        NDArray entropy = Activation.softPlus(z).sub(z.mul(p)).mean();
                        NDArray pBar = p.mean().clip(1e-6f, 1 - 1e-6f);
                        NDArray kl = pBar.log().neg().add((float) Math.log(prior)).mul((float) prior)
                                .add(pBar.neg().add(1f).log().neg().add((float) Math.log(1 - prior)).mul((float) (1 - prior)));
                        NDArray loss = entropy.add(kl.mul(PRIOR_WEIGHT));
                        gc.backward(loss);
                        lossValue = loss.getFloat();
                        entropyValue = entropy.getFloat();
                    }
                    adam.step(net, parent);
                }
                if (!Float.isFinite(lossValue)) {
                    throw new IllegalStateException("entropy loss became " + lossValue + " at step " + (step + 1));
                }
                step++;
                first = step == 1 ? lossValue : first;
                ema = Double.isNaN(ema) ? lossValue : 0.9 * ema + 0.1 * lossValue;
                entropyEma = Double.isNaN(entropyEma) ? entropyValue : 0.9 * entropyEma + 0.1 * entropyValue;
            } while (!budget.afterStep(step, ema, "entropy", entropyEma));
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
        d.put("prior_lesion_probability", Math.round(prior * 1e6) / 1e6);
        d.put("prior_weight", PRIOR_WEIGHT);
        d.put("entropy_last_steps_ema", DiceEvaluator.round(entropyEma));
        d.put("learning_rate", lr);
        d.put("batch", batch);
        return new OptimisationLog(step, DiceEvaluator.round(first), DiceEvaluator.round(ema),
                Math.round(budget.seconds() * 10) / 10.0, budget.stopReason(), d);
    }
}
