package org.imagingpipeline.fhirbridge;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A forwarding HTTP gate in front of a real FHIR server, for staging races the server cannot be asked to stage: every
 * request goes through unchanged (headers, body, status), but {@link #beforeNextTransaction} runs an action once, just
 * before the next transaction (a POST to the base URL) reaches the server: after the bridge's searches, before its
 * write. The server builds absolute URLs from its own address (the Host header is not forwarded).
 */
final class TransactionGate implements AutoCloseable {
    /** Hop-by-hop and length headers the JDK client sets itself or refuses. */
    private static final Set<String> SKIPPED = Set.of("host", "connection", "content-length", "transfer-encoding",
            "expect", "upgrade", "keep-alive");
    private final HttpServer server;
    private final URI target;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final AtomicReference<ThrowingRunnable> next = new AtomicReference<>();

    /** An action that may fail (an assertion too); a failure is answered to the client as 502 and logged. */
    interface ThrowingRunnable {
        void run() throws Exception;
    }

    TransactionGate(String targetBase) throws IOException {
        this.target = URI.create(targetBase.endsWith("/") ? targetBase : targetBase + "/");
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/fhir", this::forward);
        server.start();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/fhir";
    }

    void beforeNextTransaction(ThrowingRunnable action) {
        next.set(action);
    }

    private void forward(HttpExchange ex) throws IOException {
        try {
            byte[] body;
            try (InputStream in = ex.getRequestBody()) {
                body = in.readAllBytes();
            }
            String path = ex.getRequestURI().getRawPath().substring("/fhir".length());
            String query = ex.getRequestURI().getRawQuery();
            boolean transaction = "POST".equals(ex.getRequestMethod()) && (path.isEmpty() || path.equals("/"));
            if (transaction) {
                ThrowingRunnable action = next.getAndSet(null);
                if (action != null) action.run();
            }
            URI uri = URI.create(target + (path.startsWith("/") ? path.substring(1) : path) + (query == null ? "" : "?" + query));
            HttpRequest.Builder rb = HttpRequest.newBuilder(uri).method(ex.getRequestMethod(),
                    body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
            for (Map.Entry<String, List<String>> h : ex.getRequestHeaders().entrySet()) {
                if (SKIPPED.contains(h.getKey().toLowerCase())) continue;
                for (String v : h.getValue()) rb.header(h.getKey(), v);
            }
            HttpResponse<byte[]> resp = http.send(rb.build(), HttpResponse.BodyHandlers.ofByteArray());
            resp.headers().map().forEach((k, vs) -> {
                if (!SKIPPED.contains(k.toLowerCase()) && !k.startsWith(":")) ex.getResponseHeaders().put(k, vs);
            });
            byte[] out = resp.body();
            ex.sendResponseHeaders(resp.statusCode(), out.length == 0 ? -1 : out.length);
            if (out.length > 0) {
                try (OutputStream os = ex.getResponseBody()) {
                    os.write(out);
                }
            }
        } catch (Exception | AssertionError e) {
            System.err.println("TransactionGate: " + e);
            byte[] msg = ("gate: " + e).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            ex.sendResponseHeaders(502, msg.length);
            ex.getResponseBody().write(msg);
        } finally {
            ex.close();
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
