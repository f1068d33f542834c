package org.imagingpipeline.fhirbridge.smart;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import org.imagingpipeline.events.signing.PemFiles;
import org.jose4j.jwk.JsonWebKey;
import org.jose4j.jwk.JsonWebKeySet;
import org.jose4j.jwk.PublicJsonWebKey;
import org.jose4j.jwk.RsaJsonWebKey;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.lang.JoseException;

/**
 * The bridge's SMART Backend Services key pair (client authentication {@code private_key_jwt}): an RSA 2048 private
 * key, PKCS#8 PEM, mode 0600, under {@code PIPELINE_HOME/secrets/} ({@link #PRIVATE_KEY_FILE}), and the public JWK Set
 * beside it ({@link #JWKS_FILE}, what the EHR registers for the client). The assertions are signed RS384; the key id is
 * the RFC 7638 SHA-256 thumbprint of the public key. {@link #ensure} creates the pair once and never replaces it.
 * {@code java -cp ... org.imagingpipeline.fhirbridge.smart.SmartKeys DIR} does that for {@code ./pipeline up}.
 */
public final class SmartKeys {
    public static final String PRIVATE_KEY_FILE = "fhir-bridge-smart-key.pem";
    public static final String JWKS_FILE = "fhir-bridge-smart-jwks.json";
    /** The JWS algorithm of the client assertions (SMART requires RS384 or ES384). */
    public static final String ALGORITHM = AlgorithmIdentifiers.RSA_USING_SHA384;

    private final PrivateKey privateKey;
    private final RsaJsonWebKey publicJwk;

    private SmartKeys(RSAPrivateCrtKey privateKey) {
        this.privateKey = privateKey;
        try {
            PublicKey pub = KeyFactory.getInstance("RSA")
                    .generatePublic(new RSAPublicKeySpec(privateKey.getModulus(), privateKey.getPublicExponent()));
            RsaJsonWebKey jwk = (RsaJsonWebKey) PublicJsonWebKey.Factory.newPublicJwk(pub);
            jwk.setKeyId(jwk.calculateBase64urlEncodedThumbprint("SHA-256"));
            jwk.setAlgorithm(ALGORITHM);
            jwk.setUse("sig");
            this.publicJwk = jwk;
        } catch (GeneralSecurityException | JoseException e) {
            throw new IllegalStateException("cannot derive the public key", e);
        }
    }

    /** A new key pair in memory only (tests: an unregistered client key). */
    public static SmartKeys generate() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(2048);
            return new SmartKeys((RSAPrivateCrtKey) g.generateKeyPair().getPrivate());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The key pair of a PKCS#8 PEM file holding an RSA private key. */
    public static SmartKeys load(Path privateKeyFile) throws IOException {
        byte[] der = PemFiles.readPem(privateKeyFile, "PRIVATE KEY");
        try {
            return new SmartKeys((RSAPrivateCrtKey) KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der)));
        } catch (GeneralSecurityException | ClassCastException e) {
            throw new IOException(privateKeyFile + " is not an RSA private key in PKCS#8 PEM", e);
        }
    }

    /**
     * The pair of {@code secrets}: creates {@link #PRIVATE_KEY_FILE} when missing (never replaces it; 0600), and
     * (re)writes {@link #JWKS_FILE} from it when missing or different.
     */
    public static Ensured ensure(Path secrets) throws IOException {
        PemFiles.secretsFolder(secrets);
        Path keyFile = secrets.resolve(PRIVATE_KEY_FILE);
        boolean created = false;
        if (!Files.exists(keyFile)) created = PemFiles.createOnce(keyFile, generate().privateKeyPem());
        if (!created) PemFiles.ownerOnly(keyFile);
        SmartKeys keys = load(keyFile);
        Path jwks = secrets.resolve(JWKS_FILE);
        PemFiles.writePublic(jwks, keys.jwks() + "\n");
        return new Ensured(keys, created, keyFile, jwks);
    }

    /** What {@link #ensure} found or made. */
    public record Ensured(SmartKeys keys, boolean created, Path privateKey, Path jwks) {
    }

    public PrivateKey privateKey() {
        return privateKey;
    }

    public String keyId() {
        return publicJwk.getKeyId();
    }

    /** The public JWK Set ({@code {"keys":[{kty, kid, use, alg, n, e}]}}) to register with the EHR. */
    public String jwks() {
        return new JsonWebKeySet(publicJwk).toJson(JsonWebKey.OutputControlLevel.PUBLIC_ONLY);
    }

    String privateKeyPem() {
        return PemFiles.pem("PRIVATE KEY", privateKey.getEncoded());
    }

    /** Creates the pair under the folder given as the only argument and prints the JWK Set's path. */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: SmartKeys SECRETS_DIR");
            System.exit(2);
        }
        Ensured e = ensure(Path.of(args[0]));
        System.err.println((e.created() ? "created" : "kept") + " the fhir-bridge SMART key " + e.privateKey()
                + " (kid " + e.keys().keyId() + "); public JWK Set " + e.jwks());
        System.out.println(e.jwks());
    }
}
