package org.imagingpipeline.ingest;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Settings of the ingest service (prefix {@code ingest}); each key is documented in application.properties. */
@ConfigMapping(prefix = "ingest")
public interface IngestConfig {

    /** Root of the service's state: quarantine, acknowledged-instance index, and by default the blobs. */
    String home();

    /**
     * The blob store's root (default {@code ingest.home/blobs}): shared by every ingest instance and read by inference,
     * while each instance keeps its own {@code home} (its acknowledged index).
     */
    Optional<String> blobRoot();

    /** Largest instance accepted, in bytes (streamed to a temporary file: the heap does not grow with it). */
    @WithDefault("2147483648")
    long maxObjectBytes();

    /** Largest inflated size of a deflated dataset (Deflated Explicit VR Little Endian), in bytes. */
    @WithDefault("2147483648")
    long maxInflatedBytes();

    /** Largest inflated / compressed ratio of a deflated dataset or a gzip/deflate STOW body. */
    @WithDefault("200")
    int maxInflateRatio();

    /** Largest part of a dataset before its pixel data, in bytes: the part read into memory to extract the header. */
    @WithDefault("67108864")
    long maxHeaderBytes();

    Stow stow();

    interface Stow {
        /** Largest STOW-RS request body (after Content-Encoding is undone), in bytes. */
        @WithDefault("4294967296")
        long maxRequestBytes();
    }

    DicomWeb dicomweb();

    /** WADO-RS and QIDO-RS beside STOW-RS (docs/dicomweb.md). */
    interface DicomWeb {
        /** Build the index (a consumer of imaging.instances.received and imaging.segmentation.results). */
        @WithDefault("true")
        boolean indexEnabled();

        /** Most instances the in-memory index holds; beyond it new instances are refused (WARN and a metric). */
        @WithDefault("250000")
        int maxInstances();

        /** Most results one QIDO-RS answer holds (the cap on {@code limit}, and the limit when none is given). */
        @WithDefault("1000")
        int maxResults();

        /** One audit event per principal, access and target within this window (the requests between are counted). */
        @WithDefault("60s")
        Duration auditWindow();
    }

    /** How long to wait for Kafka to acknowledge an event before answering failure. */
    @WithDefault("10s")
    Duration ackTimeout();

    /** fsync blob writes (keep true in production). */
    @WithDefault("true")
    boolean fsync();

    Dicom dicom();

    interface Dicom {
        @WithDefault("true")
        boolean enabled();

        @WithDefault("127.0.0.1")
        String bindAddress();

        @WithDefault("11112")
        int port();

        @WithDefault("INGEST")
        String aeTitle();

        /** Calling AE titles allowed to associate; empty = any. */
        Optional<List<String>> allowedCallingAets();

        /** Source addresses allowed to connect (CIDRs or single addresses), on both listeners; empty = any. */
        Optional<List<String>> allowedSources();

        @WithDefault("32")
        int maxAssociations();

        /** Largest P-DATA PDU we accept (advertised in A-ASSOCIATE-AC). */
        @WithDefault("131072")
        int maxPduLength();

        /** A connection that has not sent its A-ASSOCIATE-RQ within this time is closed. */
        @WithDefault("10s")
        Duration requestTimeout();

        /** Connections waiting for their A-ASSOCIATE-RQ (not counted as associations); more are closed at once. */
        @WithDefault("128")
        int maxPendingConnections();

        /** An association idle this long is aborted. */
        @WithDefault("60s")
        Duration idleTimeout();

        Tls tls();
    }

    /** The DICOM TLS listener (PS3.15 BCP 195 non-downgrading profile), beside the plain one. */
    interface Tls {
        @WithDefault("true")
        boolean enabled();

        @WithDefault("127.0.0.1")
        String bindAddress();

        @WithDefault("2762")
        int port();

        /** PEM: this listener's certificate, then its chain. */
        Optional<String> certificate();

        /** PEM (PKCS#8): the certificate's private key. */
        Optional<String> privateKey();

        /** Instead of certificate + private-key: a PKCS#12 key store and its password. */
        Optional<String> keyStore();

        Optional<String> keyStorePassword();

        /** none, want or need: whether a client must present a certificate the trust store verifies. */
        @WithDefault("need")
        String clientAuth();

        /** CA certificates the clients' certificates must chain to: a PEM bundle or a PKCS#12/JKS store. */
        Optional<String> trustStore();

        Optional<String> trustStorePassword();

        /** TLS versions; empty = TLSv1.3,TLSv1.2. Older ones are refused at start. */
        Optional<List<String>> protocols();

        /** Cipher suites; empty = the BCP 195 profile's. */
        Optional<List<String>> cipherSuites();

        /** A client that has not finished its handshake within this time is disconnected. */
        @WithDefault("10s")
        Duration handshakeTimeout();
    }
}
