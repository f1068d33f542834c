package org.imagingpipeline.ingest;

import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.eclipse.microprofile.config.ConfigProvider;
import org.imagingpipeline.ingest.dimse.ScpAccess;
import org.imagingpipeline.kafka.AuditLog;
import org.imagingpipeline.kafka.DeniedAudit;
import org.imagingpipeline.kafka.KafkaClients;
import org.imagingpipeline.securityaudit.ServiceAudit;

/**
 * Ingest's refused DICOM connections and associations (source address, TLS handshake, calling or called AE) on
 * {@code audit.events}: action {@code dicom-associate}, outcome {@code denied}, principal {@code dicom-ae:AE} when the
 * calling AE is known, else {@code anonymous}; target {@code DICOM /ADDRESS:PORT}; detail the reason. No instance data.
 * Bounded like the HTTP refusals (security-audit {@link ServiceAudit#denied()}: a flood of failed handshakes is one
 * summary per window beyond the first events). Without CDI (a test's hand-made SCP) it keeps a log of its own.
 */
@ApplicationScoped
public class IngestAudit {
    @Inject
    ServiceAudit service;

    private volatile AuditLog own;
    private volatile DeniedAudit ownDenied;

    public void refused(ScpAccess.Refusal r) {
        denied().denied(r.callingAe() == null ? "anonymous" : "dicom-ae:" + r.callingAe(), "dicom-associate", "DICOM " + r.peer(),
                r.reason().tag + ": " + r.detail());
    }

    private DeniedAudit denied() {
        if (service != null) return service.denied();
        synchronized (this) {
            if (ownDenied == null) {
                own = new AuditLog(KafkaClients.fromConfig(ConfigProvider.getConfig(), Map.of()), "ingest");
                ownDenied = new DeniedAudit(() -> own, 60, Duration.ofMinutes(1), Clock.systemUTC());
            }
            return ownDenied;
        }
    }

    void onStop(@Observes ShutdownEvent ev) {
        DeniedAudit d = ownDenied;
        if (d != null) d.close();
        AuditLog l = own;
        if (l != null) l.close();
    }
}
