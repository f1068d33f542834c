package org.imagingpipeline.ingest;

import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Map;
import org.eclipse.microprofile.config.ConfigProvider;
import org.imagingpipeline.ingest.dimse.ScpAccess;
import org.imagingpipeline.kafka.AuditLog;
import org.imagingpipeline.kafka.KafkaClients;

/**
 * Ingest's audit trail on {@code audit.events} (kafka-support {@link AuditLog}, the {@code kafka.*} settings), created at
 * the first refusal: each refused DICOM connection or association (source address, TLS handshake, calling or called AE)
 * as action {@code dicom-associate}, outcome {@code denied}. Principal: {@code dicom-ae:AE} when the calling AE is known,
 * else {@code anonymous}; target: {@code DICOM /ADDRESS:PORT}; detail: the reason. No instance data.
 */
@ApplicationScoped
public class IngestAudit {
    private volatile AuditLog log;

    public void refused(ScpAccess.Refusal r) {
        log().record(r.callingAe() == null ? "anonymous" : "dicom-ae:" + r.callingAe(), "dicom-associate", "DICOM " + r.peer(), "denied",
                r.reason().tag + ": " + r.detail());
    }

    synchronized AuditLog log() {
        if (log == null) log = new AuditLog(KafkaClients.fromConfig(ConfigProvider.getConfig(), Map.of()), "ingest");
        return log;
    }

    void onStop(@Observes ShutdownEvent ev) {
        AuditLog l = log;
        if (l != null) l.close();
    }
}
