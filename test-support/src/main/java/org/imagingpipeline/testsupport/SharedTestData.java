package org.imagingpipeline.testsupport;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The shared real data beside the repository ({@code ../shared/data}, or {@code $SHARED_DATA}): a test that needs a
 * folder of it fails under {@code CI=true} when the folder is missing and is skipped, with the reason printed,
 * everywhere else. One place for that rule, used by every module's tests.
 */
public final class SharedTestData {
    private SharedTestData() {
    }

    /** {@code $SHARED_DATA} when set, else {@code ../shared/data} beside the repository root. */
    public static Path root() {
        String env = System.getenv("SHARED_DATA");
        Path base = env != null && !env.isBlank() ? Path.of(env) : BrokerProcess.repoRoot().resolve("../shared/data");
        return base.toAbsolutePath().normalize();
    }

    /**
     * The folder {@code relative} under {@link #root()} (e.g. {@code lgg-flair}, {@code dicom-vendors/ge-ct}).
     *
     * @param marker a sub-folder that must exist too (e.g. {@code DU}), or null
     */
    public static Path require(String relative, String marker) {
        Path p = root().resolve(relative).normalize();
        if (!Files.isDirectory(p) || (marker != null && !Files.isDirectory(p.resolve(marker)))) {
            missing("shared test data missing: " + (marker == null ? p : p.resolve(marker))
                    + " (set SHARED_DATA to the folder holding lgg-flair and dicom-vendors)");
        }
        return p;
    }

    public static Path require(String relative) {
        return require(relative, null);
    }

    /** A prerequisite is missing: a failure under CI=true (CI must have it), else a skip with the reason printed. */
    public static void missing(String reason) {
        if ("true".equalsIgnoreCase(System.getenv("CI"))) Assertions.fail(reason + " (CI=true, so this is a failure, not a skip)");
        System.out.println("SKIPPED: " + reason);
        Assumptions.abort(reason);
    }
}
