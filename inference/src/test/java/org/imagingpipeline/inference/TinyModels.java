package org.imagingpipeline.inference;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Test models: image float[N,1,H,W] -> Conv 1x1 (weight w, bias b) -> Sigmoid -> prob, so a pixel of rescaled
 * intensity x is foreground exactly when w*x + b > 0. Two bias values give two versions with different, predictable
 * masks. Metadata input_size makes the service resample to that size.
 */
final class TinyModels {
    private TinyModels() {
    }

    /** Writes the model to {@code file} and returns its SHA-256. */
    static String write(Path file, float weight, float bias, int inputSize) throws IOException {
        byte[] bytes = model(weight, bias, inputSize).toByteArray();
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, bytes);
        return ModelSessions.sha256(bytes);
    }

    static OnnxMl.ModelProto model(float weight, float bias, int inputSize) {
        OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName("tiny")
                .addInput(valueInfo("image")).addOutput(valueInfo("prob"))
                .addInitializer(tensor("w", new long[] {1, 1, 1, 1}, weight))
                .addInitializer(tensor("b", new long[] {1}, bias))
                .addNode(OnnxMl.NodeProto.newBuilder().setOpType("Conv").setName("conv")
                        .addInput("image").addInput("w").addInput("b").addOutput("logit")
                        .addAttribute(OnnxMl.AttributeProto.newBuilder().setName("kernel_shape")
                                .setType(OnnxMl.AttributeProto.AttributeType.INTS).addInts(1).addInts(1)))
                .addNode(OnnxMl.NodeProto.newBuilder().setOpType("Sigmoid").setName("sigmoid")
                        .addInput("logit").addOutput("prob"));
        return OnnxMl.ModelProto.newBuilder().setIrVersion(8).setProducerName("inference tests")
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .addMetadataProps(OnnxMl.StringStringEntryProto.newBuilder().setKey("input_size")
                        .setValue(Integer.toString(inputSize)))
                .setGraph(g).build();
    }

    private static OnnxMl.TensorProto tensor(String name, long[] dims, float value) {
        ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(value);
        OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder().setName(name)
                .setDataType(OnnxMl.TensorProto.DataType.FLOAT.getNumber()).setRawData(ByteString.copyFrom(b.array()));
        for (long d : dims) t.addDims(d);
        return t.build();
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
}
