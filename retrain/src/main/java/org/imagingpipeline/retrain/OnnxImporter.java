package org.imagingpipeline.retrain;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.onnx.proto.OnnxMl;
import com.google.protobuf.InvalidProtocolBufferException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a model written by {@link OnnxExporter} back into a DJL {@link UNet}: the architecture from the
 * metadata ({@code base_filters}, {@code depth}), every weight and batch-norm statistic from the graph's
 * initializers by name ({@link OnnxExporter#onnxParameters}). Exporting the imported network gives the same
 * graph, so adaptation can start from any exported model.
 */
public final class OnnxImporter {

    /** The network (initialised in {@code manager}), the model's metadata and its sha256. */
    public record Imported(UNet net, Map<String, String> metadata, String sha256) {
        public int inputSize() {
            return Integer.parseInt(metadata.getOrDefault("input_size", "0"));
        }
    }

    private OnnxImporter() {
    }

    public static Imported read(Path file, NDManager manager) {
        return read(file, manager, false);
    }

    /**
     * @param withNormaliser give the network an {@link InputNormaliser} even if the file has none (a new one is the
     *                       identity); a file with one always gets it
     */
    public static Imported read(Path file, NDManager manager, boolean withNormaliser) {
        if (!Files.isRegularFile(file)) {
            throw new DataException("model file not found: " + file);
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new DataException("cannot read model " + file + ": " + e.getMessage(), e);
        }
        OnnxMl.ModelProto model;
        try {
            model = OnnxMl.ModelProto.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new DataException("not an ONNX model: " + file + " (" + e.getMessage() + ")", e);
        }
        Map<String, String> meta = new LinkedHashMap<>();
        model.getMetadataPropsList().forEach(p -> meta.put(p.getKey(), p.getValue()));
        if (!meta.containsKey("base_filters") || !meta.containsKey("depth")) {
            throw new DataException("ONNX model " + file + " was not written by this project's exporter "
                    + "(metadata base_filters/depth missing), so its weights cannot be adapted");
        }
        boolean hasNormaliser = meta.containsKey(OnnxExporter.INPUT_NORMALISER);
        UNet net = new UNet(Integer.parseInt(meta.get("base_filters")), Integer.parseInt(meta.get("depth")),
                hasNormaliser || withNormaliser);
        int m = 1 << net.depth();
        net.initialize(manager, DataType.FLOAT32, new Shape(1, 1, m, m));
        Map<String, OnnxMl.TensorProto> inits = new HashMap<>();
        model.getGraph().getInitializerList().forEach(t -> inits.put(t.getName(), t));
        for (Map.Entry<String, Parameter> e : OnnxExporter.onnxParameters(net).entrySet()) {
            OnnxMl.TensorProto t = inits.get(e.getKey());
            if (t == null && !hasNormaliser && e.getKey().startsWith("normaliser.")) {
                continue; // a new module: stays the identity it was initialised as
            }
            if (t == null) {
                throw new DataException("ONNX model " + file + " has no initializer " + e.getKey()
                        + " (architecture in its metadata: base_filters " + net.baseFilters() + ", depth " + net.depth() + ")");
            }
            long[] want = e.getValue().getArray().getShape().getShape();
            long[] got = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
            if (!Arrays.equals(want, got)) {
                throw new DataException("ONNX initializer " + e.getKey() + " has shape " + Arrays.toString(got)
                        + ", the network expects " + Arrays.toString(want));
            }
            e.getValue().getArray().set(floats(t));
        }
        if (!hasNormaliser && withNormaliser) {
            meta.put(OnnxExporter.INPUT_NORMALISER, InputNormaliser.DESCRIPTION);
        }
        return new Imported(net, meta, Hashing.sha256Hex(bytes));
    }

    static float[] floats(OnnxMl.TensorProto t) {
        if (t.getDataType() != OnnxMl.TensorProto.DataType.FLOAT.getNumber()) {
            throw new DataException("ONNX initializer " + t.getName() + " is not float32");
        }
        if (!t.getRawData().isEmpty()) {
            ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            float[] out = new float[b.remaining() / 4];
            b.asFloatBuffer().get(out);
            return out;
        }
        float[] out = new float[t.getFloatDataCount()];
        for (int i = 0; i < out.length; i++) {
            out[i] = t.getFloatData(i);
        }
        return out;
    }
}
