package org.imagingpipeline.retrain;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/** 3x3 convolution (no bias) + batch norm + ReLU: the unit the U-Net and its ONNX export share. */
public final class ConvBnRelu extends AbstractBlock {

    public static final float BN_EPSILON = 1e-5f;

    private final int filters;
    private final Conv2d conv;
    private final BatchNorm bn;
    private java.util.function.Consumer<NDArray> tap;

    public ConvBnRelu(int filters) {
        super((byte) 1);
        this.filters = filters;
        this.conv = addChildBlock("conv", Conv2d.builder()
                .setKernelShape(new Shape(3, 3)).optPadding(new Shape(1, 1))
                .setFilters(filters).optBias(false).build());
        this.bn = addChildBlock("bn", BatchNorm.builder().optEpsilon(BN_EPSILON).optMomentum(0.9f).build());
    }

    public Conv2d conv() {
        return conv;
    }

    public BatchNorm bn() {
        return bn;
    }

    public int filters() {
        return filters;
    }

    /**
     * While set, every forward pass adds the convolution output (the batch norm's input) to
     * {@code statistics}; {@code null} stops recording. Used to re-estimate the batch-norm statistics (AdaBN).
     */
    public void recordInto(BnStatistics statistics) {
        this.tap = statistics == null ? null : statistics::add;
    }

    /**
     * While set, every forward pass hands the convolution output (the batch norm's input, still attached to the
     * autograd graph) to {@code consumer}; {@code null} stops. Feature-statistics alignment builds its loss from it.
     */
    public void tap(java.util.function.Consumer<NDArray> consumer) {
        this.tap = consumer;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        NDList x = conv.forward(ps, inputs, training, params);
        if (tap != null) {
            tap.accept(x.singletonOrThrow());
        }
        x = bn.forward(ps, x, training, params);
        return new NDList(Activation.relu(x.singletonOrThrow()));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape in = inputShapes[0];
        return new Shape[] {new Shape(in.get(0), filters, in.get(2), in.get(3))};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        conv.initialize(manager, dataType, inputShapes);
        bn.initialize(manager, dataType, conv.getOutputShapes(inputShapes));
    }
}
