package org.imagingpipeline.retrain;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

import java.util.ArrayList;
import java.util.List;

/**
 * 2D U-Net for one input channel (raw FLAIR intensities) and one output channel (lesion logit).
 *
 * <p>Layout: per-image z-score normalisation (inside the network, so the exported ONNX graph carries it);
 * {@code depth} encoder levels of two {@link ConvBnRelu} each followed by 2x2 max pooling; a bottleneck of
 * two {@link ConvBnRelu}; {@code depth} decoder levels, each: nearest-neighbour 2x upsampling + one
 * {@link ConvBnRelu} (DJL's PyTorch engine has no ConvTranspose; this maps to ONNX Resize + Conv),
 * concatenation with the skip connection, two {@link ConvBnRelu}; a 1x1 convolution to one logit.
 * Height and width must be multiples of {@code 2^depth}.
 */
public final class UNet extends AbstractBlock {

    /** Variance floor of the per-image z-score, in squared input units (raw 8-bit grey levels). */
    public static final float NORM_VARIANCE_FLOOR = 1.0f;

    private final int baseFilters;
    private final int depth;
    private final List<ConvBnRelu[]> encoders = new ArrayList<>();
    private final ConvBnRelu[] bottleneck;
    private final List<ConvBnRelu> ups = new ArrayList<>();
    private final List<ConvBnRelu[]> decoders = new ArrayList<>();
    private final Conv2d head;
    private final InputNormaliser normaliser;

    public UNet(int baseFilters, int depth) {
        this(baseFilters, depth, false);
    }

    /** @param withNormaliser put an {@link InputNormaliser} between the z-score and the first unit (adapted models) */
    public UNet(int baseFilters, int depth, boolean withNormaliser) {
        super((byte) 1);
        if (baseFilters < 1 || depth < 1 || depth > 6) {
            throw new IllegalArgumentException("U-Net needs baseFilters >= 1 and depth 1..6");
        }
        this.baseFilters = baseFilters;
        this.depth = depth;
        for (int i = 0; i < depth; i++) {
            int f = filters(i);
            encoders.add(new ConvBnRelu[] {
                addChildBlock("enc" + i + "a", new ConvBnRelu(f)),
                addChildBlock("enc" + i + "b", new ConvBnRelu(f))});
        }
        bottleneck = new ConvBnRelu[] {
            addChildBlock("mid_a", new ConvBnRelu(filters(depth))),
            addChildBlock("mid_b", new ConvBnRelu(filters(depth)))};
        for (int i = depth - 1; i >= 0; i--) {
            int f = filters(i);
            ups.add(addChildBlock("up" + i, new ConvBnRelu(f)));
            decoders.add(new ConvBnRelu[] {
                addChildBlock("dec" + i + "a", new ConvBnRelu(f)),
                addChildBlock("dec" + i + "b", new ConvBnRelu(f))});
        }
        head = addChildBlock("head", Conv2d.builder().setKernelShape(new Shape(1, 1)).setFilters(1).build());
        normaliser = withNormaliser ? addChildBlock("normaliser", new InputNormaliser()) : null;
    }

    /** The input-normalisation module, or null (source models have none). */
    public InputNormaliser normaliser() {
        return normaliser;
    }

    public int filters(int level) {
        return baseFilters << level;
    }

    public int baseFilters() {
        return baseFilters;
    }

    public int depth() {
        return depth;
    }

    /** Encoder level i: two units. */
    public List<ConvBnRelu[]> encoders() {
        return encoders;
    }

    public ConvBnRelu[] bottleneck() {
        return bottleneck;
    }

    /** Decoder upsampling units, deepest level first. */
    public List<ConvBnRelu> ups() {
        return ups;
    }

    /** Decoder units after concatenation, deepest level first. */
    public List<ConvBnRelu[]> decoders() {
        return decoders;
    }

    public Conv2d head() {
        return head;
    }

    /** Per-image z-score over channel, height and width: (x - mean) / sqrt(var + floor). */
    public static NDArray normalise(NDArray x) {
        NDArray mean = meanChw(x);
        NDArray centred = x.sub(mean);
        NDArray var = meanChw(centred.square());
        return centred.div(var.add(NORM_VARIANCE_FLOOR).sqrt());
    }

    /** Mean over axes 1, 2, 3 keeping dimensions (DJL's PyTorch engine reduces one axis at a time). */
    private static NDArray meanChw(NDArray x) {
        return x.mean(new int[] {3}, true).mean(new int[] {2}, true).mean(new int[] {1}, true);
    }

    /** Nearest-neighbour 2x upsampling of an NCHW array (ONNX: Resize nearest, asymmetric, floor). */
    public static NDArray upsample2x(NDArray x) {
        return x.repeat(2, 2).repeat(3, 2);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        return new NDList(forwardWithFeatures(ps, inputs.singletonOrThrow(), training, params).get(0));
    }

    /**
     * The forward pass that also hands out the encoder's deepest features: returns (logits, bottleneck output).
     * Feature-alignment adaptation puts its domain discriminator on the second element.
     */
    public NDList forwardWithFeatures(ParameterStore ps, NDArray input, boolean training,
                                      PairList<String, Object> params) {
        Shape s = input.getShape();
        long mult = 1L << depth;
        if (s.dimension() != 4 || s.get(1) != 1 || s.get(2) % mult != 0 || s.get(3) % mult != 0) {
            throw new IllegalArgumentException("U-Net input must be N x 1 x H x W with H and W multiples of "
                    + mult + ", got " + s);
        }
        NDArray x = normalise(input);
        if (normaliser != null) {
            x = normaliser.forward(ps, new NDList(x), training, params).singletonOrThrow();
        }
        List<NDArray> skips = new ArrayList<>();
        for (ConvBnRelu[] level : encoders) {
            x = run(ps, level, x, training, params);
            skips.add(x);
            x = Pool.maxPool2d(x, new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false);
        }
        x = run(ps, bottleneck, x, training, params);
        NDArray features = x;
        for (int j = 0; j < depth; j++) {
            x = ups.get(j).forward(ps, new NDList(upsample2x(x)), training, params).singletonOrThrow();
            x = NDArrays.concat(new NDList(x, skips.get(depth - 1 - j)), 1);
            x = run(ps, decoders.get(j), x, training, params);
        }
        return new NDList(head.forward(ps, new NDList(x), training, params).singletonOrThrow(), features);
    }

    /**
     * The z-score, the normaliser (if any) and the first {@code levels} encoder levels only (no pooling after the last):
     * what losses on shallow batch-norm inputs need, at a fraction of the full pass's cost.
     */
    public NDArray forwardEncoder(ParameterStore ps, NDArray input, boolean training, int levels) {
        NDArray x = normalise(input);
        if (normaliser != null) {
            x = normaliser.forward(ps, new NDList(x), training, null).singletonOrThrow();
        }
        for (int i = 0; i < Math.min(levels, depth); i++) {
            if (i > 0) {
                x = Pool.maxPool2d(x, new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false);
            }
            x = run(ps, encoders.get(i), x, training, null);
        }
        return x;
    }

    /** Every conv + batch-norm unit, named as in the ONNX graph (enc0a, ..., mida, midb, up3, dec3a, ...). */
    public java.util.LinkedHashMap<String, ConvBnRelu> namedUnits() {
        java.util.LinkedHashMap<String, ConvBnRelu> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < depth; i++) {
            m.put("enc" + i + "a", encoders.get(i)[0]);
            m.put("enc" + i + "b", encoders.get(i)[1]);
        }
        m.put("mida", bottleneck[0]);
        m.put("midb", bottleneck[1]);
        for (int j = 0; j < depth; j++) {
            int level = depth - 1 - j;
            m.put("up" + level, ups.get(j));
            m.put("dec" + level + "a", decoders.get(j)[0]);
            m.put("dec" + level + "b", decoders.get(j)[1]);
        }
        return m;
    }

    private static NDArray run(ParameterStore ps, ConvBnRelu[] units, NDArray x, boolean training,
                               PairList<String, Object> params) {
        NDList out = new NDList(x);
        for (ConvBnRelu u : units) {
            out = u.forward(ps, out, training, params);
        }
        return out.singletonOrThrow();
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape in = inputShapes[0];
        return new Shape[] {new Shape(in.get(0), 1, in.get(2), in.get(3))};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape in = inputShapes[0];
        long n = in.get(0);
        long h = in.get(2);
        long w = in.get(3);
        long c = 1;
        if (normaliser != null) {
            normaliser.initialize(manager, dataType, new Shape(n, 1, h, w));
            normaliser.resetToIdentity();
        }
        for (int i = 0; i < depth; i++) {
            Shape s = new Shape(n, c, h, w);
            encoders.get(i)[0].initialize(manager, dataType, s);
            c = filters(i);
            encoders.get(i)[1].initialize(manager, dataType, new Shape(n, c, h, w));
            h /= 2;
            w /= 2;
        }
        bottleneck[0].initialize(manager, dataType, new Shape(n, c, h, w));
        c = filters(depth);
        bottleneck[1].initialize(manager, dataType, new Shape(n, c, h, w));
        for (int j = 0; j < depth; j++) {
            int level = depth - 1 - j;
            h *= 2;
            w *= 2;
            ups.get(j).initialize(manager, dataType, new Shape(n, c, h, w));
            int f = filters(level);
            decoders.get(j)[0].initialize(manager, dataType, new Shape(n, 2L * f, h, w));
            decoders.get(j)[1].initialize(manager, dataType, new Shape(n, f, h, w));
            c = f;
        }
        head.initialize(manager, dataType, new Shape(n, c, h, w));
    }
}
