package org.imagingpipeline.ingest;

import org.imagingpipeline.events.InstanceReceived;

/**
 * One received object as Part-10 bytes, with what the transport already told us about it.
 *
 * @param part10            the whole Part-10 file (preamble, meta, dataset as received)
 * @param datasetOffset     where the dataset starts, or -1 to read it from the meta
 * @param transferSyntaxUid the dataset's transfer syntax, or null to read it from the meta
 * @param claimedSopClass   SOP Class UID the transport named (C-STORE Affected SOP Class), or null
 * @param claimedSopInstance SOP Instance UID the transport named, or null
 * @param requiredStudyUid  for STOW-RS to /studies/{uid}: the study every instance must belong to, or null
 */
public record IncomingInstance(byte[] part10, int datasetOffset, String transferSyntaxUid, String claimedSopClass,
                               String claimedSopInstance, String requiredStudyUid, InstanceReceived.Source source) {
}
