package org.imagingpipeline.retrain.service.registry;

import java.time.Instant;
import java.util.Map;
import org.imagingpipeline.events.ModelVersion;
import org.imagingpipeline.events.ModelVersion.Status;

/**
 * The records the service writes on {@code ml.model.versions}, with their keys (see {@link ModelVersion}): history
 * records under domain@version for every status, routing records under the domain id for PROMOTED and ROLLED_BACK.
 */
public final class RegistryRecords {
    /** A record and the key it goes under. */
    public record Keyed(String key, ModelVersion value) {
    }

    private RegistryRecords() {
    }

    /** The history record of a new adapted version. */
    public static Keyed candidate(String domainId, String version, String name, String uri, String sha256, String method,
                                  String parentSha256, String seriesHash, int seriesCount, Map<String, Object> evidence, Instant at) {
        ModelVersion v = new ModelVersion(ModelVersion.SCHEMA_VERSION, ModelVersion.eventIdFor(domainId, version, Status.CANDIDATE),
                domainId, version, name, uri, sha256, Status.CANDIDATE, method, parentSha256, seriesHash, seriesCount, evidence,
                null, at);
        return new Keyed(ModelVersion.historyKey(domainId, version), v);
    }

    /**
     * A source model registered as the default: its history record (PROMOTED) and the routing record under
     * "default" that makes it serve every domain without a model of its own.
     */
    public static java.util.List<Keyed> defaultSource(String version, String name, String uri, String sha256,
                                                      Map<String, Object> evidence, Instant at) {
        ModelVersion v = new ModelVersion(ModelVersion.SCHEMA_VERSION,
                ModelVersion.eventIdFor(ModelVersion.DEFAULT_DOMAIN, version, Status.PROMOTED), ModelVersion.DEFAULT_DOMAIN,
                version, name, uri, sha256, Status.PROMOTED, "source", null, null, null, evidence, null, at);
        return java.util.List.of(new Keyed(ModelVersion.historyKey(ModelVersion.DEFAULT_DOMAIN, version), v), promotedRouting(v, at));
    }

    /** The same version's history record with a new status (and, when given, new evidence). */
    public static Keyed history(ModelVersion v, Status status, Map<String, Object> evidence, Instant at) {
        return new Keyed(ModelVersion.historyKey(v.domainId(), v.version()), withStatus(v, status, evidence, null, at));
    }

    /** The routing record that makes {@code v} serve its domain. */
    public static Keyed promotedRouting(ModelVersion v, Instant at) {
        ModelVersion.Serving serving = new ModelVersion.Serving(v.version(), v.uri(), v.sha256());
        return new Keyed(ModelVersion.routingKey(v.domainId()), withStatus(v, Status.PROMOTED, v.evidence(), serving, at));
    }

    /** The routing record that takes {@code rolledBack} off its domain; {@code serving} null = the default model. */
    public static Keyed rolledBackRouting(ModelVersion rolledBack, ModelVersion.Serving serving, Map<String, Object> evidence,
                                          Instant at) {
        return new Keyed(ModelVersion.routingKey(rolledBack.domainId()),
                withStatus(rolledBack, Status.ROLLED_BACK, evidence, serving, at));
    }

    private static ModelVersion withStatus(ModelVersion v, Status status, Map<String, Object> evidence, ModelVersion.Serving serving,
                                           Instant at) {
        return new ModelVersion(ModelVersion.SCHEMA_VERSION, ModelVersion.eventIdFor(v.domainId(), v.version(), status),
                v.domainId(), v.version(), v.name(), v.uri(), v.sha256(), status, v.method(), v.parentSha256(), v.seriesHash(),
                v.seriesCount(), evidence, serving, at);
    }
}
