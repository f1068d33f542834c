package org.imagingpipeline.shifts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ShiftSuiteTest {

    static final List<String> FAMILIES = List.of("contrast", "bias", "resolution", "noise", "combined");

    @Test
    void theSuiteCoversEveryFamilyInBothHalves() {
        ShiftSuite suite = ShiftSuite.load();
        assertTrue(suite.entries().size() >= 16, "at least 16 shifts: " + suite.entries().size());
        Set<String> ids = new HashSet<>();
        for (ShiftSuite.Entry e : suite.entries()) {
            assertTrue(ids.add(e.id()), "unique id " + e.id());
            assertTrue(FAMILIES.contains(e.family()), e.id() + " family " + e.family());
            List<String> touched = e.shift().families();
            if (e.family().equals("combined")) {
                assertTrue(e.shift().steps().size() >= 2 && e.shift().steps().size() <= 4, e.id() + " combines 2-4 steps");
            } else {
                assertEquals(List.of(e.family()), touched, e.id() + " stays in its family");
            }
        }
        for (ShiftSuite.Half half : ShiftSuite.Half.values()) {
            for (String f : FAMILIES) {
                assertTrue(suite.half(half).stream().anyMatch(e -> e.family().equals(f)), half + " has a " + f + " shift");
            }
            assertTrue(suite.half(half).size() >= 8, half + " has at least 8 shifts");
        }
        // contrast curves in both directions, in both halves (brightening and darkening mid-tones)
        for (ShiftSuite.Half half : ShiftSuite.Half.values()) {
            boolean brighter = false;
            boolean darker = false;
            for (ShiftSuite.Entry e : suite.half(half)) {
                if (!e.family().equals("contrast")) {
                    continue;
                }
                float[] mid = e.shift().apply(new float[] {0.4f}, 1, 1, 1, "s", 0);
                brighter |= mid[0] > 0.42;
                darker |= mid[0] < 0.38;
            }
            assertTrue(brighter && darker, half + ": contrast curves in both directions");
        }
        assertEquals(suite.entries().size(), suite.half(null).size());
    }

    @Test
    void theDemoScannerIsInTheTuningHalf() {
        assertEquals(ShiftSuite.Half.TUNING, ShiftSuite.load().byId("m05").half());
    }
}
