package org.imagingpipeline.streams;

/**
 * What the {@link DriftDetector} reads, on its one task: a series' {@link SeriesFeatures} (the {@code drift-features}
 * repartition topic) or a {@link DomainCommand} ({@code imaging.domain.commands}), merged into one stream so that both
 * change the domain registry in the same stream thread, each change committed with its changelog record and its
 * DomainEvent.
 */
public sealed interface DetectorInput permits SeriesFeatures, DomainCommand {
}
