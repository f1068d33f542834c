package org.imagingpipeline.retrain.service.data;

import java.time.Instant;
import java.util.List;
import org.imagingpipeline.events.BlobRef;

/**
 * What the service keeps of one {@code SeriesReady}: enough to export its pixels (blob references in slice order),
 * nothing that identifies the patient.
 */
public record CatalogSeries(String seriesInstanceUid, String domainId, int revision, Instant completedAt, List<Instance> instances) {
    public record Instance(String sopInstanceUid, String transferSyntaxUid, BlobRef blob) {
    }
}
