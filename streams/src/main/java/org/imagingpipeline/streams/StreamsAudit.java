package org.imagingpipeline.streams;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.imagingpipeline.kafka.AuditLog;
import org.imagingpipeline.securityaudit.ServiceAudit;

/** The service's audit trail on {@code audit.events}: security-audit's {@link ServiceAudit}, shared with its 401/403 records. */
@ApplicationScoped
public class StreamsAudit {
    @Inject
    ServiceAudit audit;

    public AuditLog log() {
        return audit.log();
    }
}
