package org.imagingpipeline.streams;

import java.time.Instant;
import org.imagingpipeline.events.InstanceHeader;

/**
 * What the assembler remembers of one series (store {@link SeriesAssembler#SERIES_STORE}, JSON). The instances
 * themselves live in their own store, one entry each, so that a series of thousands of slices never makes
 * one oversized changelog record.
 */
public class SeriesState {
    public String studyInstanceUid;
    public String seriesInstanceUid;
    public InstanceHeader header;
    public int instanceCount;
    public Instant firstReceivedAt;
    public Instant lastReceivedAt;
    /** wall-clock millis of the last change, for the inactivity timeout */
    public long lastChangeMs;
    /**
     * wall-clock millis when ingest's sender-done marker arrived with no instance since (the sender's association was
     * released, its STOW-RS request ended); 0 while none did or an instance came after it
     */
    public long senderDoneMs;
    /** ImagesInAcquisition of the first instance that had it, or null */
    public Integer expected;
    /** revisions emitted so far */
    public int revision;
    /** true while the emitted revision is current (no instance since) */
    public boolean emitted;
    public long emittedAtMs;
    /**
     * Why the series may not be reported: its instances disagree on PatientID, IssuerOfPatientID or StudyInstanceUID
     * (names the attributes and the instance, never the values); null while they agree. Once set it stays set.
     */
    public String identityConflict;
}
