package org.imagingpipeline.console;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.HashMap;
import java.util.Map;
import org.imagingpipeline.testsupport.auth.TestTokens;

/** The console under test checks this JVM's test tokens; the services it reads are not running (nothing listens on port 9). */
public class ConsoleTokensResource implements QuarkusTestResourceLifecycleManager {
    @Override
    public Map<String, String> start() {
        Map<String, String> m = new HashMap<>(TestTokens.settings());
        m.put("console.streams-url", "http://127.0.0.1:9");
        m.put("console.retrain-url", "http://127.0.0.1:9");
        return m;
    }

    @Override
    public void stop() {
    }
}
