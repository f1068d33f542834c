package org.imagingpipeline.fhirbridge;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.Annotation;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.r4.model.Bundle.HTTPVerb;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Device;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.DiagnosticReport;
import org.hl7.fhir.r4.model.DiagnosticReport.DiagnosticReportStatus;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.ImagingStudy;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Media;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Observation.ObservationStatus;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Provenance;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import org.imagingpipeline.events.SegmentationResult;

/**
 * Maps one {@link SegmentationResult} to one FHIR R4 transaction Bundle (see docs/fhir-mapping.md): Patient,
 * ImagingStudy, Device (the model), Observations (lesion volume, lesion presence, uncertainty), Media (the DICOM
 * SEG), DiagnosticReport and Provenance. Every created resource is a conditional create on an identifier derived
 * from (SeriesInstanceUID, model version), except Provenance (no identifier in R4), which is a PUT to an id
 * derived from the same pair; so sending the bundle again changes nothing. Reports this one supersedes are updated
 * in the same transaction. The bundle for a given input is deterministic (placeholder UUIDs are name-based).
 */
public final class ResultMapper {
    private static final Pattern OID = Pattern.compile("[0-2](\\.(0|[1-9][0-9]*))+");
    private static final Pattern YYYYMMDD = Pattern.compile("\\d{8}");
    private final MappingOptions options;

    public ResultMapper(MappingOptions options) {
        this.options = options;
    }

    /**
     * A report already in the EHR that the new result replaces (its current version, as read), and the reference of the
     * Device (model) that made it, as its Observations name it, or null when none could be read.
     */
    public record Superseded(DiagnosticReport report, String modelDevice) {
        public Superseded(DiagnosticReport report) {
            this(report, null);
        }
    }

    /**
     * The ImagingStudy already in the EHR for the result's StudyInstanceUID, as read: of this result's patient and
     * without its series (they are added), or of another patient ({@code otherPatient}: the result is not linked to it).
     */
    public record StoredStudy(ImagingStudy study, boolean otherPatient) {
    }

    /** The ImagingStudy's identifier for the result's StudyInstanceUID (what the EHR is searched by). */
    public static Identifier studyIdentifier(SegmentationResult r) {
        return dicomUid(r.studyInstanceUid());
    }

    /** The Patient's identifier for the result (what the EHR is searched by). */
    public Identifier patientIdentifier(SegmentationResult r) {
        return new Identifier().setSystem(patientSystem(r.issuerOfPatientId())).setValue(r.patientId());
    }

    /** The series UIDs the result puts into its study: the source series and, when written, the SEG and SR series. */
    public static List<String> seriesOf(SegmentationResult r) {
        List<String> out = new ArrayList<>(3);
        out.add(r.seriesInstanceUid());
        if (r.seg() != null) out.add(r.seg().seriesInstanceUid());
        if (r.sr() != null) out.add(r.sr().seriesInstanceUid());
        return out;
    }

    /** The report identifier value for (series, model version). */
    public static String reportKey(String seriesUid, String modelVersion) {
        return seriesUid + ":" + modelVersion;
    }

    public Bundle map(SegmentationResult r, List<Superseded> superseded) {
        return map(r, superseded, null);
    }

    /**
     * @param stored the study to add this result's series to (an update with If-Match), or one of another patient
     *               (no ImagingStudy entry and no reference to a study: one patient's report must not point at another's
     *               study), or null: the ImagingStudy is then a conditional create on the StudyInstanceUID (which
     *               matches, unchanged, when it exists)
     */
    public Bundle map(SegmentationResult r, List<Superseded> superseded, StoredStudy stored) {
        require(r.patientId(), "patientId");
        require(r.model().version(), "model.version");
        boolean ok = r.status() == SegmentationResult.Status.OK;
        if (ok && r.lesion() == null) throw new IllegalArgumentException("status OK but no lesion measures");
        List<Superseded> replaced = ok ? superseded : List.of();

        String key = reportKey(r.seriesInstanceUid(), r.model().version());
        Bundle b = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        DateTimeType effective = effective(r);
        Date issued = r.completedAt() == null ? null : Date.from(r.completedAt());

        // Patient
        Identifier patientId = patientIdentifier(r);
        Patient patient = new Patient();
        patient.addIdentifier(patientId.copy().setUse(Identifier.IdentifierUse.USUAL));
        String patientUrl = add(b, patient, r, "patient", ifNone(patientId));

        // ImagingStudy with the source series and the SEG series
        ImagingStudy study = new ImagingStudy();
        Identifier studyUid = studyIdentifier(r);
        study.addIdentifier(studyUid);
        if (r.accessionNumber() != null && !r.accessionNumber().isBlank()) {
            study.addIdentifier().setType(new CodeableConcept(new Coding(Codes.V2_0203, "ACSN", "Accession ID")))
                    .setValue(r.accessionNumber());
        }
        study.setStatus(ImagingStudy.ImagingStudyStatus.AVAILABLE);
        study.setSubject(new Reference(patientUrl));
        if (effective != null && YYYYMMDD.matcher(nz(r.studyDate())).matches()) study.setStartedElement(effective);
        String modality = r.modality() == null || r.modality().isBlank() ? "MR" : r.modality();
        study.addModality(modality(modality));
        ImagingStudy.ImagingStudySeriesComponent src = study.addSeries().setUid(r.seriesInstanceUid())
                .setModality(modality(modality)).setBodySite(brain());
        if (r.instanceCount() > 0) src.setNumberOfInstances(r.instanceCount());
        if (r.seg() != null) {
            study.addModality(dcm("SEG", "Segmentation"));
            ImagingStudy.ImagingStudySeriesComponent seg = study.addSeries().setUid(r.seg().seriesInstanceUid())
                    .setModality(dcm("SEG", "Segmentation")).setNumberOfInstances(1)
                    .setDescription("AI lesion segmentation (" + r.model().name() + " " + r.model().version() + ")");
            seg.addInstance().setUid(r.seg().sopInstanceUid())
                    .setSopClass(new Coding(Codes.URN_IETF_RFC_3986, "urn:oid:" + Codes.SEG_SOP_CLASS,
                            "Segmentation Storage"));
        }
        if (r.sr() != null) {
            // the measurement report (DICOM SR, TID 1500) beside the SEG: retrievable from the study's Endpoint
            study.addModality(dcm("SR", "SR Document"));
            ImagingStudy.ImagingStudySeriesComponent sr = study.addSeries().setUid(r.sr().seriesInstanceUid())
                    .setModality(dcm("SR", "SR Document")).setNumberOfInstances(1)
                    .setDescription("AI lesion measurements, TID 1500 (" + r.model().name() + " " + r.model().version() + ")");
            sr.addInstance().setUid(r.sr().sopInstanceUid())
                    .setSopClass(new Coding(Codes.URN_IETF_RFC_3986, "urn:oid:" + Codes.COMPREHENSIVE_SR_SOP_CLASS,
                            "Comprehensive SR Storage"));
        }
        boolean writeStudy = stored == null || !stored.otherPatient();
        if (writeStudy && options.dicomWebBaseUrl() != null) {
            // Where a viewer retrieves the study (WADO-RS) and searches it (QIDO-RS): one Endpoint per DICOMweb service.
            study.addEndpoint(new Reference(add(b, dicomWebEndpoint(), r, "endpoint",
                    ifNone(new Identifier().setSystem(Codes.ID_DICOMWEB_ENDPOINT).setValue(options.dicomWebBaseUrl())))));
        }
        String studyUrl = stored == null ? add(b, study, r, "study", ifNone(studyUid))
                : stored.otherPatient() ? null : mergeInto(b, stored.study(), study, r);

        // Device: the model
        Device device = new Device();
        Identifier modelId = new Identifier().setSystem(Codes.ID_MODEL)
                .setValue(nz(r.model().name()) + ":" + r.model().version());
        device.addIdentifier(modelId);
        if (r.model().sha256() != null) {
            device.addIdentifier().setSystem(Codes.ID_MODEL_SHA256).setValue(r.model().sha256());
        }
        device.setStatus(Device.FHIRDeviceStatus.ACTIVE);
        device.setManufacturer("imaging-pipeline");
        if (r.model().name() != null) {
            device.addDeviceName().setName(r.model().name()).setType(Device.DeviceNameType.MODELNAME);
        }
        device.setType(new CodeableConcept().setText("AI segmentation model (ONNX)"));
        device.addVersion().setType(new CodeableConcept().setText("model version")).setValue(r.model().version());
        String deviceUrl = add(b, device, r, "device", ifNone(modelId));

        ObservationStatus obsStatus;
        DiagnosticReportStatus reportStatus;
        if (!ok) {
            reportStatus = DiagnosticReportStatus.CANCELLED;
            obsStatus = ObservationStatus.CANCELLED;
        } else if (!replaced.isEmpty() && options.reportStatus() == DiagnosticReportStatus.FINAL) {
            reportStatus = DiagnosticReportStatus.AMENDED;
            obsStatus = ObservationStatus.AMENDED;
        } else {
            reportStatus = options.reportStatus();
            obsStatus = options.reportStatus() == DiagnosticReportStatus.FINAL ? ObservationStatus.FINAL
                    : ObservationStatus.PRELIMINARY;
        }

        List<String> observationUrls = new ArrayList<>();
        String mediaUrl = null;
        if (ok) {
            SegmentationResult.Lesion l = r.lesion();
            // The SR's measurement content (HL7 DICOM SR to FHIR): null for a result without an SR or from an older producer
            SegmentationResult.Content sr = r.sr() == null ? null : r.sr().content();
            Observation volume = observation(r, key, "lesion-volume", obsStatus, patientUrl, studyUrl, deviceUrl,
                    effective, issued, new CodeableConcept(new Coding(Codes.SNOMED, "118565006", "Volume"))
                            .setText("Lesion volume (FLAIR hyperintense, AI segmentation)"));
            volume.setValue(new Quantity().setValue(round(l.volumeMl(), 3)).setUnit("mL").setSystem(Codes.UCUM)
                    .setCode("mL"));
            volume.addComponent().setCode(new CodeableConcept(new Coding(Codes.PIPELINE_CODES, "lesion-voxel-count",
                    "Lesion voxel count"))).setValue(new IntegerType(Math.toIntExact(l.volumeVoxels())));
            volume.addComponent().setCode(new CodeableConcept(new Coding(Codes.PIPELINE_CODES, "slices-with-lesion",
                    "Slices with lesion"))).setValue(new IntegerType(l.slicesWithLesion()));
            if (l.spacingAssumption() != null) {
                volume.addNote(new Annotation().setText("Voxel spacing: " + l.spacingAssumption()));
            }
            if (sr != null) fromSr(volume, sr.volumeUid(), studyUrl);
            String volumeUrl = add(b, volume, r, "obs-volume", ifNone(volume.getIdentifierFirstRep()));
            observationUrls.add(volumeUrl);

            Observation present = observation(r, key, "lesion-present", obsStatus, patientUrl, studyUrl, deviceUrl,
                    effective, issued, new CodeableConcept(new Coding(Codes.SNOMED, "52988006", "Lesion"))
                            .setText("Lesion present"));
            boolean has = l.volumeVoxels() > 0;
            present.setValue(new CodeableConcept(has ? new Coding(Codes.SNOMED, "52101004", "Present")
                    : new Coding(Codes.SNOMED, "2667000", "Absent")));
            observationUrls.add(add(b, present, r, "obs-present", ifNone(present.getIdentifierFirstRep())));

            Observation uncertainty = observation(r, key, "uncertainty", obsStatus, patientUrl, studyUrl, deviceUrl,
                    effective, issued, new CodeableConcept(new Coding(Codes.PIPELINE_CODES, "mean-predictive-entropy",
                            "Mean predictive entropy")).setText("Segmentation uncertainty (mean predictive entropy)"));
            uncertainty.setValue(new Quantity().setValue(round(l.meanPredictiveEntropy(), 4)).setUnit("nat")
                    .setSystem(Codes.UCUM).setCode("{nat}"));
            uncertainty.addComponent().setCode(new CodeableConcept(new Coding(Codes.PIPELINE_CODES,
                    "mean-foreground-probability", "Mean foreground probability")))
                    .setValue(new Quantity().setValue(round(l.meanForegroundProbability(), 4)).setUnit("1")
                            .setSystem(Codes.UCUM).setCode("1"));
            if (sr != null) fromSr(uncertainty, sr.meanPredictiveEntropyUid(), studyUrl);
            String uncertaintyUrl = add(b, uncertainty, r, "obs-uncertainty", ifNone(uncertainty.getIdentifierFirstRep()));
            observationUrls.add(uncertaintyUrl);

            if (sr != null) {
                // The SR's TID 1411 group as the DICOM SR to FHIR guide maps it (Imaging Measurement Group): its
                // measurements as members, each an Observation carrying the SR content item's Observation UID.
                Observation slices = observation(r, key, "slices-with-lesion", obsStatus, patientUrl, studyUrl, deviceUrl,
                        effective, issued, new CodeableConcept(new Coding(Codes.PIPELINE_CODES, "slices-with-lesion",
                                "Slices with lesion")).setText("Slices with lesion (AI segmentation)"));
                slices.setValue(new Quantity().setValue(l.slicesWithLesion()).setUnit("slices").setSystem(Codes.UCUM)
                        .setCode("{slices}"));
                fromSr(slices, sr.slicesWithLesionUid(), studyUrl);
                String slicesUrl = add(b, slices, r, "obs-slices", ifNone(slices.getIdentifierFirstRep()));
                observationUrls.add(slicesUrl);

                Observation group = observation(r, key, "measurement-group", obsStatus, patientUrl, studyUrl, deviceUrl,
                        effective, issued, new CodeableConcept(new Coding(Codes.SNOMED, "49755003",
                                "Morphologically abnormal structure")).setText("Lesion (AI segmentation)"));
                group.getCategory().add(0, new CodeableConcept(dcm("125007", "Measurement Group")));
                group.setValue(new CodeableConcept(new Coding(Codes.SNOMED, "108369006", "Neoplasm")));
                fromSr(group, sr.measurementGroupUid(), studyUrl);
                if (r.seg() != null) group.addDerivedFrom(new Reference(placeholder(r, "media"))); // the Referenced Segment's SEG
                group.addHasMember(new Reference(volumeUrl));
                group.addHasMember(new Reference(slicesUrl));
                group.addHasMember(new Reference(uncertaintyUrl));
                observationUrls.add(add(b, group, r, "obs-group", ifNone(group.getIdentifierFirstRep())));
            }

            if (r.seg() != null) {
                Media media = new Media();
                Identifier segUid = dicomUid(r.seg().sopInstanceUid());
                media.addIdentifier(segUid);
                media.setStatus(Media.MediaStatus.COMPLETED);
                media.setType(new CodeableConcept(new Coding(Codes.MEDIA_TYPE, "image", "Image")));
                media.setModality(new CodeableConcept(dcm("SEG", "Segmentation")));
                media.setSubject(new Reference(patientUrl));
                if (studyUrl != null) media.addPartOf(new Reference(studyUrl));
                media.setDevice(new Reference(deviceUrl));
                if (issued != null) media.setCreated(new DateTimeType(issued));
                media.setBodySite(new CodeableConcept(brain()));
                Attachment a = media.getContent().setContentType("application/dicom")
                        .setTitle("DICOM SEG " + r.seg().sopInstanceUid());
                if (options.dicomWebBaseUrl() != null) {
                    // WADO-RS (PS3.18 10.4): the SEG instance itself, Part-10 in multipart/related; type="application/dicom".
                    a.setUrl(wadoInstanceUrl(r.studyInstanceUid(), r.seg().seriesInstanceUid(), r.seg().sopInstanceUid()));
                }
                if (r.seg().blob() != null) {
                    if (r.seg().blob().size() <= Integer.MAX_VALUE) a.setSize((int) r.seg().blob().size());
                    media.addNote().setText("sha256 " + r.seg().blob().sha256());
                }
                mediaUrl = add(b, media, r, "media", ifNone(segUid));
            }
        }

        DiagnosticReport report = new DiagnosticReport();
        report.addIdentifier().setSystem(Codes.ID_REPORT).setValue(key).setUse(Identifier.IdentifierUse.OFFICIAL);
        if (ok) {
            report.addIdentifier().setSystem(Codes.ID_SERIES_REPORT).setValue(r.seriesInstanceUid())
                    .setUse(Identifier.IdentifierUse.SECONDARY);
        }
        report.setStatus(reportStatus);
        report.addCategory(new CodeableConcept(new Coding(Codes.V2_0074, "RAD", "Radiology")));
        report.setCode(new CodeableConcept().addCoding(new Coding(Codes.LOINC, "18748-4", "Diagnostic imaging study"))
                .addCoding(new Coding(Codes.DCM, "126000", "Imaging Measurement Report"))
                .setText("AI brain lesion segmentation"));
        report.setSubject(new Reference(patientUrl));
        if (effective != null) report.setEffective(effective);
        if (issued != null) report.setIssuedElement(new InstantType(issued, TemporalPrecisionEnum.MILLI));
        if (studyUrl != null) report.addImagingStudy(new Reference(studyUrl));
        for (String o : observationUrls) report.addResult(new Reference(o));
        if (mediaUrl != null) report.addMedia().setComment("DICOM SEG").setLink(new Reference(mediaUrl));
        report.setConclusion(conclusion(r));
        String reportUrl = add(b, report, r, "report", ifNone(report.getIdentifierFirstRep()));

        // Reports this one supersedes: drop their "current report of the series" identifier, tag them.
        Map<String, String> replacedUrls = new LinkedHashMap<>();
        for (Superseded s : replaced) {
            DiagnosticReport old = s.report().copy();
            String oldId = old.getIdElement().getIdPart();
            // The PUT carries the version read as If-Match, so a change made to the report since (by a clinician,
            // another writer) fails the transaction with 409/412 instead of being overwritten.
            String ifMatch = ifMatchOf(old);
            // The entry's fullUrl is a placeholder, as for a merged study: the EHR resolves the Provenance's reference
            // to it to DiagnosticReport/ID. Not the report's absolute URL: a HAPI FHIR JPA server takes that for an
            // external reference and refuses the transaction (400, HAPI-0507; docs/fhir-mapping.md).
            String oldUrl = placeholder(r, "superseded-" + oldId);
            old.getIdentifier().removeIf(i -> Codes.ID_SERIES_REPORT.equals(i.getSystem()));
            if (old.getMeta().getTag(Codes.TAG_SYSTEM, Codes.TAG_SUPERSEDED) == null) {
                old.getMeta().addTag(Codes.TAG_SYSTEM, Codes.TAG_SUPERSEDED,
                        "Superseded by model version " + r.model().version());
            }
            old.setId(oldId);
            old.getMeta().setVersionId(null).setLastUpdated(null);
            replacedUrls.put(oldUrl, s.modelDevice());
            b.addEntry().setFullUrl(oldUrl).setResource(old).getRequest()
                    .setMethod(HTTPVerb.PUT).setUrl("DiagnosticReport/" + oldId).setIfMatch(ifMatch);
        }

        // Provenance: PUT to a deterministic id (R4 Provenance has no identifier for a conditional create).
        Provenance prov = new Provenance();
        String provId = "seg-" + SegmentationResult.eventIdFor(r.seriesInstanceUid(), r.model().version());
        prov.setId(provId);
        prov.addTarget(new Reference(reportUrl));
        for (String o : observationUrls) prov.addTarget(new Reference(o));
        if (mediaUrl != null) prov.addTarget(new Reference(mediaUrl));
        prov.setRecorded(issued != null ? issued : new Date());
        prov.setActivity(new CodeableConcept(new Coding(Codes.DATA_OPERATION, "CREATE", "create")));
        prov.addAgent().setType(new CodeableConcept(new Coding(Codes.PROVENANCE_AGENT, "author", "Author")))
                .setWho(new Reference(deviceUrl));
        if (studyUrl != null) prov.addEntity().setRole(Provenance.ProvenanceEntityRole.SOURCE).setWhat(new Reference(studyUrl));
        // The report(s) this one revises, each attributed to the model that made it: the Provenance names both models.
        for (Map.Entry<String, String> e : replacedUrls.entrySet()) {
            Provenance.ProvenanceEntityComponent revised = prov.addEntity().setRole(Provenance.ProvenanceEntityRole.REVISION)
                    .setWhat(new Reference(e.getKey()));
            if (e.getValue() != null) {
                revised.addAgent().setType(new CodeableConcept(new Coding(Codes.PROVENANCE_AGENT, "author", "Author")))
                        .setWho(new Reference(e.getValue()));
            }
        }
        b.addEntry().setFullUrl(placeholder(r, "provenance")).setResource(prov).getRequest().setMethod(HTTPVerb.PUT)
                .setUrl("Provenance/" + provId);
        return b;
    }

    private Observation observation(SegmentationResult r, String key, String kind, ObservationStatus status,
                                    String patientUrl, String studyUrl, String deviceUrl, DateTimeType effective,
                                    Date issued, CodeableConcept code) {
        Observation o = new Observation();
        o.addIdentifier().setSystem(Codes.ID_OBSERVATION).setValue(key + ":" + kind);
        o.setStatus(status);
        o.addCategory(new CodeableConcept(new Coding(Codes.OBS_CATEGORY, "imaging", "Imaging")));
        o.setCode(code);
        o.setSubject(new Reference(patientUrl));
        if (effective != null) o.setEffective(effective.copy());
        if (issued != null) o.setIssued(issued);
        o.setBodySite(new CodeableConcept(brain()));
        o.setMethod(new CodeableConcept().setText("Automated segmentation, model " + nz(r.model().name()) + " "
                + r.model().version()));
        o.setDevice(new Reference(deviceUrl));
        if (studyUrl != null) o.addDerivedFrom(new Reference(studyUrl));
        return o;
    }

    /**
     * What an Observation mapped from a content item of the SR carries (HL7 DICOM SR to FHIR, Imaging Observation): the
     * item's Observation UID as an identifier of type observation-uid, and partOf the ImagingStudy.
     */
    private static void fromSr(Observation o, String observationUid, String studyUrl) {
        if (observationUid != null) {
            o.addIdentifier(dicomUid(observationUid).setType(new CodeableConcept(new Coding(Codes.DICOM_IDENTIFIER_TYPE,
                    "observation-uid", "Observation UID"))));
        }
        if (studyUrl != null) o.addPartOf(new Reference(studyUrl));
    }

    private static String conclusion(SegmentationResult r) {
        String model = nz(r.model().name()) + " " + r.model().version();
        if (r.status() != SegmentationResult.Status.OK) {
            return "Automated segmentation failed (model " + model + "): " + nz(r.error());
        }
        SegmentationResult.Lesion l = r.lesion();
        if (l.volumeVoxels() == 0) {
            return "No lesion segmented (model " + model + "). AI result, not reviewed by a radiologist.";
        }
        return String.format(Locale.ROOT, "Lesion volume %.1f mL on %d slices (model %s; mean predictive entropy "
                        + "%.3f nat, mean foreground probability %.2f). AI result, not reviewed by a radiologist.",
                l.volumeMl(), l.slicesWithLesion(), model, l.meanPredictiveEntropy(), l.meanForegroundProbability());
    }

    /**
     * The stored study with the series and modalities of {@code built} it lacks, PUT back under its id with
     * {@code If-Match} on the version read: a study changed meanwhile (another series' result, another writer) fails
     * the transaction (409/412) and the next attempt reads it again. Everything else in the stored study is kept.
     */
    private static String mergeInto(Bundle b, ImagingStudy stored, ImagingStudy built, SegmentationResult r) {
        ImagingStudy merged = stored.copy();
        String id = merged.getIdElement().getIdPart();
        String ifMatch = ifMatchOf(merged);
        for (ImagingStudy.ImagingStudySeriesComponent series : built.getSeries()) {
            if (merged.getSeries().stream().noneMatch(x -> series.getUid().equals(x.getUid()))) merged.addSeries(series.copy());
        }
        if (!merged.hasEndpoint()) {
            for (Reference endpoint : built.getEndpoint()) merged.addEndpoint(endpoint.copy());
        }
        for (Coding m : built.getModality()) {
            if (merged.getModality().stream().noneMatch(x -> x.getSystem() != null && x.getSystem().equals(m.getSystem())
                    && x.getCode() != null && x.getCode().equals(m.getCode()))) {
                merged.addModality(m.copy());
            }
        }
        merged.setId(id);
        merged.getMeta().setVersionId(null).setLastUpdated(null);
        String url = placeholder(r, "study");
        b.addEntry().setFullUrl(url).setResource(merged).getRequest()
                .setMethod(HTTPVerb.PUT).setUrl("ImagingStudy/" + id).setIfMatch(ifMatch);
        return url;
    }

    /** {@code W/"V"} for the version of {@code read} as the EHR returned it (meta.versionId, else the id's), or null. */
    private static String ifMatchOf(Resource read) {
        String v = read.getMeta().hasVersionId() ? read.getMeta().getVersionId() : read.getIdElement().getVersionIdPart();
        return v == null ? null : "W/\"" + v + "\"";
    }

    private static String add(Bundle b, Resource res, SegmentationResult r, String kind, String ifNoneExist) {
        String url = placeholder(r, kind);
        BundleEntryComponent e = b.addEntry().setFullUrl(url).setResource(res);
        e.getRequest().setMethod(HTTPVerb.POST).setUrl(res.fhirType()).setIfNoneExist(ifNoneExist);
        return url;
    }

    private static String placeholder(SegmentationResult r, String kind) {
        String seed = r.seriesInstanceUid() + "|" + r.model().version() + "|" + kind;
        return "urn:uuid:" + UUID.nameUUIDFromBytes(seed.getBytes(StandardCharsets.UTF_8));
    }

    /** The WADO-RS URL of one instance under the configured DICOMweb base (UIDs need no escaping: digits and dots). */
    String wadoInstanceUrl(String study, String series, String instance) {
        return options.dicomWebBaseUrl() + "/studies/" + study + "/series/" + series + "/instances/" + instance;
    }

    private Endpoint dicomWebEndpoint() {
        Endpoint e = new Endpoint();
        e.addIdentifier().setSystem(Codes.ID_DICOMWEB_ENDPOINT).setValue(options.dicomWebBaseUrl());
        e.setStatus(Endpoint.EndpointStatus.ACTIVE);
        e.setConnectionType(new Coding(Codes.ENDPOINT_CONNECTION_TYPE, "dicom-wado-rs", "DICOM WADO-RS"));
        e.setName("Imaging pipeline DICOMweb (WADO-RS, QIDO-RS)");
        e.addPayloadType(new CodeableConcept().setText("DICOM"));
        e.addPayloadMimeType("application/dicom");
        e.setAddress(options.dicomWebBaseUrl());
        return e;
    }

    static String ifNone(Identifier id) {
        return "identifier=" + URLEncoder.encode(id.getSystem() + "|" + id.getValue(), StandardCharsets.UTF_8);
    }

    private String patientSystem(String issuer) {
        if (issuer == null || issuer.isBlank()) return options.patientIdentifierDefaultSystem();
        String mapped = options.issuerSystems().get(issuer);
        if (mapped != null) return mapped;
        if (OID.matcher(issuer).matches()) return "urn:oid:" + issuer;
        if (issuer.matches("[a-zA-Z][a-zA-Z0-9+.-]*:.+")) return issuer;
        return options.issuerSystemPrefix() + URLEncoder.encode(issuer, StandardCharsets.UTF_8);
    }

    private static DateTimeType effective(SegmentationResult r) {
        String d = r.studyDate();
        if (d != null && YYYYMMDD.matcher(d).matches()) {
            return new DateTimeType(d.substring(0, 4) + "-" + d.substring(4, 6) + "-" + d.substring(6, 8));
        }
        return r.completedAt() == null ? null : new DateTimeType(Date.from(r.completedAt()));
    }

    private static Identifier dicomUid(String uid) {
        return new Identifier().setSystem(Codes.DICOM_UID).setValue("urn:oid:" + uid);
    }

    private static Coding dcm(String code, String display) {
        return new Coding(Codes.DCM, code, display);
    }

    private static Coding modality(String code) {
        String display = switch (code) {
            case "MR" -> "Magnetic Resonance";
            case "CT" -> "Computed Tomography";
            case "PT" -> "Positron emission tomography";
            default -> null;
        };
        return new Coding(Codes.DCM, code, display);
    }

    private static Coding brain() {
        return new Coding(Codes.SNOMED, "12738006", "Brain structure");
    }

    private static java.math.BigDecimal round(double v, int scale) {
        return java.math.BigDecimal.valueOf(v).setScale(scale, java.math.RoundingMode.HALF_UP);
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    private static void require(String v, String what) {
        if (v == null || v.isBlank()) throw new IllegalArgumentException("result has no " + what);
    }
}
