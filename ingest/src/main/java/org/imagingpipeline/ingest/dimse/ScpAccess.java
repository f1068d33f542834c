package org.imagingpipeline.ingest.dimse;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.imagingpipeline.ingest.IngestMetrics;
import org.imagingpipeline.ingest.RejectReason;
import org.jboss.logging.Logger;

/**
 * Who may associate with the SCP: the calling-AE allow-list ({@code ingest.dicom.allowed-calling-aets}) and the
 * source-address allow-list ({@code ingest.dicom.allowed-sources}, CIDRs), each empty = any; and what happens to a
 * refusal: counted ({@code ingest_instances_rejected_total{reason}}), logged, and handed to the audit trail. A refusal
 * names the reason, the calling AE (when known) and the peer's address: never anything of an instance.
 */
public final class ScpAccess {
    private static final Logger LOG = Logger.getLogger(ScpAccess.class);

    /** A refusal as the audit trail records it. */
    public record Refusal(RejectReason reason, String callingAe, String peer, String detail) {
    }

    private final Set<String> callingAets;
    private final List<Cidr> sources;
    private final IngestMetrics metrics;
    private final Consumer<Refusal> audit;

    public ScpAccess(List<String> callingAets, List<String> sources, IngestMetrics metrics, Consumer<Refusal> audit) {
        this.callingAets = callingAets.stream().map(String::trim).filter(x -> !x.isEmpty()).collect(Collectors.toUnmodifiableSet());
        List<Cidr> c = new ArrayList<>();
        for (String s : sources) if (!s.isBlank()) c.add(Cidr.parse(s.trim()));
        this.sources = List.copyOf(c);
        this.metrics = metrics;
        this.audit = audit;
    }

    public boolean callingAeAllowed(String ae) {
        return callingAets.isEmpty() || callingAets.contains(ae);
    }

    public boolean sourceAllowed(InetAddress a) {
        return sources.isEmpty() || sources.stream().anyMatch(c -> c.contains(a));
    }

    /** True when either allow-list restricts who may associate. */
    public boolean restricted() {
        return !callingAets.isEmpty() || !sources.isEmpty();
    }

    public Set<String> callingAets() {
        return callingAets;
    }

    public List<String> sources() {
        return sources.stream().map(Cidr::toString).toList();
    }

    /** Counts, logs and audits one refused connection or association. */
    public void refused(RejectReason reason, String callingAe, String peer, String detail) {
        metrics.rejected(reason);
        LOG.warnf("association from %s%s refused (%s): %s", peer, callingAe == null ? "" : " (AE " + callingAe + ")", reason.tag, detail);
        try {
            audit.accept(new Refusal(reason, callingAe, peer, detail));
        } catch (RuntimeException e) {
            LOG.debugf("audit of a refusal failed: %s", e.getMessage());
        }
    }

    /** An address block: an IPv4 or IPv6 literal with an optional prefix length ({@code 10.0.0.0/8}, {@code ::1}). */
    record Cidr(byte[] network, int prefix, String text) {
        static Cidr parse(String s) {
            int slash = s.indexOf('/');
            String addr = slash < 0 ? s : s.substring(0, slash);
            if (!addr.matches("[0-9.]+") && !addr.matches("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")) {
                throw new IllegalArgumentException("ingest.dicom.allowed-sources: '" + s + "' is not an IP address or CIDR (host names are not resolved)");
            }
            byte[] bytes;
            try {
                bytes = InetAddress.getByName(addr).getAddress();
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("ingest.dicom.allowed-sources: '" + s + "' is not an IP address", e);
            }
            int prefix;
            try {
                prefix = slash < 0 ? bytes.length * 8 : Integer.parseInt(s.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("ingest.dicom.allowed-sources: bad prefix length in '" + s + "'");
            }
            if (prefix < 0 || prefix > bytes.length * 8) throw new IllegalArgumentException("ingest.dicom.allowed-sources: bad prefix length in '" + s + "'");
            return new Cidr(bytes, prefix, s);
        }

        boolean contains(InetAddress a) {
            byte[] b = a.getAddress();
            if (b.length != network.length) return false;
            int full = prefix / 8;
            for (int i = 0; i < full; i++) if (b[i] != network[i]) return false;
            int rest = prefix % 8;
            if (rest == 0) return true;
            int mask = (0xff << (8 - rest)) & 0xff;
            return (b[full] & mask) == (network[full] & mask);
        }

        @Override
        public String toString() {
            return text;
        }
    }
}
