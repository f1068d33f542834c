package org.imagingpipeline.retrain;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Prepares DJL before its PyTorch engine loads: offline (libtorch and the JNI glue come from the jars on the
 * class path, nothing is downloaded), a cache folder for the extracted native libraries, thread count.
 */
public final class DjlRuntime {

    /** System property / environment variable naming the DJL cache folder. */
    public static final String CACHE_PROPERTY = "retrain.djl.cache";

    private DjlRuntime() {
    }

    /** Default cache: {@code retrain.djl.cache}, else env DJL_CACHE_DIR, else target/djl-cache. */
    public static Path defaultCacheDir() {
        String p = System.getProperty(CACHE_PROPERTY);
        if (p == null || p.isBlank()) {
            p = System.getenv("DJL_CACHE_DIR");
        }
        return Path.of(p == null || p.isBlank() ? "target/djl-cache" : p);
    }

    /** Must run before the first DJL engine call; later calls are harmless no-ops for the engine. */
    public static synchronized void configure(Path cacheDir, int threads) {
        try {
            Files.createDirectories(cacheDir);
        } catch (java.io.IOException e) {
            throw new DataException("cannot create DJL cache folder " + cacheDir + ": " + e.getMessage(), e);
        }
        String dir = cacheDir.toAbsolutePath().toString();
        System.setProperty("ai.djl.offline", "true");
        System.setProperty("DJL_CACHE_DIR", dir);
        System.setProperty("ENGINE_CACHE_DIR", dir);
        System.setProperty("ai.djl.default_engine", "PyTorch");
        if (threads > 0) {
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
        System.setProperty("ai.djl.pytorch.graph_optimizer", "false");
    }
}
