package org.imagingpipeline.events;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Value of {@link Topics#INSTANCES_RECEIVED}: one DICOM instance that ingest stored durably and acknowledged.
 * Key: SeriesInstanceUID.
 *
 * @param schemaVersion    {@link #SCHEMA_VERSION}
 * @param eventId          deterministic id: the same instance (SOP Instance UID and bytes) always gets the same
 *                         id, so a consumer can drop a redelivered event
 * @param receivedAt       when ingest received the instance
 * @param source           how it arrived
 * @param header           the header fields later stages need (no patient names or birth dates)
 * @param blob             the Part-10 file in the blob store
 */
public record InstanceReceived(int schemaVersion, String eventId, Instant receivedAt, Source source,
                               String studyInstanceUid, String seriesInstanceUid, String sopInstanceUid,
                               String sopClassUid, String transferSyntaxUid, InstanceHeader header, BlobRef blob) {

    public static final int SCHEMA_VERSION = 1;

    /**
     * Kafka header of the marker ingest sends, keyed by SeriesInstanceUID with a null value, after the last instance of
     * that series that one DICOM association (at its A-RELEASE) or one STOW-RS request stored: the sender says it is done
     * with the series for now. Its value says which ("A-RELEASE", "STOW-RS"). Series assembly may complete the series
     * sooner than its inactivity timeout; a consumer that only wants instances skips records with a null value.
     */
    public static final String SENDER_DONE_HEADER = "pipeline.sender.done";

    public InstanceReceived {
        Objects.requireNonNull(studyInstanceUid, "studyInstanceUid");
        Objects.requireNonNull(seriesInstanceUid, "seriesInstanceUid");
        Objects.requireNonNull(sopInstanceUid, "sopInstanceUid");
        Objects.requireNonNull(blob, "blob");
    }

    /** The id a given instance's event always has: sha256(SOP Instance UID + "|" + blob sha256), hex. */
    public static String eventIdFor(String sopInstanceUid, String blobSha256) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] d = md.digest((sopInstanceUid + "|" + blobSha256).getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(d, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * How an instance arrived.
     *
     * @param protocol      DIMSE or STOW-RS
     * @param callingAeTitle the sender's AE title (DIMSE) or null
     * @param calledAeTitle  our AE title (DIMSE) or null
     * @param remoteAddress  peer address
     */
    public record Source(String protocol, String callingAeTitle, String calledAeTitle, String remoteAddress) {
        public static final String DIMSE = "DIMSE";
        public static final String STOW_RS = "STOW-RS";
    }
}
