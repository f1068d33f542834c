package org.imagingpipeline.testsupport.auth;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import org.imagingpipeline.events.signing.PemFiles;
import org.jose4j.jwk.RsaJsonWebKey;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.NumericDate;
import org.jose4j.lang.JoseException;

/**
 * The local stack's token issuer: one RSA key pair under {@code PIPELINE_HOME/secrets/} ({@link #PRIVATE_KEY_FILE},
 * PKCS#8 PEM, mode 0600; {@link #PUBLIC_KEY_FILE}, the services' {@code mp.jwt.verify.publickey.location}) and RS256
 * bearer tokens signed with it: {@code iss} {@link #ISSUER}, {@code aud} {@link #AUDIENCE}, {@code sub} and
 * {@code upn} the subject, {@code groups} the roles (smallrye-jwt's default roles claim), {@code iat}, {@code exp},
 * {@code jti}. {@link #ensure} creates the key once and never replaces it. docs/security.md.
 */
public final class LocalIssuer {
    /** The services' {@code mp.jwt.verify.issuer} for the local stack. */
    public static final String ISSUER = "urn:imaging-pipeline:local-issuer";
    /** The services' {@code mp.jwt.verify.audiences}. */
    public static final String AUDIENCE = "imaging-pipeline";
    /** The roles of the contract (ARCHITECTURE.md, "Security contracts"). */
    public static final List<String> ROLES = List.of("viewer", "mlops", "scanner", "admin");
    public static final String PRIVATE_KEY_FILE = "token-issuer-key.pem";
    public static final String PUBLIC_KEY_FILE = "token-issuer-public.pem";
    private static final int KEY_BITS = 2048;

    private final RSAPrivateCrtKey privateKey;
    private final RSAPublicKey publicKey;
    private final String keyId;
    private final String issuer;

    private LocalIssuer(RSAPrivateCrtKey privateKey, String issuer) {
        this.privateKey = privateKey;
        this.issuer = issuer;
        try {
            this.publicKey = (RSAPublicKey) KeyFactory.getInstance("RSA")
                    .generatePublic(new RSAPublicKeySpec(privateKey.getModulus(), privateKey.getPublicExponent()));
            this.keyId = new RsaJsonWebKey(publicKey).calculateBase64urlEncodedThumbprint("SHA-256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot derive the public key", e);
        }
    }

    /** A new key pair in memory only (tests: a second, foreign issuer). */
    public static LocalIssuer generate() {
        return new LocalIssuer(newKey(), ISSUER);
    }

    /**
     * The issuer of {@code secrets}: creates its key pair when {@link #PRIVATE_KEY_FILE} is missing (never replaces
     * one; of two processes creating it at once, one wins and both use its key), tightens the private key to 0600
     * when it is readable by others, and (re)writes {@link #PUBLIC_KEY_FILE} from the private key when it is missing
     * or does not match.
     */
    public static Ensured ensure(Path secrets) throws IOException {
        PemFiles.secretsFolder(secrets);
        Path keyFile = secrets.resolve(PRIVATE_KEY_FILE);
        boolean created = false;
        if (!Files.exists(keyFile)) created = PemFiles.createOnce(keyFile, PemFiles.pem("PRIVATE KEY", newKey().getEncoded()));
        if (!created) PemFiles.ownerOnly(keyFile);
        LocalIssuer issuer = load(secrets);
        Path pub = secrets.resolve(PUBLIC_KEY_FILE);
        PemFiles.writePublic(pub, issuer.publicKeyPem());
        return new Ensured(issuer, created, keyFile, pub);
    }

    /** What {@link #ensure} found or made. */
    public record Ensured(LocalIssuer issuer, boolean created, Path privateKey, Path publicKey) {
    }

    /** The issuer of an existing {@code secrets/}{@link #PRIVATE_KEY_FILE}. */
    public static LocalIssuer load(Path secrets) throws IOException {
        Path keyFile = secrets.resolve(PRIVATE_KEY_FILE);
        byte[] der = PemFiles.readPem(keyFile, "PRIVATE KEY");
        try {
            return new LocalIssuer((RSAPrivateCrtKey) KeyFactory.getInstance("RSA")
                    .generatePrivate(new PKCS8EncodedKeySpec(der)), ISSUER);
        } catch (GeneralSecurityException | ClassCastException e) {
            throw new IOException(keyFile + " is not an RSA private key in PKCS#8 PEM", e);
        }
    }

    /** The same key under another {@code iss} (tests: a token from the wrong issuer). */
    public LocalIssuer withIssuer(String otherIssuer) {
        return new LocalIssuer(privateKey, otherIssuer);
    }

    /** The public key as PEM ({@code -----BEGIN PUBLIC KEY-----}, X.509 SubjectPublicKeyInfo). */
    public String publicKeyPem() {
        return PemFiles.pem("PUBLIC KEY", publicKey.getEncoded());
    }

    /** The key id ({@code kid}) the tokens carry: the RFC 7638 SHA-256 thumbprint of the public key. */
    public String keyId() {
        return keyId;
    }

    /** A token for {@code roles}, valid from now for {@code lifetime}. */
    public String token(String subject, Collection<String> roles, Duration lifetime) {
        return token(subject, roles, Instant.now(), lifetime);
    }

    /** A token for {@code roles} issued at {@code issuedAt}, expiring {@code lifetime} later (tests: expired ones). */
    public String token(String subject, Collection<String> roles, Instant issuedAt, Duration lifetime) {
        JwtClaims claims = new JwtClaims();
        claims.setIssuer(issuer);
        claims.setAudience(AUDIENCE);
        claims.setSubject(subject);
        claims.setClaim("upn", subject);
        claims.setStringListClaim("groups", List.copyOf(roles));
        claims.setIssuedAt(NumericDate.fromSeconds(issuedAt.getEpochSecond()));
        claims.setExpirationTime(NumericDate.fromSeconds(issuedAt.plus(lifetime).getEpochSecond()));
        claims.setGeneratedJwtId();
        JsonWebSignature jws = new JsonWebSignature();
        jws.setPayload(claims.toJson());
        jws.setKey(privateKey);
        jws.setKeyIdHeaderValue(keyId);
        jws.setHeader("typ", "JWT");
        jws.setAlgorithmHeaderValue(AlgorithmIdentifiers.RSA_USING_SHA256);
        try {
            return jws.getCompactSerialization();
        } catch (JoseException e) {
            throw new IllegalStateException("cannot sign the token", e);
        }
    }

    private static RSAPrivateCrtKey newKey() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(KEY_BITS);
            return (RSAPrivateCrtKey) g.generateKeyPair().getPrivate();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
