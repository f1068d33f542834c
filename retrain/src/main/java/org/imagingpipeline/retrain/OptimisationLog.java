package org.imagingpipeline.retrain;

import java.util.Map;

/** What an adaptation loop did: steps, the loss at the start and (smoothed) at the end, time, why it stopped. */
public record OptimisationLog(int steps, double firstLoss, double lastLoss, double seconds, String stopReason,
                              Map<String, Object> details) {
}
