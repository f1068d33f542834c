package org.imagingpipeline.retrain;

import java.nio.file.Path;
import org.imagingpipeline.testsupport.SharedTestData;

/** The shared lgg-flair set ({@link SharedTestData}: a failure under CI=true when missing, a skip elsewhere). */
final class SharedData {
    private SharedData() {
    }

    static Path lggFlair() {
        return SharedTestData.require("lgg-flair", "DU");
    }
}
