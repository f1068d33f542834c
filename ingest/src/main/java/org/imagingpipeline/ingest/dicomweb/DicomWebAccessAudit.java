package org.imagingpipeline.ingest.dicomweb;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.imagingpipeline.ingest.IngestConfig;
import org.imagingpipeline.kafka.AuditSink;
import org.imagingpipeline.securityaudit.ServiceAudit;

/**
 * Who read which images: every DICOMweb access that returned patient data goes to {@code audit.events} (the access log a
 * hospital's privacy office asks for), action {@code dicomweb-retrieve} (WADO-RS, metadata, rendered; target the study,
 * detail what of it) or {@code dicomweb-search} (QIDO-RS; target the level, detail the number of results and the query's
 * keys, never its values). A viewer opening a study makes many requests (metadata, then every instance): per principal,
 * action and target one event per {@code ingest.dicomweb.audit-window}, the requests in between counted in the next
 * event's detail ("+N more requests"). The map of recent keys is bounded ({@value #MAX_KEYS}, oldest dropped).
 */
@ApplicationScoped
public class DicomWebAccessAudit {
    static final int MAX_KEYS = 10_000;

    private final java.util.function.Supplier<? extends AuditSink> sink;
    private final Duration window;
    private final java.util.function.Supplier<Instant> clock;
    private final Map<String, Recent> recent = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Recent> eldest) {
            return size() > MAX_KEYS;
        }
    };

    private static final class Recent {
        Instant recordedAt;
        int since;
    }

    @Inject
    public DicomWebAccessAudit(ServiceAudit audit, IngestConfig config) {
        this(audit::log, config.dicomweb().auditWindow(), Instant::now);
    }

    DicomWebAccessAudit(java.util.function.Supplier<? extends AuditSink> sink, Duration window, java.util.function.Supplier<Instant> clock) {
        this.sink = sink;
        this.window = window;
        this.clock = clock;
    }

    /** Records the access unless the same principal had the same access to the same target within the window. */
    public void accessed(String principal, String action, String target, String detail) {
        String key = principal + "|" + action + "|" + target;
        Instant now = clock.get();
        int folded;
        synchronized (recent) {
            Recent r = recent.get(key);
            if (r != null && r.recordedAt.plus(window).isAfter(now)) {
                r.since++;
                return;
            }
            if (r == null) {
                r = new Recent();
                recent.put(key, r);
            }
            folded = r.since;
            r.recordedAt = now;
            r.since = 0;
        }
        sink.get().record(principal, action, target, "allowed", folded == 0 ? detail : detail + " (+" + folded + " more requests)");
    }
}
