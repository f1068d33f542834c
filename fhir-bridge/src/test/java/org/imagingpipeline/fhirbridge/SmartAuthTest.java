package org.imagingpipeline.fhirbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.imagingpipeline.events.DeliveryFailure;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.fhirbridge.ehr.EhrServer;
import org.imagingpipeline.fhirbridge.ehr.SmartAuthorization;
import org.imagingpipeline.fhirbridge.smart.SmartBackendAuth;
import org.imagingpipeline.fhirbridge.smart.SmartKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SMART Backend Services (private_key_jwt) between the bridge's client and the EHR stand-in's token endpoint, over
 * real HTTP: discovery, delivery, the access token refreshed before expiry and after a revocation (401), and the token
 * endpoint's refusals (unregistered key, replayed jti, wrong aud, expired assertion, unknown client).
 */
class SmartAuthTest {
    static final String CLIENT = "fhir-bridge-smart-test";
    static final String SCOPE = "system/DiagnosticReport.crus system/Observation.cru";
    static final DeliveryFailure.SourceRecord SRC = new DeliveryFailure.SourceRecord("t", 0, 0);
    static final SmartKeys KEYS = SmartKeys.generate();

    EhrServer ehr;
    SmartAuthorization smart;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        ehr = TestSupport.startEhr();
        smart = ehr.newSmartAuthorization(Duration.ofSeconds(300)).register(CLIENT, KEYS.jwks());
        ehr.requireSmart(smart);
    }

    @AfterEach
    void stop() throws Exception {
        ehr.stop();
    }

    private SmartBackendAuth client(SmartKeys keys, String tokenUrl) {
        return new SmartBackendAuth(ehr.baseUrl(), tokenUrl, CLIENT, keys, SCOPE, Duration.ofSeconds(60), Clock.systemUTC());
    }

    private ResultProcessor processor(AuthProvider auth) {
        EhrClient c = new EhrClient(TestSupport.CTX, ehr.baseUrl(), Duration.ofSeconds(10), Duration.ofSeconds(60), auth);
        return new ResultProcessor(new ResultMapper(MappingOptions.defaults()), TestSupport.validator(), c,
                new BridgeMetrics(new SimpleMeterRegistry()));
    }

    private static byte[] result(int n) throws Exception {
        return EventJson.mapper().writeValueAsBytes(TestResults.ok(TestResults.series(n), "3", "PAT-" + n));
    }

    private HttpResponse<String> tokenRequest(String assertion) throws Exception {
        String form = "grant_type=client_credentials&scope=" + URLEncoder.encode(SCOPE, StandardCharsets.UTF_8)
                + "&client_assertion_type=" + URLEncoder.encode(SmartBackendAuth.ASSERTION_TYPE, StandardCharsets.UTF_8)
                + "&client_assertion=" + URLEncoder.encode(assertion, StandardCharsets.UTF_8);
        return http.send(HttpRequest.newBuilder(URI.create(ehr.tokenUrl()))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void deliveryWithSmartAndTheDiscoveredTokenEndpoint() throws Exception {
        // Without a token the FHIR API answers 401; the SMART configuration is open and names the token endpoint.
        HttpResponse<String> anon = http.send(HttpRequest.newBuilder(URI.create(ehr.baseUrl() + "/Patient")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, anon.statusCode());
        HttpResponse<String> conf = http.send(HttpRequest.newBuilder(
                URI.create(ehr.baseUrl() + "/.well-known/smart-configuration")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, conf.statusCode());
        assertTrue(conf.body().contains("\"token_endpoint\":\"" + ehr.tokenUrl() + "\""), conf.body());
        assertTrue(conf.body().contains("private_key_jwt"), conf.body());

        SmartBackendAuth auth = client(KEYS, null);
        ResultProcessor p = processor(auth);
        assertInstanceOf(ResultProcessor.Delivered.class, p.attempt(result(500), SRC, 1, Instant.now()));
        assertInstanceOf(ResultProcessor.Delivered.class, p.attempt(result(501), SRC, 1, Instant.now()));
        assertEquals(URI.create(ehr.tokenUrl()), auth.tokenUrl());
        assertEquals(1, auth.tokensFetched(), "the access token is cached");
        assertEquals(1, smart.issued());
        assertEquals(2, TestSupport.all(ehr, "DiagnosticReport").size());
    }

    @Test
    void anExpiringAccessTokenIsRefreshedBeforeExpiry() throws Exception {
        smart = ehr.newSmartAuthorization(Duration.ofSeconds(3)).register(CLIENT, KEYS.jwks());
        ehr.requireSmart(smart);
        SmartBackendAuth auth = client(KEYS, ehr.tokenUrl());
        ResultProcessor p = processor(auth);
        assertInstanceOf(ResultProcessor.Delivered.class, p.attempt(result(502), SRC, 1, Instant.now()));
        int fetched = auth.tokensFetched();
        String before = auth.token(false);
        Thread.sleep(3_200);
        // The cached token has expired: the client fetches a new one before sending, the EHR never sees the old one.
        assertInstanceOf(ResultProcessor.Delivered.class, p.attempt(result(503), SRC, 1, Instant.now()));
        assertTrue(auth.tokensFetched() > fetched, "a new token after expiry");
        assertNotEquals(before, auth.token(false));
        assertEquals(0, ehr.unauthorizedRequests(), "no request went out with an expired token");
    }

    @Test
    void aRevokedAccessTokenIsReplacedAfterOne401() throws Exception {
        SmartBackendAuth auth = client(KEYS, ehr.tokenUrl());
        ResultProcessor p = processor(auth);
        assertInstanceOf(ResultProcessor.Delivered.class, p.attempt(result(504), SRC, 1, Instant.now()));
        smart.revokeAll();
        assertInstanceOf(ResultProcessor.Delivered.class, p.attempt(result(505), SRC, 1, Instant.now()));
        assertEquals(2, auth.tokensFetched());
        assertEquals(1, ehr.unauthorizedRequests(), "one 401, then the new token");
    }

    @Test
    void anUnregisteredKeyIsRefusedAndTheReportKeptForRetry() throws Exception {
        SmartBackendAuth auth = client(SmartKeys.generate(), ehr.tokenUrl());
        IOException e = assertThrows(IOException.class, () -> auth.token(false));
        assertTrue(e.getMessage().contains("HTTP 401") && e.getMessage().contains("invalid_client"), e.getMessage());
        // The delivery treats it like an outage of the EHR: retried, never dead-lettered.
        ResultProcessor.Retry r = assertInstanceOf(ResultProcessor.Retry.class,
                processor(auth).attempt(result(506), SRC, 1, Instant.now()));
        assertEquals("io", r.reason());
        assertEquals(0, TestSupport.all(ehr, "DiagnosticReport").size());
        assertEquals(0, smart.issued());
    }

    @Test
    void theTokenEndpointChecksTheAssertion() throws Exception {
        SmartBackendAuth auth = client(KEYS, ehr.tokenUrl());
        Instant now = Instant.now();
        String assertion = auth.assertion(ehr.tokenUrl(), now);
        HttpResponse<String> ok = tokenRequest(assertion);
        assertEquals(200, ok.statusCode(), ok.body());
        assertTrue(ok.body().contains("\"token_type\":\"bearer\"") && ok.body().contains("\"expires_in\":300"), ok.body());
        assertEquals("no-store", ok.headers().firstValue("Cache-Control").orElse(""));
        // the same assertion again: its jti was used
        HttpResponse<String> replay = tokenRequest(assertion);
        assertEquals(401, replay.statusCode());
        assertTrue(replay.body().contains("invalid_client") && replay.body().contains("jti"), replay.body());
        // for another audience
        HttpResponse<String> aud = tokenRequest(auth.assertion("http://127.0.0.1:1/auth/token", now));
        assertEquals(401, aud.statusCode());
        assertTrue(aud.body().contains("aud"), aud.body());
        // expired (issued 10 minutes ago, valid 60 s)
        HttpResponse<String> old = tokenRequest(auth.assertion(ehr.tokenUrl(), now.minusSeconds(600)));
        assertEquals(401, old.statusCode());
        assertTrue(old.body().contains("expired"), old.body());
        // another client id, registered with nobody
        SmartBackendAuth stranger = new SmartBackendAuth(ehr.baseUrl(), ehr.tokenUrl(), "stranger", KEYS, SCOPE,
                Duration.ofSeconds(60), Clock.systemUTC());
        assertEquals(401, tokenRequest(stranger.assertion(ehr.tokenUrl(), now)).statusCode());
        // not a JWT at all
        assertEquals(401, tokenRequest("not.a.jwt").statusCode());
        assertEquals(1, smart.issued());
    }

    @Test
    void theKeyPairIsCreatedOnceWithAPrivateKeyOnlyItsOwnerReads(@TempDir Path dir) throws Exception {
        Path secrets = dir.resolve("secrets");
        SmartKeys.Ensured a = SmartKeys.ensure(secrets);
        SmartKeys.Ensured b = SmartKeys.ensure(secrets);
        assertTrue(a.created());
        assertTrue(!b.created());
        assertEquals(a.keys().keyId(), b.keys().keyId());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(a.privateKey())));
        String jwks = Files.readString(a.jwks());
        assertTrue(jwks.contains("\"kid\":\"" + a.keys().keyId() + "\"") && jwks.contains("\"alg\":\"RS384\""), jwks);
        assertTrue(!jwks.contains("\"d\""), "the JWK Set holds no private part");

        // The service's configuration builds the SMART client from the key file; the stand-in registers the JWK Set.
        smart.register("fhir-bridge", jwks);
        AuthProvider auth = BridgeService.auth(new SmartConfig(a.privateKey()), ehr.baseUrl());
        assertInstanceOf(SmartBackendAuth.class, auth);
        assertInstanceOf(ResultProcessor.Delivered.class, processor(auth).attempt(result(507), SRC, 1, Instant.now()));
    }

    /** bridge.fhir.auth.* for mode smart, token endpoint discovered. */
    private record SmartConfig(Path key) implements BridgeConfig.Auth {
        public String mode() {
            return "smart";
        }

        public Optional<String> bearerToken() {
            return Optional.empty();
        }

        public Optional<String> tokenUrl() {
            return Optional.empty();
        }

        public Optional<String> clientId() {
            return Optional.of("fhir-bridge");
        }

        public Optional<String> clientSecret() {
            return Optional.empty();
        }

        public Optional<String> scope() {
            return Optional.of(SCOPE);
        }

        public Optional<Path> privateKey() {
            return Optional.of(key);
        }

        public Duration assertionLifetime() {
            return Duration.ofSeconds(60);
        }
    }
}
