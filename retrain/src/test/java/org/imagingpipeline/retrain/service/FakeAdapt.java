package org.imagingpipeline.retrain.service;

import java.nio.file.Path;

/** The test stand-in for `./pipeline adapt` (src/test/resources/fake-adapt.sh; see its header). */
public final class FakeAdapt {
    private FakeAdapt() {
    }

    public static Path script() throws Exception {
        return Path.of(FakeAdapt.class.getResource("/fake-adapt.sh").toURI());
    }
}
