package org.imagingpipeline.ingest.dicomweb;

import java.util.Objects;
import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.events.InstanceHeader;

/**
 * One instance the pipeline holds, as the DICOMweb index keeps it: the UIDs, where its Part-10 bytes are, and the few
 * attributes QIDO-RS answers with (any may be null). No patient names or birth dates (the events do not carry them).
 *
 * @param studyInstanceUid  the study it is filed under (for a SEG: its source study)
 * @param seriesInstanceUid its series
 * @param sopInstanceUid    its SOP Instance UID (the index's key)
 * @param sopClassUid       SOP Class UID
 * @param transferSyntaxUid the transfer syntax of the stored bytes
 * @param sha256            the blob's content address
 * @param size              the blob's size in bytes
 */
public record IndexedInstance(String studyInstanceUid, String seriesInstanceUid, String sopInstanceUid, String sopClassUid,
                              String transferSyntaxUid, String sha256, long size, String patientId, String accessionNumber,
                              String studyDate, String modality, String seriesDescription, Integer seriesNumber,
                              Integer instanceNumber, Integer rows, Integer columns, Integer numberOfFrames) {
    /** Segmentation Storage. */
    public static final String SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4";

    public IndexedInstance {
        Objects.requireNonNull(studyInstanceUid, "studyInstanceUid");
        Objects.requireNonNull(seriesInstanceUid, "seriesInstanceUid");
        Objects.requireNonNull(sopInstanceUid, "sopInstanceUid");
        Objects.requireNonNull(sha256, "sha256");
    }

    /** The entry of an instance: only the header fields QIDO-RS answers with are kept (the index stays small). */
    public static IndexedInstance of(String study, String series, String sop, String sopClass, String transferSyntax, BlobRef blob,
                                     InstanceHeader h) {
        if (h == null) return new IndexedInstance(study, series, sop, sopClass, transferSyntax, blob.sha256(), blob.size(), null, null,
                null, null, null, null, null, null, null, null);
        return new IndexedInstance(study, series, sop, sopClass, transferSyntax, blob.sha256(), blob.size(), h.patientId(),
                h.accessionNumber(), h.studyDate(), h.modality(), h.seriesDescription(), h.seriesNumber(), h.instanceNumber(), h.rows(),
                h.columns(), h.numberOfFrames());
    }

    public boolean isSegmentation() {
        return SEG_SOP_CLASS.equals(sopClassUid) || "SEG".equals(modality);
    }
}
