package org.imagingpipeline.retrain;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import ai.djl.training.loss.Loss;

/** Binary cross-entropy on logits (numerically stable form) + (1 - soft Dice over the batch). */
public final class DiceBceLoss extends Loss {

    public static final float SMOOTH = 1f;

    public DiceBceLoss() {
        super("dice_bce");
    }

    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        NDArray z = predictions.singletonOrThrow();
        NDArray y = labels.singletonOrThrow();
        NDArray bce = Activation.relu(z).sub(z.mul(y)).add(z.abs().neg().exp().add(1f).log()).mean();
        NDArray p = Activation.sigmoid(z);
        NDArray inter = p.mul(y).sum();
        NDArray dice = inter.mul(2f).add(SMOOTH).div(p.sum().add(y.sum()).add(SMOOTH));
        return bce.add(dice.neg().add(1f));
    }
}
