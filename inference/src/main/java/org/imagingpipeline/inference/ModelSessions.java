package org.imagingpipeline.inference;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * ONNX Runtime sessions, cached by the model file's SHA-256 (two versions with the same bytes share one session).
 * The execution provider is chosen once: CUDA when {@code inference.provider=cuda} and this ONNX Runtime build has
 * it (the {@code gpu} Maven profile), else CPU, said in one log line.
 */
public final class ModelSessions implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ModelSessions.class);

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final Map<String, LoadedModel> bySha = new ConcurrentHashMap<>();
    private final int intraOpThreads;
    private final int defaultInputSize;
    private final int cudaDevice;
    private volatile String provider;

    /**
     * @param requestedProvider cpu | cuda
     * @param intraOpThreads    ONNX Runtime intra-op threads per session; 0 = ONNX Runtime's default (all cores)
     */
    public ModelSessions(String requestedProvider, int intraOpThreads, int defaultInputSize, int cudaDevice) {
        this.intraOpThreads = intraOpThreads;
        this.defaultInputSize = defaultInputSize;
        this.cudaDevice = cudaDevice;
        String wanted = requestedProvider == null ? "cpu" : requestedProvider.trim().toLowerCase(Locale.ROOT);
        if (!wanted.equals("cpu") && !wanted.equals("cuda")) {
            throw new IllegalArgumentException("inference.provider must be cpu or cuda, got " + requestedProvider);
        }
        if (wanted.equals("cuda")) {
            Set<OrtProvider> available = OrtEnvironment.getAvailableProviders();
            if (available.contains(OrtProvider.CUDA)) {
                provider = "cuda";
                LOG.infof("execution provider: CUDA (device %d), intra-op threads %s", cudaDevice, threadsText());
            } else {
                provider = "cpu";
                LOG.warnf("inference.provider=cuda but this ONNX Runtime has no CUDA execution provider (available: %s;"
                        + " build with -Pgpu on a CUDA machine): falling back to CPU", available);
            }
        } else {
            provider = "cpu";
            LOG.infof("execution provider: CPU, intra-op threads %s", threadsText());
        }
    }

    private String threadsText() {
        return intraOpThreads > 0 ? Integer.toString(intraOpThreads) : "ONNX Runtime default";
    }

    /** "cuda" or "cpu". */
    public String provider() {
        return provider;
    }

    /**
     * The session for a model file, loading it when its SHA-256 is not cached yet.
     *
     * @throws ModelRefusedException when the file is missing, its SHA-256 differs from {@code expectedSha256},
     *                               or ONNX Runtime cannot load it
     */
    public LoadedModel load(String uri, String expectedSha256) throws ModelRefusedException {
        String expected = expectedSha256 == null ? "" : expectedSha256.toLowerCase(Locale.ROOT);
        LoadedModel cached = bySha.get(expected);
        if (cached != null) return cached;
        Path file = pathOf(uri);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ModelRefusedException("missing", "model file " + file + " cannot be read: " + e);
        }
        String actual = sha256(bytes);
        if (!actual.equals(expected)) {
            throw new ModelRefusedException("sha256_mismatch", "model file " + file + " has sha256 " + actual
                    + ", the registry says " + expected);
        }
        LoadedModel m = create(bytes, actual, file);
        bySha.put(actual, m);
        return m;
    }

    private LoadedModel create(byte[] bytes, String sha, Path file) throws ModelRefusedException {
        OrtSession session = null;
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            if (intraOpThreads > 0) opts.setIntraOpNumThreads(intraOpThreads);
            // Idle intra-op threads sleep instead of spinning: the service shares its cores (ingest, streams, Kafka).
            opts.addConfigEntry("session.intra_op.allow_spinning", "0");
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            String used = provider;
            if (used.equals("cuda")) {
                try {
                    opts.addCUDA(cudaDevice);
                } catch (OrtException e) {
                    provider = used = "cpu";
                    LOG.warnf("CUDA execution provider failed to start (%s): falling back to CPU", e.getMessage());
                }
            }
            session = env.createSession(bytes, opts);
            return new LoadedModel(env, session, sha, used, defaultInputSize);
        } catch (OrtException | RuntimeException e) {
            if (session != null) {
                try {
                    session.close();
                } catch (OrtException ignored) {
                    // already failing
                }
            }
            throw new ModelRefusedException("unloadable", "ONNX Runtime cannot load " + file + ": " + firstLine(e.getMessage()));
        }
    }

    /** Closes the sessions of models no longer routed to. */
    public void retainOnly(Set<String> sha256s) {
        bySha.entrySet().removeIf(e -> {
            if (sha256s.contains(e.getKey())) return false;
            e.getValue().close();
            return true;
        });
    }

    public int cachedSessions() {
        return bySha.size();
    }

    static Path pathOf(String uri) {
        if (uri == null || uri.isBlank()) throw new IllegalArgumentException("model URI is empty");
        return uri.startsWith("file:") ? Path.of(URI.create(uri)) : Path.of(uri);
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String firstLine(String s) {
        if (s == null) return "unknown error";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    @Override
    public void close() {
        bySha.values().forEach(LoadedModel::close);
        bySha.clear();
    }
}
