package org.imagingpipeline.ingest.dimse;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import com.pixelmed.dicom.SOPClass;
import org.imagingpipeline.blob.StagedBlob;
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
    /**
     * The series this association stored instances of, for the sender-done markers at its release; at most
     * {@link #MAX_TRACKED_SERIES} (the others complete by the inactivity timeout).
     */
    private final java.util.Set<String> seriesStored = new java.util.LinkedHashSet<>();
    static final int MAX_TRACKED_SERIES = 1000;
    private final IngestMetrics metrics;

    private final Map<Integer, String> acceptedTransferSyntax = new HashMap<>();
    private final Map<Integer, String> abstractSyntax = new HashMap<>();
    private long peerMaxPdu;
    private String callingAe;
    private String calledAe;

    private final DataInputStream in;
    private final PduReader.Raw first;
    /** Data PDV values pass through this buffer into the staged blob: the heap an association needs does not grow with the instance. */
    private final byte[] copyBuffer = new byte[64 * 1024];

    // the message being received
    private byte[] command;
    private int commandLength;
    private CommandSet pendingCommand;
    private int pendingPcId;
    private StagedBlob staged;
    private long headerLength;
    private long dataBytesSeen;
    private boolean oversized;
    private IOException storageFailure;

    /**
     * @param in    the connection's input, positioned after {@code first}
     * @param first the A-ASSOCIATE-RQ the server read before counting this association
     */
    DicomAssociation(Socket socket, DataInputStream in, PduReader.Raw first, int number, IngestConfig config, ScpAccess access,
                     InstanceIngestor ingestor, IngestMetrics metrics) {
        this.socket = socket;
        this.in = in;
        this.first = first;
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
            OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
            if (first.type() != Pdu.ASSOCIATE_RQ) {
                send(out, PduWriter.abort(Pdu.ABORT_SOURCE_PROVIDER, Pdu.ABORT_REASON_UNEXPECTED_PDU));
                return;
            }
            try {
                serve(out, peer);
            } catch (IOException | RuntimeException e) {
                if (!socket.isClosed()) send(out, PduWriter.abort(Pdu.ABORT_SOURCE_PROVIDER, Pdu.ABORT_REASON_INVALID_PARAMETER));
                throw e;
            }
        } catch (EOFException e) {
            LOG.debugf("association %d from %s: connection closed mid-PDU", number, peer);
        } catch (IOException | RuntimeException e) {
            // The socket is closed by now (try-with-resources); the peer saw an A-ABORT where one could be sent.
            LOG.warnf("association %d from %s (AE %s) ended: %s", number, peer, callingAe, e.toString());
        } finally {
            discardStaged();
        }
    }

    private void serve(OutputStream out, String peer) throws IOException {
        if (!negotiate(AssociateRequest.parse(first.body()), out, peer)) return;
        long maxIncoming = config.dicom().maxPduLength() + 64L;
        while (true) {
            int type;
            long length;
            try {
                type = in.read();
            } catch (SocketTimeoutException e) {
                LOG.warnf("association %d from %s (AE %s) idle for %s: aborting", number, peer, callingAe, config.dicom().idleTimeout());
                send(out, PduWriter.abort(Pdu.ABORT_SOURCE_PROVIDER, Pdu.ABORT_REASON_NOT_SPECIFIED));
                return;
            }
            if (type < 0) {
                LOG.debugf("association %d: peer closed the connection", number);
                return;
            }
            in.readUnsignedByte();
            length = in.readInt() & 0xffffffffL;
            if (length > maxIncoming) throw new IOException("PDU type " + type + " of " + length + " bytes exceeds the limit " + maxIncoming);
            switch (type) {
                case Pdu.P_DATA_TF -> pData(length, out, peer);
                case Pdu.RELEASE_RQ -> {
                    in.skipNBytes(length);
                    // Only on an orderly release (after an abort the sender may send the series again); before the
                    // A-RELEASE-RP, so that a sender that saw its release normally finds the markers durable.
                    ingestor.senderDone(seriesStored, "A-RELEASE");
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
                    LOG.warnf("association %d: unexpected PDU type %d, aborted", number, type);
                    return;
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

    /** One P-DATA-TF PDU, read item by item from the stream: command values are collected, data values streamed to disk. */
    private void pData(long pduLength, OutputStream out, String peer) throws IOException {
        long remaining = pduLength;
        while (remaining > 0) {
            if (remaining < 6) throw new IOException("malformed PDV item");
            long len = in.readInt() & 0xffffffffL;
            if (len < 2 || 4 + len > remaining) throw new IOException("malformed PDV item");
            int pcId = in.readUnsignedByte();
            int header = in.readUnsignedByte();
            int valueLen = (int) (len - 2);
            remaining -= 4 + len;
            boolean isCommand = (header & 1) != 0;
            boolean last = (header & 2) != 0;
            if (!acceptedTransferSyntax.containsKey(pcId)) throw new IOException("PDV on presentation context " + pcId + " not accepted");
            if (isCommand) {
                if ((long) commandLength + valueLen > 1 << 16) throw new IOException("command larger than " + (1 << 16) + " bytes");
                if (command == null) command = new byte[Math.max(valueLen, 256)];
                if (commandLength + valueLen > command.length) command = Arrays.copyOf(command, Math.max(command.length * 2, commandLength + valueLen));
                in.readFully(command, commandLength, valueLen);
                commandLength += valueLen;
                if (last) {
                    CommandSet c = CommandSet.parse(Arrays.copyOf(command, commandLength));
                    command = null;
                    commandLength = 0;
                    onCommand(c, pcId, out, peer);
                }
            } else {
                if (pendingCommand == null) throw new IOException("data PDV without a preceding C-STORE request");
                data(valueLen);
                if (last) onStore(out, peer);
            }
        }
    }

    /**
     * Streams one data fragment into the staged blob. Past ingest.max-object-bytes (or after a failed write) the rest of
     * the instance is read and dropped, so the association stays in step and answers a failure status at the end.
     */
    private void data(int length) throws IOException {
        dataBytesSeen += length;
        int left = length;
        while (left > 0) {
            int n = Math.min(left, copyBuffer.length);
            in.readFully(copyBuffer, 0, n);
            left -= n;
            if (staged == null || oversized || storageFailure != null) continue;
            if (staged.size() + n > ingestor.maxObjectBytes()) {
                oversized = true; // the file keeps what came so far: its start is quarantined
                continue;
            }
            try {
                staged.out().write(copyBuffer, 0, n);
            } catch (IOException e) {
                storageFailure = e;
            }
        }
    }

    private void onCommand(CommandSet c, int pcId, OutputStream out, String peer) throws IOException {
        switch (c.commandField()) {
            case CommandSet.C_ECHO_RQ -> sendCommand(out, pcId,
                    CommandSet.response(CommandSet.C_ECHO_RSP, c.messageId(), c.affectedSopClassUid(), null, 0x0000, null));
            case CommandSet.C_STORE_RQ -> {
                if (!c.hasDataSet()) throw new IOException("C-STORE-RQ without a data set");
                pendingCommand = c;
                pendingPcId = pcId;
                dataBytesSeen = 0;
                oversized = false;
                storageFailure = null;
                headerLength = -1;
                discardStaged();
                try {
                    staged = ingestor.stage();
                    if (c.affectedSopClassUid() != null && c.affectedSopInstanceUid() != null) {
                        byte[] part10 = Part10.header(c.affectedSopClassUid(), c.affectedSopInstanceUid(), acceptedTransferSyntax.get(pcId), callingAe);
                        staged.out().write(part10);
                        headerLength = part10.length;
                    }
                } catch (IOException e) {
                    storageFailure = e;
                }
            }
            default -> {
                LOG.warnf("association %d (AE %s): unsupported command 0x%04X, aborting", number, callingAe, c.commandField());
                throw new IOException("unsupported DIMSE command 0x" + Integer.toHexString(c.commandField()));
            }
        }
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
        IncomingInstance claimed = IncomingInstance.claimed(ts, sopClass, sop, null, source);
        try (StagedBlob s = staged) {
            staged = null;
            if (storageFailure != null || s == null) {
                outcome = ingestor.reject(claimed, RejectReason.STORAGE_UNAVAILABLE, "temporary file write failed: "
                        + (storageFailure == null ? "?" : storageFailure.getMessage()), sopClass, sop, null, dataBytesSeen);
            } else if (oversized) {
                outcome = ingestor.reject(claimed, RejectReason.OVERSIZED, dataBytesSeen + " bytes exceed ingest.max-object-bytes="
                        + ingestor.maxObjectBytes(), sopClass, sop, s.file(), dataBytesSeen);
            } else if (sop == null || sopClass == null) {
                outcome = ingestor.reject(claimed, RejectReason.MISSING_UID, "C-STORE-RQ without Affected SOP Class/Instance UID",
                        sopClass, sop, s.file(), dataBytesSeen);
            } else {
                outcome = ingestor.ingest(new IncomingInstance(s, headerLength, ts, sopClass, sop, null, source));
            }
        }
        if (outcome instanceof IngestOutcome.Stored st && seriesStored.size() < MAX_TRACKED_SERIES) {
            seriesStored.add(st.event().seriesInstanceUid());
        }
        int status = 0x0000;
        String comment = null;
        if (outcome instanceof IngestOutcome.Rejected r) {
            status = r.reason().dimseStatus;
            comment = r.reason().tag + ": " + r.detail();
        }
        sendCommand(out, pcId, CommandSet.response(CommandSet.C_STORE_RSP, rq.messageId(), sopClass, sop, status, comment));
    }

    /** Deletes the temporary file of an instance that will not complete (abort, closed connection, a new C-STORE). */
    private void discardStaged() {
        if (staged == null) return;
        try {
            staged.close();
        } catch (IOException e) {
            LOG.warnf("association %d: temporary file not deleted: %s", number, e.getMessage());
        }
        staged = null;
    }

    private void sendCommand(OutputStream out, int pcId, byte[] commandBytes) throws IOException {
        PduWriter.writePData(out, pcId, true, commandBytes, peerMaxPdu);
    }

    private static void send(OutputStream out, byte[] pdu) throws IOException {
        out.write(pdu);
        out.flush();
    }
}
