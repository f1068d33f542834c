package org.imagingpipeline.testsupport;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.imagingpipeline.events.signing.ModelSigning;
import org.imagingpipeline.testsupport.auth.TestTokens;

/**
 * The one Quarkus test resource of the services: a real KRaft broker in its own JVM ({@link BrokerProcess}, free
 * ports, every topic provisioned) and a fresh state directory, given to the application as
 * {@code kafka.bootstrap.servers} and {@code pipeline.home}, plus this JVM's test token issuer
 * ({@link TestTokens#settings()}; tests call the service with {@link TestTokens#bearer}), and retrain's model-signing
 * key pair under {@code pipeline.home/secrets/}, created before the application starts as {@code ./pipeline up} does
 * ({@link #modelSigner()} signs records the service accepts). A module adds its own
 * settings (and fixtures such as an EHR stand-in or a tiny model) by overriding {@link #settings}; tests reach the
 * broker and the directory through {@link #broker()} and {@link #home()} while the resource runs.
 */
public class BrokerTestResource implements QuarkusTestResourceLifecycleManager {
    private static volatile BrokerProcess current;
    private static volatile Path currentHome;
    private BrokerProcess broker;

    /** The broker of the running resource. */
    public static BrokerProcess broker() {
        if (current == null) throw new IllegalStateException("no BrokerTestResource is running");
        return current;
    }

    /** The state directory of the running resource ({@code pipeline.home}). */
    public static Path home() {
        if (currentHome == null) throw new IllegalStateException("no BrokerTestResource is running");
        return currentHome;
    }

    /** The model-signing key of the running resource's {@code pipeline.home} (what retrain signs with, inference trusts). */
    public static ModelSigning.Signer modelSigner() throws IOException {
        return ModelSigning.load(home().resolve("secrets").resolve(ModelSigning.PRIVATE_KEY_FILE));
    }

    /** Settings besides {@code kafka.bootstrap.servers}, {@code pipeline.home} and the token settings; they win over those. */
    protected Map<String, String> settings(BrokerProcess broker, Path home) throws Exception {
        return Map.of();
    }

    /** True: use the JVM's shared broker ({@link BrokerProcess#shared()}), left running for other tests of the JVM. */
    protected boolean sharedBroker() {
        return false;
    }

    /** Called at {@link #stop()}, before the broker stops. */
    protected void stopped() throws Exception {
    }

    @Override
    public Map<String, String> start() {
        try {
            Path home = Files.createTempDirectory(getClass().getSimpleName() + "-");
            broker = sharedBroker() ? BrokerProcess.shared() : BrokerProcess.startWithTopics(home.resolve("kafka"));
            current = broker;
            currentHome = home;
            ModelSigning.ensure(home.resolve("secrets"));
            Map<String, String> m = new HashMap<>(Map.of("kafka.bootstrap.servers", broker.bootstrap(),
                    "pipeline.home", home.toString()));
            m.putAll(TestTokens.settings());
            m.putAll(settings(broker, home));
            return m;
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the test broker", e);
        }
    }

    @Override
    public void stop() {
        try {
            stopped();
            if (broker != null && !sharedBroker()) broker.stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
