package org.imagingpipeline.ingest.dicomweb;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.pixelmed.dicom.TagFromName;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.imagingpipeline.events.EventJson;

/**
 * Answers QIDO-RS searches from the {@link DicomWebIndex}: one DICOM JSON dataset per matching study, series or
 * instance, with the attributes of PS3.18 table 10.6.3-3/4/5 that the index holds (patient names and birth dates are
 * not held and never returned) and RetrieveURL (0008,1190) pointing at the WADO-RS resource.
 */
public final class QidoSearch {
    private final DicomWebIndex index;

    public QidoSearch(DicomWebIndex index) {
        this.index = index;
    }

    /** What a search found: the page asked for and how many matched in all. */
    public record Page(ArrayNode results, int total) {
        public int remaining(int offset) {
            return Math.max(0, total - offset - results.size());
        }
    }

    /**
     * Searches at the query's level.
     *
     * @param base           the service's DICOMweb root, e.g. http://127.0.0.1:8081/dicomweb (no trailing slash)
     * @param study          the study of the path (/studies/{study}/series...), or null for all studies
     * @param series         the series of the path (/studies/{study}/series/{series}/instances), or null
     */
    public Page search(QidoQuery q, String base, String study, String series) {
        List<String> studies = study == null ? index.studyUids() : List.of(study);
        ArrayNode out = EventJson.mapper().createArrayNode();
        int matched = 0;
        for (String s : studies) {
            Map<String, List<IndexedInstance>> bySeries = index.study(s);
            List<IndexedInstance> all = new ArrayList<>();
            bySeries.values().forEach(all::addAll);
            if (!q.matchesStudy(all)) continue;
            if (q.level() == QidoQuery.Level.STUDY) {
                if (matched++ >= q.offset() && out.size() < q.limit()) out.add(studyDataset(base, s, bySeries, all));
                continue;
            }
            for (Map.Entry<String, List<IndexedInstance>> e : bySeries.entrySet()) {
                if (series != null && !series.equals(e.getKey())) continue;
                List<IndexedInstance> instances = e.getValue();
                if (!q.matchesSeries(instances)) continue;
                if (q.level() == QidoQuery.Level.SERIES) {
                    if (matched++ >= q.offset() && out.size() < q.limit()) out.add(seriesDataset(base, instances));
                    continue;
                }
                for (IndexedInstance i : instances) {
                    if (!q.matchesInstance(i)) continue;
                    if (matched++ >= q.offset() && out.size() < q.limit()) out.add(instanceDataset(base, i));
                }
            }
        }
        return new Page(out, matched);
    }

    static ObjectNode studyDataset(String base, String study, Map<String, List<IndexedInstance>> bySeries, List<IndexedInstance> all) {
        ObjectNode d = studyAttributes(all.get(0));
        Set<String> modalities = new LinkedHashSet<>();
        for (IndexedInstance i : all) if (i.modality() != null) modalities.add(i.modality());
        DicomJson.put(d, TagFromName.ModalitiesInStudy, "CS", modalities);
        DicomJson.put(d, TagFromName.NumberOfStudyRelatedSeries, "IS", bySeries.size());
        DicomJson.put(d, TagFromName.NumberOfStudyRelatedInstances, "IS", all.size());
        DicomJson.put(d, DicomJson.RETRIEVE_URL, "UR", base + "/studies/" + study);
        return DicomJson.sorted(d);
    }

    static ObjectNode seriesDataset(String base, List<IndexedInstance> instances) {
        IndexedInstance first = instances.get(0);
        ObjectNode d = studyAttributes(first);
        seriesAttributes(d, first);
        DicomJson.put(d, TagFromName.NumberOfSeriesRelatedInstances, "IS", instances.size());
        DicomJson.put(d, DicomJson.RETRIEVE_URL, "UR", base + "/studies/" + first.studyInstanceUid() + "/series/" + first.seriesInstanceUid());
        return DicomJson.sorted(d);
    }

    static ObjectNode instanceDataset(String base, IndexedInstance i) {
        ObjectNode d = studyAttributes(i);
        seriesAttributes(d, i);
        DicomJson.put(d, TagFromName.SOPClassUID, "UI", i.sopClassUid());
        DicomJson.put(d, TagFromName.SOPInstanceUID, "UI", i.sopInstanceUid());
        DicomJson.put(d, DicomJson.AVAILABLE_TRANSFER_SYNTAX_UID, "UI", i.transferSyntaxUid());
        DicomJson.put(d, TagFromName.InstanceNumber, "IS", i.instanceNumber());
        DicomJson.put(d, TagFromName.Rows, "US", i.rows());
        DicomJson.put(d, TagFromName.Columns, "US", i.columns());
        DicomJson.put(d, TagFromName.NumberOfFrames, "IS", i.numberOfFrames());
        DicomJson.put(d, DicomJson.RETRIEVE_URL, "UR", base + "/studies/" + i.studyInstanceUid() + "/series/" + i.seriesInstanceUid()
                + "/instances/" + i.sopInstanceUid());
        return DicomJson.sorted(d);
    }

    private static ObjectNode studyAttributes(IndexedInstance i) {
        ObjectNode d = EventJson.mapper().createObjectNode();
        DicomJson.put(d, TagFromName.StudyDate, "DA", i.studyDate());
        DicomJson.put(d, TagFromName.AccessionNumber, "SH", i.accessionNumber());
        DicomJson.put(d, TagFromName.PatientID, "LO", i.patientId());
        DicomJson.put(d, TagFromName.StudyInstanceUID, "UI", i.studyInstanceUid());
        return d;
    }

    private static void seriesAttributes(ObjectNode d, IndexedInstance i) {
        DicomJson.put(d, TagFromName.Modality, "CS", i.modality());
        DicomJson.put(d, TagFromName.SeriesDescription, "LO", i.seriesDescription());
        DicomJson.put(d, TagFromName.SeriesInstanceUID, "UI", i.seriesInstanceUid());
        DicomJson.put(d, TagFromName.SeriesNumber, "IS", i.seriesNumber());
    }
}
