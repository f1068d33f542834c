package org.imagingpipeline.retrain.service;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/** The service's settings (prefix {@code retrain}); every key is documented in application.properties. */
@ConfigMapping(prefix = "retrain")
public interface RetrainConfig {
    @WithDefault("true")
    boolean enabled();

    Path home();

    @WithName("blob-dir")
    Path blobDir();

    @WithName("models-dir")
    Path modelsDir();

    @WithName("min-series")
    @WithDefault("3")
    int minSeries();

    @WithName("model-name")
    @WithDefault("lgg-flair-unet")
    String modelName();

    /** ONNX file registered as the default model at start (unless the default already is this file). */
    @WithName("source-model")
    Optional<Path> sourceModel();

    @WithName("source-data")
    Optional<Path> sourceData();

    @WithName("source-sites")
    Optional<String> sourceSites();

    /** Expert-corrected masks by SeriesInstanceUID (see ExpertLabels); their Dice decides the gate's target side. */
    @WithName("expert-labels")
    Optional<Path> expertLabels();

    /** The key retrain signs its ml.model.versions records with, and the older public keys it still trusts. */
    @WithName("model-signing")
    ModelSigningKeys modelSigning();

    Auto auto();

    Adapt adapt();

    Series series();

    Jobs jobs();

    Kafka kafka();

    interface ModelSigningKeys {
        /** Ed25519 key pair file (PKCS#8 + X.509 PEM blocks, 0600); created at start when missing. */
        @WithName("private-key")
        Path privateKey();

        /** Public key files (X.509 PEM) of earlier signing keys whose records still count (key rotation); none by default. */
        @WithName("trusted-public-keys")
        Optional<java.util.List<Path>> trustedPublicKeys();
    }

    interface Auto {
        @WithDefault("true")
        boolean enabled();

        @WithDefault("adabn")
        String method();
    }

    interface Adapt {
        /**
         * {@code self} (the default): a child JVM of this service's own installation runs the adapt CLI (its jars are
         * the service's: nothing outside the Quarkus app is needed); anything else: a whitespace-separated command and
         * its leading arguments (e.g. {@code ./pipeline adapt}).
         */
        @WithDefault("self")
        String command();

        /** JVM options of the {@code self} child JVM (whitespace-separated). */
        @WithName("jvm-options")
        @WithDefault("-Xmx4g")
        String jvmOptions();

        /** Where the {@code self} child JVM extracts libtorch (DJL's cache); default {@code <retrain.home>/djl-cache}. */
        @WithName("djl-cache")
        Optional<Path> djlCache();

        @WithDefault(".")
        Path directory();

        @WithName("max-minutes")
        @WithDefault("20")
        double maxMinutes();

        @WithName("kill-grace")
        @WithDefault("5m")
        Duration killGrace();

        @WithName("max-series")
        @WithDefault("200")
        int maxSeries();
    }

    /** After a promotion, the domain's past series are segmented again by the new model (docs/retrain-service.md, "Replay after promotion"). */
    interface Replay {
        /** How far back before the promotion; 0 = no replay. */
        @WithDefault("168h")
        Duration window();

        /** At most this many series (the most recent) per promotion. */
        @WithName("max-series")
        @WithDefault("100")
        int maxSeries();

        /** How long reading the topic and the acknowledgements may take. */
        @WithDefault("2m")
        Duration timeout();
    }

    Replay replay();

    interface Series {
        @WithName("max-per-domain")
        @WithDefault("500")
        int maxPerDomain();
    }

    interface Jobs {
        @WithDefault("1")
        int workers();

        @WithName("keep-work")
        @WithDefault("false")
        boolean keepWork();

        /** A drift-triggered job interrupted by a restart is queued again while it was started fewer times than this. */
        @WithName("max-attempts")
        @WithDefault("3")
        int maxAttempts();
    }

    interface Kafka {
        @WithName("bootstrap-servers")
        String bootstrapServers();

        @WithName("group-id")
        @WithDefault("retrain")
        String groupId();

        /** Extra Kafka client properties, e.g. retrain.kafka.client."security.protocol"=SSL. */
        Map<String, String> client();
    }
}
