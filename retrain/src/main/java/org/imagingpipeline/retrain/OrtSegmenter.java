package org.imagingpipeline.retrain;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs an exported segmentation model in ONNX Runtime (the engine the inference service uses).
 * Slices are resized to the model's {@code input_size} (metadata), the probability map is resized back and
 * thresholded at 0.5.
 */
public final class OrtSegmenter implements AutoCloseable {

    private final OrtEnvironment env;
    private final OrtSession session;
    private final Map<String, String> metadata;
    private final int inputSize;
    private final int multiple;

    public OrtSegmenter(Path model, int threads) {
        if (!Files.isRegularFile(model)) {
            throw new DataException("model file not found: " + model);
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(model);
        } catch (IOException e) {
            throw new DataException("cannot read model " + model + ": " + e.getMessage(), e);
        }
        env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            if (threads > 0) {
                opts.setIntraOpNumThreads(threads);
            }
            session = env.createSession(bytes, opts);
            metadata = session.getMetadata().getCustomMetadata();
        } catch (OrtException e) {
            throw new DataException("not a usable ONNX model: " + model + " (ONNX Runtime: "
                    + firstLine(e.getMessage()) + ")", e);
        }
        if (!session.getInputNames().contains(OnnxExporter.INPUT) || !session.getOutputNames().contains(OnnxExporter.OUTPUT)) {
            close();
            throw new DataException("ONNX model " + model + " is not a segmentation model of this project: inputs "
                    + session.getInputNames() + ", outputs " + session.getOutputNames() + " (expected "
                    + OnnxExporter.INPUT + " -> " + OnnxExporter.OUTPUT + ")");
        }
        inputSize = Integer.parseInt(metadata.getOrDefault("input_size", "0"));
        multiple = Integer.parseInt(metadata.getOrDefault("size_multiple", "1"));
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unknown error";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public int inputSize() {
        return inputSize;
    }

    /** Probability maps at the model's own resolution for images already of size h x w (batch of any N). */
    public float[][] probabilities(List<float[]> images, int w, int h) {
        int n = images.size();
        FloatBuffer buf = FloatBuffer.allocate(n * w * h);
        for (float[] im : images) {
            buf.put(im);
        }
        buf.flip();
        try (OnnxTensor t = OnnxTensor.createTensor(env, buf, new long[] {n, 1, h, w});
             OrtSession.Result r = session.run(Map.of(OnnxExporter.INPUT, t))) {
            float[] all = ((OnnxTensor) r.get(OnnxExporter.OUTPUT).get()).getFloatBuffer().array();
            float[][] out = new float[n][];
            for (int i = 0; i < n; i++) {
                out[i] = java.util.Arrays.copyOfRange(all, i * w * h, (i + 1) * w * h);
            }
            return out;
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
        }
    }

    /** Binary masks (0/1) at the original resolution for slices of size w x h. */
    public List<byte[]> segment(List<float[]> images, int w, int h, int batch) {
        List<byte[]> masks = new ArrayList<>(images.size());
        for (float[] p : probabilityMaps(images, w, h, batch)) {
            masks.add(threshold(p));
        }
        return masks;
    }

    /** A probability map thresholded at 0.5. */
    public static byte[] threshold(float[] probabilities) {
        byte[] m = new byte[probabilities.length];
        for (int k = 0; k < m.length; k++) {
            m[k] = (byte) (probabilities[k] >= 0.5f ? 1 : 0);
        }
        return m;
    }

    /** Lesion probability maps at the original resolution for slices of size w x h. */
    public List<float[]> probabilityMaps(List<float[]> images, int w, int h, int batch) {
        int size = inputSize > 0 ? inputSize : w;
        int sw = inputSize > 0 ? size : roundUp(w);
        int sh = inputSize > 0 ? size : roundUp(h);
        List<float[]> maps = new ArrayList<>(images.size());
        for (int start = 0; start < images.size(); start += batch) {
            List<float[]> chunk = new ArrayList<>();
            for (int i = start; i < Math.min(images.size(), start + batch); i++) {
                chunk.add(Resampler.resize(images.get(i), w, h, sw, sh));
            }
            for (float[] p : probabilities(chunk, sw, sh)) {
                maps.add(Resampler.resize(p, sw, sh, w, h));
            }
        }
        return maps;
    }

    private int roundUp(int v) {
        return multiple <= 1 ? v : ((v + multiple - 1) / multiple) * multiple;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            // nothing useful to do on close
        }
    }
}
