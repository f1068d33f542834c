package org.imagingpipeline.streams;

import io.smallrye.config.ConfigMapping;
import java.util.Optional;

/** {@code streams.drift.*} in application.properties (documented there and in docs/drift.md). */
@ConfigMapping(prefix = "streams.drift")
public interface DriftSettings {
    double alpha();

    int minSeries();

    int maxSeries();

    int permutations();

    long seed();

    int maxReference();

    Watch watch();

    int slicesPerSeries();

    Optional<String> referenceFile();

    Optional<String> modelCard();

    Optional<String> trainingData();

    /** {@code streams.drift.watch.*} */
    interface Watch {
        int window();

        int every();

        double alpha();

        int permutations();
    }

    default DriftConfig config() {
        return new DriftConfig(alpha(), minSeries(), maxSeries(), permutations(), seed(), maxReference(), watch().window(), watch().every(),
                watch().alpha(), watch().permutations(), slicesPerSeries());
    }
}
