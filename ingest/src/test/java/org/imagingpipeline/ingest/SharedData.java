package org.imagingpipeline.ingest;

import java.nio.file.Files;
import java.nio.file.Path;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/** ../shared/data beside the repository: required in CI, skipped with a reason elsewhere. */
final class SharedData {
    private SharedData() {
    }

    static Path dicomVendors() {
        return require(BrokerProcess.repoRoot().resolve("../shared/data/dicom-vendors").normalize());
    }

    static Path require(Path p) {
        if (!Files.isDirectory(p)) {
            String msg = "shared test data missing: " + p;
            if ("true".equalsIgnoreCase(System.getenv("CI"))) Assertions.fail(msg + " (CI must have it)");
            System.out.println("SKIPPED: " + msg);
            Assumptions.abort(msg);
        }
        return p;
    }
}
