package org.imagingpipeline.fhirbridge.ehr;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Starts the EHR stand-in and runs until SIGTERM/SIGINT.
 *
 * <pre>java -cp 'fhir-bridge/target/quarkus-app/app/*:fhir-bridge/target/quarkus-app/lib/main/*:fhir-bridge/target/quarkus-app/lib/boot/*' \
 *   org.imagingpipeline.fhirbridge.ehr.EhrServerMain [--host 127.0.0.1] [--port 8090] [--bearer-token T]
 *   [--smart-client ID=JWKS_FILE ...] [--smart-token-lifetime 300]</pre>
 * With {@code --bearer-token} every FHIR request must carry {@code Authorization: Bearer T}. With
 * {@code --smart-client} the stand-in runs a SMART Backend Services token endpoint ({@link SmartAuthorization}) for the
 * registered clients and every FHIR request needs an access token it issued.
 */
@Command(name = "ehr-stand-in", mixinStandardHelpOptions = true,
        description = "The in-memory FHIR R4 server standing in for the EHR; runs until SIGTERM/SIGINT.")
public final class EhrServerMain implements Callable<Integer> {
    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", defaultValue = "8090", description = "port (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--bearer-token", description = "every FHIR request must carry Authorization: Bearer T")
    String token;

    @Option(names = "--smart-client", paramLabel = "ID=JWKS_FILE",
            description = "register a SMART Backend Services client with its public JWK Set; FHIR then needs its tokens")
    java.util.Map<String, java.nio.file.Path> smartClients;

    @Option(names = "--smart-token-lifetime", defaultValue = "300",
            description = "seconds an access token is valid (default: ${DEFAULT-VALUE})")
    long smartTokenLifetime;

    public static void main(String[] args) {
        int rc = new CommandLine(new EhrServerMain()).execute(args);
        if (rc != 0) System.exit(rc);
    }

    @Override
    public Integer call() throws Exception {
        EhrServer server = new EhrServer(host, port);
        if (token != null) {
            String expected = token;
            server.requireBearer(expected::equals);
        }
        if (smartClients != null && !smartClients.isEmpty()) {
            if (token != null) throw new CommandLine.ParameterException(new CommandLine(this),
                    "--bearer-token and --smart-client exclude each other");
            SmartAuthorization smart = server.newSmartAuthorization(java.time.Duration.ofSeconds(smartTokenLifetime));
            for (java.util.Map.Entry<String, java.nio.file.Path> c : smartClients.entrySet()) {
                smart.register(c.getKey(), java.nio.file.Files.readString(c.getValue()));
            }
            server.requireSmart(smart);
            System.err.println("EHR stand-in: SMART Backend Services, token endpoint " + server.tokenUrl() + ", clients "
                    + smartClients.keySet() + ", access tokens valid " + smartTokenLifetime + " s");
        }
        server.start();
        System.err.println("EHR stand-in: FHIR R4 at " + server.baseUrl() + ", health at http://" + host + ":" + port
                + "/health");
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.stop();
            } catch (Exception e) {
                System.err.println("EHR stand-in: stop failed: " + e);
            }
            done.countDown();
        }, "ehr-shutdown"));
        done.await();
        return 0;
    }
}
