package org.imagingpipeline.retrain.service.adapt;

import java.time.Instant;
import java.util.Optional;
import org.imagingpipeline.retrain.ProgressReport;
import org.imagingpipeline.retrain.service.jobs.Job;

/**
 * Reads the adapt command's progress from its stderr: the service runs it with {@code --progress json}, so each report
 * is one line {@code {"progress":{"phase":..,"step":i,"steps":n,...}}} ({@link ProgressReport}, docs/adaptation.md).
 * Every other line (logs, stack traces) is no progress.
 */
public final class ProgressParser {

    private ProgressParser() {
    }

    public static Optional<Job.Progress> parse(String line, Instant at) {
        return ProgressReport.parse(line).filter(r -> r.steps() > 0 && r.step() >= 0 && r.step() <= r.steps())
                .map(r -> new Job.Progress(r.step(), r.steps(), (double) r.step() / r.steps(), r.describe(), at));
    }
}
