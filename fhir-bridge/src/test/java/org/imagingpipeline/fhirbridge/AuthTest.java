package org.imagingpipeline.fhirbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.imagingpipeline.events.DeliveryFailure;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.fhirbridge.ehr.EhrServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Static bearer token and OAuth2 client credentials (token refreshed after a 401) against the stand-in. */
class AuthTest {
    static EhrServer ehr;
    static HttpServer tokenEndpoint;
    static final AtomicInteger issued = new AtomicInteger();
    static final DeliveryFailure.SourceRecord SRC = new DeliveryFailure.SourceRecord("t", 0, 0);

    @BeforeAll
    static void start() throws Exception {
        ehr = TestSupport.startEhr();
        tokenEndpoint = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        tokenEndpoint.createContext("/token", ex -> {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            boolean ok = body.contains("grant_type=client_credentials") && auth != null && auth.startsWith("Basic ");
            byte[] out = (ok ? "{\"access_token\":\"tok-" + issued.incrementAndGet()
                    + "\",\"token_type\":\"Bearer\",\"expires_in\":3600}" : "{\"error\":\"invalid_client\"}")
                    .getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(ok ? 200 : 401, out.length);
            ex.getResponseBody().write(out);
            ex.close();
        });
        tokenEndpoint.start();
    }

    @AfterAll
    static void stop() throws Exception {
        ehr.stop();
        tokenEndpoint.stop(0);
    }

    private static ResultProcessor processor(AuthProvider auth) {
        EhrClient client = new EhrClient(TestSupport.CTX, ehr.baseUrl(), Duration.ofSeconds(10), Duration.ofSeconds(60),
                auth);
        return new ResultProcessor(new ResultMapper(MappingOptions.defaults()), TestSupport.validator(), client,
                new BridgeMetrics(new SimpleMeterRegistry()));
    }

    private static byte[] result(int n) throws Exception {
        return EventJson.mapper().writeValueAsBytes(TestResults.ok(TestResults.series(n), "3", "PAT-" + n));
    }

    @Test
    void staticBearerToken() throws Exception {
        ehr.requireBearer("s3cret"::equals);
        try {
            assertInstanceOf(ResultProcessor.Delivered.class,
                    processor(AuthProvider.bearer("s3cret")).attempt(result(400), SRC, 1, Instant.now()));
            // A refused credential is not the report's fault: it is kept and retried, never dead-lettered.
            ResultProcessor.Retry r = assertInstanceOf(ResultProcessor.Retry.class,
                    processor(AuthProvider.bearer("wrong")).attempt(result(401), SRC, 1, Instant.now()));
            assertEquals("http_401", r.reason());
        } finally {
            ehr.requireBearer(null);
        }
    }

    @Test
    void clientCredentialsWithRefreshAfter401() throws Exception {
        String url = "http://127.0.0.1:" + tokenEndpoint.getAddress().getPort() + "/token";
        AuthProvider cc = new AuthProvider.ClientCredentials(url, "fhir-bridge", "pw", "system/*.write");
        ehr.requireBearer(t -> t.equals("tok-" + issued.get()));
        try {
            ResultProcessor p = processor(cc);
            assertInstanceOf(ResultProcessor.Delivered.class, p.attempt(result(402), SRC, 1, Instant.now()));
            int before = issued.get();
            // the EHR revokes the token: the client gets a 401, fetches a new token once and succeeds
            ehr.requireBearer(t -> t.equals("tok-" + (before + 1)));
            assertInstanceOf(ResultProcessor.Delivered.class, p.attempt(result(403), SRC, 1, Instant.now()));
            assertEquals(before + 1, issued.get());
        } finally {
            ehr.requireBearer(null);
        }
    }
}
