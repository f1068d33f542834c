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
    /** the most recent series without image statistics and why (at most {@link #UNMEASURED_REASONS}) */
    public List<Unmeasured> unmeasuredReasons = new ArrayList<>();

    static final int UNMEASURED_REASONS = 20;

    /** One series' features, and whose they are (a hash of institution and PatientID; null when unknown). */
    public record Entry(String seriesInstanceUid, double[] values, String patientKey) {
    }

    /** A series that could not be measured, and why. */
    public record Unmeasured(String seriesInstanceUid, String reason) {
    }

    void noteUnmeasured(String seriesUid, String reason) {
        unmeasuredReasons.removeIf(u -> u.seriesInstanceUid().equals(seriesUid));
        unmeasuredReasons.add(new Unmeasured(seriesUid, reason));
        while (unmeasuredReasons.size() > UNMEASURED_REASONS) unmeasuredReasons.remove(0);
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

    /**
     * The feature vectors of the entries; vectors of another length (measured with an earlier feature set, read back from
     * an older state store) are left out: such a domain needs its reference series again.
     */
    static List<double[]> values(List<Entry> list) {
        int d = ImageStatistics.DETECTOR_NAMES.size();
        return list.stream().map(Entry::values).filter(v -> v != null && v.length == d).toList();
    }

    /**
     * One feature vector per patient: the mean of that patient's series in the list (first-seen order). The tests'
     * unit is the patient: several series of one patient are not independent evidence (a patient scanned twice, or
     * replayed, counts once). Series without a patient key count as their own patient.
     */
    static List<double[]> perPatient(List<Entry> list) {
        int d = ImageStatistics.DETECTOR_NAMES.size();
        Map<String, double[]> sums = new LinkedHashMap<>();
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (Entry e : list) {
            if (e.values() == null || e.values().length != d) continue;
            String key = e.patientKey() != null ? "p:" + e.patientKey() : "s:" + e.seriesInstanceUid();
            double[] sum = sums.computeIfAbsent(key, k -> new double[d]);
            for (int j = 0; j < d; j++) sum[j] += e.values()[j];
            counts.merge(key, 1, Integer::sum);
        }
        List<double[]> out = new ArrayList<>();
        sums.forEach((k, sum) -> {
            int c = counts.get(k);
            double[] mean = new double[d];
            for (int j = 0; j < d; j++) mean[j] = sum[j] / c;
            out.add(mean);
        });
        return out;
    }

    List<String> seriesUids() {
        List<String> out = new ArrayList<>();
        reference.forEach(e -> out.add(e.seriesInstanceUid()));
        recent.forEach(e -> out.add(e.seriesInstanceUid()));
        return out;
    }
}
