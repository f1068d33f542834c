package org.imagingpipeline.retrain.service;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.retrain.service.replay.PendingReplays;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.imagingpipeline.testsupport.BrokerTestResource;

/**
 * The shared broker resource (on the JVM's shared broker, as {@link TestBroker}) and a fresh PIPELINE_HOME-like
 * directory for {@link RetrainServiceTest}; adapt = the fake script; a source model file the service registers as the
 * default; one promotion's replay left pending by an earlier process.
 */
public class RetrainStackResource extends BrokerTestResource {
    static final String OWED_DOMAIN = "dom-0wed0wed0wed";
    static final String OWED_VERSION = OWED_DOMAIN + "-adabn-0123456789ab";
    static final String OWED_SERIES = "2.25.300";

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
        // A replay owed from before a restart (the previous process promoted OWED_DOMAIN and stopped before its replay
        // completed): the service runs it at start. The domain's one series is on the topic from before the promotion.
        TestBroker.send(broker.bootstrap(), Topics.SERIES_READY, OWED_SERIES, TestDicom.seriesReady(OWED_DOMAIN, OWED_SERIES, 1,
                java.util.List.of()), SeriesReady.class);
        Thread.sleep(20); // record timestamps are in milliseconds
        new PendingReplays(home.resolve("retrain/replays")).add(new PendingReplays.Pending(OWED_DOMAIN, OWED_VERSION, Instant.now()));
        return config;
    }
}
