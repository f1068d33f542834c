package org.imagingpipeline.retrain;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a trained {@link UNet} as an ONNX model (opset 17) with the OnnxMl protobuf classes.
 *
 * <p>Graph: input {@code image} float[N,1,H,W] of raw intensities (N, H, W dynamic); per-image z-score
 * (ReduceMean, Sub, Mul, ReduceMean, Add, Sqrt, Div); Conv / BatchNormalization (inference form, running
 * statistics) / Relu; MaxPool; Resize (nearest, asymmetric, floor) for upsampling; Concat for skips;
 * a 1x1 Conv to one logit; Sigmoid; output {@code prob} float[N,1,H,W] in [0,1].
 */
public final class OnnxExporter {

    public static final String INPUT = "image";
    public static final String OUTPUT = "prob";
    public static final int OPSET = 17;
    /** Metadata key present (with a description) when the graph has an {@link InputNormaliser}. */
    public static final String INPUT_NORMALISER = "input_normaliser";
    public static final String NORMALISATION = "per-image z-score: (x - mean(x)) / sqrt(var(x) + "
            + UNet.NORM_VARIANCE_FLOOR + "), over C,H,W, on raw intensities";

    /** DJL batch-norm parameter -> ONNX initializer suffix (after the unit name). */
    static final Map<String, String> BN_PARAMETERS = orderedPairs(
            "gamma", "bn.scale", "beta", "bn.bias", "runningMean", "bn.mean", "runningVar", "bn.var");

    private final OnnxMl.GraphProto.Builder graph = OnnxMl.GraphProto.newBuilder();
    private final Map<ConvBnRelu, String> unitNames = new java.util.IdentityHashMap<>();
    private int counter;

    private OnnxExporter() {
    }

    /** Builds the ONNX model; metadata entries are stored as metadata_props (e.g. input_size). */
    public static OnnxMl.ModelProto toModel(UNet net, Map<String, String> metadata) {
        return new OnnxExporter().build(net, metadata);
    }

    /** Writes the model to {@code out} (parent folders created) and returns the bytes written. */
    public static byte[] export(UNet net, Map<String, String> metadata, Path out) throws IOException {
        byte[] bytes = toModel(net, metadata).toByteArray();
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return bytes;
    }

    /**
     * Every parameter of the network under its ONNX initializer name (the names this exporter writes and
     * {@link OnnxImporter} reads back), in graph order.
     */
    public static Map<String, Parameter> onnxParameters(UNet net) {
        Map<String, Parameter> m = new LinkedHashMap<>();
        net.namedUnits().forEach((name, u) -> {
            m.put(name + ".conv.weight", u.conv().getParameters().get("weight"));
            BN_PARAMETERS.forEach((djl, onnx) -> m.put(name + "." + onnx, u.bn().getParameters().get(djl)));
        });
        m.put("head.weight", net.head().getParameters().get("weight"));
        m.put("head.bias", net.head().getParameters().get("bias"));
        if (net.normaliser() != null) {
            InputNormaliser n = net.normaliser();
            Map<String, Block> convs = new LinkedHashMap<>();
            convs.put("c1", n.c1());
            convs.put("c2", n.c2());
            convs.put("c3", n.c3());
            convs.forEach((c, conv) -> {
                m.put("normaliser." + c + ".weight", conv.getParameters().get("weight"));
                m.put("normaliser." + c + ".bias", conv.getParameters().get("bias"));
            });
        }
        return m;
    }

    private static Map<String, String> orderedPairs(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return java.util.Collections.unmodifiableMap(m);
    }

    private OnnxMl.ModelProto build(UNet net, Map<String, String> metadata) {
        net.namedUnits().forEach((name, u) -> unitNames.put(u, name));
        graph.setName("unet2d");
        graph.addInput(valueInfo(INPUT));
        graph.addOutput(valueInfo(OUTPUT));

        String x = normalise(INPUT);
        if (net.normaliser() != null) {
            x = inputNormaliser(net.normaliser(), x);
        }
        List<String> skips = new ArrayList<>();
        for (int i = 0; i < net.depth(); i++) {
            x = units(net.encoders().get(i), x);
            skips.add(x);
            x = node("MaxPool", List.of(x), "pool" + i,
                    intsAttr("kernel_shape", 2, 2), intsAttr("strides", 2, 2));
        }
        x = units(net.bottleneck(), x);
        String scales = initializer("up_scales", new long[] {4}, new float[] {1f, 1f, 2f, 2f});
        for (int j = 0; j < net.depth(); j++) {
            int level = net.depth() - 1 - j;
            String up = node("Resize", List.of(x, "", scales), "resize" + level,
                    stringAttr("mode", "nearest"),
                    stringAttr("coordinate_transformation_mode", "asymmetric"),
                    stringAttr("nearest_mode", "floor"));
            x = unit(net.ups().get(j), up);
            x = node("Concat", List.of(x, skips.get(level)), "cat" + level, intAttr("axis", 1));
            x = units(net.decoders().get(j), x);
        }
        String w = param(net.head(), "weight", "head.weight");
        String b = param(net.head(), "bias", "head.bias");
        String logit = node("Conv", List.of(x, w, b), "head",
                intsAttr("kernel_shape", 1, 1), intsAttr("pads", 0, 0, 0, 0), intsAttr("strides", 1, 1));
        graph.addNode(OnnxMl.NodeProto.newBuilder().setOpType("Sigmoid").setName("sigmoid")
                .addInput(logit).addOutput(OUTPUT));

        OnnxMl.ModelProto.Builder model = OnnxMl.ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("imaging-pipeline retrain")
                .setProducerVersion("0.1.0")
                .setDomain("org.imagingpipeline")
                .setModelVersion(1)
                .setDocString("2D U-Net, FLAIR lesion segmentation; input raw intensities, output probability")
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(graph);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("normalisation", NORMALISATION);
        meta.put("base_filters", Integer.toString(net.baseFilters()));
        meta.put("depth", Integer.toString(net.depth()));
        meta.put("size_multiple", Integer.toString(1 << net.depth()));
        if (net.normaliser() != null) {
            meta.put(INPUT_NORMALISER, InputNormaliser.DESCRIPTION);
        }
        meta.putAll(metadata);
        meta.forEach((k, v) -> model.addMetadataProps(
                OnnxMl.StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        return model.build();
    }

    private String normalise(String in) {
        OnnxMl.AttributeProto axes = intsAttr("axes", 1, 2, 3);
        OnnxMl.AttributeProto keep = intAttr("keepdims", 1);
        String mean = node("ReduceMean", List.of(in), "norm_mean", axes, keep);
        String centred = node("Sub", List.of(in, mean), "norm_centre");
        String sq = node("Mul", List.of(centred, centred), "norm_square");
        String var = node("ReduceMean", List.of(sq), "norm_var", axes, keep);
        String floor = initializer("norm_floor", new long[0], new float[] {UNet.NORM_VARIANCE_FLOOR});
        String varF = node("Add", List.of(var, floor), "norm_var_floor");
        String std = node("Sqrt", List.of(varF), "norm_std");
        return node("Div", List.of(centred, std), "norm_out");
    }

    /** The adapted models' input-normalisation module: x + c3(relu(c2(relu(c1(x))))). */
    private String inputNormaliser(InputNormaliser n, String x) {
        String w1 = param(n.c1(), "weight", "normaliser.c1.weight");
        String b1 = param(n.c1(), "bias", "normaliser.c1.bias");
        String h = node("Relu", List.of(node("Conv", List.of(x, w1, b1), "normaliser.c1",
                intsAttr("kernel_shape", 3, 3), intsAttr("pads", 1, 1, 1, 1), intsAttr("strides", 1, 1))), "normaliser.relu1");
        String w2 = param(n.c2(), "weight", "normaliser.c2.weight");
        String b2 = param(n.c2(), "bias", "normaliser.c2.bias");
        h = node("Relu", List.of(node("Conv", List.of(h, w2, b2), "normaliser.c2",
                intsAttr("kernel_shape", 3, 3), intsAttr("pads", 1, 1, 1, 1), intsAttr("strides", 1, 1))), "normaliser.relu2");
        String w3 = param(n.c3(), "weight", "normaliser.c3.weight");
        String b3 = param(n.c3(), "bias", "normaliser.c3.bias");
        String r = node("Conv", List.of(h, w3, b3), "normaliser.c3",
                intsAttr("kernel_shape", 1, 1), intsAttr("pads", 0, 0, 0, 0), intsAttr("strides", 1, 1));
        return node("Add", List.of(x, r), "normaliser.residual");
    }

    private String units(ConvBnRelu[] units, String x) {
        for (ConvBnRelu u : units) {
            x = unit(u, x);
        }
        return x;
    }

    private String unit(ConvBnRelu u, String x) {
        String name = unitNames.get(u);
        String w = param(u.conv(), "weight", name + ".conv.weight");
        String c = node("Conv", List.of(x, w), name + ".conv",
                intsAttr("kernel_shape", 3, 3), intsAttr("pads", 1, 1, 1, 1), intsAttr("strides", 1, 1));
        List<String> bnInputs = new ArrayList<>(List.of(c));
        BN_PARAMETERS.forEach((djl, onnx) -> bnInputs.add(param(u.bn(), djl, name + "." + onnx)));
        String bn = node("BatchNormalization", bnInputs, name + ".bn", floatAttr("epsilon", ConvBnRelu.BN_EPSILON));
        return node("Relu", List.of(bn), name + ".relu");
    }

    private String param(Block block, String djlName, String onnxName) {
        Parameter p = block.getParameters().get(djlName);
        if (p == null || p.getArray() == null) {
            throw new IllegalStateException("parameter " + djlName + " missing in " + block);
        }
        NDArray a = p.getArray();
        return initializer(onnxName, a.getShape().getShape(), a.toFloatArray());
    }

    private String initializer(String name, long[] dims, float[] values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            buf.putFloat(v);
        }
        OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder().setName(name)
                .setDataType(OnnxMl.TensorProto.DataType.FLOAT.getNumber())
                .setRawData(ByteString.copyFrom(buf.array()));
        for (long d : dims) {
            t.addDims(d);
        }
        graph.addInitializer(t);
        return name;
    }

    private String node(String op, List<String> inputs, String name, OnnxMl.AttributeProto... attrs) {
        String out = name + ".out" + (counter++);
        OnnxMl.NodeProto.Builder n = OnnxMl.NodeProto.newBuilder().setOpType(op).setName(name)
                .addAllInput(inputs).addOutput(out);
        for (OnnxMl.AttributeProto a : attrs) {
            n.addAttribute(a);
        }
        graph.addNode(n);
        return out;
    }

    private static OnnxMl.ValueInfoProto valueInfo(String name) {
        OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder()
                .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam("N"))
                .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(1))
                .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam("H"))
                .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam("W"));
        return OnnxMl.ValueInfoProto.newBuilder().setName(name).setType(OnnxMl.TypeProto.newBuilder()
                .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder()
                        .setElemType(OnnxMl.TensorProto.DataType.FLOAT.getNumber()).setShape(shape))).build();
    }

    private static OnnxMl.AttributeProto intsAttr(String name, long... values) {
        OnnxMl.AttributeProto.Builder a = OnnxMl.AttributeProto.newBuilder().setName(name)
                .setType(OnnxMl.AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    private static OnnxMl.AttributeProto intAttr(String name, long value) {
        return OnnxMl.AttributeProto.newBuilder().setName(name)
                .setType(OnnxMl.AttributeProto.AttributeType.INT).setI(value).build();
    }

    private static OnnxMl.AttributeProto floatAttr(String name, float value) {
        return OnnxMl.AttributeProto.newBuilder().setName(name)
                .setType(OnnxMl.AttributeProto.AttributeType.FLOAT).setF(value).build();
    }

    private static OnnxMl.AttributeProto stringAttr(String name, String value) {
        return OnnxMl.AttributeProto.newBuilder().setName(name)
                .setType(OnnxMl.AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8(value)).build();
    }
}
