package org.imagingpipeline.streams;

import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Map;
import org.eclipse.microprofile.config.ConfigProvider;
import org.imagingpipeline.kafka.AuditLog;
import org.imagingpipeline.kafka.KafkaClients;

/** The service's audit trail on {@code audit.events} (kafka-support {@link AuditLog}, the {@code kafka.*} settings); created at first use. */
@ApplicationScoped
public class StreamsAudit {
    private volatile AuditLog log;

    public synchronized AuditLog log() {
        if (log == null) log = new AuditLog(KafkaClients.fromConfig(ConfigProvider.getConfig(), Map.of()), "streams");
        return log;
    }

    void onStop(@Observes ShutdownEvent ev) {
        AuditLog l = log;
        if (l != null) l.close();
    }
}
