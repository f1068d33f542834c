package org.imagingpipeline.securityaudit;

import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.imagingpipeline.kafka.AuditLog;
import org.imagingpipeline.kafka.DeniedAudit;
import org.imagingpipeline.kafka.KafkaClients;

/**
 * The service's one audit trail on {@code audit.events}: the {@link AuditLog} the service hands over at start
 * ({@link #use}), or else one made at first use from the {@code kafka.*} settings, named after
 * {@code quarkus.application.name}; and the bounded recorder of refused attempts ({@link #denied()}, kafka-support
 * {@link DeniedAudit}: at most {@code audit.denied.max-per-window} one by one per {@code audit.denied.window}, the rest
 * as one summary per action and window).
 */
@ApplicationScoped
public class ServiceAudit {
    @ConfigProperty(name = "quarkus.application.name")
    String service;

    @ConfigProperty(name = "audit.denied.max-per-window", defaultValue = "60")
    int maxPerWindow;

    @ConfigProperty(name = "audit.denied.window", defaultValue = "60s")
    Duration window;

    private volatile AuditLog given;
    private AuditLog own;
    private DeniedAudit denied;

    /** The service's own log (e.g. made with its service-specific Kafka settings at start): used from now on. */
    public void use(AuditLog log) {
        given = log;
    }

    /** The audit log: the one given by {@link #use}, else this bean's own (created at first use). */
    public AuditLog log() {
        AuditLog g = given;
        if (g != null) return g;
        synchronized (this) {
            if (own == null) own = new AuditLog(KafkaClients.fromConfig(ConfigProvider.getConfig(), Map.of()), service);
            return own;
        }
    }

    /** Refused attempts, bounded per window. */
    public synchronized DeniedAudit denied() {
        if (denied == null) denied = new DeniedAudit(this::log, maxPerWindow, window, Clock.systemUTC());
        return denied;
    }

    /** Before the services close the log they gave: the pending summaries are recorded first. */
    void onStop(@Observes @Priority(1) ShutdownEvent ev) {
        DeniedAudit d;
        AuditLog o;
        synchronized (this) {
            d = denied;
            o = own;
        }
        if (d != null) d.close();
        if (o != null) o.close();
    }
}
