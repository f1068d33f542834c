package org.imagingpipeline.retrain.service.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.retrain.service.AtomicFiles;
import org.imagingpipeline.retrain.service.SafeNames;

/**
 * The series of each domain that adaptation can use, kept from {@code imaging.series.ready}: one JSON file per series
 * under {@code DIR/<domain>/}, written atomically, the highest revision winning. Bounded: a domain keeps its
 * {@code maxPerDomain} most recently completed series (older files are deleted). Survives restarts; the topic
 * (7 days) can rebuild it too, since the consumer group starts from the earliest offset.
 */
public final class SeriesCatalog {
    private static final ObjectMapper JSON = EventJson.mapper();

    private final Path dir;
    private final int maxPerDomain;
    private final Map<String, Map<String, CatalogSeries>> byDomain = new HashMap<>();

    public SeriesCatalog(Path dir, int maxPerDomain) throws IOException {
        if (maxPerDomain < 1) throw new IllegalArgumentException("retrain.series.max-per-domain must be >= 1");
        this.dir = dir;
        this.maxPerDomain = maxPerDomain;
        Files.createDirectories(dir);
        try (var domains = Files.list(dir)) {
            for (Path d : (Iterable<Path>) domains::iterator) {
                if (!Files.isDirectory(d)) continue;
                AtomicFiles.removeLeftovers(d);
                try (var files = Files.list(d)) {
                    for (Path f : (Iterable<Path>) files::iterator) {
                        if (AtomicFiles.isTemporary(f)) continue;
                        CatalogSeries s = JSON.readValue(f.toFile(), CatalogSeries.class);
                        byDomain.computeIfAbsent(s.domainId(), k -> new HashMap<>()).put(s.seriesInstanceUid(), s);
                    }
                }
            }
        }
    }

    /** Records the series (a lower or equal revision than the one kept is ignored). */
    public synchronized void add(SeriesReady ready) {
        if (ready.domainId() == null || ready.instances().isEmpty()) return;
        String uid = ready.seriesInstanceUid();
        for (Map.Entry<String, Map<String, CatalogSeries>> e : byDomain.entrySet()) {
            CatalogSeries old = e.getValue().get(uid);
            if (old == null) continue;
            if (old.revision() >= ready.revision()) return;
            if (!e.getKey().equals(ready.domainId())) remove(e.getKey(), uid); // a revision moved it to another domain
        }
        List<CatalogSeries.Instance> instances = ready.instances().stream()
                .filter(i -> i.blob() != null)
                .map(i -> new CatalogSeries.Instance(i.sopInstanceUid(), i.transferSyntaxUid(), i.blob())).toList();
        Instant completed = ready.completedAt() != null ? ready.completedAt() : Instant.now();
        CatalogSeries s = new CatalogSeries(uid, ready.domainId(), ready.revision(), completed, instances);
        try {
            AtomicFiles.write(file(s.domainId(), uid), JSON.writeValueAsBytes(s));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store series " + uid + " of domain " + s.domainId(), e);
        }
        Map<String, CatalogSeries> domain = byDomain.computeIfAbsent(s.domainId(), k -> new HashMap<>());
        domain.put(uid, s);
        while (domain.size() > maxPerDomain) {
            CatalogSeries oldest = domain.values().stream().min(Comparator.comparing(CatalogSeries::completedAt)).orElseThrow();
            remove(s.domainId(), oldest.seriesInstanceUid());
        }
    }

    public synchronized int count(String domainId) {
        return byDomain.getOrDefault(domainId, Map.of()).size();
    }

    /** The domain's series, most recently completed first, at most {@code limit}. */
    public synchronized List<CatalogSeries> series(String domainId, int limit) {
        return byDomain.getOrDefault(domainId, Map.of()).values().stream()
                .sorted(Comparator.comparing(CatalogSeries::completedAt).reversed()).limit(limit).toList();
    }

    private void remove(String domainId, String uid) {
        Map<String, CatalogSeries> domain = byDomain.get(domainId);
        if (domain != null) domain.remove(uid);
        try {
            Files.deleteIfExists(file(domainId, uid));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path file(String domainId, String uid) {
        return dir.resolve(SafeNames.check(domainId)).resolve(SafeNames.forFile(uid) + ".json");
    }
}
