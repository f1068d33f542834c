package org.imagingpipeline.streams;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.imagingpipeline.events.InstanceHeader;
import org.imagingpipeline.events.InstanceReceived;

/** What the assembler remembers of one series (state store value, JSON). */
public class SeriesState {
    public String studyInstanceUid;
    public String seriesInstanceUid;
    public InstanceHeader header;
    /** SOP Instance UID -> the latest event for it. */
    public Map<String, InstanceReceived> instances = new LinkedHashMap<>();
    public Instant firstReceivedAt;
    public Instant lastReceivedAt;
    /** wall-clock millis of the last change, for the inactivity timeout */
    public long lastChangeMs;
    /** ImagesInAcquisition of the first instance that had it, or null */
    public Integer expected;
    /** revisions emitted so far */
    public int revision;
    /** true while the emitted revision is current (no instance since) */
    public boolean emitted;
    public long emittedAtMs;
}
