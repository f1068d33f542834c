package org.imagingpipeline.kafka;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Refused attempts (HTTP 401/403, refused DICOM associations) on the audit trail with a bound, so that a flood of bad
 * requests cannot flood {@code audit.events}: per window (default one minute) the first {@code maxPerWindow} refusals
 * of the service instance are recorded one by one (outcome {@code denied}); the rest are counted per action and, when
 * the window ends, recorded as one summary event per action (outcome {@code denied}, principal and target the single
 * one or {@code various}, detail the count, the window and up to {@value #SAMPLES} principals and targets). So at most
 * {@code maxPerWindow} + (number of actions) events per window leave an instance, whatever the rate of refusals. A
 * daemon timer closes a window with suppressed refusals even when no further refusal comes.
 */
public final class DeniedAudit implements AutoCloseable {
    /** How many distinct principals and targets a summary names. */
    public static final int SAMPLES = 10;

    private final Supplier<? extends AuditSink> log;
    private final int maxPerWindow;
    private final Duration window;
    private final Clock clock;
    private final AtomicLong suppressedTotal = new AtomicLong();
    private Instant windowStart;
    private int recorded;
    private final Map<String, Suppressed> suppressed = new LinkedHashMap<>();
    private ScheduledExecutorService timer;

    private static final class Suppressed {
        long count;
        final Set<String> principals = new LinkedHashSet<>();
        final Set<String> targets = new LinkedHashSet<>();
        boolean morePrincipals;
        boolean moreTargets;
    }

    /**
     * @param log          the service's audit log (asked for at the first event)
     * @param maxPerWindow refusals recorded one by one per window (0: only summaries)
     * @param window       the window's length
     */
    public DeniedAudit(Supplier<? extends AuditSink> log, int maxPerWindow, Duration window, Clock clock) {
        if (maxPerWindow < 0) throw new IllegalArgumentException("maxPerWindow must be >= 0");
        if (window.isNegative() || window.isZero()) throw new IllegalArgumentException("window must be positive");
        this.log = log;
        this.maxPerWindow = maxPerWindow;
        this.window = window;
        this.clock = clock;
    }

    /**
     * One refused attempt: recorded at once while the window's bound allows, else counted into the window's summary.
     *
     * @return true when it was recorded individually
     */
    public boolean denied(String principal, String action, String target, String detail) {
        synchronized (this) {
            Instant now = clock.instant();
            if (windowStart == null) windowStart = now;
            if (!now.isBefore(windowStart.plus(window))) rollOver(now);
            if (recorded < maxPerWindow) {
                recorded++;
            } else {
                Suppressed s = suppressed.computeIfAbsent(action, a -> new Suppressed());
                s.count++;
                if (s.principals.size() < SAMPLES) s.principals.add(principal);
                else if (!s.principals.contains(principal)) s.morePrincipals = true;
                if (s.targets.size() < SAMPLES) s.targets.add(target);
                else if (!s.targets.contains(target)) s.moreTargets = true;
                suppressedTotal.incrementAndGet();
                startTimer();
                return false;
            }
        }
        log.get().record(principal, action, target, "denied", detail);
        return true;
    }

    /** Refusals so far that were not recorded individually (each is in a summary). */
    public long suppressed() {
        return suppressedTotal.get();
    }

    /** Closes the current window when it has ended (the timer calls this); its summaries are recorded. */
    public synchronized void tick() {
        if (windowStart != null && !clock.instant().isBefore(windowStart.plus(window))) rollOver(clock.instant());
    }

    private void rollOver(Instant now) {
        Instant end = windowStart.plus(window);
        for (Map.Entry<String, Suppressed> e : suppressed.entrySet()) {
            Suppressed s = e.getValue();
            String principal = s.principals.size() == 1 && !s.morePrincipals ? s.principals.iterator().next() : "various";
            String target = s.targets.size() == 1 && !s.moreTargets ? s.targets.iterator().next() : "various";
            String detail = s.count + " more refused attempts from " + windowStart + " to " + end
                    + " not recorded one by one (at most " + maxPerWindow + " per " + window.toSeconds() + " s); principals "
                    + s.principals + (s.morePrincipals ? " and others" : "") + "; targets " + s.targets
                    + (s.moreTargets ? " and others" : "");
            log.get().record(principal, e.getKey(), target, "denied", detail);
        }
        suppressed.clear();
        recorded = 0;
        // windows are aligned to the first one, so that a steady flood gives one summary per window
        long n = Duration.between(windowStart, now).toNanos() / window.toNanos();
        windowStart = windowStart.plus(window.multipliedBy(Math.max(1, n)));
    }

    private void startTimer() {
        if (timer != null) return;
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "audit-denied-window");
            t.setDaemon(true);
            return t;
        });
        long ms = Math.max(100, window.toMillis() / 4);
        timer.scheduleWithFixedDelay(() -> {
            try {
                tick();
            } catch (RuntimeException e) {
                // the audit log reports what it could not send; the timer keeps running
            }
        }, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** Records the current window's summaries now (shutdown) and stops the timer. */
    @Override
    public void close() {
        synchronized (this) {
            if (windowStart != null && !suppressed.isEmpty()) rollOver(clock.instant());
            if (timer != null) timer.shutdownNow();
            timer = null;
        }
    }
}
