package org.imagingpipeline.events.signing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.imagingpipeline.events.ModelVersion;

/**
 * Signed records on {@code ml.model.versions} (issue 19 item 3). Retrain signs every record it publishes with its
 * Ed25519 key; inference (and retrain's own registry view) act only on records whose signature verifies against a
 * trusted public key.
 *
 * <p><b>What is signed</b> ({@link #signedBytes}): the UTF-8 bytes of a JSON array, written without whitespace, of
 * {@link #FORMAT}, the record's Kafka key, then the record's {@code schemaVersion}, {@code eventId}, {@code domainId},
 * {@code version}, {@code name}, {@code uri}, {@code sha256}, {@code status}, {@code method}, {@code parentSha256},
 * {@code seriesHash}, {@code seriesCount}, {@code serving.version}, {@code serving.uri}, {@code serving.sha256},
 * {@code at} (ISO-8601, {@link java.time.Instant#toString}), and the signature's {@code alg} and {@code keyId}. Every
 * element is a JSON string (numbers in decimal) or null when the field is absent. Not signed: {@code evidence} (the
 * gate's numbers, for people; nothing acts on them) and unknown fields a newer producer may add. The Kafka key is
 * signed so that a signed history record cannot be replayed under a routing key.
 *
 * <p><b>Key files</b> ({@link #ensure}): {@link #PRIVATE_KEY_FILE} (0600, created once, never replaced: the PKCS#8
 * PEM block, then the public key's X.509 PEM block, which the JDK cannot derive from an Ed25519 private key) and
 * {@link #PUBLIC_KEY_FILE} (X.509 PEM) under {@code PIPELINE_HOME/secrets/}. The key id is the first 16 hex
 * digits of the SHA-256 of the public key's X.509 DER encoding. {@code main(SECRETS_DIR)} creates the pair (what
 * {@code ./pipeline up} runs before it starts a service).
 */
public final class ModelSigning {
    /** The JDK's name of the signature algorithm; also the records' {@code signature.alg}. */
    public static final String ALGORITHM = "Ed25519";
    /** The first element of the signed array: names this format, so that a later one cannot be confused with it. */
    public static final String FORMAT = "imaging-pipeline/ml.model.versions/signature-v1";
    public static final String PRIVATE_KEY_FILE = "model-signing-key.pem";
    public static final String PUBLIC_KEY_FILE = "model-signing-public.pem";
    private static final ObjectMapper PLAIN = new ObjectMapper();

    private ModelSigning() {
    }

    /** Creates the key pair under {@code args[0]} (the secrets folder) unless it exists; prints what it did on stderr. */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: ModelSigning SECRETS_DIR");
            System.exit(2);
        }
        Ensured e = ensure(Path.of(args[0]));
        System.err.printf("model signing key: %s %s (public key %s, key id %s)%n", e.created() ? "created" : "kept", e.privateKey(),
                e.publicKey(), e.signer().keyId());
    }

    /** What {@link #ensure} found or made. */
    public record Ensured(Signer signer, boolean created, Path privateKey, Path publicKey) {
    }

    /**
     * The signer of {@code secrets}: creates {@link #PRIVATE_KEY_FILE} when missing (never replaces one; of two
     * processes creating it at once one wins), tightens it to 0600, and (re)writes {@link #PUBLIC_KEY_FILE} from it
     * when missing or different.
     */
    public static Ensured ensure(Path secrets) throws IOException {
        PemFiles.secretsFolder(secrets);
        Path keyFile = secrets.resolve(PRIVATE_KEY_FILE);
        boolean created = false;
        if (!Files.exists(keyFile)) created = PemFiles.createOnce(keyFile, privateFile(newPair()));
        if (!created) PemFiles.ownerOnly(keyFile);
        Signer signer = load(keyFile);
        Path pub = secrets.resolve(PUBLIC_KEY_FILE);
        PemFiles.writePublic(pub, signer.publicKeyPem());
        return new Ensured(signer, created, keyFile, pub);
    }

    /** The signer of an existing private key file: an Ed25519 PKCS#8 block and its public key's X.509 block. */
    public static Signer load(Path privateKeyFile) throws IOException {
        try {
            KeyFactory f = KeyFactory.getInstance(ALGORITHM);
            PrivateKey key = f.generatePrivate(new PKCS8EncodedKeySpec(PemFiles.readPem(privateKeyFile, "PRIVATE KEY")));
            PublicKey pub = f.generatePublic(new X509EncodedKeySpec(PemFiles.readPem(privateKeyFile, "PUBLIC KEY")));
            checkPair(key, pub);
            return new Signer(key, pub);
        } catch (GeneralSecurityException e) {
            throw new IOException(privateKeyFile + " is not an Ed25519 key pair (PKCS#8 and X.509 PEM blocks): " + e.getMessage(), e);
        }
    }

    /** A new key pair in memory only (tests: a forger's key). */
    public static Signer generate() {
        KeyPair p = newPair();
        return new Signer(p.getPrivate(), p.getPublic());
    }

    /** A public key file (X.509 PEM, Ed25519). */
    public static PublicKey readPublicKey(Path file) throws IOException {
        try {
            return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(PemFiles.readPem(file, "PUBLIC KEY")));
        } catch (GeneralSecurityException e) {
            throw new IOException(file + " is not an Ed25519 public key in X.509 PEM", e);
        }
    }

    /** The first 16 hex digits of the SHA-256 of the key's X.509 DER encoding. */
    public static String keyId(PublicKey key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getEncoded())).substring(0, 16);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The bytes the signature covers (class comment); {@code alg} and {@code keyId} are the signature's. */
    public static byte[] signedBytes(String kafkaKey, ModelVersion v, String alg, String keyId) {
        ModelVersion.Serving s = v.serving();
        List<String> fields = new ArrayList<>(Arrays.asList(FORMAT, kafkaKey, Integer.toString(v.schemaVersion()), v.eventId(),
                v.domainId(), v.version(), v.name(), v.uri(), v.sha256(), v.status() == null ? null : v.status().name(), v.method(),
                v.parentSha256(), v.seriesHash(), v.seriesCount() == null ? null : v.seriesCount().toString(),
                s == null ? null : s.version(), s == null ? null : s.uri(), s == null ? null : s.sha256(),
                v.at() == null ? null : v.at().toString(), alg, keyId));
        try {
            return PLAIN.writeValueAsBytes(fields);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Signs records with one private key. Thread-safe. */
    public static final class Signer {
        private final PrivateKey privateKey;
        private final PublicKey publicKey;
        private final String keyId;

        private Signer(PrivateKey privateKey, PublicKey publicKey) {
            this.privateKey = privateKey;
            this.publicKey = publicKey;
            this.keyId = ModelSigning.keyId(publicKey);
        }

        /** {@code v} with a signature over its signed fields and {@code kafkaKey} (any signature it had is replaced). */
        public ModelVersion sign(String kafkaKey, ModelVersion v) {
            try {
                Signature sig = Signature.getInstance(ALGORITHM);
                sig.initSign(privateKey);
                sig.update(signedBytes(kafkaKey, v, ALGORITHM, keyId));
                return v.withSignature(new ModelVersion.Signature(ALGORITHM, keyId, Base64.getEncoder().encodeToString(sig.sign())));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("cannot sign " + v.eventId(), e);
            }
        }

        public PublicKey publicKey() {
            return publicKey;
        }

        public String keyId() {
            return keyId;
        }

        public String publicKeyPem() {
            return PemFiles.pem("PUBLIC KEY", publicKey.getEncoded());
        }
    }

    /** What {@link Verifier#verify} found. */
    public enum Verdict {
        VALID, UNSIGNED, UNKNOWN_KEY, BAD_SIGNATURE;

        /** The refusal reason for logs and metrics ({@code inference_model_refused_total{reason}}); null for VALID. */
        public String reason() {
            return this == VALID ? null : name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Checks records against a set of trusted public keys (several during a key rotation). Thread-safe. */
    public static final class Verifier {
        private final Map<String, PublicKey> keys = new LinkedHashMap<>();

        public Verifier(Collection<PublicKey> trusted) {
            for (PublicKey k : trusted) keys.put(keyId(k), k);
        }

        /** The verifier of the public key files (X.509 PEM); fails when one is missing or unreadable. */
        public static Verifier of(Collection<Path> publicKeyFiles) throws IOException {
            List<PublicKey> ks = new ArrayList<>();
            for (Path p : publicKeyFiles) ks.add(readPublicKey(p));
            return new Verifier(ks);
        }

        /** The trusted key ids. */
        public Collection<String> keyIds() {
            return List.copyOf(keys.keySet());
        }

        /** Whether {@code v}, read under {@code kafkaKey}, carries a valid signature of a trusted key. */
        public Verdict verify(String kafkaKey, ModelVersion v) {
            ModelVersion.Signature s = v.signature();
            if (s == null || s.value() == null || s.keyId() == null) return Verdict.UNSIGNED;
            if (!ALGORITHM.equals(s.alg())) return Verdict.BAD_SIGNATURE;
            PublicKey key = keys.get(s.keyId());
            if (key == null) return Verdict.UNKNOWN_KEY;
            try {
                Signature sig = Signature.getInstance(ALGORITHM);
                sig.initVerify(key);
                sig.update(signedBytes(kafkaKey, v, s.alg(), s.keyId()));
                return sig.verify(Base64.getDecoder().decode(s.value())) ? Verdict.VALID : Verdict.BAD_SIGNATURE;
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                return Verdict.BAD_SIGNATURE;
            }
        }
    }

    private static KeyPair newPair() {
        try {
            return KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The private key file's content: its PKCS#8 block, then the public key's X.509 block (the JDK cannot derive it). */
    private static String privateFile(KeyPair p) {
        return PemFiles.pem("PRIVATE KEY", p.getPrivate().getEncoded()) + PemFiles.pem("PUBLIC KEY", p.getPublic().getEncoded());
    }

    /** Fails unless {@code pub} verifies what {@code key} signs (a private key file whose two blocks do not belong together). */
    private static void checkPair(PrivateKey key, PublicKey pub) throws GeneralSecurityException {
        byte[] probe = FORMAT.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        Signature s = Signature.getInstance(ALGORITHM);
        s.initSign(key);
        s.update(probe);
        byte[] sig = s.sign();
        Signature v = Signature.getInstance(ALGORITHM);
        v.initVerify(pub);
        v.update(probe);
        if (!v.verify(sig)) throw new GeneralSecurityException("the public key does not belong to the private key");
    }
}
