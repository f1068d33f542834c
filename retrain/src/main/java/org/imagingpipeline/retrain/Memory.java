package org.imagingpipeline.retrain;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resident set size of this process (Linux /proc), including native memory that DJL/libtorch holds. */
public final class Memory {
    private Memory() {
    }

    public static long rssMb() {
        return field("VmRSS:");
    }

    /** Peak resident set size since the process started. */
    public static long peakRssMb() {
        return field("VmHWM:");
    }

    /** Java heap in use (the rest of the RSS is native: libtorch, ONNX Runtime, JVM internals). */
    public static long heapUsedMb() {
        Runtime r = Runtime.getRuntime();
        return (r.totalMemory() - r.freeMemory()) >> 20;
    }

    /** RSS minus the committed Java heap: an upper bound of native memory (libtorch, ORT, JVM internals). */
    public static long nativeMb() {
        return rssMb() - (Runtime.getRuntime().totalMemory() >> 20);
    }

    private static long field(String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(name)) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
