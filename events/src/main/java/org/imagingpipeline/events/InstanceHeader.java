package org.imagingpipeline.events;

/**
 * Header fields of one instance that series assembly, fingerprinting, inference and the FHIR bridge need.
 * Any field may be null when the instance lacks it. Patient names and birth dates are never carried;
 * PatientID and its issuer are, because the EHR needs them to file results.
 */
public record InstanceHeader(
        String patientId,
        String issuerOfPatientId,
        String accessionNumber,
        String modality,
        String manufacturer,
        String manufacturerModelName,
        String softwareVersions,
        Double magneticFieldStrength,
        String institutionName,
        String stationName,
        String protocolName,
        String seriesDescription,
        String sequenceName,
        String scanningSequence,
        Double repetitionTime,
        Double echoTime,
        Double inversionTime,
        Double flipAngle,
        double[] pixelSpacing,
        Double sliceThickness,
        Double spacingBetweenSlices,
        double[] imagePositionPatient,
        double[] imageOrientationPatient,
        String frameOfReferenceUid,
        Integer rows,
        Integer columns,
        Integer bitsAllocated,
        Integer bitsStored,
        Integer pixelRepresentation,
        Integer samplesPerPixel,
        String photometricInterpretation,
        Integer numberOfFrames,
        Double rescaleSlope,
        Double rescaleIntercept,
        Integer seriesNumber,
        Integer instanceNumber,
        Integer imagesInAcquisition,
        String bodyPartExamined,
        String studyDate) {
}
