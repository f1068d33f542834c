package org.imagingpipeline.dicomnet;

/** DICOM Upper Layer (PS3.8) PDU types and the reject/abort codes this SCP uses. */
public final class Pdu {
    private Pdu() {
    }

    public static final int ASSOCIATE_RQ = 0x01;
    public static final int ASSOCIATE_AC = 0x02;
    public static final int ASSOCIATE_RJ = 0x03;
    public static final int P_DATA_TF = 0x04;
    public static final int RELEASE_RQ = 0x05;
    public static final int RELEASE_RP = 0x06;
    public static final int A_ABORT = 0x07;

    public static final String APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1";

    // A-ASSOCIATE-RJ result / source / reason (PS3.8 9.3.4)
    public static final int RJ_PERMANENT = 1;
    public static final int RJ_TRANSIENT = 2;
    public static final int RJ_SOURCE_USER = 1;
    public static final int RJ_SOURCE_PROVIDER_PRESENTATION = 3;
    public static final int RJ_REASON_NO_REASON = 1;
    public static final int RJ_REASON_APP_CONTEXT_NOT_SUPPORTED = 2;
    public static final int RJ_REASON_CALLING_AE_NOT_RECOGNIZED = 3;
    public static final int RJ_REASON_CALLED_AE_NOT_RECOGNIZED = 7;
    /** With source 3 (presentation layer): local limit exceeded. */
    public static final int RJ_REASON_LOCAL_LIMIT_EXCEEDED = 2;

    // Presentation context results (PS3.8 9.3.3.2)
    public static final int PC_ACCEPTANCE = 0;
    public static final int PC_ABSTRACT_SYNTAX_NOT_SUPPORTED = 3;
    public static final int PC_TRANSFER_SYNTAXES_NOT_SUPPORTED = 4;

    // A-ABORT source / reason
    public static final int ABORT_SOURCE_USER = 0;
    public static final int ABORT_SOURCE_PROVIDER = 2;
    public static final int ABORT_REASON_NOT_SPECIFIED = 0;
    public static final int ABORT_REASON_UNEXPECTED_PDU = 2;
    public static final int ABORT_REASON_INVALID_PARAMETER = 6;
}
