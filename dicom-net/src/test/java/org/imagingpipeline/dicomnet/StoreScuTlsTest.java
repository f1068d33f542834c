package org.imagingpipeline.dicomnet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import javax.net.ssl.SSLException;
import org.imagingpipeline.localca.LocalCa;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The C-STORE SCU over DICOM TLS against dcmtk's storescp with TLS (BCP 195 non-downgrading profile, peer certificate
 * required): a client with a certificate of the CA stores; one that does not trust the server's CA, or has no
 * certificate, is refused in the handshake and stores nothing.
 */
class StoreScuTlsTest {
    private static final String SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7";
    @TempDir
    static Path dir;
    static Process storescp;
    static int port;
    static Path secrets;
    static Path received;

    @BeforeAll
    static void startStorescp() throws Exception {
        secrets = dir.resolve("secrets");
        LocalCa ca = LocalCa.ensure(secrets);
        ca.issue("pacs", List.of());
        ca.issue("inference", List.of());
        received = Files.createDirectories(dir.resolve("received"));
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        storescp = new ProcessBuilder("storescp", "-aet", "PACS", "+tls", secrets.resolve("pacs-key.pem").toString(),
                secrets.resolve("pacs.pem").toString(), "-pw", "+cf", secrets.resolve("ca.pem").toString(), "-od", received.toString(),
                Integer.toString(port)).redirectErrorStream(true).redirectOutput(dir.resolve("storescp.log").toFile()).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            if (!storescp.isAlive()) throw new IllegalStateException("storescp exited: " + Files.readString(dir.resolve("storescp.log")));
            try (Socket probe = new Socket()) {
                probe.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("storescp did not listen on " + port);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (storescp != null) {
            storescp.destroy();
            storescp.waitFor();
        }
    }

    @Test
    void aClientOfTheCaStoresOverTls() throws Exception {
        DicomTls tls = DicomTls.of(DicomTls.pemKeys(secrets.resolve("inference.pem"), secrets.resolve("inference-key.pem")),
                DicomTls.trust(secrets.resolve("ca.pem"), null), null, null);
        String sop = "2.25.4711" + System.nanoTime();
        StoreScu.Context ctx = new StoreScu.Context(SECONDARY_CAPTURE, TransferSyntaxes.EXPLICIT_VR_LE);
        try (StoreScu scu = StoreScu.open("127.0.0.1", port, "PACS", "INFERENCE", List.of(ctx), Duration.ofSeconds(30), tls)) {
            assertTrue(scu.accepts(ctx));
            StoreScu.Response r = scu.store(ctx, sop, dataset(sop), 0);
            assertTrue(r.success(), "status 0x" + Integer.toHexString(r.status()));
        }
        assertEquals(1, countReceived(sop), "storescp wrote the instance");
    }

    @Test
    void aClientThatDoesNotTrustTheServerOrHasNoCertificateIsRefused() throws Exception {
        Path other = dir.resolve("other-ca");
        LocalCa.ensure(other).issue("inference", List.of());
        StoreScu.Context ctx = new StoreScu.Context(SECONDARY_CAPTURE, TransferSyntaxes.EXPLICIT_VR_LE);
        // Trusts another CA only: the server's certificate does not verify.
        DicomTls wrongTrust = DicomTls.of(DicomTls.pemKeys(other.resolve("inference.pem"), other.resolve("inference-key.pem")),
                DicomTls.trust(other.resolve("ca.pem"), null), null, null);
        assertThrows(SSLException.class, () -> StoreScu.open("127.0.0.1", port, "PACS", "INFERENCE", List.of(ctx), Duration.ofSeconds(30), wrongTrust));
        // Trusts the server but has no certificate of its own: storescp requires one.
        DicomTls noCert = DicomTls.of(null, DicomTls.trust(secrets.resolve("ca.pem"), null), null, null);
        String sop = "2.25.4712" + System.nanoTime();
        assertThrows(IOException.class, () -> {
            try (StoreScu scu = StoreScu.open("127.0.0.1", port, "PACS", "INFERENCE", List.of(ctx), Duration.ofSeconds(30), noCert)) {
                scu.store(ctx, sop, dataset(sop), 0);
            }
        });
        assertEquals(0, countReceived(sop));
    }

    @Test
    void onlyTheProfilesProtocolsAreAccepted() {
        assertThrows(java.security.GeneralSecurityException.class, () -> DicomTls.of(null, null, List.of("TLSv1.1"), null));
    }

    private static long countReceived(String sop) throws IOException {
        try (Stream<Path> s = Files.list(received)) {
            return s.filter(p -> p.getFileName().toString().contains(sop)).count();
        }
    }

    /** A minimal Explicit VR Little Endian dataset: SOP Class UID and SOP Instance UID. */
    static byte[] dataset(String sop) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        element(out, 0x0008, 0x0016, SECONDARY_CAPTURE);
        element(out, 0x0008, 0x0018, sop);
        return out.toByteArray();
    }

    private static void element(ByteArrayOutputStream out, int group, int elem, String uid) throws IOException {
        byte[] v = uid.getBytes(StandardCharsets.US_ASCII);
        int len = v.length + (v.length & 1);
        out.write(new byte[] {(byte) group, (byte) (group >> 8), (byte) elem, (byte) (elem >> 8), 'U', 'I', (byte) len, (byte) (len >> 8)});
        out.write(v);
        if ((v.length & 1) == 1) out.write(0);
    }
}
