package org.imagingpipeline.ingest.dimse;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.imagingpipeline.dicomnet.DicomTls;
import org.imagingpipeline.dicomnet.Pdu;
import org.imagingpipeline.dicomnet.PduReader;
import org.imagingpipeline.dicomnet.PduWriter;
import org.imagingpipeline.ingest.IngestAudit;
import org.imagingpipeline.ingest.IngestConfig;
import org.imagingpipeline.ingest.IngestMetrics;
import org.imagingpipeline.ingest.InstanceIngestor;
import org.imagingpipeline.ingest.RejectReason;
import org.jboss.logging.Logger;

/**
 * The DICOM listeners: plain DIMSE on {@code ingest.dicom.port} and DICOM TLS on {@code ingest.dicom.tls.port}
 * (PS3.15 BCP 195 non-downgrading profile, {@link DicomTls}), one thread per association, at most
 * {@code ingest.dicom.max-associations} at once over both (more are rejected with A-ASSOCIATE-RJ "local limit
 * exceeded"). Who may associate is {@link ScpAccess}'s business: a connection from an address outside the allow-list,
 * a failed TLS handshake or a refused AE ends that connection only; the other associations go on. The plain listener
 * does not start beyond loopback unless TLS or an allow-list is configured. TCP_NODELAY is set on every socket: DIMSE
 * is request/response, and Nagle plus delayed ACK would add ~40 ms to each C-STORE.
 */
@ApplicationScoped
public class DicomScpServer {
    private static final Logger LOG = Logger.getLogger(DicomScpServer.class);

    private final IngestConfig config;
    private final InstanceIngestor ingestor;
    private final IngestMetrics metrics;
    private final IngestAudit audit;
    private final AtomicInteger associationNumbers = new AtomicInteger();
    /** Connections accepted whose A-ASSOCIATE-RQ has not arrived yet. */
    private final AtomicInteger pending = new AtomicInteger();
    private final List<ServerSocket> servers = new ArrayList<>();
    private volatile ServerSocket plain;
    private volatile ServerSocket tls;
    private ScpAccess access;
    private ExecutorService workers;

    public DicomScpServer(IngestConfig config, InstanceIngestor ingestor, IngestMetrics metrics, IngestAudit audit) {
        this.config = config;
        this.ingestor = ingestor;
        this.metrics = metrics;
        this.audit = audit;
    }

    void onStart(@Observes StartupEvent e) throws IOException {
        if (!config.dicom().enabled()) {
            LOG.info("DICOM SCP disabled (ingest.dicom.enabled=false)");
            return;
        }
        start();
    }

    void onStop(@Observes ShutdownEvent e) {
        stop();
    }

    public synchronized void start() throws IOException {
        if (!servers.isEmpty()) return;
        IngestConfig.Dicom d = config.dicom();
        access = new ScpAccess(d.allowedCallingAets().orElse(List.of()), d.allowedSources().orElse(List.of()), metrics, audit::refused);
        InetAddress plainAddress = InetAddress.getByName(d.bindAddress());
        refuseExposure(plainAddress, d.tls().enabled(), access);
        DicomTls tlsProfile = d.tls().enabled() ? tlsFrom(d.tls()) : null;
        try {
            ServerSocket s = new ServerSocket();
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(plainAddress, d.port()), 128);
            servers.add(s);
            plain = s;
            if (tlsProfile != null) {
                ServerSocket t = tlsProfile.serverSocket(new InetSocketAddress(InetAddress.getByName(d.tls().bindAddress()), d.tls().port()), 128,
                        DicomTls.ClientAuth.parse(d.tls().clientAuth()));
                servers.add(t);
                tls = t;
            }
        } catch (IOException | RuntimeException e) {
            closeAll();
            throw e;
        }
        workers = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "dicom-association");
            t.setDaemon(true);
            return t;
        });
        startAcceptor(plain, false, "dicom-acceptor");
        if (tls != null) startAcceptor(tls, true, "dicom-tls-acceptor");
        LOG.infof("DICOM SCP listening on %s:%d%s as AE %s (calling AEs allowed: %s; sources allowed: %s; max %d associations, max PDU %d)",
                d.bindAddress(), plain.getLocalPort(),
                tls == null ? ", DICOM TLS disabled" : String.format(", DICOM TLS on %s:%d (%s, client certificates: %s)", d.tls().bindAddress(),
                        tls.getLocalPort(), String.join("/", tlsProfile.protocols()), d.tls().clientAuth()),
                d.aeTitle(), access.callingAets().isEmpty() ? "any" : access.callingAets(), access.sources().isEmpty() ? "any" : access.sources(),
                d.maxAssociations(), d.maxPduLength());
    }

    /**
     * The plain listener beyond loopback (e.g. 0.0.0.0) needs DICOM TLS or an allow-list: otherwise anyone who reaches
     * the port could send instances into the pipeline unauthenticated and in clear.
     */
    static void refuseExposure(InetAddress plainAddress, boolean tlsEnabled, ScpAccess access) {
        if (plainAddress.isLoopbackAddress() || tlsEnabled || access.restricted()) return;
        throw new IllegalStateException("ingest.dicom.bind-address=" + plainAddress.getHostAddress() + " is beyond loopback, but DICOM TLS is"
                + " disabled and neither ingest.dicom.allowed-calling-aets nor ingest.dicom.allowed-sources is set: refusing to start the plain"
                + " DICOM listener. Enable ingest.dicom.tls, set an allow-list (INGEST_ALLOWED_AETS, INGEST_DICOM_ALLOWED_SOURCES), or bind"
                + " to 127.0.0.1 (docs/security.md, \"DICOM\").");
    }

    /** The TLS profile from {@code ingest.dicom.tls.*} (application.properties: the local CA's files under {@code pipeline.home/secrets/}). */
    static DicomTls tlsFrom(IngestConfig.Tls t) throws IOException {
        String what = "";
        try {
            KeyManager[] keys;
            if (t.keyStore().isPresent()) {
                what = "key store " + t.keyStore().get();
                keys = DicomTls.keyStore(Path.of(t.keyStore().get()), t.keyStorePassword().orElse("").toCharArray());
            } else {
                Path cert = Path.of(t.certificate().orElseThrow(() -> new IOException("ingest.dicom.tls.certificate is not set")));
                Path key = Path.of(t.privateKey().orElseThrow(() -> new IOException("ingest.dicom.tls.private-key is not set")));
                what = "certificate " + cert + " and key " + key;
                keys = DicomTls.pemKeys(cert, key);
            }
            DicomTls.ClientAuth auth = DicomTls.ClientAuth.parse(t.clientAuth());
            TrustManager[] trust = null;
            if (auth != DicomTls.ClientAuth.NONE) {
                Path store = Path.of(t.trustStore().orElseThrow(() -> new IOException("ingest.dicom.tls.trust-store is not set (client-auth "
                        + t.clientAuth() + ")")));
                what = "trust store " + store;
                trust = DicomTls.trust(store, t.trustStorePassword().map(String::toCharArray).orElse(null));
            }
            return DicomTls.of(keys, trust, t.protocols().orElse(List.of()), t.cipherSuites().orElse(List.of()));
        } catch (GeneralSecurityException | IOException e) {
            throw new IOException("DICOM TLS (ingest.dicom.tls.*) cannot start" + (what.isEmpty() ? "" : " with " + what) + ": " + e.getMessage()
                    + " (./pipeline up creates the local CA's files under PIPELINE_HOME/secrets/; or set ingest.dicom.tls.enabled=false)", e);
        }
    }

    public boolean listening() {
        ServerSocket s = plain;
        ServerSocket t = tls;
        return s != null && s.isBound() && !s.isClosed() && (!config.dicom().tls().enabled() || (t != null && t.isBound() && !t.isClosed()));
    }

    public int port() {
        ServerSocket s = plain;
        return s == null ? -1 : s.getLocalPort();
    }

    /** The DICOM TLS port, -1 when TLS is off or not listening. */
    public int tlsPort() {
        ServerSocket t = tls;
        return t == null ? -1 : t.getLocalPort();
    }

    public synchronized void stop() {
        if (servers.isEmpty()) return;
        closeAll();
        workers.shutdown();
        try {
            if (!workers.awaitTermination(10, TimeUnit.SECONDS)) workers.shutdownNow();
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
    }

    private void closeAll() {
        for (ServerSocket s : servers) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        servers.clear();
        plain = null;
        tls = null;
    }

    private void startAcceptor(ServerSocket s, boolean overTls, String name) {
        Thread t = new Thread(() -> acceptLoop(s, overTls), name);
        t.setDaemon(true);
        t.start();
    }

    private void acceptLoop(ServerSocket s, boolean overTls) {
        while (!s.isClosed()) {
            Socket socket;
            try {
                socket = s.accept();
            } catch (SocketException closed) {
                return;
            } catch (IOException e) {
                LOG.warnf("accept failed: %s", e.getMessage());
                continue;
            }
            String peer = String.valueOf(socket.getRemoteSocketAddress());
            try {
                socket.setTcpNoDelay(true);
                socket.setSoTimeout((int) config.dicom().idleTimeout().toMillis());
                socket.setReceiveBufferSize(Math.max(socket.getReceiveBufferSize(), 256 * 1024));
                socket.setSendBufferSize(Math.max(socket.getSendBufferSize(), 64 * 1024));
            } catch (SocketException e) {
                LOG.debugf("socket options: %s", e.getMessage());
            }
            if (!access.sourceAllowed(socket.getInetAddress())) {
                // Off the acceptor thread: recording the refusal may wait for the broker (audit.events).
                workers.execute(() -> {
                    access.refused(RejectReason.SOURCE_NOT_ALLOWED, null, peer, "address not in ingest.dicom.allowed-sources");
                    // Over TLS no DICOM answer is possible before a handshake, which an unknown address does not get.
                    if (overTls) closeQuietly(socket);
                    else reject(socket, Pdu.RJ_PERMANENT, Pdu.RJ_SOURCE_USER, Pdu.RJ_REASON_NO_REASON);
                });
                continue;
            }
            // Until its A-ASSOCIATE-RQ arrives a connection is pending: it holds no association slot, and it is closed after
            // ingest.dicom.request-timeout, so sockets that connect and never associate cannot lock scanners out.
            if (pending.incrementAndGet() > config.dicom().maxPendingConnections()) {
                pending.decrementAndGet();
                LOG.warnf("connection from %s closed: %d connections are waiting for their association request"
                        + " (ingest.dicom.max-pending-connections)", peer, config.dicom().maxPendingConnections());
                closeQuietly(socket);
                continue;
            }
            workers.execute(() -> accept(socket, overTls, peer));
        }
    }

    /** On a worker: TLS handshake, then the A-ASSOCIATE-RQ within the request timeout, then the association or a refusal. */
    private void accept(Socket socket, boolean overTls, String peer) {
        DataInputStream in;
        PduReader.Raw first;
        try {
            if (overTls && !handshake((SSLSocket) socket, peer)) return;
            socket.setSoTimeout((int) config.dicom().requestTimeout().toMillis());
            in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 256 * 1024));
            first = DicomAssociation.readPdu(in, 1 << 20);
            if (first == null) {
                closeQuietly(socket);
                return;
            }
            socket.setSoTimeout((int) config.dicom().idleTimeout().toMillis());
        } catch (SocketTimeoutException e) {
            LOG.infof("connection from %s closed: no association request within %s (ingest.dicom.request-timeout)", peer,
                    config.dicom().requestTimeout());
            closeQuietly(socket);
            return;
        } catch (IOException | RuntimeException e) {
            LOG.debugf("connection from %s before association: %s", peer, e.getMessage());
            closeQuietly(socket);
            return;
        } finally {
            pending.decrementAndGet();
        }
        if (metrics.activeAssociations().incrementAndGet() > config.dicom().maxAssociations()) {
            metrics.activeAssociations().decrementAndGet();
            metrics.rejected(RejectReason.ASSOCIATION_LIMIT);
            LOG.warnf("association from %s refused: %d associations active (ingest.dicom.max-associations)", peer,
                    config.dicom().maxAssociations());
            answer(socket, Pdu.RJ_TRANSIENT, Pdu.RJ_SOURCE_PROVIDER_PRESENTATION, Pdu.RJ_REASON_LOCAL_LIMIT_EXCEEDED);
            return;
        }
        try {
            new DicomAssociation(socket, in, first, associationNumbers.incrementAndGet(), config, access, ingestor, metrics).run();
        } finally {
            metrics.activeAssociations().decrementAndGet();
        }
    }

    /** Runs the TLS handshake within ingest.dicom.tls.handshake-timeout; a failure refuses this connection only. */
    private boolean handshake(SSLSocket socket, String peer) {
        try {
            socket.setSoTimeout((int) config.dicom().tls().handshakeTimeout().toMillis());
            socket.startHandshake();
            socket.setSoTimeout((int) config.dicom().idleTimeout().toMillis());
            LOG.debugf("DICOM TLS from %s: %s %s", peer, socket.getSession().getProtocol(), socket.getSession().getCipherSuite());
            return true;
        } catch (IOException | RuntimeException e) {
            access.refused(RejectReason.TLS_HANDSHAKE, null, peer, "TLS handshake failed: " + e.getMessage());
            closeQuietly(socket);
            return false;
        }
    }

    /** Reads the request (so the peer sees a proper answer, not a reset) and rejects it. */
    private static void reject(Socket socket, int result, int source, int reason) {
        try {
            socket.setSoTimeout(5000);
            DicomAssociation.readPdu(new DataInputStream(socket.getInputStream()), 1 << 20);
        } catch (IOException e) {
            LOG.debugf("refusal of %s: %s", socket.getRemoteSocketAddress(), e.getMessage());
        }
        answer(socket, result, source, reason);
    }

    /** Sends an A-ASSOCIATE-RJ (the request was read) and closes the connection. */
    private static void answer(Socket socket, int result, int source, int reason) {
        try (socket) {
            OutputStream out = socket.getOutputStream();
            out.write(PduWriter.associateRj(result, source, reason));
            out.flush();
        } catch (IOException e) {
            LOG.debugf("refusal of %s: %s", socket.getRemoteSocketAddress(), e.getMessage());
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // gone anyway
        }
    }
}
