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
 * @param dicomWebBaseUrl           the DICOMweb service that serves the source series and the SEG (ingest's
 *                                  http://127.0.0.1:8081/dicomweb on the local stack, or a PACS's), without a trailing
 *                                  slash; the ImagingStudy's Endpoint and the Media's WADO-RS URL point at it. Null,
 *                                  empty or {@code none}: no Endpoint and no URL (the EHR gets identifiers only)
 */
public record MappingOptions(DiagnosticReportStatus reportStatus, String patientIdentifierDefaultSystem,
                             String issuerSystemPrefix, Map<String, String> issuerSystems, String dicomWebBaseUrl) {

    /** The local stack's DICOMweb service (ingest, ARCHITECTURE.md "Added verbs and addresses"). */
    public static final String LOCAL_DICOMWEB = "http://127.0.0.1:8081/dicomweb";

    public static MappingOptions defaults() {
        return new MappingOptions(DiagnosticReportStatus.PRELIMINARY, "urn:imaging-pipeline:patient-id:local",
                "urn:imaging-pipeline:patient-id:", Map.of(), LOCAL_DICOMWEB);
    }

    public MappingOptions {
        if (reportStatus != DiagnosticReportStatus.PRELIMINARY && reportStatus != DiagnosticReportStatus.FINAL) {
            throw new IllegalArgumentException("report status must be preliminary or final, got " + reportStatus);
        }
        issuerSystems = issuerSystems == null ? Map.of() : Map.copyOf(issuerSystems);
        if (dicomWebBaseUrl != null) {
            dicomWebBaseUrl = dicomWebBaseUrl.strip();
            while (dicomWebBaseUrl.endsWith("/")) dicomWebBaseUrl = dicomWebBaseUrl.substring(0, dicomWebBaseUrl.length() - 1);
            if (dicomWebBaseUrl.isEmpty() || dicomWebBaseUrl.equalsIgnoreCase("none")) {
                dicomWebBaseUrl = null;
            } else if (!dicomWebBaseUrl.matches("(?i)https?://[^\\s]+")) {
                throw new IllegalArgumentException("the DICOMweb base URL must be an http(s) URL, got " + dicomWebBaseUrl);
            }
        }
    }
}
