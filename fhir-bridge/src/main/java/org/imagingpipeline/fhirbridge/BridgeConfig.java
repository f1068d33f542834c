package org.imagingpipeline.fhirbridge;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/** The bridge's settings (prefix {@code bridge}); every key is documented in application.properties. */
@ConfigMapping(prefix = "bridge")
public interface BridgeConfig {
    @WithDefault("true")
    boolean enabled();

    Kafka kafka();

    Fhir fhir();

    Retry retry();

    Mapping mapping();

    interface Kafka {
        @WithName("bootstrap-servers")
        String bootstrapServers();

        @WithName("group-id")
        @WithDefault("fhir-bridge")
        String groupId();

        @WithDefault("imaging.segmentation.results")
        String topic();

        @WithName("dlq-topic")
        @WithDefault("ehr.delivery.dlq")
        String dlqTopic();

        /** Extra Kafka client properties, e.g. bridge.kafka.client."security.protocol"=SSL. */
        Map<String, String> client();
    }

    interface Fhir {
        @WithName("base-url")
        String baseUrl();

        @WithName("connect-timeout")
        @WithDefault("5s")
        Duration connectTimeout();

        @WithName("request-timeout")
        @WithDefault("30s")
        Duration requestTimeout();

        Auth auth();
    }

    interface Auth {
        /** none, bearer, client-credentials or smart (SMART Backend Services, private_key_jwt) */
        @WithDefault("none")
        String mode();

        @WithName("bearer-token")
        Optional<String> bearerToken();

        @WithName("token-url")
        Optional<String> tokenUrl();

        @WithName("client-id")
        Optional<String> clientId();

        @WithName("client-secret")
        Optional<String> clientSecret();

        Optional<String> scope();

        /** smart: the client's private key (PKCS#8 PEM, RSA; its JWK Set is what the EHR registers). */
        @WithName("private-key")
        Optional<java.nio.file.Path> privateKey();

        /** smart: lifetime of each client assertion (at most 5 minutes). */
        @WithName("assertion-lifetime")
        @WithDefault("PT60S")
        Duration assertionLifetime();
    }

    interface Retry {
        @WithName("initial-backoff")
        @WithDefault("500ms")
        Duration initialBackoff();

        @WithName("max-backoff")
        @WithDefault("60s")
        Duration maxBackoff();

        @WithDefault("2.0")
        double multiplier();

        @WithDefault("0.5")
        double jitter();
    }

    interface Mapping {
        @WithName("report-status")
        @WithDefault("preliminary")
        String reportStatus();

        @WithName("patient-default-system")
        @WithDefault("urn:imaging-pipeline:patient-id:local")
        String patientDefaultSystem();

        @WithName("issuer-system-prefix")
        @WithDefault("urn:imaging-pipeline:patient-id:")
        String issuerSystemPrefix();

        /** The DICOMweb base the ImagingStudy's Endpoint and the SEG Media's WADO-RS URL point at; "none" = neither. */
        @WithName("dicomweb-base-url")
        @WithDefault(MappingOptions.LOCAL_DICOMWEB)
        String dicomWebBaseUrl();

        /** IssuerOfPatientID -> identifier system, e.g. bridge.mapping.issuer-systems.SITE_A=urn:oid:1.2.3 */
        @WithName("issuer-systems")
        Map<String, String> issuerSystems();
    }
}
