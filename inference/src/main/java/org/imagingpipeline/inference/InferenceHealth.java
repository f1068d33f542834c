package org.imagingpipeline.inference;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;
import org.imagingpipeline.kafka.LoopHealth;

/**
 * Liveness: the loop thread runs. Readiness: also the model registry was read (and the source model registered when
 * configured) and the loop consumes; the data says which version serves each domain, whether a default model
 * exists (without one, series of domains without their own model get ERROR results), the provider and the blob
 * store's state.
 */
public final class InferenceHealth {
    private InferenceHealth() {
    }

    static HealthCheckResponse check(InferenceService service, boolean readiness) {
        HealthCheckResponseBuilder b = HealthCheckResponse.named(readiness ? "inference ready" : "inference alive");
        if (!service.enabled()) return b.up().withData("enabled", false).build();
        InferenceLoop loop = service.loop();
        if (loop == null || !loop.isAlive()) return b.down().withData("loop", "not running").build();
        LoopHealth.describe(b, loop.loop()).withData("seriesHandled", loop.handled())
                .withData("provider", service.sessions().provider())
                .withData("serving", service.router().servingVersions().toString())
                .withData("defaultModel", service.router().hasDefault())
                .withData("blobStoreWritable", service.blobs().writable());
        return (!readiness || loop.ready() ? b.up() : b.down()).build();
    }

    @Liveness
    @ApplicationScoped
    public static class Live implements HealthCheck {
        @Inject
        InferenceService service;

        @Override
        public HealthCheckResponse call() {
            return check(service, false);
        }
    }

    @Readiness
    @ApplicationScoped
    public static class Ready implements HealthCheck {
        @Inject
        InferenceService service;

        @Override
        public HealthCheckResponse call() {
            return check(service, true);
        }
    }
}
