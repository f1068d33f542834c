package org.imagingpipeline.retrain;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates ../shared/data/lgg-flair; missing data fails under CI=true and skips (with the reason) otherwise. */
final class SharedData {
    private SharedData() {
    }

    static Path lggFlair() {
        String shared = System.getenv("SHARED_DATA");
        Path base;
        if (shared != null && !shared.isBlank()) {
            base = Path.of(shared);
        } else {
            String root = System.getProperty("pipeline.repo.root", "..");
            base = Path.of(root).resolve("../shared/data");
        }
        Path lgg = base.resolve("lgg-flair").toAbsolutePath().normalize();
        if (!Files.isDirectory(lgg.resolve("DU"))) {
            String reason = "real data not found at " + lgg + " (set SHARED_DATA to the folder holding lgg-flair)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                Assertions.fail(reason + "; CI=true, so this is a failure, not a skip");
            }
            System.out.println("SKIP: " + reason);
            Assumptions.abort(reason);
        }
        return lgg;
    }
}
