package org.imagingpipeline.retrain;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.loss.Loss;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Few-shot supervised adaptation from a radiologist's corrected masks of a few target series: after AdaBN (the
 * target's statistics), only the batch norms' affine parameters (and the input normaliser's, when the network has
 * one) are trained, with BCE + soft Dice, on batches that mix the corrected target slices with labelled source slices
 * (source replay, half of each batch), so a handful of series cannot make the network forget the source task. Batch
 * norms run in inference mode (the domain's statistics, not a batch's): the few target slices would give noisy batch
 * statistics, and the served model uses the running ones. The gate judges the procedure on corrected series it did
 * not train on (leave-series-out, {@link AdaptationJob}).
 */
public final class FewShotFineTune {

    private FewShotFineTune() {
    }

    public static OptimisationLog run(UNet net, NDManager parent, List<float[]> targetImages, List<byte[]> targetMasks,
                                      List<float[]> sourceImages, List<byte[]> sourceMasks, int size, int batch, float lr,
                                      long seed, StepBudget budget) {
        if (targetImages.isEmpty()) {
            throw new DataException("few-shot fine-tuning needs corrected target slices");
        }
        int trainable = 0;
        for (var pair : net.getParameters()) {
            String k = pair.getKey();
            boolean mine = k.endsWith("gamma") || k.endsWith("beta") || k.contains("normaliser");
            Parameter p = pair.getValue();
            if (p.getType() != Parameter.Type.RUNNING_MEAN && p.getType() != Parameter.Type.RUNNING_VAR) {
                p.freeze(!mine);
            }
            trainable += mine ? (int) p.getArray().size() : 0;
        }
        Random rnd = new Random(seed);
        int pixels = size * size;
        int tb = Math.max(1, batch / 2);
        int sb = batch - tb;
        SliceSampler tgt = new SliceSampler(targetImages, targetMasks, pixels, rnd);
        SliceSampler src = sb > 0 ? new SliceSampler(sourceImages, sourceMasks, pixels, rnd) : null;
        AdamStep adam = new AdamStep(lr);
        Loss loss = new DiceBceLoss();
        ParameterStore ps = new ParameterStore(parent, false);
        float[] x = new float[batch * pixels];
        float[] y = new float[batch * pixels];
        float[] tx = new float[tb * pixels];
        float[] ty = new float[tb * pixels];
        float[] sx = new float[sb * pixels];
        float[] sy = new float[sb * pixels];
        double first = Double.NaN;
        double ema = Double.NaN;
        double diceEma = Double.NaN;
        int step = 0;
        try {
            do {
                tgt.fill(tx, ty);
                System.arraycopy(tx, 0, x, 0, tx.length);
                System.arraycopy(ty, 0, y, 0, ty.length);
                if (src != null) {
                    src.fill(sx, sy);
                    System.arraycopy(sx, 0, x, tx.length, sx.length);
                    System.arraycopy(sy, 0, y, ty.length, sy.length);
                }
                float lossValue;
                float dice;
                try (NDManager bm = parent.newSubManager()) {
                    NDArray xa = bm.create(x, new Shape(batch, 1, size, size));
                    NDArray ya = bm.create(y, new Shape(batch, 1, size, size));
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray logits = net.forward(ps, new NDList(xa), false).singletonOrThrow();
                        NDArray l = loss.evaluate(new NDList(ya), new NDList(logits));
                        gc.backward(l);
                        lossValue = l.getFloat();
                        NDArray pred = logits.get("0:" + tb).gt(0f).toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
                        NDArray truth = ya.get("0:" + tb);
                        float denom = pred.sum().getFloat() + truth.sum().getFloat();
                        dice = denom == 0 ? 1f : 2 * pred.mul(truth).sum().getFloat() / denom;
                    }
                    adam.step(net, parent);
                }
                if (!Float.isFinite(lossValue)) {
                    throw new IllegalStateException("fine-tuning loss became " + lossValue + " at step " + (step + 1));
                }
                step++;
                first = step == 1 ? lossValue : first;
                ema = Double.isNaN(ema) ? lossValue : 0.9 * ema + 0.1 * lossValue;
                diceEma = Double.isNaN(diceEma) ? dice : 0.9 * diceEma + 0.1 * dice;
            } while (!budget.afterStep(step, ema, "target dice", diceEma));
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
        d.put("target_slices", targetImages.size());
        d.put("source_replay_share", (double) sb / batch);
        d.put("learning_rate", lr);
        d.put("batch", batch);
        d.put("target_dice_last_steps_ema", DiceEvaluator.round(diceEma));
        return new OptimisationLog(step, DiceEvaluator.round(first), DiceEvaluator.round(ema),
                Math.round(budget.seconds() * 10) / 10.0, budget.stopReason(), d);
    }
}
