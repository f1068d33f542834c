package org.imagingpipeline.streams;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.imagingpipeline.events.DomainEvent;

/**
 * One domain in the registry (store {@link DriftDetector#REGISTRY_STORE}, JSON, changelogged): what GET /domains
 * shows and the feature vectors the detector needs (bounded lists).
 */
public class DomainState {
    public String id;
    public Map<String, String> fingerprint;
    public DomainEvent.Status status;
    public String reason;
    public long seriesCount;
    public Instant firstSeen;
    public Instant lastSeen;
    public Double driftScore;
    public DomainEvent.Evidence evidence;
    public String aliasOf;
    /** events emitted for this domain (the next event's sequence is this + 1) */
    public long sequence;
    /** KNOWN: the reference series (training patients, or the series it had when approved) */
    public List<Entry> reference = new ArrayList<>();
    /** CANDIDATE: its series so far (up to maxSeries are tested); KNOWN: the recent monitored window */
    public List<Entry> recent = new ArrayList<>();
    /** KNOWN: monitored (non-reference) series seen since it became KNOWN */
    public long monitored;
    /** series without image statistics (nothing decodable) */
    public long unmeasured;
    /** their SeriesInstanceUIDs (the most recent few hundred), so a later revision is not counted again */
    public List<String> unmeasuredUids = new ArrayList<>();
    /** transfer syntax UID -> slices that could not be decoded */
    public Map<String, Integer> undecodable = new LinkedHashMap<>();

    /** One series' features. */
    public record Entry(String seriesInstanceUid, double[] values) {
    }

    static void putReplacing(List<Entry> list, Entry e, int cap) {
        list.removeIf(x -> x.seriesInstanceUid().equals(e.seriesInstanceUid()));
        list.add(e);
        while (list.size() > cap) list.remove(0);
    }

    static void putUid(List<String> list, String uid, int cap) {
        list.remove(uid);
        list.add(uid);
        while (list.size() > cap) list.remove(0);
    }

    boolean holds(String seriesUid) {
        return unmeasuredUids.contains(seriesUid) || reference.stream().anyMatch(x -> x.seriesInstanceUid().equals(seriesUid))
                || recent.stream().anyMatch(x -> x.seriesInstanceUid().equals(seriesUid));
    }

    static List<double[]> values(List<Entry> list) {
        return list.stream().map(Entry::values).toList();
    }

    List<String> seriesUids() {
        List<String> out = new ArrayList<>();
        reference.forEach(e -> out.add(e.seriesInstanceUid()));
        recent.forEach(e -> out.add(e.seriesInstanceUid()));
        return out;
    }
}
