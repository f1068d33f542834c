package org.imagingpipeline.ingest.dicomweb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.util.List;
import java.util.Map;
import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.events.InstanceHeader;
import org.junit.jupiter.api.Test;

/** The index's bound and idempotence, and QIDO matching, without Quarkus or Kafka. */
class DicomWebIndexTest {
    private static final String SHA = "a".repeat(64);

    static IndexedInstance instance(String study, String series, String sop, String modality, String patient, String date, Integer number) {
        InstanceHeader h = new InstanceHeader(patient, null, "ACC-" + study, modality, null, null, null, null, null, null, null,
                "desc " + series, null, null, null, null, null, null, null, null, null, null, null, null, 16, 16, null, null, null, null,
                null, null, null, null, 7, number, null, null, date);
        return IndexedInstance.of(study, series, sop, "1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.1.2.1",
                new BlobRef(SHA, "file:/blobs/" + SHA, 100, "application/dicom"), h);
    }

    @Test
    void theBoundRefusesNewInstancesButReplacesHeldOnes() {
        DicomWebIndex index = new DicomWebIndex(2);
        assertEquals(DicomWebIndex.Added.NEW, index.add(instance("1", "1.1", "1.1.1", "MR", "P", "20240101", 1)));
        assertEquals(DicomWebIndex.Added.NEW, index.add(instance("1", "1.1", "1.1.2", "MR", "P", "20240101", 2)));
        assertEquals(DicomWebIndex.Added.REFUSED_FULL, index.add(instance("2", "2.1", "2.1.1", "MR", "P", "20240101", 1)));
        assertEquals(2, index.size());
        assertEquals(List.of("1"), index.studyUids());
        // A redelivery of a held instance is no new entry, even when the index is full.
        assertEquals(DicomWebIndex.Added.REPLACED, index.add(instance("1", "1.1", "1.1.2", "MR", "P", "20240101", 2)));
        assertEquals(2, index.size());
        assertEquals(2, index.series("1", "1.1").size());
        assertThrows(IllegalArgumentException.class, () -> new DicomWebIndex(0));
    }

    @Test
    void aReplacedInstanceMovesAndEmptySeriesAndStudiesDisappear() {
        DicomWebIndex index = new DicomWebIndex(10);
        index.add(instance("1", "1.1", "9", "MR", "P", null, 1));
        index.add(instance("2", "2.1", "9", "MR", "P", null, 1));
        assertEquals(List.of("2"), index.studyUids());
        assertTrue(index.study("1").isEmpty());
        assertEquals("2", index.instance("9").orElseThrow().studyInstanceUid());
    }

    @Test
    void instancesComeInInstanceNumberOrder() {
        DicomWebIndex index = new DicomWebIndex(10);
        index.add(instance("1", "1.1", "c", "MR", "P", null, 3));
        index.add(instance("1", "1.1", "a", "MR", "P", null, 1));
        index.add(instance("1", "1.1", "n", "MR", "P", null, null));
        index.add(instance("1", "1.1", "b", "MR", "P", null, 2));
        assertEquals(List.of("a", "b", "c", "n"), index.series("1", "1.1").stream().map(IndexedInstance::sopInstanceUid).toList());
    }

    @Test
    void matchingFollowsPs34() {
        assertTrue(QidoQuery.uid("1.2,1.3", "1.3"));
        assertTrue(QidoQuery.uid("1.2\\1.3", "1.2"));
        assertFalse(QidoQuery.uid("1.2", "1.22"));
        assertTrue(QidoQuery.single("PAT*", "PATIENT-7"));
        assertTrue(QidoQuery.single("P?T", "PAT"));
        assertFalse(QidoQuery.single("pat*", "PATIENT"));
        assertFalse(QidoQuery.single("P.T", "PAT"), "a dot is no wildcard");
        assertTrue(QidoQuery.anySingle("CT,MR", "MR"));
        assertTrue(QidoQuery.date("20240101-20241231", "20240615"));
        assertTrue(QidoQuery.date("20240615", "20240615"));
        assertTrue(QidoQuery.date("-20240615", "20240615"));
        assertTrue(QidoQuery.date("20240616-", "20241231"));
        assertFalse(QidoQuery.date("20240616-", "20240615"));
        assertFalse(QidoQuery.date("20240101-20241231", null));
    }

    @Test
    void searchesCountPageAndAnswerDicomJson() {
        DicomWebIndex index = new DicomWebIndex(100);
        index.add(instance("1", "1.1", "1.1.1", "MR", "P1", "20240101", 1));
        index.add(instance("1", "1.1", "1.1.2", "MR", "P1", "20240101", 2));
        index.add(instance("1", "1.2", "1.2.1", "SEG", "P1", "20240101", 1));
        index.add(instance("2", "2.1", "2.1.1", "CT", "P2", "20250301", 1));
        QidoSearch search = new QidoSearch(index);
        String base = "http://h/dicomweb";

        ArrayNode all = search.search(QidoQuery.parse(QidoQuery.Level.STUDY, Map.of(), 10), base, null, null).results();
        assertEquals(2, all.size());
        JsonNode s1 = all.get(0);
        assertEquals("1", s1.path("0020000D").path("Value").get(0).asText());
        assertEquals("UI", s1.path("0020000D").path("vr").asText());
        assertEquals(2, s1.path("00201206").path("Value").get(0).asInt());
        assertEquals(3, s1.path("00201208").path("Value").get(0).asInt());
        assertEquals("[\"MR\",\"SEG\"]", s1.path("00080061").path("Value").toString());
        assertEquals(base + "/studies/1", s1.path("00081190").path("Value").get(0).asText());
        assertTrue(s1.path("00100010").isMissingNode(), "no PatientName");

        assertEquals(1, studies(search, Map.of("ModalitiesInStudy", List.of("SEG"))));
        assertEquals(1, studies(search, Map.of("00080061", List.of("CT"))));
        assertEquals(1, studies(search, Map.of("PatientID", List.of("P2"))));
        assertEquals(2, studies(search, Map.of("PatientID", List.of("P*"))));
        assertEquals(1, studies(search, Map.of("StudyDate", List.of("20250101-"))));
        assertEquals(1, studies(search, Map.of("StudyDate", List.of("20240101"))));
        assertEquals(1, studies(search, Map.of("0020000d", List.of("2"))));
        assertEquals(0, studies(search, Map.of("AccessionNumber", List.of("none"))));
        assertEquals(1, studies(search, Map.of("limit", List.of("1"))));
        assertEquals(1, studies(search, Map.of("offset", List.of("1"))));
        QidoSearch.Page page = search.search(QidoQuery.parse(QidoQuery.Level.STUDY, Map.of("limit", List.of("1")), 10), base, null, null);
        assertEquals(1, page.remaining(0));

        ArrayNode series = search.search(QidoQuery.parse(QidoQuery.Level.SERIES, Map.of("Modality", List.of("SEG")), 10), base, null, null)
                .results();
        assertEquals(1, series.size());
        assertEquals(1, series.get(0).path("00201209").path("Value").get(0).asInt());
        assertEquals(base + "/studies/1/series/1.2", series.get(0).path("00081190").path("Value").get(0).asText());

        ArrayNode instances = search.search(QidoQuery.parse(QidoQuery.Level.INSTANCE, Map.of(), 10), base, "1", "1.1").results();
        assertEquals(2, instances.size());
        assertEquals(base + "/studies/1/series/1.1/instances/1.1.2", instances.get(1).path("00081190").path("Value").get(0).asText());
        assertEquals(1, search.search(QidoQuery.parse(QidoQuery.Level.INSTANCE, Map.of("SOPInstanceUID", List.of("2.1.1")), 10), base,
                null, null).results().size());
        assertEquals(0, search.search(QidoQuery.parse(QidoQuery.Level.SERIES, Map.of(), 10), base, "unknown", null).results().size());
    }

    @Test
    void unknownKeysAndBadValuesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> QidoQuery.parse(QidoQuery.Level.STUDY, Map.of("PatientName", List.of("X")), 10));
        assertThrows(IllegalArgumentException.class, () -> QidoQuery.parse(QidoQuery.Level.STUDY, Map.of("SOPInstanceUID", List.of("1")), 10));
        assertThrows(IllegalArgumentException.class, () -> QidoQuery.parse(QidoQuery.Level.STUDY, Map.of("limit", List.of("-1")), 10));
        assertThrows(IllegalArgumentException.class, () -> QidoQuery.parse(QidoQuery.Level.STUDY, Map.of("StudyDate", List.of("2024")), 10));
        assertThrows(IllegalArgumentException.class, () -> QidoQuery.parse(QidoQuery.Level.STUDY, Map.of("fuzzymatching", List.of("true")), 10));
        assertEquals(10, QidoQuery.parse(QidoQuery.Level.STUDY, Map.of("limit", List.of("5000")), 10).limit(), "capped");
    }

    @Test
    void acceptHeadersOfWadoRs() {
        assertTrue(AcceptedSyntaxes.parse(null).any());
        assertTrue(AcceptedSyntaxes.parse("multipart/related; type=\"application/dicom\"; transfer-syntax=*").any());
        assertTrue(AcceptedSyntaxes.parse("multipart/related; type=\"application/dicom\"").any());
        AcceptedSyntaxes one = AcceptedSyntaxes.parse("multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.4.50");
        assertFalse(one.any());
        assertTrue(one.acceptable());
        assertFalse(one.allows("1.2.840.10008.1.2.1"));
        assertFalse(AcceptedSyntaxes.parse("application/json").acceptable());
        assertFalse(AcceptedSyntaxes.parse("multipart/related; type=\"application/octet-stream\"").acceptable());
    }

    private static int studies(QidoSearch search, Map<String, List<String>> params) {
        return search.search(QidoQuery.parse(QidoQuery.Level.STUDY, params, 10), "http://h/dicomweb", null, null).results().size();
    }
}
