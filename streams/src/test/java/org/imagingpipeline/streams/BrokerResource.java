package org.imagingpipeline.streams;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.imagingpipeline.testsupport.BrokerTestResource;

/** The shared broker test resource with the streams tests' defaults (2 s assembly inactivity); subclasses add settings. */
public abstract class BrokerResource extends BrokerTestResource {
    /** Settings beside the broker address, pipeline.home and a 2 s assembly inactivity. */
    protected Map<String, String> settings(Path home) throws Exception {
        return Map.of();
    }

    /** Called with the started broker and the temporary pipeline home. */
    protected abstract void started(BrokerProcess broker, Path home);

    @Override
    protected final Map<String, String> settings(BrokerProcess broker, Path home) throws Exception {
        started(broker, home);
        Map<String, String> m = new HashMap<>(Map.of("streams.assembly.inactivity", "2s"));
        m.putAll(settings(home));
        return m;
    }
}
