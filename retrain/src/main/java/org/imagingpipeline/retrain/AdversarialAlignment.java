package org.imagingpipeline.retrain;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.loss.Loss;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Feature alignment with a domain discriminator (DANN, Ganin et al. 2016; as used for segmentation by Dou et
 * al. 2018): a small discriminator (1x1 convolutions, so every bottleneck position is a sample) learns to tell
 * source from target encoder features; a gradient-reversal layer hands the encoder the opposite gradient, scaled
 * by lambda (ramped 0 -> {@code lambdaMax} as in DANN), so the encoder learns features the discriminator cannot
 * separate. The source supervised loss (BCE + soft Dice on labelled source slices) is kept in every step so the
 * task is not forgotten. Source and target batches go through the network separately (each normalised with its
 * own batch statistics, as in domain-specific batch norm); the caller re-estimates target statistics afterwards.
 */
public final class AdversarialAlignment {

    public static final float LAMBDA_MAX = 0.3f;
    public static final int DISCRIMINATOR_WIDTH = 32;

    private AdversarialAlignment() {
    }

    /** Identity forward, gradient times -lambda backward. */
    static NDArray reverseGradient(NDArray x, float lambda) {
        return x.stopGradient().mul(1f + lambda).sub(x.mul(lambda));
    }

    public static OptimisationLog run(UNet net, NDManager parent, List<float[]> target, List<float[]> sourceImages,
                                      List<byte[]> sourceMasks, int size, int batch, float lr, long seed,
                                      StepBudget budget) {
        Random rnd = new Random(seed);
        SequentialBlock disc = new SequentialBlock()
                .add(Conv2d.builder().setKernelShape(new Shape(1, 1)).setFilters(DISCRIMINATOR_WIDTH).build())
                .add(x -> new NDList(Activation.leakyRelu(x.singletonOrThrow(), 0.2f)))
                .add(Conv2d.builder().setKernelShape(new Shape(1, 1)).setFilters(1).build());
        long cells = size >> net.depth();
        disc.initialize(parent, DataType.FLOAT32, new Shape(1, net.filters(net.depth()), cells, cells));
        int pixels = size * size;
        SliceSampler src = new SliceSampler(sourceImages, sourceMasks, pixels, rnd);
        SliceSampler tgt = new SliceSampler(target, null, pixels, rnd);
        AdamStep netAdam = new AdamStep(lr);
        AdamStep discAdam = new AdamStep(lr * 10);
        Loss seg = new DiceBceLoss();
        Loss domain = Loss.sigmoidBinaryCrossEntropyLoss("domain");
        ParameterStore ps = new ParameterStore(parent, false);
        float[] xs = new float[batch * pixels];
        float[] ys = new float[batch * pixels];
        float[] xt = new float[batch * pixels];
        double first = Double.NaN;
        double ema = Double.NaN;
        double segEma = Double.NaN;
        double accEma = Double.NaN;
        int step = 0;
        do {
            src.fill(xs, ys);
            tgt.fill(xt, null);
            double progress = (double) step / budget.maxSteps();
            float lambda = (float) (LAMBDA_MAX * (2 / (1 + Math.exp(-10 * progress)) - 1));
            float lossValue;
            float segValue;
            float accuracy;
            try (NDManager bm = parent.newSubManager()) {
                NDArray xsa = bm.create(xs, new Shape(batch, 1, size, size));
                NDArray ysa = bm.create(ys, new Shape(batch, 1, size, size));
                NDArray xta = bm.create(xt, new Shape(batch, 1, size, size));
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDList s = net.forwardWithFeatures(ps, xsa, true, null);
                    NDList t = net.forwardWithFeatures(ps, xta, true, null);
                    NDArray segLoss = seg.evaluate(new NDList(ysa), new NDList(s.get(0)));
                    NDArray ds = disc.forward(ps, new NDList(reverseGradient(s.get(1), lambda)), true).singletonOrThrow();
                    NDArray dt = disc.forward(ps, new NDList(reverseGradient(t.get(1), lambda)), true).singletonOrThrow();
                    NDArray domLoss = domain.evaluate(new NDList(ds.onesLike()), new NDList(ds))
                            .add(domain.evaluate(new NDList(dt.zerosLike()), new NDList(dt))).div(2f);
                    NDArray loss = segLoss.add(domLoss);
                    gc.backward(loss);
                    lossValue = loss.getFloat();
                    segValue = segLoss.getFloat();
                    accuracy = (ds.gt(0f).toType(DataType.FLOAT32, false).mean().getFloat()
                            + dt.lte(0f).toType(DataType.FLOAT32, false).mean().getFloat()) / 2;
                }
                netAdam.step(net, parent);
                discAdam.step(disc, parent);
            }
            if (!Float.isFinite(lossValue)) {
                throw new IllegalStateException("adversarial loss became " + lossValue + " at step " + (step + 1));
            }
            step++;
            first = step == 1 ? lossValue : first;
            ema = Double.isNaN(ema) ? lossValue : 0.9 * ema + 0.1 * lossValue;
            segEma = Double.isNaN(segEma) ? segValue : 0.9 * segEma + 0.1 * segValue;
            accEma = Double.isNaN(accEma) ? accuracy : 0.9 * accEma + 0.1 * accuracy;
        } while (!budget.afterStep(step, ema, "disc_acc", accEma));
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("discriminator", "1x1 conv " + net.filters(net.depth()) + "->" + DISCRIMINATOR_WIDTH
                + ", leaky ReLU, 1x1 conv ->1, on the bottleneck features");
        d.put("lambda_max", LAMBDA_MAX);
        d.put("segmentation_loss_last_steps_ema", DiceEvaluator.round(segEma));
        d.put("discriminator_accuracy_last_steps_ema", DiceEvaluator.round(accEma));
        d.put("learning_rate", lr);
        d.put("discriminator_learning_rate", lr * 10);
        d.put("batch", batch);
        d.put("source_slices", sourceImages.size());
        return new OptimisationLog(step, DiceEvaluator.round(first), DiceEvaluator.round(ema),
                Math.round(budget.seconds() * 10) / 10.0, budget.stopReason(), d);
    }
}
