package org.imagingpipeline.console;

import io.smallrye.config.ConfigMapping;
import java.time.Duration;

/** The console's settings ({@code console.*} in application.properties, each documented there). */
@ConfigMapping(prefix = "console")
public interface ConsoleConfig {
    String streamsUrl();

    String retrainUrl();

    Duration callTimeout();

    Duration refreshInterval();

    String sessionCookie();

    boolean secureCookie();
}
