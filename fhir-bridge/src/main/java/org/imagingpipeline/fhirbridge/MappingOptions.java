package org.imagingpipeline.fhirbridge;

import java.util.Map;
import org.hl7.fhir.r4.model.DiagnosticReport.DiagnosticReportStatus;

/**
 * How results are mapped.
 *
 * @param reportStatus              status of a new report: preliminary (default) or final
 * @param patientIdentifierDefaultSystem identifier system for PatientID when IssuerOfPatientID is absent
 * @param issuerSystemPrefix        prefix for issuers that are neither a URI nor an OID (issuer appended)
 * @param issuerSystems             explicit IssuerOfPatientID -> system URI mapping, consulted first
 */
public record MappingOptions(DiagnosticReportStatus reportStatus, String patientIdentifierDefaultSystem,
                             String issuerSystemPrefix, Map<String, String> issuerSystems) {

    public static MappingOptions defaults() {
        return new MappingOptions(DiagnosticReportStatus.PRELIMINARY, "urn:imaging-pipeline:patient-id:local",
                "urn:imaging-pipeline:patient-id:", Map.of());
    }

    public MappingOptions {
        if (reportStatus != DiagnosticReportStatus.PRELIMINARY && reportStatus != DiagnosticReportStatus.FINAL) {
            throw new IllegalArgumentException("report status must be preliminary or final, got " + reportStatus);
        }
        issuerSystems = issuerSystems == null ? Map.of() : Map.copyOf(issuerSystems);
    }
}
