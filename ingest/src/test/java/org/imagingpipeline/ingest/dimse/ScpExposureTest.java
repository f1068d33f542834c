package org.imagingpipeline.ingest.dimse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.imagingpipeline.ingest.IngestAudit;
import org.imagingpipeline.ingest.IngestConfig;
import org.imagingpipeline.ingest.IngestMetrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SCP's start-up rule (docs/security.md, "DICOM"): the plain listener bound beyond loopback refuses to start unless
 * DICOM TLS or an allow-list is configured; the real server, with the service's configuration mapping.
 */
class ScpExposureTest {
    @TempDir
    Path home;

    @Test
    void thePlainListenerBeyondLoopbackNeedsTlsOrAnAllowList() throws Exception {
        int port = freePort();
        DicomScpServer open = server(Map.of("ingest.dicom.bind-address", "0.0.0.0", "ingest.dicom.port", Integer.toString(port),
                "ingest.dicom.tls.enabled", "false"));
        IllegalStateException e = assertThrows(IllegalStateException.class, open::start);
        assertTrue(e.getMessage().contains("beyond loopback") && e.getMessage().contains("ingest.dicom.allowed-sources"), e.getMessage());
        assertFalse(open.listening());
        assertFalse(accepts(port), "nothing listens on " + port);

        DicomScpServer restricted = server(Map.of("ingest.dicom.bind-address", "0.0.0.0", "ingest.dicom.port", Integer.toString(port),
                "ingest.dicom.tls.enabled", "false", "ingest.dicom.allowed-sources", "10.20.0.0/16,127.0.0.1"));
        restricted.start();
        try {
            assertTrue(restricted.listening());
            assertEquals(port, restricted.port());
        } finally {
            restricted.stop();
        }

        DicomScpServer loopback = server(Map.of("ingest.dicom.port", Integer.toString(port), "ingest.dicom.tls.enabled", "false"));
        loopback.start();
        loopback.stop();
    }

    @Test
    void tlsDoesNotStartWithoutItsFilesAndSaysWhy() {
        DicomScpServer s = server(Map.of("ingest.dicom.port", Integer.toString(freePort()), "ingest.dicom.tls.port", Integer.toString(freePort())));
        IOException e = assertThrows(IOException.class, s::start);
        assertTrue(e.getMessage().contains("DICOM TLS") && e.getMessage().contains("ingest.pem"), e.getMessage());
        assertFalse(s.listening());
    }

    @Test
    void allowListsMatchAddressesAndBlocks() throws Exception {
        ScpAccess a = new ScpAccess(List.of(" STORESCU ", ""), List.of("10.20.0.0/16", "192.168.1.7", "fd00::/8"), new IngestMetrics(new SimpleMeterRegistry()),
                r -> { });
        assertTrue(a.callingAeAllowed("STORESCU"));
        assertFalse(a.callingAeAllowed("INTRUDER"));
        assertTrue(a.sourceAllowed(InetAddress.getByName("10.20.255.1")));
        assertFalse(a.sourceAllowed(InetAddress.getByName("10.21.0.1")));
        assertTrue(a.sourceAllowed(InetAddress.getByName("192.168.1.7")));
        assertFalse(a.sourceAllowed(InetAddress.getByName("192.168.1.8")));
        assertTrue(a.sourceAllowed(InetAddress.getByName("fd12::1")));
        assertFalse(a.sourceAllowed(InetAddress.getByName("fe80::1")));
        assertThrows(IllegalArgumentException.class, () -> new ScpAccess(List.of(), List.of("scanner.example"), null, r -> { }));
        assertThrows(IllegalArgumentException.class, () -> new ScpAccess(List.of(), List.of("10.0.0.0/33"), null, r -> { }));
        ScpAccess open = new ScpAccess(List.of(), List.of(), null, r -> { });
        assertTrue(open.sourceAllowed(InetAddress.getByName("203.0.113.9")) && open.callingAeAllowed("ANY") && !open.restricted());
    }

    private DicomScpServer server(Map<String, String> settings) {
        Map<String, String> all = new HashMap<>(Map.of("pipeline.home", home.toString(), "ingest.home", home.toString()));
        all.putAll(settings);
        // The packaged application.properties (defaults, ${pipeline.home} paths) below the test's settings.
        Properties packaged = new Properties();
        try (var in = DicomScpServer.class.getResourceAsStream("/application.properties")) {
            packaged.load(in);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        Map<String, String> defaults = new HashMap<>();
        packaged.stringPropertyNames().forEach(k -> defaults.put(k, packaged.getProperty(k)));
        SmallRyeConfig config = new SmallRyeConfigBuilder().addDiscoveredConverters().withMapping(IngestConfig.class)
                .withSources(new PropertiesConfigSource(defaults, "application.properties", 250))
                .withSources(new PropertiesConfigSource(all, "test", 500)).build();
        return new DicomScpServer(config.getConfigMapping(IngestConfig.class), null, new IngestMetrics(new SimpleMeterRegistry()), new IngestAudit());
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
