package org.imagingpipeline.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.imagingpipeline.events.InstanceHeader;
import org.junit.jupiter.api.Test;

class DomainFingerprintTest {
    static InstanceHeader header(String manufacturer, String station, String protocol, double tr, String software) {
        return new InstanceHeader("P", null, null, "MR", manufacturer, "Skyra", software, 2.89, "Duke Univ", station, protocol,
                null, null, "SE\\IR", tr, 81.0, 2500.0, 150.0, new double[] {0.4688, 0.4688}, 5.0, null, null, null, null,
                256, 256, 16, 12, 0, 1, "MONOCHROME2", null, null, null, 1, 1, null, null, null);
    }

    @Test
    void spellingNoiseAndSmallProtocolJitterKeepTheDomain() {
        DomainFingerprint a = DomainFingerprint.of(header("SIEMENS", "AWP45231", "t2_flair_ax 3", 9000, "syngo MR E11"), "1.2.840.10008.1.2.1");
        DomainFingerprint b = DomainFingerprint.of(header(" Siemens ", "awp45231", "T2 FLAIR AX 12", 9050, "syngo MR E11\\ext"), "1.2.840.10008.1.2");
        assertEquals(a.domainId(), b.domainId(), a.canonical() + "\nvs\n" + b.canonical());
        assertTrue(a.domainId().matches("dom-[0-9a-f]{12}"));
        assertEquals("3.0T", a.fieldStrength(), "2.89 T rounds to 3.0 T");
    }

    @Test
    void anotherStationVendorTimingOrLossyEncodingIsAnotherDomain() {
        DomainFingerprint a = DomainFingerprint.of(header("SIEMENS", "AWP1", "FLAIR", 9000, "E11"), "1.2.840.10008.1.2.1");
        assertNotEquals(a.domainId(), DomainFingerprint.of(header("SIEMENS", "AWP2", "FLAIR", 9000, "E11"), "1.2.840.10008.1.2.1").domainId());
        assertNotEquals(a.domainId(), DomainFingerprint.of(header("GE MEDICAL SYSTEMS", "AWP1", "FLAIR", 9000, "E11"), "1.2.840.10008.1.2.1").domainId());
        assertNotEquals(a.domainId(), DomainFingerprint.of(header("SIEMENS", "AWP1", "FLAIR", 2000, "E11"), "1.2.840.10008.1.2.1").domainId());
        assertNotEquals(a.domainId(), DomainFingerprint.of(header("SIEMENS", "AWP1", "FLAIR", 9000, "E11"), "1.2.840.10008.1.2.4.50").domainId());
        assertEquals(a.domainId(), DomainFingerprint.of(header("SIEMENS", "AWP1", "FLAIR", 9000, "E11"), "1.2.840.10008.1.2.4.70").domainId(),
                "lossless compression keeps the pixel values: same domain");
    }
}
