package org.imagingpipeline.fhirbridge;

/** Code systems, codes and identifier systems of the mapping; each choice is explained in docs/fhir-mapping.md. */
public final class Codes {
    private Codes() {
    }

    public static final String LOINC = "http://loinc.org";
    public static final String SNOMED = "http://snomed.info/sct";
    public static final String DCM = "http://dicom.nema.org/resources/ontology/DCM";
    public static final String UCUM = "http://unitsofmeasure.org";
    public static final String V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074";
    public static final String V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203";
    public static final String OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category";
    public static final String MEDIA_TYPE = "http://terminology.hl7.org/CodeSystem/media-type";
    public static final String PROVENANCE_AGENT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type";
    public static final String DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation";
    public static final String URN_IETF_RFC_3986 = "urn:ietf:rfc:3986";
    /** Identifier.type codes of the HL7 DICOM SR to FHIR guide (observation-uid: a content item's Observation UID). */
    public static final String DICOM_IDENTIFIER_TYPE = "http://hl7.org/fhir/uv/dicom-sr/CodeSystem/dicom-identifier-type";
    /** Identifier system for DICOM UIDs (values are urn:oid:UID). */
    public static final String DICOM_UID = "urn:dicom:uid";

    /** The pipeline's own identifier systems and code system (there is no standard code for these). */
    public static final String ID_REPORT = "urn:imaging-pipeline:id:segmentation-report";
    public static final String ID_SERIES_REPORT = "urn:imaging-pipeline:id:series-current-report";
    public static final String ID_OBSERVATION = "urn:imaging-pipeline:id:segmentation-observation";
    public static final String ID_MODEL = "urn:imaging-pipeline:id:model";
    /** Endpoint.identifier: the DICOMweb base URL (one Endpoint resource per service, found by conditional create). */
    public static final String ID_DICOMWEB_ENDPOINT = "urn:imaging-pipeline:id:dicomweb-endpoint";
    /** Endpoint.connectionType (R4 endpoint-connection-type). */
    public static final String ENDPOINT_CONNECTION_TYPE = "http://terminology.hl7.org/CodeSystem/endpoint-connection-type";
    public static final String ID_MODEL_SHA256 = "urn:imaging-pipeline:id:model-sha256";
    public static final String PIPELINE_CODES = "urn:imaging-pipeline:codes";
    public static final String TAG_SYSTEM = "urn:imaging-pipeline:tag";
    public static final String TAG_SUPERSEDED = "superseded";

    /** SOP Class UID of DICOM Segmentation Storage. */
    public static final String SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4";
    public static final String COMPREHENSIVE_SR_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.88.33";
}
