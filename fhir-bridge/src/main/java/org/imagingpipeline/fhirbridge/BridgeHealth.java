package org.imagingpipeline.fhirbridge;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;
import org.imagingpipeline.kafka.ConsumeLoop;
import org.imagingpipeline.kafka.LoopHealth;

/**
 * Liveness: the delivery thread runs. Readiness: also the validator is warm (the loop warms it before it first
 * polls), the consumer joined its group (so Kafka answers) and polled in the last 30 s. An EHR outage does not
 * make the bridge unready (it is doing its job: holding results and retrying); the retry state is reported.
 */
public final class BridgeHealth {
    private BridgeHealth() {
    }

    static HealthCheckResponse check(BridgeService service, boolean readiness) {
        HealthCheckResponseBuilder b = HealthCheckResponse.named(readiness ? "fhir-bridge ready" : "fhir-bridge alive");
        if (!service.enabled()) return b.up().withData("enabled", false).build();
        ConsumeLoop loop = service.loop() == null ? null : service.loop().loop();
        if (loop == null || !loop.isAlive()) return b.down().withData("loop", "not running").build();
        LoopHealth.describe(b, loop);
        return (!readiness || LoopHealth.consuming(loop, Duration.ofSeconds(30)) ? b.up() : b.down()).build();
    }

    @Liveness
    @ApplicationScoped
    public static class Live implements HealthCheck {
        @Inject
        BridgeService service;

        @Override
        public HealthCheckResponse call() {
            return check(service, false);
        }
    }

    @Readiness
    @ApplicationScoped
    public static class Ready implements HealthCheck {
        @Inject
        BridgeService service;

        @Override
        public HealthCheckResponse call() {
            return check(service, true);
        }
    }
}
