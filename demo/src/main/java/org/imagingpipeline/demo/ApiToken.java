package org.imagingpipeline.demo;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * The demo's Authorization header for the services' APIs: a bearer token from {@code ./pipeline token} (the demo's
 * stack, role viewer: GET /domains, GET /jobs), issued again once two thirds of its lifetime have passed, so a long run
 * never presents an expired one. The token is never printed or logged.
 */
final class ApiToken implements Supplier<String> {
    /** The lifetime the demo asks for. */
    static final Duration LIFETIME = Duration.ofMinutes(60);
    private final Callable<String> issue;
    private final Clock clock;
    private String token;
    private Instant renewAt = Instant.MIN;

    /** {@code issue} returns a fresh token valid for {@link #LIFETIME}. */
    ApiToken(Callable<String> issue) {
        this(issue, Clock.systemUTC());
    }

    ApiToken(Callable<String> issue, Clock clock) {
        this.issue = issue;
        this.clock = clock;
    }

    /** {@code "Bearer " + token}. */
    @Override
    public synchronized String get() {
        Instant now = clock.instant();
        if (token == null || now.isAfter(renewAt)) {
            try {
                token = issue.call();
            } catch (Exception e) {
                throw new IllegalStateException("cannot get a token for the services' APIs: " + e.getMessage(), e);
            }
            renewAt = now.plus(LIFETIME.multipliedBy(2).dividedBy(3));
        }
        return "Bearer " + token;
    }
}
