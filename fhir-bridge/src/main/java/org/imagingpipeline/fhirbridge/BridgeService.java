package org.imagingpipeline.fhirbridge;

import ca.uhn.fhir.context.FhirContext;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.Locale;
import java.util.Map;
import org.eclipse.microprofile.config.ConfigProvider;
import org.hl7.fhir.r4.model.DiagnosticReport.DiagnosticReportStatus;
import org.imagingpipeline.fhirbridge.smart.SmartBackendAuth;
import org.imagingpipeline.fhirbridge.smart.SmartKeys;
import org.imagingpipeline.kafka.Backoff;
import org.imagingpipeline.kafka.KafkaClients;
import org.jboss.logging.Logger;

/** Builds the bridge from {@link BridgeConfig} at start-up and runs its {@link DeliveryLoop} until shutdown. */
@ApplicationScoped
public class BridgeService {
    private static final Logger LOG = Logger.getLogger(BridgeService.class);

    @Inject
    BridgeConfig config;

    @Inject
    MeterRegistry registry;

    private volatile DeliveryLoop loop;
    private volatile boolean validatorReady;

    void onStart(@Observes StartupEvent ev) {
        if (!config.enabled()) {
            LOG.info("bridge.enabled=false: not consuming");
            return;
        }
        FhirContext ctx = FhirContext.forR4Cached();
        BundleValidator validator = new BundleValidator(ctx);
        validatorReady = true;
        MappingOptions options = new MappingOptions(
                DiagnosticReportStatus.fromCode(config.mapping().reportStatus().toLowerCase(Locale.ROOT)),
                config.mapping().patientDefaultSystem(), config.mapping().issuerSystemPrefix(),
                config.mapping().issuerSystems(),
                config.mapping().dicomWebBaseUrl());
        EhrClient ehr = new EhrClient(ctx, config.fhir().baseUrl(), config.fhir().connectTimeout(),
                config.fhir().requestTimeout(), auth(config.fhir().auth(), config.fhir().baseUrl()));
        ResultProcessor processor = new ResultProcessor(new ResultMapper(options), validator, ehr,
                new BridgeMetrics(registry));
        BridgeConfig.Retry r = config.retry();
        KafkaClients clients = KafkaClients.fromConfig(ConfigProvider.getConfig(), config.kafka().client())
                .with(Map.of("bootstrap.servers", config.kafka().bootstrapServers()));
        DeliveryLoop.Settings s = new DeliveryLoop.Settings(clients, config.kafka().groupId(), config.kafka().topic(),
                config.kafka().dlqTopic(), new Backoff(r.initialBackoff(), r.maxBackoff(), r.multiplier(), r.jitter()));
        loop = new DeliveryLoop(s, processor, registry).start();
        LOG.infof("delivering %s -> %s (DLQ %s, report status %s, auth %s)", s.topic(), config.fhir().baseUrl(),
                s.dlqTopic(), options.reportStatus().toCode(), config.fhir().auth().mode());
    }

    void onStop(@Observes ShutdownEvent ev) throws InterruptedException {
        DeliveryLoop l = loop;
        if (l != null) l.close();
    }

    static AuthProvider auth(BridgeConfig.Auth a, String fhirBase) {
        return switch (a.mode().toLowerCase(Locale.ROOT)) {
            case "none" -> AuthProvider.none();
            case "bearer" -> AuthProvider.bearer(a.bearerToken().orElseThrow(
                    () -> new IllegalArgumentException("bridge.fhir.auth.bearer-token is required for mode bearer")));
            case "client-credentials" -> new AuthProvider.ClientCredentials(
                    a.tokenUrl().orElseThrow(() -> new IllegalArgumentException("bridge.fhir.auth.token-url is required")),
                    a.clientId().orElseThrow(() -> new IllegalArgumentException("bridge.fhir.auth.client-id is required")),
                    a.clientSecret().orElseThrow(
                            () -> new IllegalArgumentException("bridge.fhir.auth.client-secret is required")),
                    a.scope().orElse(null));
            case "smart" -> smart(a, fhirBase);
            default -> throw new IllegalArgumentException("bridge.fhir.auth.mode must be none, bearer, "
                    + "client-credentials or smart, got " + a.mode());
        };
    }

    /** SMART Backend Services: the key file must exist (./pipeline up creates it; docs/security.md). */
    private static AuthProvider smart(BridgeConfig.Auth a, String fhirBase) {
        java.nio.file.Path key = a.privateKey().orElseThrow(
                () -> new IllegalArgumentException("bridge.fhir.auth.private-key is required for mode smart"));
        SmartKeys keys;
        try {
            keys = SmartKeys.load(key);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("bridge.fhir.auth.private-key: " + e.getMessage(), e);
        }
        String clientId = a.clientId().orElseThrow(
                () -> new IllegalArgumentException("bridge.fhir.auth.client-id is required for mode smart"));
        LOG.infof("SMART Backend Services: client %s, key %s (kid %s), token endpoint %s", clientId, key, keys.keyId(),
                a.tokenUrl().orElse("from " + fhirBase + "/.well-known/smart-configuration"));
        return new SmartBackendAuth(fhirBase, a.tokenUrl().orElse(null), clientId, keys, a.scope().orElse(null),
                a.assertionLifetime(), java.time.Clock.systemUTC());
    }

    public boolean enabled() {
        return config.enabled();
    }

    public DeliveryLoop loop() {
        return loop;
    }

    public boolean validatorReady() {
        return validatorReady;
    }
}
