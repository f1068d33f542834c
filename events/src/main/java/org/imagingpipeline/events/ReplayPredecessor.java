package org.imagingpipeline.events;

import java.io.IOException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The measurement report (DICOM SR) that a replayed series' new report supersedes: Kafka header {@link #HEADER} on a
 * SeriesReady the retrain service sends again after a promotion (beside {@link SeriesReady#REPLAY_HEADER}), read from
 * the series' latest OK result on {@link Topics#SEGMENTATION_RESULTS} by another model version. Inference names that
 * SR in the new SR's Predecessor Documents Sequence (0040,A360), so a PACS or viewer can tell the new report replaces
 * it. A header that does not parse, or whose UIDs are not DICOM UIDs, is ignored ({@link #fromHeader} is empty).
 *
 * @param studyInstanceUid    the study both SRs belong to
 * @param seriesInstanceUid   the earlier SR's series
 * @param sopInstanceUid      the earlier SR's SOP Instance UID
 * @param modelVersion        the model version that made it (for logs and audits)
 */
public record ReplayPredecessor(String studyInstanceUid, String seriesInstanceUid, String sopInstanceUid, String modelVersion) {
    public static final String HEADER = "pipeline.replay.predecessor";
    /** PS3.5 9.1: digits in components separated by dots, no leading zero in a component, at most 64 characters. */
    private static final Pattern UID = Pattern.compile("(0|[1-9][0-9]*)(\\.(0|[1-9][0-9]*))*");

    public byte[] toHeader() {
        try {
            return EventJson.mapper().writeValueAsBytes(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Optional<ReplayPredecessor> fromHeader(byte[] value) {
        if (value == null || value.length > 1024) return Optional.empty();
        try {
            ReplayPredecessor p = EventJson.mapper().readValue(value, ReplayPredecessor.class);
            return p != null && p.valid() ? Optional.of(p) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Whether the three UIDs are DICOM UIDs (the only values that may go into the new SR). */
    public boolean valid() {
        return uid(studyInstanceUid) && uid(seriesInstanceUid) && uid(sopInstanceUid);
    }

    static boolean uid(String s) {
        return s != null && s.length() <= 64 && UID.matcher(s).matches();
    }
}
