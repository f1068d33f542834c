package org.imagingpipeline.retrain.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.imagingpipeline.retrain.DjlRuntime;
import org.imagingpipeline.retrain.OnnxExporter;
import org.imagingpipeline.retrain.UNet;

/**
 * {@code ./pipeline bench inference}: the same U-Net weights through ONNX Runtime (the inference service's engine)
 * and through DJL's PyTorch engine (the training engine), slices/s at batch 1 and 8, 1 and 2 threads, 256x256.
 *
 * <p>The U-Net (base filters 8, depth 4: the source model's architecture) gets fixed weights from a seeded
 * generator (He-scaled Gaussians, non-trivial batch-norm statistics), is exported with {@link OnnxExporter}, and
 * both engines run the same input. For each (threads, batch) case the engines alternate run by run until each has
 * run {@code --seconds} seconds, so machine noise hits both alike. Both compute the probability (sigmoid) map; the
 * largest absolute difference between them is reported as a parity check. Progress on stderr, one JSON line on
 * stdout (last line). Options: --size 256, --seconds 4, --warmup 2, --seed 42, --base-filters 8, --depth 4,
 * --ort-opt all|extended|basic (ONNX Runtime graph optimisation level; all = the service's), --spin false (true lets ONNX Runtime's idle intra-op threads busy-wait, its own default; the service turns it off).
 */
@picocli.CommandLine.Command(name = "bench inference", mixinStandardHelpOptions = true, sortOptions = false,
        description = "The same U-Net weights through ONNX Runtime and DJL PyTorch, slices/s at batch 1/8 and 1/2 threads;"
                + " one JSON object on stdout.")
public final class InferenceBenchmark implements java.util.concurrent.Callable<Integer> {
    @picocli.CommandLine.Option(names = "--size", defaultValue = "256", description = "slice size (default: ${DEFAULT-VALUE})")
    int size;

    @picocli.CommandLine.Option(names = "--seconds", defaultValue = "4", description = "seconds per engine and case (default: ${DEFAULT-VALUE})")
    double seconds;

    @picocli.CommandLine.Option(names = "--warmup", defaultValue = "2", description = "warm-up runs (default: ${DEFAULT-VALUE})")
    int warmup;

    @picocli.CommandLine.Option(names = "--seed", defaultValue = "42")
    long seed;

    @picocli.CommandLine.Option(names = "--base-filters", defaultValue = "8")
    int baseFilters;

    @picocli.CommandLine.Option(names = "--depth", defaultValue = "4")
    int depth;

    @picocli.CommandLine.Option(names = "--spin", defaultValue = "false", arity = "1",
            description = "let ONNX Runtime's idle intra-op threads busy-wait (default: ${DEFAULT-VALUE}, as the service)")
    boolean spin;

    @picocli.CommandLine.Option(names = "--ort-opt", defaultValue = "all", description = "ONNX Runtime graph optimisation: all"
            + " (the service's), extended, basic")
    String ortOpt;

    record Case(int threads, int batch, double ortSlicesPerS, double djlSlicesPerS, int ortRuns, int djlRuns) {
        double ratio() {
            return ortSlicesPerS / djlSlicesPerS;
        }
    }

    public static void main(String[] args) {
        System.exit(new picocli.CommandLine(new InferenceBenchmark()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        OrtSession.SessionOptions.OptLevel optLevel = switch (ortOpt) {
            case "all" -> OrtSession.SessionOptions.OptLevel.ALL_OPT;
            case "extended" -> OrtSession.SessionOptions.OptLevel.EXTENDED_OPT;
            case "basic" -> OrtSession.SessionOptions.OptLevel.BASIC_OPT;
            default -> throw new IllegalArgumentException("--ort-opt must be all, extended or basic");
        };
        int[] batches = {1, 8};
        int[] threadCounts = {1, 2};

        DjlRuntime.configure(DjlRuntime.defaultCacheDir(), 1);
        Random rnd = new Random(seed);
        List<Case> cases = new ArrayList<>();
        double maxDiff = 0;
        try (NDManager manager = NDManager.newBaseManager()) {
            UNet net = new UNet(baseFilters, depth);
            net.initialize(manager, DataType.FLOAT32, new Shape(1, 1, size, size));
            seedWeights(net, rnd);
            byte[] onnx = OnnxExporter.toModel(net, Map.of("input_size", Integer.toString(size))).toByteArray();
            ParameterStore ps = new ParameterStore(manager, false);
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            float[] input = new float[8 * size * size];
            for (int i = 0; i < input.length; i++) input[i] = (float) (300 + 120 * rnd.nextGaussian());
            for (int threads : threadCounts) {
                JniUtils.setNumThreads(threads);
                try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
                    so.setIntraOpNumThreads(threads);
                    so.setInterOpNumThreads(1);
                    // As the inference service runs it: no busy-waiting of idle pool threads (a shared machine).
                    so.addConfigEntry("session.intra_op.allow_spinning", spin ? "1" : "0");
                    so.setOptimizationLevel(optLevel);
                    try (OrtSession session = env.createSession(onnx, so)) {
                        for (int batch : batches) {
                            float[] x = java.util.Arrays.copyOf(input, batch * size * size);
                            for (int i = 0; i < warmup; i++) {
                                ort(env, session, x, batch, size);
                                djl(net, ps, manager, x, batch, size);
                            }
                            float[] a = ort(env, session, x, batch, size);
                            float[] b = djl(net, ps, manager, x, batch, size);
                            for (int i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
                            long ortNs = 0;
                            long djlNs = 0;
                            int ortRuns = 0;
                            int djlRuns = 0;
                            long budget = (long) (seconds * 1e9);
                            while (ortNs < budget || djlNs < budget) {
                                if (ortNs < budget) {
                                    long t = System.nanoTime();
                                    ort(env, session, x, batch, size);
                                    ortNs += System.nanoTime() - t;
                                    ortRuns++;
                                }
                                if (djlNs < budget) {
                                    long t = System.nanoTime();
                                    djl(net, ps, manager, x, batch, size);
                                    djlNs += System.nanoTime() - t;
                                    djlRuns++;
                                }
                            }
                            Case c = new Case(threads, batch, ortRuns * batch / (ortNs / 1e9), djlRuns * batch / (djlNs / 1e9),
                                    ortRuns, djlRuns);
                            cases.add(c);
                            System.err.printf(Locale.ROOT, "bench inference: threads %d batch %d: ORT %.1f slices/s, DJL"
                                            + " %.1f slices/s, ratio %.2f (%d / %d runs)%n", threads, batch, c.ortSlicesPerS(),
                                    c.djlSlicesPerS(), c.ratio(), ortRuns, djlRuns);
                        }
                    }
                }
            }
        }
        double minRatio = cases.stream().mapToDouble(Case::ratio).min().orElse(0);
        StringBuilder json = new StringBuilder();
        json.append(String.format(Locale.ROOT, "{\"bench\":\"inference\",\"size\":%d,\"model\":\"U-Net base %d depth %d, seeded"
                        + " weights (seed %d)\",\"seconds_per_engine_and_case\":%.1f,\"ort_spinning\":%b,\"ort_opt\":\"%s\",\"cpus\":%d,\"max_abs_prob_diff\":%.3g,\"cases\":[",
                size, baseFilters, depth, seed, seconds, spin, optLevel, Runtime.getRuntime().availableProcessors(), maxDiff));
        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            json.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT,
                    "{\"threads\":%d,\"batch\":%d,\"ort_slices_per_s\":%.2f,\"djl_slices_per_s\":%.2f,\"ort_over_djl\":%.2f}",
                    c.threads(), c.batch(), c.ortSlicesPerS(), c.djlSlicesPerS(), c.ratio()));
        }
        json.append(String.format(Locale.ROOT, "],\"min_ort_over_djl\":%.2f,\"target\":1.5,\"target_met\":%b}", minRatio,
                minRatio >= 1.5));
        System.out.println(json);
        return 0;
    }

    private static float[] ort(OrtEnvironment env, OrtSession session, float[] x, int n, int size) throws OrtException {
        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {n, 1, size, size});
             OrtSession.Result r = session.run(Map.of(OnnxExporter.INPUT, t))) {
            FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
            float[] out = new float[fb.remaining()];
            fb.get(out);
            return out;
        }
    }

    private static float[] djl(UNet net, ParameterStore ps, NDManager manager, float[] x, int n, int size) {
        try (NDManager batch = manager.newSubManager()) {
            NDArray in = batch.create(x, new Shape(n, 1, size, size));
            NDArray logits = net.forward(ps, new NDList(in), false).singletonOrThrow();
            return Activation.sigmoid(logits).toFloatArray();
        }
    }

    /** He-scaled Gaussian weights, small biases, batch-norm statistics away from the identity. */
    private static void seedWeights(UNet net, Random rnd) {
        for (var pair : net.getParameters()) {
            Parameter p = pair.getValue();
            String name = pair.getKey();
            NDArray a = p.getArray();
            long[] shape = a.getShape().getShape();
            long fanIn = 1;
            for (int i = 1; i < shape.length; i++) fanIn *= shape[i];
            float[] v = new float[(int) a.size()];
            for (int i = 0; i < v.length; i++) {
                if (name.endsWith("runningVar")) v[i] = 0.5f + rnd.nextFloat();
                else if (name.endsWith("gamma")) v[i] = 0.5f + rnd.nextFloat();
                else if (name.endsWith("runningMean") || name.endsWith("beta") || name.endsWith("bias")) {
                    v[i] = (float) rnd.nextGaussian() * 0.1f;
                } else v[i] = (float) (rnd.nextGaussian() * Math.sqrt(2.0 / Math.max(1, fanIn)));
            }
            a.set(v);
        }
    }
}
