package org.imagingpipeline.retrain;

import java.util.Locale;

/** When an optimisation loop stops: a step cap and a wall-clock cap, whichever comes first; progress on the bar. */
public final class StepBudget {

    private final int maxSteps;
    private final double maxMinutes;
    private final ProgressBar bar;
    private final long t0 = System.nanoTime();
    private String stopReason;

    public StepBudget(int maxSteps, double maxMinutes, ProgressBar bar) {
        if (maxSteps < 1) {
            throw new DataException("--max-steps must be at least 1, got " + maxSteps);
        }
        this.maxSteps = maxSteps;
        this.maxMinutes = maxMinutes;
        this.bar = bar;
    }

    public int maxSteps() {
        return maxSteps;
    }

    public double seconds() {
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Reports step {@code step} (1-based, done) and says whether to stop now. */
    public boolean afterStep(int step, double loss, double metric) {
        return afterStep(step, loss, "dice", metric);
    }

    /** As above, with the metric's name for the progress line. */
    public boolean afterStep(int step, double loss, String metricName, double metric) {
        double elapsed = seconds();
        double perStep = elapsed / step;
        long total = maxSteps;
        if (maxMinutes > 0) {
            total = Math.min(total, Math.max(step, (long) Math.ceil(maxMinutes * 60 / perStep)));
        }
        if (step >= maxSteps) {
            stopReason = "max steps " + maxSteps;
        } else if (maxMinutes > 0 && elapsed >= maxMinutes * 60) {
            stopReason = String.format(Locale.ROOT, "time limit %.1f min", maxMinutes);
        }
        bar.update(ProgressBar.Phase.OPTIMISE, 1, 1, step, total, loss, metricName, metric, perStep, (total - step) * perStep,
                stopReason != null);
        return stopReason != null;
    }

    public String stopReason() {
        return stopReason;
    }
}
