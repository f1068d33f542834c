package org.imagingpipeline.retrain;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;

/**
 * One progress report of a training or adaptation loop, as {@code --progress json} prints it: one stderr line
 * {@code {"progress":{...}}} (the schema is in docs/adaptation.md). The retraining service reads these lines back
 * ({@link #parse(String)}); absent fields are left out, never written as null.
 *
 * @param phase          {@code train} (supervised epochs), {@code bn-statistics} (passes measuring batch-norm
 *                       statistics: no loss) or {@code optimise} (an adaptation's optimisation steps)
 * @param method         adapt: the method running (under {@code auto}, the candidate); absent in training
 * @param epoch          train: the epoch, with {@code epochs} the planned maximum
 * @param pass           bn-statistics: the pass over the slices, with {@code passes} their number
 * @param step           steps done in this phase (1-based)
 * @param steps          steps planned in this phase (re-estimated under a time cap; {@code step == steps} at its end)
 * @param loss           the loss (exponential average), when the loop has one
 * @param metric         the loop's second number ({@code dice}, {@code entropy}, ...), with its {@code metric_value}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ProgressReport(@JsonProperty("phase") String phase, @JsonProperty("method") String method,
                             @JsonProperty("epoch") Integer epoch, @JsonProperty("epochs") Integer epochs,
                             @JsonProperty("pass") Integer pass, @JsonProperty("passes") Integer passes,
                             @JsonProperty("step") long step, @JsonProperty("steps") long steps,
                             @JsonProperty("loss") Double loss, @JsonProperty("metric") String metric,
                             @JsonProperty("metric_value") Double metricValue,
                             @JsonProperty("s_per_step") double secondsPerStep,
                             @JsonProperty("elapsed_s") double elapsedSeconds,
                             @JsonProperty("eta_s") Double etaSeconds, @JsonProperty("rss_mb") long rssMb) {

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /** A report from a loop's raw numbers: NaN loss or metric and an unknown ETA are left out, numbers rounded. */
    static ProgressReport of(ProgressBar.Phase phase, String method, int round, int rounds, long step, long steps,
                             double loss, String metricName, double metric, double secondsPerStep, double etaSeconds,
                             long rssMb) {
        boolean train = phase == ProgressBar.Phase.TRAIN;
        boolean statistics = phase == ProgressBar.Phase.STATISTICS;
        boolean hasMetric = metricName != null && Double.isFinite(metric);
        return new ProgressReport(phase.label(), method, train ? round : null, train ? rounds : null,
                statistics ? round : null, statistics ? rounds : null, step, steps,
                Double.isFinite(loss) ? round(loss, 1e4) : null, hasMetric ? metricName : null,
                hasMetric ? round(metric, 1e4) : null, round(secondsPerStep, 1e3), round(secondsPerStep * step, 10),
                Double.isFinite(etaSeconds) && etaSeconds >= 0 ? round(etaSeconds, 10) : null, rssMb);
    }

    private static double round(double v, double scale) {
        return Double.isFinite(v) ? Math.round(v * scale) / scale : v;
    }

    /** The stderr line: {@code {"progress":{...}}}. */
    public String json() {
        try {
            return JSON.writeValueAsString(Map.of("progress", this));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The report of a line {@code {"progress":{...}}}; empty for any other line (logs, other JSON, garbage). */
    public static Optional<ProgressReport> parse(String line) {
        if (line == null || !line.strip().startsWith("{")) {
            return Optional.empty();
        }
        try {
            JsonNode p = JSON.readTree(line).get("progress");
            return p != null && p.isObject() ? Optional.of(JSON.treeToValue(p, ProgressReport.class)) : Optional.empty();
        } catch (JsonProcessingException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** In words, for people (the retraining service's job view): e.g. {@code adabn bn-statistics pass 1/2 step 3/8}. */
    public String describe() {
        StringBuilder s = new StringBuilder();
        if (method != null) {
            s.append(method).append(' ');
        }
        s.append(phase);
        if (epoch != null) {
            s.append(" epoch ").append(epoch).append('/').append(epochs);
        }
        if (pass != null) {
            s.append(" pass ").append(pass).append('/').append(passes);
        }
        s.append(" step ").append(step).append('/').append(steps);
        if (loss != null) {
            s.append(" loss ").append(loss);
        }
        if (metric != null) {
            s.append(' ').append(metric).append(' ').append(metricValue);
        }
        if (etaSeconds != null) {
            s.append(" ETA ").append(ProgressBar.time(etaSeconds));
        }
        return s.toString();
    }
}
