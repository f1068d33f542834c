package org.imagingpipeline.retrain.service.registry;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.imagingpipeline.events.ModelVersion;

/**
 * The local view of {@code ml.model.versions}: the latest record under each key. Fed by {@link RegistryReader} (the
 * whole topic from the beginning, then as records come) and answers which model serves a domain now, the domain's
 * versions, and what a rollback returns to.
 */
public final class RegistryView {
    /** One domain in GET /models. */
    public record DomainModels(String domainId, ModelVersion.Serving serving, String servedBy, List<ModelVersion> versions) {
    }

    private final Map<String, ModelVersion> routing = new HashMap<>();
    private final Map<String, ModelVersion> history = new HashMap<>();
    private final Map<String, Long> offsets = new HashMap<>();
    private volatile boolean caughtUp;

    /**
     * Applies the record at {@code offset} of its partition (a key always lives in one partition). A record at or
     * before the offset already applied for its key is ignored: the publisher applies its own records as soon as they
     * are acknowledged, and the reader, possibly behind, must not take the key back to an older state.
     */
    public synchronized void apply(String key, ModelVersion v, long offset) {
        if (key == null) return;
        Long seen = offsets.get(key);
        if (seen != null && offset <= seen) return;
        offsets.put(key, offset);
        Map<String, ModelVersion> map = ModelVersion.isRoutingKey(key) ? routing : history;
        if (v == null) map.remove(key); // tombstone
        else map.put(key, v);
        notifyAll();
    }

    synchronized void markCaughtUp() {
        caughtUp = true;
        notifyAll();
    }

    /** True once the records that were on the topic at start have been read. */
    public boolean caughtUp() {
        return caughtUp;
    }

    /** The model that serves the domain: its own routing record's serving, else the default model's. */
    public synchronized Optional<ModelVersion.Serving> servingFor(String domainId) {
        ModelVersion own = routing.get(ModelVersion.routingKey(domainId));
        if (own != null && own.serving() != null) return Optional.of(own.serving());
        ModelVersion def = routing.get(ModelVersion.routingKey(ModelVersion.DEFAULT_DOMAIN));
        return Optional.ofNullable(def == null ? null : def.serving());
    }

    /** The domain's own routing record (null serving = routed to the default model). */
    public synchronized Optional<ModelVersion> routing(String domainId) {
        return Optional.ofNullable(routing.get(ModelVersion.routingKey(domainId)));
    }

    /** The latest history record of a version. */
    public synchronized Optional<ModelVersion> version(String domainId, String version) {
        return Optional.ofNullable(history.get(ModelVersion.historyKey(domainId, version)));
    }

    /** Any version (history record) of any domain whose file has this sha256 — the name of the parent model. */
    public synchronized Optional<ModelVersion> bySha(String sha256) {
        return history.values().stream().filter(v -> sha256.equals(v.sha256())).findFirst()
                .or(() -> routing.values().stream().filter(v -> v.serving() != null && sha256.equals(v.serving().sha256())).findFirst());
    }

    /**
     * What serves the domain after its current version is rolled back: the most recently promoted other version
     * whose latest status is still PROMOTED; empty = the default model.
     */
    public synchronized Optional<ModelVersion> previousPromoted(String domainId, String currentVersion) {
        return history.values().stream()
                .filter(v -> v.domainId().equals(domainId) && v.status() == ModelVersion.Status.PROMOTED
                        && !v.version().equals(currentVersion) && v.uri() != null && v.sha256() != null)
                .max(Comparator.comparing(v -> v.at() == null ? java.time.Instant.EPOCH : v.at()));
    }

    /** Versions per domain (history records, oldest first) with what serves each domain now. */
    public synchronized List<DomainModels> domains() {
        Map<String, List<ModelVersion>> versions = new TreeMap<>();
        for (ModelVersion v : history.values()) versions.computeIfAbsent(v.domainId(), k -> new ArrayList<>()).add(v);
        for (String key : routing.keySet()) versions.computeIfAbsent(routing.get(key).domainId(), k -> new ArrayList<>());
        List<DomainModels> out = new ArrayList<>();
        for (Map.Entry<String, List<ModelVersion>> e : versions.entrySet()) {
            List<ModelVersion> vs = e.getValue();
            vs.sort(Comparator.comparing(v -> v.at() == null ? java.time.Instant.EPOCH : v.at()));
            ModelVersion own = routing.get(ModelVersion.routingKey(e.getKey()));
            String servedBy = own != null && own.serving() != null ? e.getKey() : ModelVersion.DEFAULT_DOMAIN;
            out.add(new DomainModels(e.getKey(), servingFor(e.getKey()).orElse(null), servedBy, List.copyOf(vs)));
        }
        return out;
    }

    /** Waits until {@code condition} holds on this view (records arrive from the reader), at most {@code timeout}. */
    public synchronized boolean await(java.util.function.Predicate<RegistryView> condition, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.test(this)) {
            long left = end - System.nanoTime();
            if (left <= 0) return false;
            wait(Math.max(1, left / 1_000_000));
        }
        return true;
    }

    synchronized Collection<ModelVersion> allHistory() {
        return List.copyOf(history.values());
    }
}
