package org.imagingpipeline.ingest.dimse;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.imagingpipeline.ingest.IngestConfig;
import org.imagingpipeline.ingest.IngestMetrics;
import org.imagingpipeline.ingest.InstanceIngestor;
import org.imagingpipeline.ingest.RejectReason;
import org.imagingpipeline.dicomnet.Pdu;
import org.imagingpipeline.dicomnet.PduWriter;
import org.jboss.logging.Logger;

/**
 * The DICOM listener: accepts TCP connections on {@code ingest.dicom.port}, one thread per association, at most
 * {@code ingest.dicom.max-associations} at once (more are rejected with A-ASSOCIATE-RJ "local limit exceeded").
 * TCP_NODELAY is set on every socket: DIMSE is request/response, and Nagle plus delayed ACK would add ~40 ms
 * to each C-STORE.
 */
@ApplicationScoped
public class DicomScpServer {
    private static final Logger LOG = Logger.getLogger(DicomScpServer.class);

    private final IngestConfig config;
    private final InstanceIngestor ingestor;
    private final IngestMetrics metrics;
    private final AtomicInteger associationNumbers = new AtomicInteger();
    private volatile ServerSocket server;
    private ExecutorService workers;
    private Thread acceptor;

    public DicomScpServer(IngestConfig config, InstanceIngestor ingestor, IngestMetrics metrics) {
        this.config = config;
        this.ingestor = ingestor;
        this.metrics = metrics;
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
        if (server != null) return;
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(InetAddress.getByName(config.dicom().bindAddress()), config.dicom().port()), 128);
        server = s;
        workers = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "dicom-association");
            t.setDaemon(true);
            return t;
        });
        acceptor = new Thread(this::acceptLoop, "dicom-acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
        LOG.infof("DICOM SCP listening on %s:%d as AE %s (calling AEs allowed: %s; max %d associations, max PDU %d)",
                config.dicom().bindAddress(), s.getLocalPort(), config.dicom().aeTitle(), allowed().isEmpty() ? "any" : allowed(),
                config.dicom().maxAssociations(), config.dicom().maxPduLength());
    }

    public boolean listening() {
        ServerSocket s = server;
        return s != null && s.isBound() && !s.isClosed();
    }

    public int port() {
        return server == null ? -1 : server.getLocalPort();
    }

    public synchronized void stop() {
        if (server == null) return;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        server = null;
        workers.shutdown();
        try {
            if (!workers.awaitTermination(10, TimeUnit.SECONDS)) workers.shutdownNow();
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
    }

    Set<String> allowed() {
        return config.dicom().allowedCallingAets().orElse(List.of()).stream().map(String::trim)
                .filter(x -> !x.isEmpty()).collect(java.util.stream.Collectors.toUnmodifiableSet());
    }

    private void acceptLoop() {
        ServerSocket s = server;
        while (s != null && !s.isClosed()) {
            Socket socket;
            try {
                socket = s.accept();
            } catch (SocketException closed) {
                return;
            } catch (IOException e) {
                LOG.warnf("accept failed: %s", e.getMessage());
                continue;
            }
            try {
                socket.setTcpNoDelay(true);
                socket.setSoTimeout((int) config.dicom().idleTimeout().toMillis());
                socket.setReceiveBufferSize(Math.max(socket.getReceiveBufferSize(), 256 * 1024));
                socket.setSendBufferSize(Math.max(socket.getSendBufferSize(), 64 * 1024));
            } catch (SocketException e) {
                LOG.debugf("socket options: %s", e.getMessage());
            }
            if (metrics.activeAssociations().incrementAndGet() > config.dicom().maxAssociations()) {
                metrics.activeAssociations().decrementAndGet();
                metrics.rejected(RejectReason.ASSOCIATION_LIMIT);
                workers.execute(() -> refuseOverLimit(socket));
                continue;
            }
            int number = associationNumbers.incrementAndGet();
            workers.execute(() -> {
                try {
                    new DicomAssociation(socket, number, config, allowed(), ingestor, metrics).run();
                } finally {
                    metrics.activeAssociations().decrementAndGet();
                }
            });
        }
    }

    /** Reads the request (so the peer sees a proper answer, not a reset) and rejects it: too many associations. */
    private void refuseOverLimit(Socket socket) {
        try (socket) {
            socket.setSoTimeout(5000);
            DicomAssociation.readPdu(new java.io.DataInputStream(socket.getInputStream()), 1 << 20);
            OutputStream out = socket.getOutputStream();
            out.write(PduWriter.associateRj(Pdu.RJ_TRANSIENT, Pdu.RJ_SOURCE_PROVIDER_PRESENTATION, Pdu.RJ_REASON_LOCAL_LIMIT_EXCEEDED));
            out.flush();
            LOG.warnf("association from %s refused: %d associations active (ingest.dicom.max-associations)",
                    socket.getRemoteSocketAddress(), config.dicom().maxAssociations());
        } catch (IOException e) {
            LOG.debugf("over-limit refusal: %s", e.getMessage());
        }
    }
}
