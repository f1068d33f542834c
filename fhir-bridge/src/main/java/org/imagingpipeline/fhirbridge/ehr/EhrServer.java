package org.imagingpipeline.fhirbridge.ehr;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.EnumSet;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Device;
import org.hl7.fhir.r4.model.DiagnosticReport;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.ImagingStudy;
import org.hl7.fhir.r4.model.Media;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Provenance;

/**
 * The EHR stand-in: a HAPI {@link RestfulServer} (FHIR R4, in memory) in embedded Jetty, at
 * {@code http://HOST:PORT/fhir}, with {@code /health} answering 200. {@link #stop()} and {@link #start()} keep the
 * data, so tests can simulate an outage.
 */
public final class EhrServer implements AutoCloseable {
    public static final List<Class<? extends IBaseResource>> TYPES = List.of(Patient.class, ImagingStudy.class,
            Device.class, Observation.class, DiagnosticReport.class, Media.class, Provenance.class,
            DocumentReference.class, Endpoint.class);

    private final String host;
    private final int port;
    private final FhirContext ctx;
    private final EhrStore store;
    private final TransactionProvider transactions;
    private volatile Predicate<String> acceptToken;
    private volatile SmartAuthorization smart;
    private final java.util.concurrent.atomic.AtomicInteger unauthorized = new java.util.concurrent.atomic.AtomicInteger();
    private Server server;

    public EhrServer(String host, int port) {
        this.host = host;
        this.port = port;
        this.ctx = FhirContext.forR4Cached();
        this.store = new EhrStore(ctx);
        this.transactions = new TransactionProvider(store);
    }

    public synchronized EhrServer start() throws Exception {
        if (server != null) return this;
        RestfulServer fhir = new RestfulServer(ctx);
        fhir.setDefaultResponseEncoding(EncodingEnum.JSON);
        fhir.setImplementationDescription("imaging-pipeline EHR stand-in (in memory)");
        for (Class<? extends IBaseResource> t : TYPES) fhir.registerProvider(new StoreResourceProvider(store, t));
        fhir.registerProvider(transactions);
        ServletContextHandler handler = new ServletContextHandler();
        handler.setContextPath("/");
        handler.addServlet(new ServletHolder(fhir), "/fhir/*");
        handler.addFilter(new FilterHolder(bearerFilter()), "/fhir/*", EnumSet.of(DispatcherType.REQUEST));
        handler.addServlet(new ServletHolder(new Health()), "/health");
        handler.addServlet(new ServletHolder(new SmartServlet(true)), SmartAuthorization.TOKEN_PATH);
        handler.addServlet(new ServletHolder(new SmartServlet(false)), SmartAuthorization.CONFIGURATION_PATH);
        Server s = new Server(new InetSocketAddress(host, port));
        s.setHandler(handler);
        s.setStopTimeout(2000);
        s.start();
        server = s;
        return this;
    }

    /** Stops answering (connections are refused); the data stays for a later {@link #start()}. */
    public synchronized void stop() throws Exception {
        if (server == null) return;
        server.stop();
        server = null;
    }

    @Override
    public void close() throws Exception {
        stop();
    }

    public String baseUrl() {
        return "http://" + host + ":" + port + "/fhir";
    }

    public EhrStore store() {
        return store;
    }

    /** See {@link TransactionProvider#setFault}. */
    public void setTransactionFault(Function<Bundle, BaseServerResponseException> rule) {
        transactions.setFault(rule);
    }

    /**
     * Requires {@code Authorization: Bearer T} with {@code accept.test(T)} on every FHIR request (401 with an
     * OperationOutcome otherwise); null turns the check off (the default).
     */
    public void requireBearer(Predicate<String> accept) {
        this.acceptToken = accept;
    }

    /**
     * Turns on SMART Backend Services (null: off): the token endpoint at {@code http://HOST:PORT/auth/token} and
     * {@code /fhir/.well-known/smart-configuration} answer, and every FHIR request needs an access token that
     * {@code smart} issued (401 otherwise). Replaces {@link #requireBearer}.
     */
    public void requireSmart(SmartAuthorization smart) {
        this.smart = smart;
        this.acceptToken = smart == null ? null : smart::accepts;
    }

    /** A SMART authorization server for this stand-in: token URL {@link #tokenUrl()}, tokens valid {@code lifetime}. */
    public SmartAuthorization newSmartAuthorization(java.time.Duration lifetime) {
        return new SmartAuthorization(tokenUrl(), lifetime, java.time.Clock.systemUTC());
    }

    /** FHIR requests answered 401 so far (no or an unaccepted token). */
    public int unauthorizedRequests() {
        return unauthorized.get();
    }

    /** Where the SMART token endpoint answers (when {@link #requireSmart} is on). */
    public String tokenUrl() {
        return "http://" + host + ":" + port + SmartAuthorization.TOKEN_PATH;
    }

    private Filter bearerFilter() {
        return (req, resp, chain) -> {
            if (SmartAuthorization.CONFIGURATION_PATH.equals(((HttpServletRequest) req).getRequestURI())) {
                chain.doFilter(req, resp);
                return;
            }
            Predicate<String> accept = acceptToken;
            String h = ((HttpServletRequest) req).getHeader("Authorization");
            String token = h != null && h.startsWith("Bearer ") ? h.substring(7) : null;
            if (accept == null || (token != null && accept.test(token))) {
                chain.doFilter(req, resp);
                return;
            }
            unauthorized.incrementAndGet();
            HttpServletResponse r = (HttpServletResponse) resp;
            r.setStatus(401);
            r.setHeader("WWW-Authenticate", "Bearer");
            r.setContentType("application/fhir+json");
            r.getWriter().write("{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\","
                    + "\"code\":\"login\",\"diagnostics\":\"missing or invalid bearer token\"}]}");
        };
    }

    /** The token endpoint or the SMART configuration, 404 while SMART is off. */
    private final class SmartServlet extends HttpServlet {
        private final boolean tokenEndpoint;

        SmartServlet(boolean tokenEndpoint) {
            this.tokenEndpoint = tokenEndpoint;
        }

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            SmartAuthorization s = smart;
            if (s == null) {
                resp.sendError(404);
                return;
            }
            if (tokenEndpoint) {
                if (!"POST".equals(req.getMethod())) {
                    resp.sendError(405);
                    return;
                }
                s.handleToken(req, resp);
            } else {
                if (!"GET".equals(req.getMethod())) {
                    resp.sendError(405);
                    return;
                }
                s.handleConfiguration(resp);
            }
        }
    }

    private static final class Health extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            resp.setContentType("application/json");
            resp.getWriter().write("{\"status\":\"UP\"}");
        }
    }
}
