package org.imagingpipeline.ingest.dicomweb;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * What the pipeline holds, study -> series -> instances, in memory and bounded: at most {@code maxInstances} instances;
 * beyond that new instances are refused (an instance already held may be replaced). Idempotent: the same SOP Instance
 * UID added again replaces the entry, it is never counted twice. Thread-safe (one writer, many readers).
 */
public final class DicomWebIndex {
    /** What {@link #add} did. */
    public enum Added { NEW, REPLACED, REFUSED_FULL }

    private final int maxInstances;
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    /** study -> series -> SOP -> instance, in arrival order. */
    private final Map<String, Map<String, Map<String, IndexedInstance>>> studies = new LinkedHashMap<>();
    private final Map<String, IndexedInstance> bySop = new HashMap<>();

    public DicomWebIndex(int maxInstances) {
        if (maxInstances < 1) throw new IllegalArgumentException("maxInstances must be >= 1, got " + maxInstances);
        this.maxInstances = maxInstances;
    }

    public int maxInstances() {
        return maxInstances;
    }

    public Added add(IndexedInstance instance) {
        lock.writeLock().lock();
        try {
            IndexedInstance old = bySop.get(instance.sopInstanceUid());
            if (old == null && bySop.size() >= maxInstances) return Added.REFUSED_FULL;
            if (old != null) remove(old);
            bySop.put(instance.sopInstanceUid(), instance);
            studies.computeIfAbsent(instance.studyInstanceUid(), s -> new LinkedHashMap<>())
                    .computeIfAbsent(instance.seriesInstanceUid(), s -> new LinkedHashMap<>())
                    .put(instance.sopInstanceUid(), instance);
            return old == null ? Added.NEW : Added.REPLACED;
        } finally {
            lock.writeLock().unlock();
        }
    }

    private void remove(IndexedInstance old) {
        Map<String, Map<String, IndexedInstance>> study = studies.get(old.studyInstanceUid());
        if (study == null) return;
        Map<String, IndexedInstance> series = study.get(old.seriesInstanceUid());
        if (series != null) {
            series.remove(old.sopInstanceUid());
            if (series.isEmpty()) study.remove(old.seriesInstanceUid());
        }
        if (study.isEmpty()) studies.remove(old.studyInstanceUid());
    }

    public int size() {
        lock.readLock().lock();
        try {
            return bySop.size();
        } finally {
            lock.readLock().unlock();
        }
    }

    public Optional<IndexedInstance> instance(String sopInstanceUid) {
        lock.readLock().lock();
        try {
            return Optional.ofNullable(bySop.get(sopInstanceUid));
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Every study's UID, in arrival order. */
    public List<String> studyUids() {
        lock.readLock().lock();
        try {
            return List.copyOf(studies.keySet());
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * The instances of a study grouped by series (series in arrival order, instances by InstanceNumber then arrival);
     * empty when the study is unknown.
     */
    public Map<String, List<IndexedInstance>> study(String studyInstanceUid) {
        lock.readLock().lock();
        try {
            Map<String, Map<String, IndexedInstance>> study = studies.get(studyInstanceUid);
            Map<String, List<IndexedInstance>> out = new LinkedHashMap<>();
            if (study == null) return out;
            for (Map.Entry<String, Map<String, IndexedInstance>> e : study.entrySet()) {
                List<IndexedInstance> list = new ArrayList<>(e.getValue().values());
                list.sort(BY_INSTANCE_NUMBER);
                out.put(e.getKey(), list);
            }
            return out;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The instances of one series in a study, by InstanceNumber; empty when unknown. */
    public List<IndexedInstance> series(String studyInstanceUid, String seriesInstanceUid) {
        lock.readLock().lock();
        try {
            Map<String, IndexedInstance> series = studies.getOrDefault(studyInstanceUid, Map.of()).get(seriesInstanceUid);
            if (series == null) return List.of();
            List<IndexedInstance> list = new ArrayList<>(series.values());
            list.sort(BY_INSTANCE_NUMBER);
            return list;
        } finally {
            lock.readLock().unlock();
        }
    }

    private static final Comparator<IndexedInstance> BY_INSTANCE_NUMBER = Comparator.comparing(
            (IndexedInstance i) -> i.instanceNumber(), Comparator.nullsLast(Comparator.naturalOrder()));
}
