package org.imagingpipeline.retrain.service.adapt;

import java.time.Instant;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.imagingpipeline.retrain.service.jobs.Job;

/**
 * Reads the adapt command's progress from its stderr lines: the progress bar prints "... step i/n ..." (see
 * {@code retrain.ProgressBar}); on a terminal it redraws with carriage returns, so callers split on '\r' too.
 */
public final class ProgressParser {
    private static final Pattern STEP = Pattern.compile("\\bstep\\s+(\\d+)\\s*/\\s*(\\d+)\\b");

    private ProgressParser() {
    }

    public static Optional<Job.Progress> parse(String line, Instant at) {
        if (line == null) return Optional.empty();
        Matcher m = STEP.matcher(line);
        if (!m.find()) return Optional.empty();
        try {
            long step = Long.parseLong(m.group(1));
            long total = Long.parseLong(m.group(2));
            if (total <= 0 || step > total) return Optional.empty();
            return Optional.of(new Job.Progress(step, total, (double) step / total, line.strip(), at));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
