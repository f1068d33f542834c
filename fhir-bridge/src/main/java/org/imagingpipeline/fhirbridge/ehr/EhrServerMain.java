package org.imagingpipeline.fhirbridge.ehr;

import java.util.concurrent.CountDownLatch;

/**
 * Starts the EHR stand-in and runs until SIGTERM/SIGINT.
 *
 * <pre>java -cp 'fhir-bridge/target/quarkus-app/app/*:fhir-bridge/target/quarkus-app/lib/main/*:fhir-bridge/target/quarkus-app/lib/boot/*' \
 *   org.imagingpipeline.fhirbridge.ehr.EhrServerMain [--host 127.0.0.1] [--port 8090] [--bearer-token T]</pre>
 * With {@code --bearer-token} every FHIR request must carry {@code Authorization: Bearer T}.
 */
public final class EhrServerMain {
    private EhrServerMain() {
    }

    public static void main(String[] args) throws Exception {
        String host = "127.0.0.1";
        int port = 8090;
        String token = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--host" -> host = args[++i];
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--bearer-token" -> token = args[++i];
                default -> {
                    System.err.println("usage: EhrServerMain [--host H] [--port P] [--bearer-token T]");
                    System.exit(2);
                }
            }
        }
        EhrServer server = new EhrServer(host, port);
        if (token != null) {
            String expected = token;
            server.requireBearer(expected::equals);
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
    }
}
