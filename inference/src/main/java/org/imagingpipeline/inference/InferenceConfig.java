package org.imagingpipeline.inference;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/** The service's settings (prefix {@code inference}); every key is documented in application.properties. */
@ConfigMapping(prefix = "inference")
public interface InferenceConfig {
    @WithDefault("true")
    boolean enabled();

    /** Root of the content-addressed blob store shared with ingest. */
    @WithName("blob-root")
    String blobRoot();

    /** cpu | cuda */
    @WithDefault("cpu")
    String provider();

    @WithName("cuda-device")
    @WithDefault("0")
    int cudaDevice();

    @WithName("intra-op-threads")
    @WithDefault("0")
    int intraOpThreads();

    @WithName("batch-size")
    @WithDefault("8")
    int batchSize();

    @WithName("default-input-size")
    @WithDefault("128")
    int defaultInputSize();

    @WithName("min-component-pixels")
    @WithDefault("0")
    int minComponentPixels();

    @WithName("source-model")
    Optional<String> sourceModel();

    @WithName("source-model-name")
    @WithDefault("lgg-flair-unet")
    String sourceModelName();

    /** Public key files (X.509 PEM, Ed25519) whose signatures on ml.model.versions records are trusted. */
    @WithName("model-signing.public-keys")
    java.util.List<String> modelSigningPublicKeys();

    @WithName("registry-refresh-timeout")
    @WithDefault("5s")
    Duration registryRefreshTimeout();

    /** How often a failing series and a failing PACS store are tried ({@code inference.retry.*}). */
    Retry retry();

    interface Retry {
        /** Attempts at a series whose failure is transient (MISSING_BLOB, BLOB_UNREADABLE, MODEL_ERROR, OUTPUT_ERROR). */
        @WithName("transient-attempts")
        @WithDefault("5")
        int transientAttempts();

        /** C-STORE attempts for one SEG before its PACS_STORE_FAILED DLQ record. */
        @WithName("pacs-attempts")
        @WithDefault("3")
        int pacsAttempts();

        /** Delay before the second PACS attempt, doubled for each further one. */
        @WithName("pacs-delay")
        @WithDefault("1s")
        Duration pacsDelay();
    }

    /** HOST:PORT:AET of the PACS that receives the SEGs; empty = none. */
    Optional<String> pacs();

    @WithName("pacs-calling-ae")
    @WithDefault("INFERENCE")
    String pacsCallingAe();

    @WithName("pacs-timeout")
    @WithDefault("30s")
    Duration pacsTimeout();

    /** DICOM TLS towards the PACS ({@code inference.pacs-tls.*}). */
    @WithName("pacs-tls")
    PacsTls pacsTls();

    interface PacsTls {
        @WithDefault("false")
        boolean enabled();

        /** CA certificates the PACS's certificate must chain to: a PEM bundle or a PKCS#12/JKS store; empty = the JDK's. */
        @WithName("trust-store")
        Optional<String> trustStore();

        @WithName("trust-store-password")
        Optional<String> trustStorePassword();

        /** This client's certificate chain (PEM) and PKCS#8 key, for a PACS that asks for one; empty = none. */
        Optional<String> certificate();

        @WithName("private-key")
        Optional<String> privateKey();
    }

    /** Caps on an instance's pixel data, checked on its header before decoding ({@code inference.pixels.*}). */
    Pixels pixels();

    interface Pixels {
        @WithName("max-rows")
        @WithDefault("16384")
        int maxRows();

        @WithName("max-columns")
        @WithDefault("16384")
        int maxColumns();

        /** Rows x Columns of one frame. */
        @WithName("max-pixels")
        @WithDefault("16777216")
        long maxPixels();

        @WithName("max-frames")
        @WithDefault("10000")
        int maxFrames();

        /** Decoded bytes of all frames of one instance. */
        @WithName("max-bytes")
        @WithDefault("1073741824")
        long maxBytes();

        default org.imagingpipeline.dicomnet.PixelDataLimits limits() {
            return new org.imagingpipeline.dicomnet.PixelDataLimits(maxRows(), maxColumns(), maxPixels(), maxFrames(), maxBytes());
        }
    }

    Kafka kafka();

    interface Kafka {
        @WithName("bootstrap-servers")
        String bootstrapServers();

        @WithName("group-id")
        @WithDefault("inference")
        String groupId();

        @WithName("series-topic")
        @WithDefault("imaging.series.ready")
        String seriesTopic();

        @WithName("results-topic")
        @WithDefault("imaging.segmentation.results")
        String resultsTopic();

        @WithName("dlq-topic")
        @WithDefault("imaging.segmentation.dlq")
        String dlqTopic();

        @WithName("models-topic")
        @WithDefault("ml.model.versions")
        String modelsTopic();

        /** Extra Kafka client properties, e.g. inference.kafka.client."security.protocol"=SSL. */
        Map<String, String> client();
    }
}
