package org.imagingpipeline.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.imagingpipeline.testsupport.auth.TestTokens;
import org.junit.jupiter.api.Test;

/**
 * Sessions and roles of the console, with the services it reads switched off: signing in with a real token (and being
 * refused with each kind of bad one), the cookie's attributes, the redirect to the login page without a session or with
 * an expired one, a viewer refused an action with a message, and a page that says a service is unavailable instead of
 * failing. The pages against the running stack are the browser test's.
 */
@QuarkusTest
@QuarkusTestResource(ConsoleTokensResource.class)
class ConsoleSessionTest {
    @TestHTTPResource("/")
    URI root;

    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    @Test
    void withoutASessionEveryPageLeadsToTheLoginPage() throws Exception {
        for (String path : new String[] {"/", "/sections"}) {
            HttpResponse<String> r = get(path, null);
            assertEquals(303, r.statusCode(), path);
            assertEquals("/login", location(r), path);
        }
        HttpResponse<String> login = get("/login", null);
        assertEquals(200, login.statusCode());
        assertTrue(login.body().contains("name=\"token\""), login.body());
        assertEquals(200, get("/q/health", null).statusCode(), "health stays open");
        // an action without a session is not performed either
        assertEquals(303, post("/domains/dom-1/rollback", null, "reason=x&confirm=yes").statusCode());
    }

    @Test
    void signingInSetsAnHttpOnlyStrictCookieThatOpensTheConsole() throws Exception {
        String token = TestTokens.token("viewer");
        HttpResponse<String> r = post("/login", null, "token=" + URLEncoder.encode(token, StandardCharsets.UTF_8));
        assertEquals(303, r.statusCode(), r.body());
        assertEquals("/", location(r));
        String cookie = r.headers().firstValue("Set-Cookie").orElseThrow();
        assertTrue(cookie.startsWith("pipeline_console=" + token), cookie);
        assertTrue(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"), cookie);

        HttpResponse<String> page = get("/", token);
        assertEquals(200, page.statusCode(), page.body());
        assertTrue(page.body().contains("test-viewer (viewer)"), "who is signed in");
        // the services are not running: each section says so, the page still renders
        assertTrue(page.body().contains("streams is unavailable"), page.body());
        assertTrue(page.body().contains("retrain is unavailable"), page.body());
        assertFalse(page.body().contains("Roll back</button>"), "a viewer gets no action buttons");
        assertEquals(200, get("/sections", token).statusCode());
        HttpResponse<String> job = get("/jobs/job-1", token);
        assertEquals(200, job.statusCode());
        assertTrue(job.body().contains("retrain is unavailable"), job.body());
        assertTrue(get("/jobs/bad%3Cid", token).body().contains("Not a job id."));
    }

    @Test
    void badTokensAreRefusedAtSignInAndAnExpiredSessionReturnsToTheLoginPage() throws Exception {
        for (String bad : TestTokens.badTokens("viewer")) {
            HttpResponse<String> r = post("/login", null, "token=" + URLEncoder.encode(bad, StandardCharsets.UTF_8));
            assertEquals(401, r.statusCode(), bad);
            assertTrue(r.body().contains("not accepted"), r.body());
            assertTrue(r.headers().firstValue("Set-Cookie").isEmpty(), "no session for a bad token");
        }
        assertEquals(400, post("/login", null, "token=").statusCode());
        int tooLong = post("/login", null, "token=" + "a".repeat(LoginResource.MAX_TOKEN_CHARS + 1)).statusCode();
        assertTrue(tooLong == 400 || tooLong == 413, "a token longer than the limit: " + tooLong);

        HttpResponse<String> expired = get("/", TestTokens.expired("viewer"));
        assertEquals(303, expired.statusCode());
        assertEquals("/login?expired=true", location(expired));
        assertTrue(expired.headers().firstValue("Set-Cookie").orElseThrow().contains("Max-Age=0"), "the stale cookie is cleared");
        assertTrue(get("/login?expired=true", null).body().contains("Your session ended"));
    }

    @Test
    void anActionNeedsTheMlopsRoleAndComesFromTheConsolesOwnPage() throws Exception {
        HttpResponse<String> viewer = post("/domains/dom-1/rollback", TestTokens.token("viewer"), "reason=bad&confirm=yes");
        assertEquals(403, viewer.statusCode());
        assertTrue(viewer.body().contains("needs the mlops role"), viewer.body());

        String mlops = TestTokens.token("mlops", "viewer");
        assertEquals(200, get("/", mlops).statusCode());
        HttpResponse<String> unconfirmed = post("/domains/dom-1/rollback", mlops, "reason=bad");
        assertEquals(303, unconfirmed.statusCode());
        assertTrue(location(unconfirmed).contains("tick+the+confirmation") || location(unconfirmed).contains("tick%20the%20confirmation"),
                location(unconfirmed));
        HttpResponse<String> forwarded = post("/domains/dom-1/rollback", mlops, "reason=bad&confirm=yes");
        assertEquals(303, forwarded.statusCode());
        assertTrue(location(forwarded).contains("retrain"), "retrain is down: the message says so: " + location(forwarded));

        HttpRequest sameOrigin = HttpRequest.newBuilder(root.resolve("/domains/dom-1/approve"))
                .header("Cookie", "pipeline_console=" + mlops).header("Origin", "http://" + root.getRawAuthority())
                .POST(HttpRequest.BodyPublishers.noBody()).build();
        HttpResponse<String> approved = http.send(sameOrigin, HttpResponse.BodyHandlers.ofString());
        assertEquals(303, approved.statusCode(), "the console's own page may post");
        assertTrue(location(approved).contains("streams"), location(approved));
        HttpRequest cross = HttpRequest.newBuilder(root.resolve("/domains/dom-1/rollback"))
                .header("Cookie", "pipeline_console=" + mlops).header("Origin", "http://evil.example")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("reason=x&confirm=yes")).build();
        assertEquals(403, http.send(cross, HttpResponse.BodyHandlers.ofString()).statusCode(), "cross-origin form post");
        assertEquals(303, post("/domains/..%2Fjobs/rollback", mlops, "reason=x&confirm=yes").statusCode());
    }

    private HttpResponse<String> get(String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(root.resolve(path));
        if (token != null) b.header("Cookie", "pipeline_console=" + token);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String token, String form) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(root.resolve(path)).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form));
        if (token != null) b.header("Cookie", "pipeline_console=" + token);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String location(HttpResponse<String> r) {
        return URI.create(r.headers().firstValue("Location").orElseThrow()).getRawPath()
                + (URI.create(r.headers().firstValue("Location").orElseThrow()).getRawQuery() == null ? ""
                : "?" + URI.create(r.headers().firstValue("Location").orElseThrow()).getRawQuery());
    }
}
