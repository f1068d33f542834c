package org.imagingpipeline.inference;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.FloatBuffer;
import java.util.Map;

/**
 * An ONNX Runtime session for one model file (identified by its SHA-256). The model takes float[N,1,H,W] raw
 * intensities (normalisation is inside the graph) and returns float[N,1,H,W] foreground probabilities.
 * H = W = the model's input size: metadata {@code input_size}, else the input's fixed spatial size, else the
 * configured default.
 */
public final class LoadedModel implements AutoCloseable {
    private final OrtEnvironment env;
    private final OrtSession session;
    private final String sha256;
    private final String provider;
    private final String inputName;
    private final String outputName;
    private final int inputSize;

    LoadedModel(OrtEnvironment env, OrtSession session, String sha256, String provider, int defaultInputSize)
            throws OrtException {
        this.env = env;
        this.session = session;
        this.sha256 = sha256;
        this.provider = provider;
        if (session.getNumInputs() != 1 || session.getNumOutputs() < 1) {
            throw new IllegalArgumentException("expected one input and at least one output, got inputs "
                    + session.getInputNames() + ", outputs " + session.getOutputNames());
        }
        this.inputName = session.getInputNames().iterator().next();
        this.outputName = session.getOutputNames().iterator().next();
        NodeInfo in = session.getInputInfo().get(inputName);
        long[] shape = in.getInfo() instanceof TensorInfo t ? t.getShape() : new long[0];
        if (shape.length != 4) {
            throw new IllegalArgumentException("input " + inputName + " has shape of rank " + shape.length + ", expected [N,1,H,W]");
        }
        String meta = session.getMetadata().getCustomMetadata().get("input_size");
        if (meta != null && !meta.isBlank()) {
            inputSize = Integer.parseInt(meta.trim());
        } else if (shape[2] > 0 && shape[2] == shape[3]) {
            inputSize = (int) shape[2];
        } else {
            inputSize = defaultInputSize;
        }
        if (inputSize <= 0) throw new IllegalArgumentException("model input size unknown");
    }

    public String sha256() {
        return sha256;
    }

    /** "cuda" or "cpu": the execution provider this session runs on. */
    public String provider() {
        return provider;
    }

    public int inputSize() {
        return inputSize;
    }

    /** Probabilities for {@code n} images of inputSize x inputSize laid out one after the other in {@code batch}. */
    public float[] run(float[] batch, int n) throws OrtException {
        long[] shape = {n, 1, inputSize, inputSize};
        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(batch, 0, n * inputSize * inputSize), shape);
             OrtSession.Result r = session.run(Map.of(inputName, t))) {
            OnnxTensor out = (OnnxTensor) r.get(0);
            FloatBuffer fb = out.getFloatBuffer();
            if (fb.remaining() != n * inputSize * inputSize) {
                throw new IllegalStateException("model output has " + fb.remaining() + " values, expected "
                        + (n * inputSize * inputSize) + " (output " + outputName + ")");
            }
            float[] probs = new float[fb.remaining()];
            fb.get(probs);
            return probs;
        }
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            // closing a session has no useful failure mode
        }
    }
}
