package org.imagingpipeline.retrain.service;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.imagingpipeline.testsupport.BrokerTestResource;

/**
 * The shared broker resource (on the JVM's shared broker, as {@link TestBroker}) and a fresh PIPELINE_HOME-like
 * directory for {@link RetrainServiceTest}; adapt = the fake script; a source model file the service registers as the
 * default.
 */
public class RetrainStackResource extends BrokerTestResource {
    @Override
    protected boolean sharedBroker() {
        return true;
    }

    @Override
    protected Map<String, String> settings(BrokerProcess broker, Path home) throws Exception {
        Path source = Files.writeString(home.resolve("source.onnx"), "source model " + System.nanoTime());
        Map<String, String> config = new java.util.HashMap<>(Map.of("retrain.source-model", source.toString(),
                "retrain.adapt.command", "bash " + FakeAdapt.script(),
                "retrain.adapt.directory", home.toString(),
                "retrain.min-series", "2",
                "retrain.adapt.max-minutes", "1",
                "retrain.adapt.kill-grace", "30s",
                "retrain.kafka.group-id", "retrain-service-test"));
        // The fake adapt command never reads the source data; the gate's labelled path needs it to be configured.
        config.put("retrain.source-data", Files.createDirectories(home.resolve("source-data")).toString());
        config.put("retrain.expert-labels", Files.createDirectories(home.resolve("expert-labels")).toString());
        return config;
    }
}
