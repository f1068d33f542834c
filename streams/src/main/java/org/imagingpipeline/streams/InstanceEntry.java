package org.imagingpipeline.streams;

import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.events.InstanceReceived;

/** One instance of an open or recently completed series (store {@link SeriesAssembler#INSTANCE_STORE}). */
public record InstanceEntry(String eventId, String sopInstanceUid, String sopClassUid, Integer instanceNumber, Double position,
                            String transferSyntaxUid, BlobRef blob, Integer rows, Integer columns, double[] pixelSpacing,
                            double[] imageOrientationPatient) {

    static InstanceEntry of(InstanceReceived e) {
        var h = e.header();
        return new InstanceEntry(e.eventId(), e.sopInstanceUid(), e.sopClassUid(), h == null ? null : h.instanceNumber(),
                SeriesOrdering.position(h), e.transferSyntaxUid(), e.blob(), h == null ? null : h.rows(), h == null ? null : h.columns(),
                h == null ? null : h.pixelSpacing(), h == null ? null : h.imageOrientationPatient());
    }

    /** Store key: series UID, "/", SOP Instance UID (a prefix scan by series finds all of one series). */
    static String key(String seriesInstanceUid, String sopInstanceUid) {
        return seriesInstanceUid + "/" + sopInstanceUid;
    }
}
