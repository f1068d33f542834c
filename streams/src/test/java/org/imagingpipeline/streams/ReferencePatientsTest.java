package org.imagingpipeline.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReferencePatientsTest {
    @TempDir
    Path tmp;

    @Test
    void trainingPatientsAreTheCardsSitesMinusItsValidationPatients() throws Exception {
        for (String p : new String[] {"DU/TCGA_DU_1", "DU/TCGA_DU_2", "DU/TCGA_DU_3", "HT/TCGA_HT_1"}) Files.createDirectories(tmp.resolve("data").resolve(p));
        Path card = tmp.resolve("du.card.json");
        Files.writeString(card, "{\"version\":\"v1\",\"training\":{\"sites\":[\"DU\"],\"validation_patients\":[\"TCGA_DU_2\"]}}");
        assertEquals(Set.of("DU,TCGA_DU_1", "DU,TCGA_DU_3"), ReferencePatients.fromCard(card, tmp.resolve("data")));

        Path file = tmp.resolve("refs.csv");
        Files.writeString(file, "# extra\nHT,TCGA_HT_1\n");
        ReferencePatients r = ReferencePatients.load(file.toString(), card.toString(), tmp.resolve("data").toString());
        assertEquals(3, r.size());
        assertTrue(r.contains("du", "TCGA_DU_1"), "institutions compare normalised");
        assertFalse(r.contains("DU", "TCGA_DU_2"), "validation patients are not reference");
        assertTrue(r.contains("HT", "TCGA_HT_1"));
        assertFalse(r.contains("CS", "TCGA_DU_1"), "the institution matters");
    }

    @Test
    void badInputIsAClearError() {
        assertThrows(IllegalArgumentException.class, () -> ReferencePatients.of(Set.of("DU-without-patient")));
        assertThrows(IllegalArgumentException.class, () -> ReferencePatients.load(null, tmp.resolve("card.json").toString(), null));
    }

    @Test
    void thePatientKeyHidesTheIdButIsStable() {
        String k = ReferencePatients.patientKey("DU", "TCGA_DU_1");
        assertEquals(k, ReferencePatients.patientKey("du", "TCGA_DU_1"));
        assertNotEquals(k, ReferencePatients.patientKey("DU", "TCGA_DU_2"));
        assertFalse(k.contains("TCGA"));
    }
}
