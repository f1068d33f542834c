package org.imagingpipeline.dicomnet;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A C-STORE SCU over one association: proposes each (SOP class, transfer syntax) pair it will send as its own
 * presentation context, then sends datasets exactly as they are (no transcoding) and returns each response
 * status. TCP_NODELAY is on: without it every C-STORE waits for Nagle and delayed ACK.
 */
public final class StoreScu implements AutoCloseable {
    /** One kind of object this association will carry. */
    public record Context(String sopClassUid, String transferSyntaxUid) {
    }

    /** A refused association (A-ASSOCIATE-RJ) or a broken one (A-ABORT, protocol error). */
    public static class AssociationException extends IOException {
        public AssociationException(String message) {
            super(message);
        }
    }

    private static final long OUR_MAX_PDU = 131072;
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final Map<Context, Integer> contextIds = new LinkedHashMap<>();
    private final long peerMaxPdu;
    private int messageId;

    private StoreScu(Socket socket, DataInputStream in, OutputStream out, Map<Context, Integer> ids, long peerMaxPdu) {
        this.socket = socket;
        this.in = in;
        this.out = out;
        this.contextIds.putAll(ids);
        this.peerMaxPdu = peerMaxPdu;
    }

    /** Opens an association proposing the given contexts (at most 128). Contexts the peer rejects are left out. */
    public static StoreScu open(String host, int port, String calledAe, String callingAe, List<Context> contexts, Duration timeout)
            throws IOException {
        return open(host, port, calledAe, callingAe, contexts, timeout, null);
    }

    /**
     * As {@link #open(String, int, String, String, List, Duration)}, over DICOM TLS when {@code tls} is not null: the
     * handshake completes (and the server's certificate must name {@code host}) before the association is requested.
     */
    public static StoreScu open(String host, int port, String calledAe, String callingAe, List<Context> contexts, Duration timeout,
                                DicomTls tls) throws IOException {
        if (contexts.isEmpty() || contexts.size() > 128) throw new IllegalArgumentException("1..128 presentation contexts, got " + contexts.size());
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
        s.setSoTimeout((int) timeout.toMillis());
        if (tls != null) {
            try {
                s = tls.client(s, host, port, true);
            } catch (IOException | RuntimeException e) {
                s.close();
                throw e;
            }
        }
        DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream(), 64 * 1024));
        OutputStream out = new BufferedOutputStream(s.getOutputStream(), 256 * 1024);
        List<AssociateRequest.PresentationContext> pcs = new ArrayList<>();
        Map<Integer, Context> byId = new LinkedHashMap<>();
        int id = 1;
        for (Context c : contexts) {
            pcs.add(new AssociateRequest.PresentationContext(id, c.sopClassUid(), List.of(c.transferSyntaxUid())));
            byId.put(id, c);
            id += 2;
        }
        try {
            out.write(PduWriter.associateRq(calledAe, callingAe, pcs, OUR_MAX_PDU, Part10.IMPLEMENTATION_CLASS_UID, Part10.IMPLEMENTATION_VERSION));
            out.flush();
            PduReader.Raw answer = PduReader.read(in, 1 << 20);
            if (answer == null) throw new AssociationException("connection closed during association negotiation");
            if (answer.type() == Pdu.ASSOCIATE_RJ) {
                byte[] b = answer.body();
                throw new AssociationException("association rejected: result " + (b[1] & 0xff) + ", source " + (b[2] & 0xff)
                        + ", reason " + (b[3] & 0xff));
            }
            if (answer.type() != Pdu.ASSOCIATE_AC) throw new AssociationException("unexpected PDU type " + answer.type() + " instead of A-ASSOCIATE-AC");
            AssociateAccept ac = AssociateAccept.parse(answer.body());
            Map<Context, Integer> accepted = new LinkedHashMap<>();
            byId.forEach((pcId, c) -> {
                if (Integer.valueOf(Pdu.PC_ACCEPTANCE).equals(ac.results().get(pcId))) accepted.put(c, pcId);
            });
            return new StoreScu(s, in, out, accepted, ac.maxPduLength());
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    public boolean accepts(Context c) {
        return contextIds.containsKey(c);
    }

    /** Sends one dataset (bytes in the context's transfer syntax) and returns the response status. */
    public Response store(Context c, String sopInstanceUid, byte[] dataset, int offset) throws IOException {
        Integer pcId = contextIds.get(c);
        if (pcId == null) throw new IllegalArgumentException("no accepted presentation context for " + c);
        int msg = ++messageId;
        PduWriter.writePData(out, pcId, true, CommandSet.storeRequest(msg, c.sopClassUid(), sopInstanceUid), peerMaxPdu);
        byte[] data = offset == 0 ? dataset : Arrays.copyOfRange(dataset, offset, dataset.length);
        PduWriter.writePData(out, pcId, false, data, peerMaxPdu);
        return readResponse();
    }

    /** Sends one dataset of {@code length} bytes streamed from {@code dataset} (not held in memory) and returns the response. */
    public Response store(Context c, String sopInstanceUid, java.io.InputStream dataset, long length) throws IOException {
        Integer pcId = contextIds.get(c);
        if (pcId == null) throw new IllegalArgumentException("no accepted presentation context for " + c);
        int msg = ++messageId;
        PduWriter.writePData(out, pcId, true, CommandSet.storeRequest(msg, c.sopClassUid(), sopInstanceUid), peerMaxPdu);
        PduWriter.writePData(out, pcId, dataset, length, peerMaxPdu);
        return readResponse();
    }

    /** A C-STORE response: status and the peer's error comment, if any. */
    public record Response(int status, String errorComment) {
        public boolean success() {
            return status == 0x0000;
        }

        public boolean warning() {
            return status == 0x0001 || (status & 0xf000) == 0xb000;
        }
    }

    private Response readResponse() throws IOException {
        byte[] command = new byte[0];
        while (true) {
            PduReader.Raw pdu = PduReader.read(in, Math.max(OUR_MAX_PDU, 1 << 16) + 64);
            if (pdu == null) throw new AssociationException("connection closed while waiting for the C-STORE response");
            if (pdu.type() == Pdu.A_ABORT) throw new AssociationException("association aborted by the peer");
            if (pdu.type() != Pdu.P_DATA_TF) throw new AssociationException("unexpected PDU type " + pdu.type());
            byte[] b = pdu.body();
            int pos = 0;
            while (pos + 6 <= b.length) {
                int len = (b[pos] & 0xff) << 24 | (b[pos + 1] & 0xff) << 16 | (b[pos + 2] & 0xff) << 8 | (b[pos + 3] & 0xff);
                int header = b[pos + 5] & 0xff;
                byte[] v = Arrays.copyOfRange(b, pos + 6, pos + 4 + len);
                byte[] joined = Arrays.copyOf(command, command.length + v.length);
                System.arraycopy(v, 0, joined, command.length, v.length);
                command = joined;
                pos += 4 + len;
                if ((header & 1) != 0 && (header & 2) != 0) {
                    CommandSet rsp = CommandSet.parse(command);
                    return new Response(rsp.status(), rsp.errorComment());
                }
            }
        }
    }

    /** Releases the association (A-RELEASE-RQ/RP) and closes the connection. */
    @Override
    public void close() throws IOException {
        try (socket) {
            out.write(PduWriter.releaseRq());
            out.flush();
            PduReader.read(in, 1 << 16);
        }
    }
}
