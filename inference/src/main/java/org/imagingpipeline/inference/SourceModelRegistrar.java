package org.imagingpipeline.inference;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.ModelVersion;
import org.jboss.logging.Logger;

/**
 * Registers the configured source model as the PROMOTED default when the registry has no "default" routing record
 * yet: a history record ("default@source-xxxxxxxx") and the routing record ("default") that serves it. Version name:
 * the {@code version} of the model card beside the file ({@code X.card.json} for {@code X.onnx}, as retrain writes
 * it) when the card's sha256 matches the file, else "source-" + the first 8 hex digits of the file's SHA-256; so
 * registering the same file twice names it the same.
 */
public final class SourceModelRegistrar {
    private static final Logger LOG = Logger.getLogger(SourceModelRegistrar.class);

    private final Producer<String, byte[]> producer;
    private final String topic;
    private final JsonSerde<ModelVersion> serde = JsonSerde.of(ModelVersion.class);

    public SourceModelRegistrar(Producer<String, byte[]> producer, String topic) {
        this.producer = producer;
        this.topic = topic;
    }

    /** Publishes the two records (acknowledged by the broker) and returns the routing record. */
    public ModelVersion register(Path model, String name) throws IOException {
        if (!Files.isRegularFile(model)) {
            throw new IOException("inference.source-model " + model + " is not a file");
        }
        Path abs = model.toAbsolutePath().normalize();
        String sha = ModelSessions.sha256(Files.readAllBytes(abs));
        String version = cardVersion(abs, sha);
        String uri = abs.toUri().toString();
        String domain = ModelVersion.DEFAULT_DOMAIN;
        Instant now = Instant.now();
        ModelVersion.Serving serving = new ModelVersion.Serving(version, uri, sha);
        ModelVersion history = new ModelVersion(ModelVersion.SCHEMA_VERSION,
                ModelVersion.eventIdFor(domain, version, ModelVersion.Status.PROMOTED), domain, version, name, uri, sha,
                ModelVersion.Status.PROMOTED, "source", null, null, 0,
                Map.of("decision", "source model registered by inference at start (inference.source-model)"), null, now);
        ModelVersion routing = new ModelVersion(history.schemaVersion(), history.eventId(), domain, version, name, uri,
                sha, ModelVersion.Status.PROMOTED, "source", null, null, 0, history.evidence(), serving, now);
        send(ModelVersion.historyKey(domain, version), history);
        send(ModelVersion.routingKey(domain), routing);
        LOG.infof("registered the source model %s as %s (sha256 %s) and promoted it for domain %s", abs, version, sha, domain);
        return routing;
    }

    /** The card's version when a card beside the model describes this very file, else "source-" + 8 hex digits. */
    static String cardVersion(Path model, String sha) {
        String file = model.getFileName().toString();
        Path card = model.resolveSibling((file.endsWith(".onnx") ? file.substring(0, file.length() - 5) : file) + ".card.json");
        if (Files.isRegularFile(card)) {
            try {
                com.fasterxml.jackson.databind.JsonNode n = new com.fasterxml.jackson.databind.ObjectMapper().readTree(card.toFile());
                String v = n.path("version").asText("");
                if (sha.equals(n.path("sha256").asText("")) && !v.isBlank()) return v;
                LOG.warnf("model card %s does not describe %s (sha256 differs); naming the version by the file's hash", card, model);
            } catch (IOException e) {
                LOG.warnf("model card %s unreadable (%s); naming the version by the file's hash", card, e.getMessage());
            }
        }
        return "source-" + sha.substring(0, 8);
    }

    private void send(String key, ModelVersion value) throws IOException {
        try {
            producer.send(new ProducerRecord<>(topic, key, serde.serialize(topic, value))).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while registering the source model", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("cannot publish to " + topic + ": " + e.getMessage(), e);
        }
    }
}
