package org.imagingpipeline.inference;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.imagingpipeline.deploy.BrokerProcess;

/** Test resource for the Quarkus app: a real broker, a fresh PIPELINE_HOME, a tiny source model; CUDA requested. */
public class AppStackResource implements QuarkusTestResourceLifecycleManager {
    static BrokerProcess broker;
    static Path home;
    static String sourceSha;

    @Override
    public Map<String, String> start() {
        try {
            home = Files.createTempDirectory("inference-app-");
            broker = BrokerProcess.startWithTopics(home.resolve("kafka"));
            Path model = home.resolve("models/source.onnx");
            sourceSha = TinyModels.write(model, 1f, -150f, 16);
            return Map.of(
                    "kafka.bootstrap.servers", broker.bootstrap(),
                    "pipeline.home", home.toString(),
                    "inference.source-model", model.toString(),
                    "inference.provider", "cuda",
                    "inference.intra-op-threads", "1");
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the test broker", e);
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
