package org.imagingpipeline.retrain.service.jobs;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.imagingpipeline.events.DomainEvent;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.retrain.service.AtomicFiles;
import org.imagingpipeline.retrain.service.data.SeriesCatalog;
import org.jboss.logging.Logger;

/**
 * Starts a job when a domain is DRIFT_CONFIRMED and at least {@code minSeries} of its series are in the catalog. A
 * confirmation that arrives before enough series is kept as pending (in a file, so a restart keeps it) and fires when
 * the series arrive; a later KNOWN or ALIAS for the domain withdraws it. Idempotent: the job's trigger is
 * "drift:" + the event id, and an event that already has a job (or a domain with an unfinished job) starts none.
 */
public final class DriftTrigger {
    private static final Logger LOG = Logger.getLogger(DriftTrigger.class);
    private static final ObjectMapper JSON = EventJson.mapper();

    private final Path file;
    private final boolean enabled;
    private final int minSeries;
    private final String method;
    private final JobRunner runner;
    private final JobStore store;
    private final SeriesCatalog catalog;
    private final Map<String, String> pending = new TreeMap<>();

    /** @param enabled false: domain events start nothing (retrain.auto.enabled=false; jobs only by POST) */
    public DriftTrigger(Path file, boolean enabled, int minSeries, String method, JobRunner runner, JobStore store,
                        SeriesCatalog catalog) throws IOException {
        if (minSeries < 1) throw new IllegalArgumentException("retrain.min-series must be >= 1");
        this.file = file;
        this.enabled = enabled;
        this.minSeries = minSeries;
        this.method = method;
        this.runner = runner;
        this.store = store;
        this.catalog = catalog;
        if (Files.exists(file)) pending.putAll(JSON.readValue(file.toFile(), new TypeReference<Map<String, String>>() {
        }));
    }

    public synchronized void onDomainEvent(DomainEvent e) {
        if (!enabled) return;
        switch (e.status()) {
            case DRIFT_CONFIRMED -> {
                pending.put(e.domainId(), e.eventId() != null ? e.eventId() : DomainEvent.eventIdFor(e.domainId(), e.sequence()));
                save();
                LOG.infof("domain %s DRIFT_CONFIRMED (%s); %d of %d series needed are here", e.domainId(), e.reason(),
                        catalog.count(e.domainId()), minSeries);
                fireIfReady(e.domainId());
            }
            case KNOWN, ALIAS -> {
                if (pending.remove(e.domainId()) != null) {
                    save();
                    LOG.infof("domain %s is %s now: pending adaptation withdrawn", e.domainId(), e.status());
                }
            }
            default -> {
            }
        }
    }

    /** Called after a series of the domain was added to the catalog. */
    public synchronized void onSeries(String domainId) {
        if (pending.containsKey(domainId)) fireIfReady(domainId);
    }

    /** Domains confirmed as drifted that wait for series: domain id -> event id. */
    public synchronized Map<String, String> pending() {
        return Map.copyOf(pending);
    }

    private void fireIfReady(String domainId) {
        String trigger = "drift:" + pending.get(domainId);
        boolean covered = store.findByTrigger(trigger).isPresent()
                || store.all().stream().anyMatch(j -> domainId.equals(j.domainId) && !j.finished());
        if (covered) {
            LOG.infof("domain %s: a job for %s exists or one is unfinished; none started", domainId, trigger);
        } else if (catalog.count(domainId) >= minSeries) {
            runner.submit(domainId, method, null, trigger);
        } else {
            return;
        }
        pending.remove(domainId);
        save();
    }

    private void save() {
        try {
            AtomicFiles.write(file, JSON.writeValueAsBytes(pending));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot persist pending drift confirmations in " + file, e);
        }
    }
}
