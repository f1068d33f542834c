package org.imagingpipeline.ingest.dicomweb;

import java.util.Objects;
import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.events.InstanceHeader;

/**
 * One instance the pipeline holds, as the DICOMweb index keeps it: the UIDs, where its Part-10 bytes are, and the few
 * attributes QIDO-RS answers with. No patient names or birth dates (the events do not carry them either).
 *
 * @param studyInstanceUid  the study it is filed under (for a SEG: its source study)
 * @param seriesInstanceUid its series
 * @param sopInstanceUid    its SOP Instance UID (the index's key)
 * @param sopClassUid       SOP Class UID, may be null
 * @param transferSyntaxUid the transfer syntax of the stored bytes, may be null
 * @param sha256            the blob's content address
 * @param size              the blob's size in bytes
 * @param header            the header fields of the events' model (any may be null)
 */
public record IndexedInstance(String studyInstanceUid, String seriesInstanceUid, String sopInstanceUid, String sopClassUid,
                              String transferSyntaxUid, String sha256, long size, InstanceHeader header) {
    /** Segmentation Storage. */
    public static final String SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4";

    public IndexedInstance {
        Objects.requireNonNull(studyInstanceUid, "studyInstanceUid");
        Objects.requireNonNull(seriesInstanceUid, "seriesInstanceUid");
        Objects.requireNonNull(sopInstanceUid, "sopInstanceUid");
        Objects.requireNonNull(sha256, "sha256");
        if (header == null) header = new InstanceHeader(null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null, null, null);
    }

    public static IndexedInstance of(String study, String series, String sop, String sopClass, String transferSyntax, BlobRef blob,
                                     InstanceHeader header) {
        return new IndexedInstance(study, series, sop, sopClass, transferSyntax, blob.sha256(), blob.size(), header);
    }

    public boolean isSegmentation() {
        return SEG_SOP_CLASS.equals(sopClassUid) || "SEG".equals(header.modality());
    }
}
