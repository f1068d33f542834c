package org.imagingpipeline.localca;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local CA: files and modes, chains that OpenSSL verifies, names, kept versus reissued certificates. */
class LocalCaTest {
    @TempDir
    Path dir;

    @Test
    void createsTheCaOnceAndIssuesCertificatesThatOpensslVerifies() throws Exception {
        Path secrets = dir.resolve("secrets");
        LocalCa ca = LocalCa.ensure(secrets);
        LocalCa.Issued ingest = ca.issue("ingest", List.of("dicom.hospital.example", "10.1.2.3"));
        assertTrue(ingest.created());

        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(secrets)));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(secrets.resolve("ca-key.pem"))));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(secrets.resolve("ingest-key.pem"))));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(secrets.resolve("ca.pem"))));

        List<X509Certificate> chain = LocalCa.readCertificates(ingest.certificate());
        assertEquals(2, chain.size(), "leaf then CA");
        X509Certificate leaf = chain.get(0);
        leaf.verify(ca.certificate().getPublicKey());
        assertEquals(ca.certificate(), chain.get(1));
        assertEquals(-1, leaf.getBasicConstraints(), "not a CA");
        assertEquals(0, ca.certificate().getBasicConstraints(), "a CA that signs end-entity certificates only");
        assertTrue(leaf.getExtendedKeyUsage().containsAll(List.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2")), "serverAuth and clientAuth");
        Set<String> names = new HashSet<>();
        for (List<?> san : leaf.getSubjectAlternativeNames()) names.add(String.valueOf(san.get(1)));
        assertTrue(names.containsAll(Set.of("localhost", "127.0.0.1", "ingest", "dicom.hospital.example", "10.1.2.3")), names.toString());

        String verify = run("openssl", "verify", "-purpose", "sslserver", "-CAfile", secrets.resolve("ca.pem").toString(),
                ingest.certificate().toString());
        assertTrue(verify.contains(": OK"), verify);
        String key = run("openssl", "pkey", "-in", ingest.privateKey().toString(), "-pubout");
        String certKey = run("openssl", "x509", "-in", ingest.certificate().toString(), "-noout", "-pubkey");
        assertEquals(certKey.strip(), key.strip(), "the key file belongs to the certificate");
    }

    @Test
    void keepsWhatIsGoodAndReissuesWhatIsNot() throws Exception {
        Path secrets = dir.resolve("s");
        LocalCa ca = LocalCa.ensure(secrets);
        String caPem = Files.readString(secrets.resolve("ca.pem"));
        String caKey = Files.readString(secrets.resolve("ca-key.pem"));
        ca.issue("ingest", List.of());
        String cert = Files.readString(secrets.resolve("ingest.pem"));

        LocalCa again = LocalCa.ensure(secrets);
        assertEquals(caPem, Files.readString(secrets.resolve("ca.pem")), "the CA is created once");
        assertEquals(caKey, Files.readString(secrets.resolve("ca-key.pem")));
        assertFalse(again.issue("ingest", List.of()).created(), "a good certificate is kept");
        assertEquals(cert, Files.readString(secrets.resolve("ingest.pem")));

        assertTrue(again.issue("ingest", List.of("pacs-gw.example")).created(), "a new name asked for: reissued");
        assertNotEquals(cert, Files.readString(secrets.resolve("ingest.pem")));

        // A certificate of another CA under the name (e.g. the CA was replaced): reissued by this one.
        Path other = dir.resolve("other");
        LocalCa.ensure(other).issue("ingest", List.of());
        Files.copy(other.resolve("ingest.pem"), secrets.resolve("ingest.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(other.resolve("ingest-key.pem"), secrets.resolve("ingest-key.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertTrue(again.issue("ingest", List.of()).created());
        LocalCa.readCertificates(secrets.resolve("ingest.pem")).get(0).verify(again.certificate().getPublicKey());

        // ca.pem lost: rewritten from the kept key, so certificates issued before still chain to it.
        Files.delete(secrets.resolve("ca.pem"));
        LocalCa restored = LocalCa.ensure(secrets);
        LocalCa.readCertificates(secrets.resolve("ingest.pem")).get(0).verify(restored.certificate().getPublicKey());
    }

    @Test
    void theCommandIssuesEveryNamedCertificate() throws Exception {
        Path secrets = dir.resolve("cmd");
        int rc = new picocli.CommandLine(new LocalCaCommand()).execute("init", "--secrets", secrets.toString(), "--issue", "ingest=a.example",
                "--issue", "scanner");
        assertEquals(0, rc);
        assertTrue(Files.isRegularFile(secrets.resolve("ingest.pem")) && Files.isRegularFile(secrets.resolve("scanner-key.pem")));
        assertNotEquals(0, new picocli.CommandLine(new LocalCaCommand()).execute("init", "--secrets", secrets.toString(), "--issue", "Bad/Name"));
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
        return out;
    }
}
