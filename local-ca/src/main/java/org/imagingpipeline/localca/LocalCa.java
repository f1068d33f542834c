package org.imagingpipeline.localca;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.imagingpipeline.events.signing.PemFiles;

/**
 * The local stack's certificate authority under {@code PIPELINE_HOME/secrets/} and the TLS certificates it issues
 * (issue 19: DICOM TLS on ingest's SCP; the broker's SASL_SSL listener is to use the same CA). Certificates are built
 * with BouncyCastle's {@code bcpkix}; keys are RSA 2048 (what every DICOM TLS peer, BCP 195 included, accepts).
 *
 * <p><b>Files</b> (docs/security.md, "DICOM TLS"): {@link #CA_KEY_FILE} (0600, created once, never replaced),
 * {@link #CA_FILE} (0644, self-signed, 10 years; rewritten from the key when missing or not matching it), and per
 * issued name {@code NAME-key.pem} (0600, PKCS#8) and {@code NAME.pem} (0644: the certificate, then the CA's).
 * Each issued certificate has the subject {@code CN=NAME}, the extended key usages serverAuth and clientAuth, and the
 * subject alternative names {@code localhost}, {@code 127.0.0.1}, {@code ::1}, NAME and the extra names asked for
 * (IP literals as IP addresses). It is valid {@link #VALIDITY} and reissued (with a new key) when it is missing, not
 * signed by this CA, lacks an asked-for name or expires within {@link #RENEW_BEFORE}; otherwise it is kept.
 * All of it happens under a file lock, so two {@code ./pipeline up}s at once end with one CA.
 */
public final class LocalCa {
    public static final String CA_FILE = "ca.pem";
    public static final String CA_KEY_FILE = "ca-key.pem";
    static final Duration CA_VALIDITY = Duration.ofDays(3650);
    static final Duration VALIDITY = Duration.ofDays(397);
    static final Duration RENEW_BEFORE = Duration.ofDays(30);
    static final List<String> ALWAYS = List.of("localhost", "127.0.0.1", "::1");
    private static final String SIGNATURE = "SHA256withRSA";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path secrets;
    private final PrivateKey caKey;
    private final X509Certificate caCert;

    /** One issued certificate: its files, and whether this call (re)issued it. */
    public record Issued(String name, Path certificate, Path privateKey, boolean created) {
    }

    private LocalCa(Path secrets, PrivateKey caKey, X509Certificate caCert) {
        this.secrets = secrets;
        this.caKey = caKey;
        this.caCert = caCert;
    }

    /** The CA of {@code secrets}, created when missing. */
    public static LocalCa ensure(Path secrets) throws IOException {
        PemFiles.secretsFolder(secrets);
        return locked(secrets, () -> {
            Path keyFile = secrets.resolve(CA_KEY_FILE);
            if (!Files.exists(keyFile)) PemFiles.createOnce(keyFile, PemFiles.pem("PRIVATE KEY", newKeyPair().getPrivate().getEncoded()));
            PemFiles.ownerOnly(keyFile);
            PrivateKey key = readPrivateKey(keyFile);
            PublicKey pub = publicOf(key);
            Path certFile = secrets.resolve(CA_FILE);
            X509Certificate cert = Files.exists(certFile) ? readCertificates(certFile).get(0) : null;
            if (cert == null || !cert.getPublicKey().equals(pub) || expiresWithin(cert, RENEW_BEFORE)) {
                cert = selfSigned(new KeyPair(pub, key));
                PemFiles.writePublic(certFile, PemFiles.pem("CERTIFICATE", der(cert)));
            }
            return new LocalCa(secrets, key, cert);
        });
    }

    public Path caFile() {
        return secrets.resolve(CA_FILE);
    }

    public X509Certificate certificate() {
        return caCert;
    }

    /** The certificate file of {@code name} under the secrets folder. */
    public static Path certificateFile(Path secrets, String name) {
        return secrets.resolve(checkedName(name) + ".pem");
    }

    /** The private key file of {@code name} under the secrets folder. */
    public static Path keyFile(Path secrets, String name) {
        return secrets.resolve(checkedName(name) + "-key.pem");
    }

    /** {@code NAME.pem} and {@code NAME-key.pem}: kept when still good (see the class comment), else (re)issued. */
    public Issued issue(String name, Collection<String> extraNames) throws IOException {
        Path certFile = certificateFile(secrets, name);
        Path keyFile = keyFile(secrets, name);
        Set<String> names = new LinkedHashSet<>(ALWAYS);
        names.add(name);
        extraNames.stream().map(String::trim).filter(s -> !s.isEmpty()).forEach(names::add);
        return locked(secrets, () -> {
            if (Files.exists(certFile) && Files.exists(keyFile) && stillGood(certFile, keyFile, names)) {
                PemFiles.ownerOnly(keyFile);
                return new Issued(name, certFile, keyFile, false);
            }
            KeyPair pair = newKeyPair();
            X509Certificate cert = sign(name, pair.getPublic(), names);
            PemFiles.writeOwnerOnly(keyFile, PemFiles.pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
            PemFiles.writePublic(certFile, PemFiles.pem("CERTIFICATE", der(cert)) + PemFiles.pem("CERTIFICATE", der(caCert)));
            return new Issued(name, certFile, keyFile, true);
        });
    }

    private boolean stillGood(Path certFile, Path keyFile, Set<String> names) {
        try {
            X509Certificate cert = readCertificates(certFile).get(0);
            cert.verify(caCert.getPublicKey());
            if (expiresWithin(cert, RENEW_BEFORE)) return false;
            if (!cert.getPublicKey().equals(publicOf(readPrivateKey(keyFile)))) return false;
            Set<String> present = new LinkedHashSet<>();
            if (cert.getSubjectAlternativeNames() != null) {
                for (List<?> san : cert.getSubjectAlternativeNames()) present.add(normalise(String.valueOf(san.get(1))));
            }
            return names.stream().map(LocalCa::normalise).allMatch(present::contains);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    private X509Certificate sign(String name, PublicKey key, Set<String> names) throws IOException {
        try {
            Instant now = Instant.now();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(caCert, serial(), Date.from(now.minus(Duration.ofMinutes(5))),
                    Date.from(now.plus(VALIDITY)), subject(name), key);
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
            b.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            List<GeneralName> san = new ArrayList<>();
            for (String n : names) san.add(isIpLiteral(n) ? new GeneralName(GeneralName.iPAddress, n) : new GeneralName(GeneralName.dNSName, n));
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(san.toArray(GeneralName[]::new)));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(key));
            b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(caCert));
            return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(SIGNATURE).build(caKey)));
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot issue the certificate of " + name, e);
        }
    }

    private static X509Certificate selfSigned(KeyPair pair) throws IOException {
        try {
            Instant now = Instant.now();
            X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "imaging-pipeline")
                    .addRDN(BCStyle.CN, "imaging-pipeline local CA").build();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(), Date.from(now.minus(Duration.ofMinutes(5))),
                    Date.from(now.plus(CA_VALIDITY)), subject, pair.getPublic());
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
            return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(SIGNATURE).build(pair.getPrivate())));
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot create the local CA's certificate", e);
        }
    }

    private static X500Name subject(String name) {
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "imaging-pipeline").addRDN(BCStyle.CN, name).build();
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM).setBit(126); // positive, 16 bytes, never 0
    }

    private static KeyPair newKeyPair() throws IOException {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(2048, RANDOM);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

    /** The RSA private key of a PKCS#8 PEM file. */
    static PrivateKey readPrivateKey(Path file) throws IOException {
        try {
            return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(PemFiles.readPem(file, "PRIVATE KEY")));
        } catch (GeneralSecurityException e) {
            throw new IOException(file + " does not hold an RSA private key (PKCS#8 PEM)", e);
        }
    }

    private static PublicKey publicOf(PrivateKey key) throws IOException {
        try {
            RSAPrivateCrtKey k = (RSAPrivateCrtKey) key;
            return KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(k.getModulus(), k.getPublicExponent()));
        } catch (GeneralSecurityException | ClassCastException e) {
            throw new IOException("not an RSA CRT private key", e);
        }
    }

    /** Every certificate of a PEM file, in order. */
    public static List<X509Certificate> readCertificates(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            List<X509Certificate> out = new ArrayList<>();
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) out.add((X509Certificate) c);
            if (out.isEmpty()) throw new IOException(file + " holds no certificate");
            return out;
        } catch (GeneralSecurityException e) {
            throw new IOException(file + ": not a PEM certificate file", e);
        }
    }

    private static byte[] der(X509Certificate c) throws IOException {
        try {
            return c.getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

    private static boolean expiresWithin(X509Certificate c, Duration d) {
        return c.getNotAfter().toInstant().isBefore(Instant.now().plus(d));
    }

    static boolean isIpLiteral(String s) {
        return s.matches("[0-9.]+") || s.contains(":");
    }

    private static String normalise(String n) {
        if (isIpLiteral(n)) {
            try {
                return InetAddress.getByName(n).getHostAddress();
            } catch (IOException e) {
                return n;
            }
        }
        return n.toLowerCase(Locale.ROOT);
    }

    private static String checkedName(String name) {
        if (!name.matches("[a-z][a-z0-9-]{0,62}")) throw new IllegalArgumentException("certificate name must be [a-z][a-z0-9-]*, got '" + name + "'");
        return name;
    }

    private interface Action<T> {
        T run() throws IOException;
    }

    /** A file lock between processes; synchronized, as one JVM cannot hold two locks on one file. */
    private static synchronized <T> T locked(Path secrets, Action<T> action) throws IOException {
        try (FileChannel ch = FileChannel.open(secrets.resolve(".local-ca.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = ch.lock()) {
            return action.run();
        }
    }
}
