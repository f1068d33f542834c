package org.imagingpipeline.dicomnet;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * DICOM TLS (PS3.15 Annex B, the "Non-Downgrading BCP 195 TLS Secure Transport Connection Profile"): TLS 1.3 and 1.2
 * only, the profile's AEAD cipher suites with forward secrecy, and the JDK's own TLS (JSSE). Keys and certificates
 * come from PEM files (a PKCS#8 private key, a certificate chain) or a PKCS#12 key store; trust from a PEM bundle of CA
 * certificates or a PKCS#12/JKS trust store. Used by ingest's SCP (server side) and by {@link StoreScu} (the PACS
 * sender, the scanner simulator).
 */
public final class DicomTls {
    /** TLS versions the profile allows, preferred first. */
    public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
    /**
     * TLS 1.3 suites, then the profile's TLS 1.2 suites (ECDHE/DHE with RSA and AES-GCM) and their ECDSA variants (of the
     * same strength, for EC certificates). No CBC, no static RSA key exchange, no SHA-1 MAC.
     */
    public static final List<String> CIPHER_SUITES = List.of(
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384");

    /** Whether the server asks its clients for a certificate: none, asks (want), or refuses a client without a trusted one (need). */
    public enum ClientAuth {
        NONE, WANT, NEED;

        public static ClientAuth parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("client-auth must be none, want or need, got '" + s + "'");
            }
        }
    }

    private final SSLContext context;
    private final List<String> protocols;
    private final List<String> cipherSuites;

    private DicomTls(SSLContext context, List<String> protocols, List<String> cipherSuites) {
        this.context = context;
        this.protocols = List.copyOf(protocols);
        this.cipherSuites = List.copyOf(cipherSuites);
    }

    /**
     * A TLS endpoint: {@code keys} may be null (a client without a certificate), {@code trust} null means the JDK's
     * default trust store. Protocols and suites are the profile's unless given; every one must be known to the JDK.
     */
    public static DicomTls of(KeyManager[] keys, TrustManager[] trust, List<String> protocols, List<String> cipherSuites)
            throws GeneralSecurityException {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(keys, trust, null);
        List<String> p = protocols == null || protocols.isEmpty() ? PROTOCOLS : protocols;
        List<String> c = cipherSuites == null || cipherSuites.isEmpty() ? CIPHER_SUITES : cipherSuites;
        List<String> supportedP = List.of(ctx.getSupportedSSLParameters().getProtocols());
        List<String> supportedC = List.of(ctx.getSupportedSSLParameters().getCipherSuites());
        for (String x : p) {
            if (!PROTOCOLS.contains(x)) throw new GeneralSecurityException("protocol " + x + " is not allowed by the BCP 195 profile (" + PROTOCOLS + ")");
            if (!supportedP.contains(x)) throw new GeneralSecurityException("protocol " + x + " is not supported by this JDK");
        }
        List<String> usable = c.stream().filter(supportedC::contains).toList();
        if (usable.isEmpty()) throw new GeneralSecurityException("none of the cipher suites " + c + " is supported by this JDK");
        return new DicomTls(ctx, p, usable);
    }

    /** Key managers from a PEM certificate chain (the certificate first) and its PKCS#8 PEM private key (RSA or EC). */
    public static KeyManager[] pemKeys(Path certificateChain, Path privateKey) throws IOException, GeneralSecurityException {
        List<Certificate> chain = certificates(certificateChain);
        byte[] der = pemBlock(privateKey, "PRIVATE KEY");
        PrivateKey key = null;
        for (String alg : List.of("RSA", "EC")) {
            try {
                key = KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
                break;
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        if (key == null) throw new GeneralSecurityException(privateKey + ": not an RSA or EC private key (PKCS#8 PEM)");
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        char[] pw = "in-memory".toCharArray(); // the store never leaves this object
        ks.setKeyEntry("key", key, pw, chain.toArray(Certificate[]::new));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pw);
        return kmf.getKeyManagers();
    }

    /** Key managers from a PKCS#12 key store (one key entry). */
    public static KeyManager[] keyStore(Path file, char[] password) throws IOException, GeneralSecurityException {
        KeyStore ks = KeyStore.getInstance(file.toFile(), password);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, password);
        return kmf.getKeyManagers();
    }

    /**
     * Trust managers that accept peers whose chain ends in one of the CA certificates of {@code file}: a PEM bundle
     * ({@code .pem}, {@code .crt}, {@code .cer}) or a PKCS#12/JKS store (any other name; {@code password} may be null).
     */
    public static TrustManager[] trust(Path file, char[] password) throws IOException, GeneralSecurityException {
        KeyStore ks;
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (n.endsWith(".pem") || n.endsWith(".crt") || n.endsWith(".cer")) {
            ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            int i = 0;
            for (Certificate c : certificates(file)) ks.setCertificateEntry("ca-" + i++, c);
        } else {
            ks = KeyStore.getInstance(file.toFile(), password);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        return tmf.getTrustManagers();
    }

    /** A listening TLS socket with the profile's protocols and suites; handshakes happen on first I/O or {@link SSLSocket#startHandshake}. */
    public SSLServerSocket serverSocket(InetSocketAddress bind, int backlog, ClientAuth clientAuth) throws IOException {
        SSLServerSocket s = (SSLServerSocket) context.getServerSocketFactory().createServerSocket();
        try {
            s.setReuseAddress(true);
            SSLParameters p = context.getDefaultSSLParameters();
            p.setProtocols(protocols.toArray(String[]::new));
            p.setCipherSuites(cipherSuites.toArray(String[]::new));
            p.setUseCipherSuitesOrder(true);
            p.setNeedClientAuth(clientAuth == ClientAuth.NEED);
            if (clientAuth == ClientAuth.WANT) p.setWantClientAuth(true);
            s.setSSLParameters(p);
            s.bind(bind, backlog);
            return s;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /**
     * TLS over a connected socket, as a client: completes the handshake before returning. With {@code verifyHostname}
     * the server's certificate must name {@code host} (subject alternative names, as HTTPS checks them).
     */
    public SSLSocket client(Socket connected, String host, int port, boolean verifyHostname) throws IOException {
        SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(connected, host, port, true);
        SSLParameters p = context.getDefaultSSLParameters();
        p.setProtocols(protocols.toArray(String[]::new));
        p.setCipherSuites(cipherSuites.toArray(String[]::new));
        if (verifyHostname) p.setEndpointIdentificationAlgorithm("HTTPS");
        s.setSSLParameters(p);
        s.startHandshake();
        return s;
    }

    public List<String> protocols() {
        return protocols;
    }

    public List<String> cipherSuites() {
        return cipherSuites;
    }

    private static List<Certificate> certificates(Path file) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(file)) {
            Collection<? extends Certificate> all = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (all.isEmpty()) throw new GeneralSecurityException(file + " holds no certificate");
            return new ArrayList<>(all);
        }
    }

    private static byte[] pemBlock(Path file, String type) throws IOException, GeneralSecurityException {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        String begin = "-----BEGIN " + type + "-----";
        int b = text.indexOf(begin);
        int e = text.indexOf("-----END " + type + "-----");
        if (b < 0 || e < b) throw new GeneralSecurityException(file + " holds no PEM block " + type + " (PKCS#8; convert with openssl pkcs8 -topk8 -nocrypt)");
        return Base64.getMimeDecoder().decode(text.substring(b + begin.length(), e));
    }
}
