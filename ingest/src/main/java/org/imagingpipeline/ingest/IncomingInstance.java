package org.imagingpipeline.ingest;

import org.imagingpipeline.blob.StagedBlob;
import org.imagingpipeline.events.InstanceReceived;

/**
 * One received object, streamed into a staged blob (a temporary file beside the blob store, hashed on the way), with
 * what the transport already told us about it. The receiver owns the staged blob and closes it (which deletes it
 * unless {@link InstanceIngestor#ingest} committed it).
 *
 * @param staged             the whole Part-10 file (preamble, meta, dataset as received), finished writing
 * @param datasetOffset      where the dataset starts, or -1 to read it from the meta
 * @param transferSyntaxUid  the dataset's transfer syntax, or null to read it from the meta
 * @param claimedSopClass    SOP Class UID the transport named (C-STORE Affected SOP Class), or null
 * @param claimedSopInstance SOP Instance UID the transport named, or null
 * @param requiredStudyUid   for STOW-RS to /studies/{uid}: the study every instance must belong to, or null
 */
public record IncomingInstance(StagedBlob staged, long datasetOffset, String transferSyntaxUid, String claimedSopClass,
                               String claimedSopInstance, String requiredStudyUid, InstanceReceived.Source source) {

    /** What the transport said, before (or without) any bytes: for refusals. */
    public static IncomingInstance claimed(String transferSyntaxUid, String sopClass, String sop, String requiredStudyUid,
                                           InstanceReceived.Source source) {
        return new IncomingInstance(null, -1, transferSyntaxUid, sopClass, sop, requiredStudyUid, source);
    }
}
