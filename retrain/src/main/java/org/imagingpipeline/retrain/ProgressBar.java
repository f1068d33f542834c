package org.imagingpipeline.retrain;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress of a training or adaptation loop on stderr, as {@code --progress} asks. {@link Format#BAR} (the default): a
 * one-line bar with steps, loss, Dice, seconds per step, ETA and resident memory; on a terminal it redraws in place,
 * otherwise (logs, CI) it prints a line at most every {@code logEverySeconds}. {@link Format#JSON}: the same reports as
 * JSON lines ({@link ProgressReport}), at most one every {@code logEverySeconds} plus each loop's last, never redrawn.
 * {@link #message} lines are plain text in both.
 */
public final class ProgressBar {

    /** How progress is shown ({@code --progress bar|json}). */
    public enum Format {
        BAR, JSON;

        public static Format parse(String s) {
            return switch (s) {
                case "bar" -> BAR;
                case "json" -> JSON;
                default -> throw new DataException("--progress must be bar or json, got '" + s + "'");
            };
        }
    }

    /** The kind of loop a report comes from (the report's {@code phase}). */
    public enum Phase {
        /** supervised training: rounds are epochs */
        TRAIN("train"),
        /** batch-norm statistics passes (AdaBN, the normaliser's source statistics): rounds are passes, no loss */
        STATISTICS("bn-statistics"),
        /** an adaptation's optimisation steps (one round) */
        OPTIMISE("optimise");

        private final String label;

        Phase(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    private final PrintStream out;
    private final Format format;
    private final boolean tty;
    private final double logEverySeconds;
    private long lastPrint;
    private String method;

    public ProgressBar(PrintStream out, double logEverySeconds) {
        this(out, logEverySeconds, Format.BAR);
    }

    public ProgressBar(PrintStream out, double logEverySeconds, Format format) {
        this.out = out;
        this.format = format;
        this.tty = format == Format.BAR && System.console() != null && System.getenv("CI") == null;
        this.logEverySeconds = logEverySeconds;
    }

    /** The adaptation method the next reports belong to (their {@code method}; null in training). */
    public void method(String method) {
        this.method = method;
    }

    /**
     * Reports step {@code step} of {@code totalSteps} in round {@code round} of {@code rounds} (epoch or pass). A NaN
     * loss or metric (AdaBN's statistics passes have neither) is left out rather than shown as NaN.
     */
    public void update(Phase phase, int round, int rounds, long step, long totalSteps, double loss, String metricName,
                       double metric, double secondsPerStep, double etaSeconds, boolean force) {
        long now = System.nanoTime();
        if (!force && !tty && (now - lastPrint) / 1e9 < logEverySeconds) {
            return;
        }
        if (!force && tty && (now - lastPrint) / 1e9 < 0.25) {
            return;
        }
        lastPrint = now;
        if (format == Format.JSON) {
            out.println(ProgressReport.of(phase, method, round, rounds, step, totalSteps, loss, metricName, metric,
                    secondsPerStep, etaSeconds, Memory.rssMb()).json());
            out.flush();
            return;
        }
        int width = 24;
        int filled = totalSteps <= 0 ? 0 : (int) Math.min(width, width * step / totalSteps);
        String bar = "#".repeat(filled) + "-".repeat(width - filled);
        String line = String.format(Locale.ROOT, "epoch %d/%d [%s] step %d/%d%s%s %.2f s/step ETA %s RSS %d MB",
                round, rounds, bar, step, totalSteps,
                Double.isFinite(loss) ? String.format(Locale.ROOT, " loss %.4f", loss) : "",
                Double.isFinite(metric) ? String.format(Locale.ROOT, " %s %.3f", metricName, metric) : "",
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
