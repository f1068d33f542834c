package org.imagingpipeline.ingest;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Settings of the ingest service (prefix {@code ingest}); each key is documented in application.properties. */
@ConfigMapping(prefix = "ingest")
public interface IngestConfig {

    /** Root of the service's state: blobs, quarantine, acknowledged-instance index. */
    String home();

    /** Largest instance accepted, in bytes. */
    @WithDefault("268435456")
    long maxObjectBytes();

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

        @WithDefault("32")
        int maxAssociations();

        /** Largest P-DATA PDU we accept (advertised in A-ASSOCIATE-AC). */
        @WithDefault("131072")
        int maxPduLength();

        /** An association idle this long is aborted. */
        @WithDefault("60s")
        Duration idleTimeout();
    }
}
