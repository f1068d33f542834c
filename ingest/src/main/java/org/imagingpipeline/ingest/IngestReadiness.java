package org.imagingpipeline.ingest;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.imagingpipeline.blob.BlobStore;
import org.imagingpipeline.ingest.dimse.DicomScpServer;

/** Ready when the DICOM listeners (plain, and TLS when enabled) are up and the blob store can take writes (Kafka has its own check). */
@Readiness
@ApplicationScoped
public class IngestReadiness implements HealthCheck {
    private final DicomScpServer scp;
    private final BlobStore blobs;
    private final IngestConfig config;

    public IngestReadiness(DicomScpServer scp, BlobStore blobs, IngestConfig config) {
        this.scp = scp;
        this.blobs = blobs;
        this.config = config;
    }

    @Override
    public HealthCheckResponse call() {
        boolean scpOk = !config.dicom().enabled() || scp.listening();
        boolean blobOk = blobs.writable();
        return HealthCheckResponse.named("ingest")
                .status(scpOk && blobOk)
                .withData("dicomScp", config.dicom().enabled() ? (scpOk ? "listening on " + scp.port() : "down") : "disabled")
                .withData("dicomTls", !config.dicom().enabled() || !config.dicom().tls().enabled() ? "disabled"
                        : scp.tlsPort() > 0 ? "listening on " + scp.tlsPort() : "down")
                .withData("blobStore", blobOk ? "writable" : "not writable")
                .build();
    }
}
