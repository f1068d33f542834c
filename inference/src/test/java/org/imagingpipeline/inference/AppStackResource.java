package org.imagingpipeline.inference;

import java.nio.file.Path;
import java.util.Map;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.imagingpipeline.testsupport.BrokerTestResource;

/** Test resource for the Quarkus app: the shared broker resource, a tiny source model; CUDA requested. */
public class AppStackResource extends BrokerTestResource {
    static BrokerProcess broker;
    static Path home;
    static String sourceSha;

    @Override
    protected Map<String, String> settings(BrokerProcess b, Path h) throws Exception {
        broker = b;
        home = h;
        Path model = home.resolve("models/source.onnx");
        sourceSha = TinyModels.write(model, 1f, -150f, 16);
        return Map.of(
                "inference.source-model", model.toString(),
                "inference.provider", "cuda",
                "inference.intra-op-threads", "1");
    }
}
