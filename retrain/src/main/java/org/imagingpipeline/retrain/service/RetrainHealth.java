package org.imagingpipeline.retrain.service;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;

/**
 * Liveness: the job workers, the input consumer and the registry reader run. Readiness: also the registry view has
 * read what was on ml.model.versions at start (so parent models and rollbacks are decided on the full registry), the
 * input consumer joined its group and polled in the last 30 s, and the job directory is writable.
 */
public final class RetrainHealth {
    private RetrainHealth() {
    }

    static HealthCheckResponse check(RetrainService s, boolean readiness) {
        HealthCheckResponseBuilder b = HealthCheckResponse.named(readiness ? "retrain ready" : "retrain alive");
        if (!s.enabled()) return b.up().withData("enabled", false).build();
        if (s.runner() == null || s.inputs() == null || s.reader() == null) return b.down().withData("state", "starting").build();
        boolean alive = s.runner().isAlive() && s.inputs().isAlive() && s.reader().isAlive();
        b.withData("workers", s.runner().isAlive()).withData("inputs", s.inputs().isAlive())
                .withData("registryReader", s.reader().isAlive()).withData("queued", s.runner().queued())
                .withData("registryCaughtUp", s.view().caughtUp()).withData("inputsJoined", s.inputs().joined())
                .withData("pendingDrift", s.trigger().pending().size())
                .withData("corruptJobFilesMovedAside", s.store().movedAside().size());
        if (!readiness) return (alive ? b.up() : b.down()).build();
        boolean fresh = Duration.between(s.inputs().lastPoll(), Instant.now()).compareTo(Duration.ofSeconds(30)) < 0;
        boolean writable = Files.isWritable(s.store().dir());
        return (alive && fresh && writable && s.view().caughtUp() && s.inputs().joined() ? b.up() : b.down()).build();
    }

    @Liveness
    @ApplicationScoped
    public static class Live implements HealthCheck {
        @Inject
        RetrainService service;

        @Override
        public HealthCheckResponse call() {
            return check(service, false);
        }
    }

    @Readiness
    @ApplicationScoped
    public static class Ready implements HealthCheck {
        @Inject
        RetrainService service;

        @Override
        public HealthCheckResponse call() {
            return check(service, true);
        }
    }
}
