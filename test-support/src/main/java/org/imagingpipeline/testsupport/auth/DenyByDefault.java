package org.imagingpipeline.testsupport.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;

/**
 * The deny-by-default contract of a service's HTTP port (docs/security.md), checked against the running application:
 * health and metrics answer without a token; every other path answers 401 without a token and with each of
 * {@link TestTokens#badTokens}, and is looked up (404 for a path that does not exist) only with a valid one.
 */
public final class DenyByDefault {
    /** The paths that need no token. */
    public static final List<String> OPEN = List.of("/q/health", "/q/health/live", "/q/health/ready", "/q/metrics");

    private DenyByDefault() {
    }

    /**
     * For a service without its own API beyond health and metrics: {@code /}, {@code /anything} and {@code /q/info}
     * are refused without a valid token and not found with one.
     *
     * @param base the application's root, e.g. {@code http://127.0.0.1:8081}
     */
    public static void assertOnlyHealthAndMetricsOpen(URI base, HttpClient http) throws IOException, InterruptedException {
        for (String open : OPEN) {
            int status = send(http, base, open, null).statusCode();
            assertTrue(status == 200 || status == 503, open + " answered " + status); // 503: a check is DOWN, not a refusal
        }
        for (String path : List.of("/", "/anything", "/q/info")) {
            assertEquals(401, send(http, base, path, null).statusCode(), path + " without a token");
            for (String bad : TestTokens.badTokens("admin")) {
                assertEquals(401, send(http, base, path, "Bearer " + bad).statusCode(), path + " with a bad token");
            }
            assertEquals(404, send(http, base, path, TestTokens.bearer("admin")).statusCode(), path + " with a valid token");
        }
    }

    /** The root of an application whose readiness URL a {@code @TestHTTPResource("/q/health/ready")} gave. */
    public static URI rootOf(Object readyUrl) {
        return URI.create(readyUrl.toString().replaceFirst("/q/health/ready$", ""));
    }

    private static HttpResponse<String> send(HttpClient http, URI base, String path, String authorization)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base.toString().replaceFirst("/$", "") + path));
        if (authorization != null) b.header("Authorization", authorization);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
