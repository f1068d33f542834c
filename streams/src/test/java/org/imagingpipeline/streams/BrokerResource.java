package org.imagingpipeline.streams;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.imagingpipeline.deploy.BrokerProcess;

/** A real broker (free ports, topics provisioned) for a @QuarkusTest of the streams service; subclasses add settings. */
public abstract class BrokerResource implements QuarkusTestResourceLifecycleManager {
    private BrokerProcess broker;

    /** Settings beside the broker address, pipeline.home and a 2 s assembly inactivity. */
    protected Map<String, String> settings(Path home) throws Exception {
        return Map.of();
    }

    /** Called with the started broker and the temporary pipeline home. */
    protected abstract void started(BrokerProcess broker, Path home);

    @Override
    public Map<String, String> start() {
        try {
            Path home = Files.createTempDirectory("streams-test");
            broker = BrokerProcess.startWithTopics(home.resolve("kafka"));
            started(broker, home);
            Map<String, String> m = new HashMap<>(Map.of("kafka.bootstrap.servers", broker.bootstrap(), "pipeline.home", home.toString(),
                    "streams.assembly.inactivity", "2s"));
            m.putAll(settings(home));
            return m;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void stop() {
        try {
            if (broker != null) broker.stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
