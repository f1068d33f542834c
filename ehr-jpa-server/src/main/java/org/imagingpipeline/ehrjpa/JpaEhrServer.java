package org.imagingpipeline.ehrjpa;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.provider.JpaSystemProvider;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import ca.uhn.fhir.util.VersionUtil;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;

/**
 * A real HAPI FHIR JPA server (FHIR R4, H2) in embedded Jetty: the EHR that fhir-bridge's scenario tests deliver to
 * beside its own stand-in. Meant to be the main class of its own JVM (fhir-bridge's {@code JpaEhrProcess} starts it
 * from this module's {@code target/classes} and {@code target/lib}).
 *
 * <p>Usage: {@code JpaEhrServer --port N --token-file FILE [--host 127.0.0.1] [--data-dir DIR]}. The FHIR base is
 * {@code http://HOST:N/fhir}; every request needs {@code Authorization: Bearer <the token in FILE>} (or, without
 * {@code --token-file}, in the environment variable {@code EHR_JPA_TOKEN}); 401 otherwise. Without {@code --data-dir}
 * the database lives in memory; with it, in {@code DIR/ehr.mv.db}. Once it serves, one line on stdout starts with
 * {@value #READY}. SIGTERM stops it.
 */
public final class JpaEhrServer {
    /** The first word of the line printed once the server answers. */
    public static final String READY = "JPA-EHR-READY";
    private static final String TOKEN_ENV = "EHR_JPA_TOKEN";

    private JpaEhrServer() {
    }

    public static void main(String[] args) throws Exception {
        long t0 = System.nanoTime();
        String host = "127.0.0.1";
        Integer port = null;
        Path tokenFile = null;
        Path dataDir = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (a) {
                case "--host" -> host = required(a, v);
                case "--port" -> port = Integer.parseInt(required(a, v));
                case "--token-file" -> tokenFile = Path.of(required(a, v));
                case "--data-dir" -> dataDir = Path.of(required(a, v));
                default -> usage("unknown option " + a);
            }
            i++;
        }
        if (port == null) usage("--port is required");
        if (!host.equals("127.0.0.1") && !host.equals("localhost") && !host.equals("::1")) {
            usage("--host must be a loopback address (this test server is never exposed): " + host);
        }
        String token = tokenFile != null ? Files.readString(tokenFile).strip() : System.getenv(TOKEN_ENV);
        if (token == null || token.isBlank()) usage("a bearer token is required: --token-file FILE or " + TOKEN_ENV);

        String jdbc;
        if (dataDir == null) {
            jdbc = "jdbc:h2:mem:ehr;DB_CLOSE_DELAY=-1";
        } else {
            Files.createDirectories(dataDir);
            jdbc = "jdbc:h2:file:" + dataDir.toAbsolutePath().resolve("ehr");
        }
        System.setProperty(JpaEhrConfig.JDBC_URL, jdbc);

        AnnotationConfigApplicationContext spring = new AnnotationConfigApplicationContext(JpaEhrConfig.class);
        spring.registerShutdownHook();

        RestfulServer fhir = new RestfulServer(spring.getBean(FhirContext.class));
        fhir.registerInterceptor(new BearerTokenInterceptor(token));
        List<Object> providers = new ArrayList<>(
                spring.getBean("myResourceProvidersR4", ResourceProviderFactory.class).createProviders());
        fhir.registerProviders(providers);
        fhir.registerProvider(spring.getBean(JpaSystemProvider.class));
        fhir.setPagingProvider(spring.getBean(DatabaseBackedPagingProvider.class));

        Server jetty = new Server(new InetSocketAddress(host, port));
        ServletContextHandler context = new ServletContextHandler();
        context.setContextPath("/");
        ServletHolder holder = new ServletHolder(fhir);
        holder.setInitOrder(1);
        context.addServlet(holder, "/fhir/*");
        jetty.setHandler(context);
        jetty.setStopAtShutdown(true);
        jetty.start();

        System.out.printf("%s http://%s:%d/fhir HAPI-FHIR %s JPA R4 %s started-ms %d%n", READY, host, port,
                VersionUtil.getVersion(), dataDir == null ? "h2-mem" : "h2-file " + dataDir,
                (System.nanoTime() - t0) / 1_000_000);
        System.out.flush();
        jetty.join();
    }

    private static String required(String option, String value) {
        if (value == null) usage(option + " needs a value");
        return value;
    }

    private static void usage(String problem) {
        System.err.println("JpaEhrServer: " + problem);
        System.err.println("usage: JpaEhrServer --port N (--token-file FILE | env " + TOKEN_ENV
                + ") [--host 127.0.0.1] [--data-dir DIR]");
        System.exit(2);
    }
}
