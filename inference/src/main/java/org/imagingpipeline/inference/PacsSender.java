package org.imagingpipeline.inference;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.TrustManager;
import org.imagingpipeline.dicomnet.DicomTls;
import org.imagingpipeline.dicomnet.MalformedDicomException;
import org.imagingpipeline.dicomnet.Part10;
import org.imagingpipeline.dicomnet.StoreScu;
import org.imagingpipeline.dicomnet.TransferSyntaxes;

/**
 * Sends a Part-10 object to a PACS by C-STORE (one association per object), e.g. the SEG of a series.
 *
 * <p>A failure is an {@link IOException}; a {@link Refused} one is permanent (the PACS took the request and said no in a
 * way a retry does not change: the SOP class or transfer syntax not accepted, a C-STORE failure status other than "out
 * of resources" or "processing failure", a file that is not Part 10). Anything else (no connection, a timeout, an
 * aborted association, "out of resources" 0xA7xx, "processing failure" 0x0110) may pass on a later attempt.
 */
public final class PacsSender {
    /** The PACS answered, and a retry would get the same answer. */
    public static final class Refused extends IOException {
        public Refused(String message) {
            super(message);
        }

        public Refused(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** True for the C-STORE failure statuses a later attempt may not get (PS3.4 Annex B.2.3 and PS3.7 Annex C). */
    static boolean permanentStatus(int status) {
        boolean outOfResources = (status & 0xFF00) == 0xA700;
        boolean processingFailure = status == 0x0110;
        return !outOfResources && !processingFailure;
    }

    /**
     * Where the PACS is.
     *
     * @param host  host name or address
     * @param port  DICOM port
     * @param aeTitle called AE title
     */
    public record Address(String host, int port, String aeTitle) {
        /** Parses HOST:PORT:AET (the PACS_ADDRESS form). */
        public static Address parse(String text) {
            String[] p = text.trim().split(":");
            if (p.length != 3 || p[0].isBlank() || p[2].isBlank()) {
                throw new IllegalArgumentException("inference.pacs must be HOST:PORT:AET, got '" + text + "'");
            }
            try {
                return new Address(p[0], Integer.parseInt(p[1]), p[2]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("inference.pacs port is not a number in '" + text + "'");
            }
        }

        @Override
        public String toString() {
            return aeTitle + "@" + host + ":" + port;
        }
    }

    private final Address address;
    private final String callingAe;
    private final Duration timeout;
    private final DicomTls tls;

    public PacsSender(Address address, String callingAe, Duration timeout) {
        this(address, callingAe, timeout, null);
    }

    /** @param tls DICOM TLS (BCP 195) towards the PACS, whose certificate must name its host; null = plain DIMSE */
    public PacsSender(Address address, String callingAe, Duration timeout, DicomTls tls) {
        this.address = address;
        this.callingAe = callingAe;
        this.timeout = timeout;
        this.tls = tls;
    }

    /** The TLS settings of {@code inference.pacs-tls.*}, or null when it is off. */
    static DicomTls tls(InferenceConfig.PacsTls c) {
        if (!c.enabled()) return null;
        try {
            KeyManager[] keys = c.certificate().isPresent() && c.privateKey().isPresent()
                    ? DicomTls.pemKeys(Path.of(c.certificate().get()), Path.of(c.privateKey().get())) : null;
            TrustManager[] trust = c.trustStore().isPresent()
                    ? DicomTls.trust(Path.of(c.trustStore().get()), c.trustStorePassword().map(String::toCharArray).orElse(null)) : null;
            return DicomTls.of(keys, trust, null, null);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("inference.pacs-tls: " + e.getMessage(), e);
        }
    }

    /** True when the SEGs go over DICOM TLS. */
    public boolean tls() {
        return tls != null;
    }

    public Address address() {
        return address;
    }

    /** Stores the file; an IOException says why the PACS did not take it. */
    public void store(byte[] part10) throws IOException {
        Part10.Meta meta;
        try {
            meta = Part10.readMeta(part10);
        } catch (MalformedDicomException e) {
            throw new Refused("not a Part-10 file: " + e.getMessage(), e);
        }
        String ts = meta.transferSyntaxUid() == null ? TransferSyntaxes.EXPLICIT_VR_LE : meta.transferSyntaxUid();
        StoreScu.Context ctx = new StoreScu.Context(meta.mediaStorageSopClassUid(), ts);
        try (StoreScu scu = StoreScu.open(address.host(), address.port(), address.aeTitle(), callingAe, List.of(ctx), timeout, tls)) {
            if (!scu.accepts(ctx)) {
                throw new Refused(address + " does not accept SOP class " + meta.mediaStorageSopClassUid() + " in " + ts);
            }
            StoreScu.Response r = scu.store(ctx, meta.mediaStorageSopInstanceUid(), part10, meta.datasetOffset());
            if (!r.success() && !r.warning()) {
                String why = address + " answered C-STORE status 0x" + Integer.toHexString(r.status())
                        + (r.errorComment() == null ? "" : " (" + r.errorComment() + ")");
                throw permanentStatus(r.status()) ? new Refused(why) : new IOException(why);
            }
        }
    }
}
