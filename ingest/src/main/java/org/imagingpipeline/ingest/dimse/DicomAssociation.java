package org.imagingpipeline.ingest.dimse;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import com.pixelmed.dicom.SOPClass;
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.ingest.IncomingInstance;
import org.imagingpipeline.ingest.IngestConfig;
import org.imagingpipeline.ingest.IngestMetrics;
import org.imagingpipeline.ingest.IngestOutcome;
import org.imagingpipeline.ingest.InstanceIngestor;
import org.imagingpipeline.ingest.RejectReason;
import org.imagingpipeline.dicomnet.AssociateRequest;
import org.imagingpipeline.dicomnet.CommandSet;
import org.imagingpipeline.dicomnet.Part10;
import org.imagingpipeline.dicomnet.Pdu;
import org.imagingpipeline.dicomnet.PduReader;
import org.imagingpipeline.dicomnet.PduWriter;
import org.imagingpipeline.dicomnet.TransferSyntaxes;
import org.jboss.logging.Logger;

/**
 * One DICOM association as acceptor (PS3.8): negotiation, then C-ECHO and C-STORE requests until release or
 * abort. A C-STORE's response is sent only after the instance's event was acknowledged by Kafka; its status
 * says what happened (0x0000 stored, 0xA700 out of resources, 0xC000 cannot understand, 0x0122 SOP class
 * not supported, 0xA900 dataset does not match).
 */
final class DicomAssociation implements Runnable {
    private static final Logger LOG = Logger.getLogger(DicomAssociation.class);
    private static final String VERIFICATION = "1.2.840.10008.1.1";

    private final Socket socket;
    private final int number;
    private final IngestConfig config;
    private final ScpAccess access;
    private final InstanceIngestor ingestor;
    private final IngestMetrics metrics;

    private final Map<Integer, String> acceptedTransferSyntax = new HashMap<>();
    private final Map<Integer, String> abstractSyntax = new HashMap<>();
    private long peerMaxPdu;
    private String callingAe;
    private String calledAe;

    // the message being received
    private byte[] command;
    private int commandLength;
    private CommandSet pendingCommand;
    private int pendingPcId;
    private byte[] data;
    private int dataLength;
    private long dataBytesSeen;
    private boolean oversized;

    DicomAssociation(Socket socket, int number, IngestConfig config, ScpAccess access, InstanceIngestor ingestor,
                     IngestMetrics metrics) {
        this.socket = socket;
        this.number = number;
        this.config = config;
        this.access = access;
        this.ingestor = ingestor;
        this.metrics = metrics;
    }

    static PduReader.Raw readPdu(DataInputStream in, long maxLength) throws IOException {
        return PduReader.read(in, maxLength);
    }

    @Override
    public void run() {
        String peer = String.valueOf(socket.getRemoteSocketAddress());
        try (socket) {
            DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 256 * 1024));
            OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
            PduReader.Raw first = readPdu(in, 1 << 20);
            if (first == null) return;
            if (first.type() != Pdu.ASSOCIATE_RQ) {
                send(out, PduWriter.abort(Pdu.ABORT_SOURCE_PROVIDER, Pdu.ABORT_REASON_UNEXPECTED_PDU));
                return;
            }
            try {
                serve(in, out, first, peer);
            } catch (IOException | RuntimeException e) {
                if (!socket.isClosed()) send(out, PduWriter.abort(Pdu.ABORT_SOURCE_PROVIDER, Pdu.ABORT_REASON_INVALID_PARAMETER));
                throw e;
            }
        } catch (EOFException e) {
            LOG.debugf("association %d from %s: connection closed mid-PDU", number, peer);
        } catch (IOException | RuntimeException e) {
            // The socket is closed by now (try-with-resources); the peer saw an A-ABORT where one could be sent.
            LOG.warnf("association %d from %s (AE %s) ended: %s", number, peer, callingAe, e.toString());
        }
    }

    private void serve(DataInputStream in, OutputStream out, PduReader.Raw first, String peer) throws IOException {
        {
            if (!negotiate(AssociateRequest.parse(first.body()), out, peer)) return;
            long maxIncoming = config.dicom().maxPduLength() + 64L;
            while (true) {
                PduReader.Raw pdu;
                try {
                    pdu = readPdu(in, maxIncoming);
                } catch (SocketTimeoutException e) {
                    LOG.warnf("association %d from %s (AE %s) idle for %s: aborting", number, peer, callingAe, config.dicom().idleTimeout());
                    send(out, PduWriter.abort(Pdu.ABORT_SOURCE_PROVIDER, Pdu.ABORT_REASON_NOT_SPECIFIED));
                    return;
                }
                if (pdu == null) {
                    LOG.debugf("association %d: peer closed the connection", number);
                    return;
                }
                switch (pdu.type()) {
                    case Pdu.P_DATA_TF -> pData(pdu.body(), out, peer);
                    case Pdu.RELEASE_RQ -> {
                        send(out, PduWriter.releaseRp());
                        LOG.debugf("association %d from AE %s released", number, callingAe);
                        return;
                    }
                    case Pdu.A_ABORT -> {
                        LOG.infof("association %d from AE %s aborted by the peer", number, callingAe);
                        return;
                    }
                    default -> {
                        send(out, PduWriter.abort(Pdu.ABORT_SOURCE_PROVIDER, Pdu.ABORT_REASON_UNEXPECTED_PDU));
                        LOG.warnf("association %d: unexpected PDU type %d, aborted", number, pdu.type());
                        return;
                    }
                }
            }
        }
    }

    private boolean negotiate(AssociateRequest rq, OutputStream out, String peer) throws IOException {
        callingAe = rq.callingAeTitle();
        calledAe = rq.calledAeTitle();
        if (!Pdu.APPLICATION_CONTEXT.equals(rq.applicationContext())) {
            send(out, PduWriter.associateRj(Pdu.RJ_PERMANENT, Pdu.RJ_SOURCE_USER, Pdu.RJ_REASON_APP_CONTEXT_NOT_SUPPORTED));
            return false;
        }
        if (!config.dicom().aeTitle().equals(calledAe)) {
            access.refused(RejectReason.CALLED_AE_UNKNOWN, callingAe, peer, "called AE '" + calledAe + "' is not ours ("
                    + config.dicom().aeTitle() + ")");
            send(out, PduWriter.associateRj(Pdu.RJ_PERMANENT, Pdu.RJ_SOURCE_USER, Pdu.RJ_REASON_CALLED_AE_NOT_RECOGNIZED));
            return false;
        }
        if (!access.callingAeAllowed(callingAe)) {
            access.refused(RejectReason.CALLING_AE_NOT_ALLOWED, callingAe, peer, "calling AE not in ingest.dicom.allowed-calling-aets");
            send(out, PduWriter.associateRj(Pdu.RJ_PERMANENT, Pdu.RJ_SOURCE_USER, Pdu.RJ_REASON_CALLING_AE_NOT_RECOGNIZED));
            return false;
        }
        List<PduWriter.PresentationContextResult> results = new ArrayList<>();
        int accepted = 0;
        for (AssociateRequest.PresentationContext pc : rq.presentationContexts()) {
            String as = pc.abstractSyntax();
            boolean supportedAs = VERIFICATION.equals(as) || (as != null && SOPClass.isStorage(as));
            String ts = pc.transferSyntaxes().stream()
                    .filter(t -> VERIFICATION.equals(as) ? TransferSyntaxes.implicitVr(t) || TransferSyntaxes.EXPLICIT_VR_LE.equals(t)
                            : TransferSyntaxes.accepted(t))
                    .findFirst().orElse(null);
            if (!supportedAs) {
                results.add(new PduWriter.PresentationContextResult(pc.id(), Pdu.PC_ABSTRACT_SYNTAX_NOT_SUPPORTED, first(pc)));
                metrics.rejected(RejectReason.UNSUPPORTED_SOP_CLASS);
                LOG.infof("association %d (AE %s): SOP class %s not supported, presentation context %d rejected", number, callingAe,
                        as, pc.id());
            } else if (ts == null) {
                results.add(new PduWriter.PresentationContextResult(pc.id(), Pdu.PC_TRANSFER_SYNTAXES_NOT_SUPPORTED, first(pc)));
                LOG.infof("association %d (AE %s): none of %s accepted for %s", number, callingAe, pc.transferSyntaxes(), as);
            } else {
                results.add(new PduWriter.PresentationContextResult(pc.id(), Pdu.PC_ACCEPTANCE, ts));
                acceptedTransferSyntax.put(pc.id(), ts);
                abstractSyntax.put(pc.id(), as);
                accepted++;
            }
        }
        peerMaxPdu = rq.maxPduLength();
        send(out, PduWriter.associateAc(rq, results, config.dicom().maxPduLength(), Part10.IMPLEMENTATION_CLASS_UID,
                Part10.IMPLEMENTATION_VERSION));
        LOG.debugf("association %d from %s: AE %s -> %s, %d of %d presentation contexts accepted", number, peer, callingAe, calledAe,
                accepted, rq.presentationContexts().size());
        return true;
    }

    private static String first(AssociateRequest.PresentationContext pc) {
        return pc.transferSyntaxes().isEmpty() ? TransferSyntaxes.IMPLICIT_VR_LE : pc.transferSyntaxes().get(0);
    }

    private void pData(byte[] body, OutputStream out, String peer) throws IOException {
        int pos = 0;
        while (pos + 6 <= body.length) {
            int len = (body[pos] & 0xff) << 24 | (body[pos + 1] & 0xff) << 16 | (body[pos + 2] & 0xff) << 8 | (body[pos + 3] & 0xff);
            if (len < 2 || pos + 4 + len > body.length) throw new IOException("malformed PDV item");
            int pcId = body[pos + 4] & 0xff;
            int header = body[pos + 5] & 0xff;
            int valueOff = pos + 6;
            int valueLen = len - 2;
            boolean isCommand = (header & 1) != 0;
            boolean last = (header & 2) != 0;
            if (!acceptedTransferSyntax.containsKey(pcId)) throw new IOException("PDV on presentation context " + pcId + " not accepted");
            if (isCommand) {
                command = append(command, commandLength, body, valueOff, valueLen, 1 << 16);
                commandLength += valueLen;
                if (last) {
                    CommandSet c = CommandSet.parse(java.util.Arrays.copyOf(command, commandLength));
                    command = null;
                    commandLength = 0;
                    onCommand(c, pcId, out, peer);
                }
            } else {
                if (pendingCommand == null) throw new IOException("data PDV without a preceding C-STORE request");
                dataBytesSeen += valueLen;
                if (!oversized && dataBytesSeen > ingestor.maxObjectBytes()) {
                    oversized = true; // keep reading until the last fragment, keep only the start for quarantine
                }
                if (!oversized || dataLength < org.imagingpipeline.ingest.Quarantine.MAX_KEPT_BYTES) {
                    int keep = oversized ? Math.min(valueLen, org.imagingpipeline.ingest.Quarantine.MAX_KEPT_BYTES - dataLength) : valueLen;
                    data = append(data, dataLength, body, valueOff, keep, Integer.MAX_VALUE - 16);
                    dataLength += keep;
                }
                if (last) onStore(out, peer);
            }
            pos += 4 + len;
        }
    }

    private void onCommand(CommandSet c, int pcId, OutputStream out, String peer) throws IOException {
        switch (c.commandField()) {
            case CommandSet.C_ECHO_RQ -> sendCommand(out, pcId,
                    CommandSet.response(CommandSet.C_ECHO_RSP, c.messageId(), c.affectedSopClassUid(), null, 0x0000, null));
            case CommandSet.C_STORE_RQ -> {
                pendingCommand = c;
                pendingPcId = pcId;
                data = new byte[initialCapacity()];
                dataLength = 0;
                dataBytesSeen = 0;
                oversized = false;
                if (!c.hasDataSet()) throw new IOException("C-STORE-RQ without a data set");
            }
            default -> {
                LOG.warnf("association %d (AE %s): unsupported command 0x%04X, aborting", number, callingAe, c.commandField());
                throw new IOException("unsupported DIMSE command 0x" + Integer.toHexString(c.commandField()));
            }
        }
    }

    private int initialCapacity() {
        return 64 * 1024;
    }

    private void onStore(OutputStream out, String peer) throws IOException {
        CommandSet rq = pendingCommand;
        int pcId = pendingPcId;
        pendingCommand = null;
        String ts = acceptedTransferSyntax.get(pcId);
        InstanceReceived.Source source = new InstanceReceived.Source(InstanceReceived.Source.DIMSE, callingAe, calledAe, peer);
        IngestOutcome outcome;
        String sopClass = rq.affectedSopClassUid();
        String sop = rq.affectedSopInstanceUid();
        if (oversized) {
            outcome = ingestor.reject(new IncomingInstance(null, -1, ts, sopClass, sop, null, source), RejectReason.OVERSIZED,
                    dataBytesSeen + " bytes exceed ingest.max-object-bytes=" + ingestor.maxObjectBytes(), sopClass, sop, data, dataLength);
        } else if (sop == null || sopClass == null) {
            outcome = ingestor.reject(new IncomingInstance(null, -1, ts, sopClass, sop, null, source), RejectReason.MISSING_UID,
                    "C-STORE-RQ without Affected SOP Class/Instance UID", sopClass, sop, data, dataLength);
        } else {
            byte[] header = Part10.header(sopClass, sop, ts, callingAe);
            byte[] file = new byte[header.length + dataLength];
            System.arraycopy(header, 0, file, 0, header.length);
            System.arraycopy(data, 0, file, header.length, dataLength);
            outcome = ingestor.ingest(new IncomingInstance(file, header.length, ts, sopClass, sop, null, source));
        }
        data = null;
        int status = 0x0000;
        String comment = null;
        if (outcome instanceof IngestOutcome.Rejected r) {
            status = r.reason().dimseStatus;
            comment = r.reason().tag + ": " + r.detail();
        }
        sendCommand(out, pcId, CommandSet.response(CommandSet.C_STORE_RSP, rq.messageId(), sopClass, sop, status, comment));
    }

    private void sendCommand(OutputStream out, int pcId, byte[] commandBytes) throws IOException {
        PduWriter.writePData(out, pcId, true, commandBytes, peerMaxPdu);
    }

    private static void send(OutputStream out, byte[] pdu) throws IOException {
        out.write(pdu);
        out.flush();
    }

    private static byte[] append(byte[] buf, int used, byte[] src, int off, int len, int limit) throws IOException {
        if (len <= 0) return buf == null ? new byte[0] : buf;
        if ((long) used + len > limit) throw new IOException("message larger than " + limit + " bytes");
        if (buf == null) buf = new byte[Math.max(len, 256)];
        if (used + len > buf.length) {
            long grown = Math.max((long) buf.length * 2, (long) used + len);
            buf = java.util.Arrays.copyOf(buf, (int) Math.min(grown, Integer.MAX_VALUE - 16));
        }
        System.arraycopy(src, off, buf, used, len);
        return buf;
    }
}
