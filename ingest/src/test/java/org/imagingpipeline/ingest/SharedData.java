package org.imagingpipeline.ingest;

import java.nio.file.Path;
import org.imagingpipeline.testsupport.SharedTestData;

/** The shared vendor files ({@link SharedTestData}: a failure under CI=true when missing, a skip elsewhere). */
final class SharedData {
    private SharedData() {
    }

    static Path dicomVendors() {
        return SharedTestData.require("dicom-vendors");
    }
}
