package org.imagingpipeline.retrain;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The running mean and variance of every batch norm of a U-Net, copied out. A forward pass in training mode makes
 * DJL's batch norms fold the batch's statistics into their running statistics (moving average) - in every layer,
 * not only those an adaptation means to change. Adaptation therefore takes a snapshot of the parent first, mixes
 * against it and puts back the layers it must not change.
 */
public final class BnSnapshot {

    private final Map<String, float[][]> stats;

    private BnSnapshot(Map<String, float[][]> stats) {
        this.stats = stats;
    }

    public static BnSnapshot of(UNet net) {
        Map<String, float[][]> m = new LinkedHashMap<>();
        net.namedUnits().forEach((name, u) -> m.put(name, new float[][] {
            u.bn().getParameters().get("runningMean").getArray().toFloatArray(),
            u.bn().getParameters().get("runningVar").getArray().toFloatArray()}));
        return new BnSnapshot(m);
    }

    public float[] mean(String unit) {
        return stats.get(unit)[0].clone();
    }

    public float[] variance(String unit) {
        return stats.get(unit)[1].clone();
    }

    /** Writes the snapshot's statistics back into the units {@code which} selects; returns how many. */
    public int restore(UNet net, Predicate<String> which) {
        int n = 0;
        for (Map.Entry<String, ConvBnRelu> e : net.namedUnits().entrySet()) {
            if (which.test(e.getKey())) {
                float[][] s = stats.get(e.getKey());
                e.getValue().bn().getParameters().get("runningMean").getArray().set(s[0]);
                e.getValue().bn().getParameters().get("runningVar").getArray().set(s[1]);
                n++;
            }
        }
        return n;
    }
}
