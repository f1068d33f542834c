package org.imagingpipeline.events;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * Value of {@link Topics#MODEL_VERSIONS} (compacted): the model registry. Produced by retrain (and by whoever registers
 * the source model at start), consumed by inference.
 *
 * <p>Two kinds of key share the topic:
 * <ul>
 *   <li>{@link #routingKey}(domainId) = the domain id ("default" for the source model): the latest record under it says
 *       which model serves the domain now ({@link #serving}); a null {@code serving} sends the domain back to the default
 *       model. Compaction keeps exactly this record per domain. Records with status PROMOTED or ROLLED_BACK go here.</li>
 *   <li>{@link #historyKey}(domainId, version) = domainId + "@" + version: one record per model version with its latest
 *       status (CANDIDATE, PROMOTED, REJECTED, ROLLED_BACK) and gate evidence; routing ignores them.</li>
 * </ul>
 *
 * @param schemaVersion {@link #SCHEMA_VERSION}
 * @param eventId       {@link #eventIdFor}(domainId, version, status)
 * @param domainId      the domain this version is for ("default" for the source model)
 * @param version       the version this record is about, e.g. "source-1a2b3c4d" or "dom-…-adabn-1"
 * @param name          model name, e.g. lgg-flair-unet
 * @param uri           where the ONNX file is (file:// URI)
 * @param sha256        lower-case hex SHA-256 of the ONNX file; consumers refuse a file that does not match
 * @param status        this version's status
 * @param method        source | adabn | entropy | adversarial
 * @param parentSha256  the model it was adapted from; null for a source model
 * @param seriesHash    SHA-256 over the sorted SeriesInstanceUIDs it was adapted on; null for a source model
 * @param seriesCount   how many series it was adapted on
 * @param evidence      gate evidence: metric name -> value (source Dice before/after, target entropy, TTA stability, volume
 *                      plausibility, labelled-target Dice when any) and the decision text under "decision"
 * @param serving       for routing-key records: the model that serves the domain from now on; null = the default model
 * @param at            when the record was written
 * @param signature     retrain's signature over the record's signed fields and its Kafka key
 *                      ({@link org.imagingpipeline.events.signing.ModelSigning}); null in records written before issue 19
 *                      and in the source model inference registers itself. Inference and retrain act only on records
 *                      whose signature verifies (docs/security.md, "Signed model records")
 */
public record ModelVersion(int schemaVersion, String eventId, String domainId, String version, String name, String uri, String sha256,
                           Status status, String method, String parentSha256, String seriesHash, Integer seriesCount,
                           Map<String, Object> evidence, Serving serving, Instant at, Signature signature) {

    public static final int SCHEMA_VERSION = 1;
    public static final String DEFAULT_DOMAIN = "default";

    public ModelVersion {
        Objects.requireNonNull(domainId, "domainId");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(status, "status");
    }

    /** An unsigned record (the signature is added by {@link org.imagingpipeline.events.signing.ModelSigning.Signer#sign}). */
    public ModelVersion(int schemaVersion, String eventId, String domainId, String version, String name, String uri, String sha256,
                        Status status, String method, String parentSha256, String seriesHash, Integer seriesCount,
                        Map<String, Object> evidence, Serving serving, Instant at) {
        this(schemaVersion, eventId, domainId, version, name, uri, sha256, status, method, parentSha256, seriesHash, seriesCount,
                evidence, serving, at, null);
    }

    public enum Status { CANDIDATE, PROMOTED, REJECTED, ROLLED_BACK }

    /**
     * @param alg   {@link org.imagingpipeline.events.signing.ModelSigning#ALGORITHM} (Ed25519)
     * @param keyId the signing key's id: the first 16 hex digits of the SHA-256 of its public key (X.509 DER)
     * @param value the signature, base64 (RFC 4648, with padding)
     */
    public record Signature(String alg, String keyId, String value) {
    }

    /** The same record with {@code s} as its signature (null: unsigned). */
    public ModelVersion withSignature(Signature s) {
        return new ModelVersion(schemaVersion, eventId, domainId, version, name, uri, sha256, status, method, parentSha256, seriesHash,
                seriesCount, evidence, serving, at, s);
    }

    /** The model a domain is routed to. */
    public record Serving(String version, String uri, String sha256) {
        public Serving {
            Objects.requireNonNull(version, "serving.version");
            Objects.requireNonNull(uri, "serving.uri");
            Objects.requireNonNull(sha256, "serving.sha256");
        }
    }

    public static String routingKey(String domainId) {
        return domainId;
    }

    public static String historyKey(String domainId, String version) {
        return domainId + "@" + version;
    }

    /** True for keys whose latest record says which model serves a domain. */
    public static boolean isRoutingKey(String key) {
        return key != null && !key.contains("@");
    }

    public static String eventIdFor(String domainId, String version, Status status) {
        return domainId + "@" + version + "#" + status;
    }
}
