package org.imagingpipeline.dicomnet;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A DIMSE command set (group 0000, always Implicit VR Little Endian, PS3.7 E): parsed from and encoded to bytes.
 * Holds only the elements this SCP reads or writes.
 */
public final class CommandSet {
    public static final int C_STORE_RQ = 0x0001;
    public static final int C_STORE_RSP = 0x8001;
    public static final int C_ECHO_RQ = 0x0030;
    public static final int C_ECHO_RSP = 0x8030;
    public static final int NO_DATA_SET = 0x0101;

    private static final int AFFECTED_SOP_CLASS = 0x0002;
    private static final int COMMAND_FIELD = 0x0100;
    private static final int MESSAGE_ID = 0x0110;
    private static final int MESSAGE_ID_RESPONDED_TO = 0x0120;
    private static final int PRIORITY = 0x0700;
    private static final int DATA_SET_TYPE = 0x0800;
    private static final int STATUS = 0x0900;
    private static final int ERROR_COMMENT = 0x0902;
    private static final int AFFECTED_SOP_INSTANCE = 0x1000;

    private final Map<Integer, byte[]> elements = new LinkedHashMap<>();

    public static CommandSet parse(byte[] bytes) {
        CommandSet c = new CommandSet();
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        while (b.remaining() >= 8) {
            int group = b.getShort() & 0xffff;
            int element = b.getShort() & 0xffff;
            long len = b.getInt() & 0xffffffffL;
            if (len > b.remaining()) throw new IllegalArgumentException("command element (" + group + "," + element + ") overruns");
            byte[] v = new byte[(int) len];
            b.get(v);
            if (group == 0) c.elements.put(element, v);
        }
        return c;
    }

    public int commandField() {
        return u16(COMMAND_FIELD);
    }

    public int messageId() {
        return u16(MESSAGE_ID);
    }

    public boolean hasDataSet() {
        return u16(DATA_SET_TYPE) != NO_DATA_SET;
    }

    public String affectedSopClassUid() {
        return string(AFFECTED_SOP_CLASS);
    }

    public String affectedSopInstanceUid() {
        return string(AFFECTED_SOP_INSTANCE);
    }

    /** C-STORE-RQ command set (a data set follows). */
    public static byte[] storeRequest(int messageId, String sopClassUid, String sopInstanceUid) {
        ByteArrayOutputStream body = new ByteArrayOutputStream(160);
        put(body, AFFECTED_SOP_CLASS, uid(sopClassUid));
        put(body, COMMAND_FIELD, us(C_STORE_RQ));
        put(body, MESSAGE_ID, us(messageId));
        put(body, PRIORITY, us(0));
        put(body, DATA_SET_TYPE, us(0x0000));
        put(body, AFFECTED_SOP_INSTANCE, uid(sopInstanceUid));
        return withGroupLength(body);
    }

    public int status() {
        return u16(STATUS);
    }

    public String errorComment() {
        return string(ERROR_COMMENT);
    }

    /** The response to a request: command field, message id, status, optional error comment. */
    public static byte[] response(int commandField, int messageIdRespondedTo, String sopClassUid, String sopInstanceUid,
                                  int status, String errorComment) {
        ByteArrayOutputStream body = new ByteArrayOutputStream(160);
        if (sopClassUid != null) put(body, AFFECTED_SOP_CLASS, uid(sopClassUid));
        put(body, COMMAND_FIELD, us(commandField));
        put(body, MESSAGE_ID_RESPONDED_TO, us(messageIdRespondedTo));
        put(body, DATA_SET_TYPE, us(NO_DATA_SET));
        put(body, STATUS, us(status));
        if (errorComment != null && !errorComment.isEmpty()) {
            String ec = errorComment.length() > 64 ? errorComment.substring(0, 64) : errorComment; // LO: 64 chars
            byte[] t = ec.getBytes(StandardCharsets.US_ASCII);
            if (t.length % 2 == 1) t = pad(t, (byte) ' ');
            put(body, ERROR_COMMENT, t);
        }
        if (sopInstanceUid != null) put(body, AFFECTED_SOP_INSTANCE, uid(sopInstanceUid));
        return withGroupLength(body);
    }

    private static byte[] withGroupLength(ByteArrayOutputStream body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.size() + 12);
        byte[] groupLength = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(body.size()).array();
        put(out, 0x0000, groupLength);
        out.writeBytes(body.toByteArray());
        return out.toByteArray();
    }

    private int u16(int element) {
        byte[] v = elements.get(element);
        if (v == null || v.length < 2) return -1;
        return (v[0] & 0xff) | (v[1] & 0xff) << 8;
    }

    private String string(int element) {
        byte[] v = elements.get(element);
        return v == null ? null : AssociateRequest.trim(new String(v, StandardCharsets.US_ASCII));
    }

    private static void put(ByteArrayOutputStream out, int element, byte[] value) {
        ByteBuffer h = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        h.putShort((short) 0).putShort((short) element).putInt(value.length);
        out.writeBytes(h.array());
        out.writeBytes(value);
    }

    private static byte[] us(int v) {
        return new byte[] {(byte) v, (byte) (v >>> 8)};
    }

    private static byte[] uid(String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        return b.length % 2 == 0 ? b : pad(b, (byte) 0);
    }

    private static byte[] pad(byte[] b, byte with) {
        byte[] p = java.util.Arrays.copyOf(b, b.length + 1);
        p[b.length] = with;
        return p;
    }
}
