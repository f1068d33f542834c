package org.imagingpipeline.dicomnet;

import java.util.List;
import java.util.Set;

/**
 * Transfer syntaxes the ingest accepts. Instances are stored exactly as received (no transcoding), so any
 * syntax whose structure we can verify is acceptable: the uncompressed ones, deflate, and the encapsulated
 * image compressions used by MR/CT scanners. Video syntaxes (MPEG, HEVC) are refused: no stage downstream
 * can use them.
 */
public final class TransferSyntaxes {
    private TransferSyntaxes() {
    }

    public static final String IMPLICIT_VR_LE = "1.2.840.10008.1.2";
    public static final String EXPLICIT_VR_LE = "1.2.840.10008.1.2.1";
    public static final String DEFLATED_EXPLICIT_VR_LE = "1.2.840.10008.1.2.1.99";
    public static final String EXPLICIT_VR_BE = "1.2.840.10008.1.2.2";

    public static final List<String> ACCEPTED = List.of(
            EXPLICIT_VR_LE, IMPLICIT_VR_LE, DEFLATED_EXPLICIT_VR_LE, EXPLICIT_VR_BE,
            "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
            "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81",
            "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
            "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203",
            "1.2.840.10008.1.2.5");
    private static final Set<String> ACCEPTED_SET = Set.copyOf(ACCEPTED);

    public static boolean accepted(String uid) {
        return uid != null && ACCEPTED_SET.contains(uid);
    }

    public static boolean implicitVr(String uid) {
        return IMPLICIT_VR_LE.equals(uid);
    }

    public static boolean bigEndian(String uid) {
        return EXPLICIT_VR_BE.equals(uid);
    }

    public static boolean deflated(String uid) {
        return DEFLATED_EXPLICIT_VR_LE.equals(uid);
    }
}
