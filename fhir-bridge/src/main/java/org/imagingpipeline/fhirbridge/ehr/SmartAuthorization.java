package org.imagingpipeline.fhirbridge.ehr;

import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.imagingpipeline.events.EventJson;
import org.jose4j.jwa.AlgorithmConstraints;
import org.jose4j.jwk.JsonWebKeySet;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.MalformedClaimException;
import org.jose4j.jwt.consumer.InvalidJwtException;
import org.jose4j.jwt.consumer.JwtConsumer;
import org.jose4j.jwt.consumer.JwtConsumerBuilder;
import org.jose4j.keys.resolvers.JwksVerificationKeyResolver;
import org.jose4j.lang.JoseException;

/**
 * The EHR stand-in's SMART Backend Services authorization server: a token endpoint for the client-credentials grant
 * with {@code private_key_jwt} client authentication, and the short-lived opaque access tokens it issued, which the
 * FHIR endpoints then require. A client assertion is accepted only when its client is registered (a public JWK Set),
 * it is signed RS384 or ES384 by a key of that set, {@code iss} = {@code sub} = the client id, {@code aud} = the token
 * URL, it has not expired, its {@code exp} is at most 5 minutes ahead, and its {@code jti} was not used before (ids
 * are remembered until their assertion expires). Errors follow RFC 6749 section 5.2 ({@code invalid_client} 401,
 * {@code invalid_request}/{@code unsupported_grant_type}/{@code invalid_scope} 400).
 */
public final class SmartAuthorization {
    /** The paths the stand-in serves them at. */
    public static final String TOKEN_PATH = "/auth/token";
    public static final String CONFIGURATION_PATH = "/fhir/.well-known/smart-configuration";
    private static final String ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    private static final AlgorithmConstraints ALGORITHMS = new AlgorithmConstraints(
            AlgorithmConstraints.ConstraintType.PERMIT, AlgorithmIdentifiers.RSA_USING_SHA384,
            AlgorithmIdentifiers.ECDSA_USING_P384_CURVE_AND_SHA384);
    private static final JwtConsumer UNVERIFIED = new JwtConsumerBuilder().setSkipAllValidators()
            .setDisableRequireSignature().setSkipSignatureVerification().build();

    private final String tokenUrl;
    private final Duration tokenLifetime;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, JsonWebKeySet> clients = new ConcurrentHashMap<>();
    private final Map<String, Instant> usedJti = new ConcurrentHashMap<>();
    private final Map<String, Issued> tokens = new ConcurrentHashMap<>();
    private final AtomicInteger issued = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();

    private record Issued(String clientId, String scope, Instant expires) {
    }

    /**
     * @param tokenUrl      the token endpoint's URL as clients address it: the required {@code aud}
     * @param tokenLifetime how long an access token is accepted
     */
    public SmartAuthorization(String tokenUrl, Duration tokenLifetime, Clock clock) {
        this.tokenUrl = tokenUrl;
        this.tokenLifetime = tokenLifetime;
        this.clock = clock;
    }

    /** Registers (or replaces) a client with its public JWK Set (JSON). */
    public SmartAuthorization register(String clientId, String jwksJson) {
        try {
            clients.put(clientId, new JsonWebKeySet(jwksJson));
        } catch (JoseException e) {
            throw new IllegalArgumentException("not a JWK Set for client " + clientId + ": " + e.getMessage(), e);
        }
        return this;
    }

    public String tokenUrl() {
        return tokenUrl;
    }

    /** Whether {@code token} is an access token this server issued that has not expired or been revoked. */
    public boolean accepts(String token) {
        Issued i = tokens.get(token);
        if (i == null) return false;
        if (!clock.instant().isBefore(i.expires())) {
            tokens.remove(token);
            return false;
        }
        return true;
    }

    /** Forgets every issued access token (the next FHIR request with one gets a 401; tests: revocation). */
    public void revokeAll() {
        tokens.clear();
    }

    /** Access tokens issued so far. */
    public int issued() {
        return issued.get();
    }

    /** Token requests refused so far. */
    public int refused() {
        return refused.get();
    }

    /** The outcome of one token request: HTTP status and JSON body. */
    public record Answer(int status, String body) {
    }

    /** Handles a token request's form parameters. */
    public Answer token(String grantType, String assertionType, String assertion, String scope) {
        Instant now = clock.instant();
        purge(now);
        if (!"client_credentials".equals(grantType)) return error(400, "unsupported_grant_type", "only client_credentials");
        if (!ASSERTION_TYPE.equals(assertionType) || assertion == null || assertion.isBlank()) {
            return error(400, "invalid_request", "client_assertion_type jwt-bearer and client_assertion are required");
        }
        String clientId;
        try {
            clientId = UNVERIFIED.processToClaims(assertion).getIssuer();
        } catch (InvalidJwtException | MalformedClaimException e) {
            return error(401, "invalid_client", "the client assertion is not a JWT");
        }
        JsonWebKeySet keys = clientId == null ? null : clients.get(clientId);
        if (keys == null) return error(401, "invalid_client", "unknown client");
        JwtClaims claims;
        try {
            claims = new JwtConsumerBuilder()
                    .setRequireExpirationTime().setMaxFutureValidityInMinutes(5).setAllowedClockSkewInSeconds(30)
                    .setRequireJwtId().setExpectedIssuer(clientId).setExpectedSubject(clientId)
                    .setExpectedAudience(tokenUrl).setJwsAlgorithmConstraints(ALGORITHMS)
                    .setVerificationKeyResolver(new JwksVerificationKeyResolver(keys.getJsonWebKeys()))
                    .build().processToClaims(assertion);
        } catch (InvalidJwtException e) {
            // jose4j's message quotes the claims; the answer names the kind of failure only
            return error(401, "invalid_client", "client assertion rejected: " + kind(e));
        }
        String jti;
        Instant exp;
        try {
            jti = claims.getJwtId();
            exp = Instant.ofEpochSecond(claims.getExpirationTime().getValue());
        } catch (MalformedClaimException e) {
            return error(401, "invalid_client", "client assertion rejected: malformed jti or exp");
        }
        if (usedJti.putIfAbsent(clientId + " " + jti, exp.plusSeconds(30)) != null) {
            return error(401, "invalid_client", "client assertion rejected: jti already used");
        }
        List<String> granted = new ArrayList<>();
        for (String s : (scope == null ? "" : scope).trim().split("\\s+")) {
            if (s.isEmpty()) continue;
            if (!s.startsWith("system/")) return error(400, "invalid_scope", "only system/ scopes are granted");
            granted.add(s);
        }
        if (granted.isEmpty()) return error(400, "invalid_scope", "no scope requested");
        byte[] b = new byte[32];
        random.nextBytes(b);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(b);
        String grantedScope = String.join(" ", granted);
        tokens.put(token, new Issued(clientId, grantedScope, now.plus(tokenLifetime)));
        issued.incrementAndGet();
        ObjectNode n = EventJson.mapper().createObjectNode();
        n.put("access_token", token);
        n.put("token_type", "bearer");
        n.put("expires_in", Math.max(1, tokenLifetime.toSeconds()));
        n.put("scope", grantedScope);
        return new Answer(200, n.toString());
    }

    /** The SMART configuration document ({@code .well-known/smart-configuration}). */
    public String configuration() {
        ObjectNode n = EventJson.mapper().createObjectNode();
        n.put("token_endpoint", tokenUrl);
        n.putArray("grant_types_supported").add("client_credentials");
        n.putArray("token_endpoint_auth_methods_supported").add("private_key_jwt");
        n.putArray("token_endpoint_auth_signing_alg_values_supported").add("RS384").add("ES384");
        n.putArray("scopes_supported").add("system/*.cruds").add("system/*.read").add("system/*.write");
        n.putArray("capabilities").add("client-confidential-asymmetric");
        return n.toString();
    }

    private void purge(Instant now) {
        usedJti.values().removeIf(e -> e.isBefore(now));
        tokens.values().removeIf(i -> !now.isBefore(i.expires()));
    }

    private Answer error(int status, String error, String description) {
        refused.incrementAndGet();
        ObjectNode n = EventJson.mapper().createObjectNode();
        n.put("error", error);
        n.put("error_description", description);
        return new Answer(status, n.toString());
    }

    private static String kind(InvalidJwtException e) {
        if (e.hasExpired()) return "expired";
        if (e.hasErrorCode(org.jose4j.jwt.consumer.ErrorCodes.SIGNATURE_INVALID)) return "bad signature";
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
            if (c instanceof org.jose4j.lang.UnresolvableKeyException) return "no registered key matches";
        }
        if (e.hasErrorCode(org.jose4j.jwt.consumer.ErrorCodes.AUDIENCE_INVALID)
                || e.hasErrorCode(org.jose4j.jwt.consumer.ErrorCodes.AUDIENCE_MISSING)) return "wrong aud";
        if (e.hasErrorCode(org.jose4j.jwt.consumer.ErrorCodes.ISSUER_INVALID)
                || e.hasErrorCode(org.jose4j.jwt.consumer.ErrorCodes.SUBJECT_INVALID)) return "iss and sub must be the client id";
        if (e.hasErrorCode(org.jose4j.jwt.consumer.ErrorCodes.EXPIRATION_TOO_FAR_IN_FUTURE)) return "exp more than 5 minutes ahead";
        return "invalid";
    }

    /** Answers a POST to {@link #TOKEN_PATH} (form parameters). */
    void handleToken(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        Answer a = token(req.getParameter("grant_type"), req.getParameter("client_assertion_type"),
                req.getParameter("client_assertion"), req.getParameter("scope"));
        resp.setStatus(a.status());
        resp.setHeader("Cache-Control", "no-store");
        resp.setContentType("application/json");
        resp.getWriter().write(a.body());
    }

    /** Answers a GET of {@link #CONFIGURATION_PATH}. */
    void handleConfiguration(HttpServletResponse resp) throws IOException {
        resp.setContentType("application/json");
        resp.getWriter().write(configuration());
    }
}
