package org.imagingpipeline.retrain;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar on stderr: steps, loss, Dice, seconds per step, ETA and resident memory. On a
 * terminal it redraws in place; otherwise (logs, CI) it prints a line at most every {@code logEverySeconds}.
 */
public final class ProgressBar {
    private final PrintStream out;
    private final boolean tty;
    private final double logEverySeconds;
    private long lastPrint;

    public ProgressBar(PrintStream out, double logEverySeconds) {
        this.out = out;
        this.tty = System.console() != null && System.getenv("CI") == null;
        this.logEverySeconds = logEverySeconds;
    }

    public void update(int epoch, int epochs, long step, long totalSteps, double loss, double dice,
                       double secondsPerStep, double etaSeconds, boolean force) {
        update(epoch, epochs, step, totalSteps, loss, "dice", dice, secondsPerStep, etaSeconds, force);
    }

    /** As above, with the second number named {@code metricName} (e.g. entropy) instead of dice. */
    public void update(int epoch, int epochs, long step, long totalSteps, double loss, String metricName, double dice,
                       double secondsPerStep, double etaSeconds, boolean force) {
        long now = System.nanoTime();
        if (!force && !tty && (now - lastPrint) / 1e9 < logEverySeconds) {
            return;
        }
        if (!force && tty && (now - lastPrint) / 1e9 < 0.25) {
            return;
        }
        lastPrint = now;
        int width = 24;
        int filled = totalSteps <= 0 ? 0 : (int) Math.min(width, width * step / totalSteps);
        String bar = "#".repeat(filled) + "-".repeat(width - filled);
        // Steps without a loss or a Dice (AdaBN's statistics passes) leave them out rather than print NaN.
        String line = String.format(Locale.ROOT, "epoch %d/%d [%s] step %d/%d%s%s %.2f s/step ETA %s RSS %d MB",
                epoch, epochs, bar, step, totalSteps,
                Double.isFinite(loss) ? String.format(Locale.ROOT, " loss %.4f", loss) : "",
                Double.isFinite(dice) ? String.format(Locale.ROOT, " %s %.3f", metricName, dice) : "",
                secondsPerStep, time(etaSeconds), Memory.rssMb());
        if (tty) {
            out.print("\r" + line + "   ");
            if (force) {
                out.println();
            }
        } else {
            out.println(line);
        }
        out.flush();
    }

    public void message(String s) {
        if (tty) {
            out.print("\r");
        }
        out.println(s);
        out.flush();
    }

    public static String time(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) {
            return "?";
        }
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60)
                : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
}
