package org.imagingpipeline.retrain;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A shallow image-normalisation module in front of the segmenter (the test-time adaptable networks of Karani et al.
 * 2021): on the z-scored image, {@code x + c3(relu(c2(relu(c1(x)))))} with c1 a 3x3 convolution to {@link #CHANNELS}
 * channels, c2 a 3x3 convolution, c3 a 1x1 convolution back to one channel (all with bias). It can learn a non-linear
 * intensity curve and local filters (smoothing against noise, sharpening against blur) - the parts of a scanner change
 * that batch-norm statistics cannot undo. c3 starts at zero, so a new module is the identity and the network is its
 * parent. Only adaptation adds it (per domain); a source model has none.
 */
public final class InputNormaliser extends AbstractBlock {

    public static final int CHANNELS = 16;
    public static final String DESCRIPTION = "x + conv1x1(relu(conv3x3(relu(conv3x3(x))))), 16 channels, on the z-scored image";

    private final Conv2d c1;
    private final Conv2d c2;
    private final Conv2d c3;

    public InputNormaliser() {
        super((byte) 1);
        c1 = addChildBlock("c1", Conv2d.builder().setKernelShape(new Shape(3, 3)).optPadding(new Shape(1, 1))
                .setFilters(CHANNELS).build());
        c2 = addChildBlock("c2", Conv2d.builder().setKernelShape(new Shape(3, 3)).optPadding(new Shape(1, 1))
                .setFilters(CHANNELS).build());
        c3 = addChildBlock("c3", Conv2d.builder().setKernelShape(new Shape(1, 1)).setFilters(1).build());
    }

    public Conv2d c1() {
        return c1;
    }

    public Conv2d c2() {
        return c2;
    }

    public Conv2d c3() {
        return c3;
    }

    /** Makes the module the identity (the last convolution's weights and bias zero). */
    public void resetToIdentity() {
        c3.getParameters().get("weight").getArray().muli(0f);
        c3.getParameters().get("bias").getArray().muli(0f);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        NDArray h = Activation.relu(c1.forward(ps, new NDList(x), training, params).singletonOrThrow());
        h = Activation.relu(c2.forward(ps, new NDList(h), training, params).singletonOrThrow());
        return new NDList(x.add(c3.forward(ps, new NDList(h), training, params).singletonOrThrow()));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape in = inputShapes[0];
        c1.initialize(manager, dataType, in);
        Shape mid = new Shape(in.get(0), CHANNELS, in.get(2), in.get(3));
        c2.initialize(manager, dataType, mid);
        c3.initialize(manager, dataType, mid);
    }
}
